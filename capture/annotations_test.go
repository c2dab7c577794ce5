package capture_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/capture"
	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/tap"
)

// outputKeys are the cap.* messages of the listing itself (header,
// summaries, end line), which cmd/tcplab's golden explanations show.
var outputKeys = []string{"cap.sum", "cap.end", "cap.skipped", "cap.truncated", "cap.title", "cap.lines", "cap.near"}

// undemonstrated are the cap.* notes no explanation in the tests produces,
// and why.
var undemonstrated = map[string]string{
	"cap.cause.timer": "fallback: every inferred timer is Linux's (cap.cause.linux)",
}

// TestAnnotationsDemonstrated requires every cap.* note to appear in the
// explanation of some capture the tests explain: the captures in testdata,
// and every catalogue lab's capture, or to be listed above with the reason
// none can.
func TestAnnotationsDemonstrated(t *testing.T) {
	seen := map[string]bool{}
	walk := func(rows []*tap.Row) {
		var w func(m i18n.Msg)
		w = func(m i18n.Msg) {
			seen[m.Key] = true
			for _, a := range m.Args {
				if v, ok := a.(i18n.Msg); ok {
					w(v)
				}
			}
		}
		for _, r := range rows {
			for _, m := range r.Notes {
				w(m)
			}
			w(r.CauseMsg)
		}
	}
	files, _ := filepath.Glob("testdata/*.pcap*")
	if len(files) < 3 {
		t.Fatalf("found %d captures in testdata, want at least 3", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := explain(t, data, capture.Options{})
		walk(rows)
	}
	entries, err := labs.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		_, data := runLab(t, e.Name)
		rows, _ := explain(t, data, capture.Options{})
		walk(rows)
	}
	for _, k := range i18n.Keys() {
		if !strings.HasPrefix(k, "cap.") || slices.ContainsFunc(outputKeys, func(p string) bool { return k == p || strings.HasPrefix(k, p+".") }) {
			continue
		}
		why, excused := undemonstrated[k]
		switch {
		case seen[k] && excused:
			t.Errorf("%s is now demonstrated: remove it from undemonstrated (%s)", k, why)
		case !seen[k] && !excused:
			t.Errorf("annotation %s (%q) appears in no explanation: add a capture that produces it", k, i18n.Format(i18n.EN, k))
		}
	}
}
