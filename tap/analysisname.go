package tap

import "slices"

// AnalysisNames lists the names of the analysis flags, in bit order: the
// Wireshark field names without "tcp.analysis." ("retransmission",
// "duplicate_ack" ...).
func AnalysisNames() []string { return slices.Clone(analysisNames) }

// ParseAnalysis returns the analysis flag named name, as AnalysisNames
// spells it.
func ParseAnalysis(name string) (Analysis, bool) {
	i := slices.Index(analysisNames, name)
	if i < 0 {
		return 0, false
	}
	return 1 << i, true
}
