package tap

import (
	"slices"
	"testing"
)

// TestParseAnalysis checks that every name parses to the flag whose
// Names it is, and that nothing else parses.
func TestParseAnalysis(t *testing.T) {
	names := AnalysisNames()
	if len(names) == 0 {
		t.Fatal("AnalysisNames() is empty")
	}
	var all Analysis
	for _, n := range names {
		a, ok := ParseAnalysis(n)
		if !ok || !slices.Equal(a.Names(), []string{n}) {
			t.Errorf("ParseAnalysis(%q) = %v, %v; want the flag named %q", n, a, ok, n)
		}
		all |= a
	}
	if !slices.Equal(all.Names(), names) {
		t.Errorf("the flags of AnalysisNames() name %v, want %v", all.Names(), names)
	}
	for _, bad := range []string{"", "Retransmission", "tcp.analysis.retransmission", "dup_ack"} {
		if a, ok := ParseAnalysis(bad); ok {
			t.Errorf("ParseAnalysis(%q) = %v, true; want false", bad, a)
		}
	}
}
