package labs

import (
	"context"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/i18n"
)

var update = flag.Bool("update", false, "rewrite the golden timelines under testdata/golden")

// goldenLabs returns the labs with golden timelines: every built-in lab and
// every lab under testdata except the long transfers (the bulk benchmark,
// the Reno lab): their timelines run to thousands of rows.
func goldenLabs(t *testing.T) []string {
	t.Helper()
	entries, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, e := range entries {
		refs = append(refs, e.Name)
	}
	files, err := filepath.Glob("testdata/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	truth, err := filepath.Glob("testdata/truth/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, truth...)
	linux, err := filepath.Glob("testdata/linux/*.toml") // the Linux reference scenarios (reference/)
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, linux...)
	for _, f := range files {
		if b := filepath.Base(f); b != "bulk.toml" && b != "reno-loss.toml" {
			refs = append(refs, f)
		}
	}
	return refs
}

// goldenName is the golden file of lab ref in lang: a built-in name stands
// for its file in this directory.
func goldenName(ref string, lang i18n.Lang) string {
	if !strings.HasSuffix(ref, ".toml") {
		ref += ".toml"
	}
	return GoldenFile(ref, lang)
}

// runLab runs ref under its own seed, keeping every row and rendering its
// golden timelines.
func runLab(t *testing.T, ref string) *Run {
	t.Helper()
	lab, err := Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(context.Background(), lab, RunOptions{KeepRows: true, Timelines: GoldenLangs})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestGoldenTimelines compares every lab's timeline, in English and in
// Chinese, with its golden file. Run with -update to rewrite them after a
// deliberate change, and review the diff.
func TestGoldenTimelines(t *testing.T) {
	for _, ref := range goldenLabs(t) {
		run := runLab(t, ref)
		for _, lang := range GoldenLangs {
			name := goldenName(ref, lang)
			t.Run(filepath.Base(name), func(t *testing.T) {
				if *update {
					if err := WriteGolden(run, lang, name); err != nil {
						t.Fatal(err)
					}
					return
				}
				diff, err := GoldenDiff(run, lang, name)
				if err != nil {
					t.Fatalf("%v (run go test ./labs -run TestGoldenTimelines -update to create it)", err)
				}
				if diff != "" {
					t.Errorf("%s: %s\n(rerun with -update if the change is intended)", ref, diff)
				}
			})
		}
	}
}

// TestGoldenFile checks where golden timelines live.
func TestGoldenFile(t *testing.T) {
	for _, c := range []struct{ lab, want string }{
		{"handshake.toml", "testdata/golden/handshake.en.txt"},
		{"labs/close.toml", "labs/testdata/golden/close.en.txt"},
		{"testdata/chaos.toml", "testdata/golden/chaos.en.txt"},
		{"testdata/truth/x.toml", "testdata/truth/golden/x.en.txt"},
		{"/ci/labs/testdata/x.toml", "/ci/labs/testdata/golden/x.en.txt"},
		{"my.lab", "testdata/golden/my.en.txt"},
	} {
		if got := GoldenFile(c.lab, i18n.EN); got != filepath.FromSlash(c.want) {
			t.Errorf("GoldenFile(%q) = %q, want %q", c.lab, got, c.want)
		}
	}
}

// undemonstrated lists the annotations no golden lab produces yet, with the
// reason. TestAnnotationsDemonstrated fails when one of them starts to
// appear (remove it from here) or when any other annotation has no lab.
var undemonstrated = map[string]string{
	"seg.nagle":                 "in every lab the bytes Nagle holds leave when an ACK arrives (seg.nagle.ack); this is for bytes that leave otherwise: a later write that fills a segment, a timer",
	"seg.dupack.plain":          "fallback: a duplicate ACK that answers no arrival the tap knows",
	"timer.delayed_ack":         "the delayed-ACK timer sends an ACK, whose row says so (diff.delack.timer); it changes no state and moves no counter, so no row names it as a cause",
	"seg.fate.later":            "needs more than 10,000 rows behind one segment; TestHeldRowsBounded shows it",
	"drop.late":                 "needs more than 10,000 rows behind one segment; TestHeldRowsBounded shows it",
	"cause.recv.packet":         "hosts receive only TCP segments; kept for robustness",
	"seg.nottcp":                "no host and no injection sends anything but TCP",
	"sw.unroutable":             "netstack never sends a malformed IP packet",
	"seg.fin.retrans.other":     "netstack resends a FIN only on a timer (RTO, TLP, RACK) or in recovery on an ACK; kept for a cause the tap does not know",
	"opt.none":                  "netstack's SYNs and injected SYNs always carry an MSS option",
	"seg.fin.again":             "fallback for a FIN sent again with data; netstack resends a lone FIN",
	"seg.rst.timeout":           "netstack sends no RST when it gives up on a connection (retransmissions, user timeout, keep-alive)",
	"st.closed.rst.timewait":    "netstack ignores a RST in TIME_WAIT (RFC 1337)",
	"st.closed.early":           "a script's connect waits until established or failed, so no lab closes a socket in SYN_SENT",
	"seg.reuse":                 "a script cannot bind a local port again after its connection is gone: netstack says address in use",
	"ctr.ListenOverflowAckDrop": "netstack drops a final ACK on a full accept queue without counting it here (only DroppedPackets)",
	"ctr.ChecksumErrors":        "moves only while the stack processes a segment with a bad checksum, which a drop row explains",
	"ctr.ListenOverflowSynDrop": "moves only while a listener drops a SYN, which a drop row explains",
	"cause.app.any":             "fallback: a state change caused by application work that named no socket call",
	"cause.none":                "fallback: every event of a run has a cause",
	"timer.unknown":             "fallback: every timer netstack arms is identified (hosts' TestTimerKinds)",
	"timer.none":                "fallback: a timer row always has a timer",
	"timer.cork":                "a lab cannot set TCP_CORK",
	"timer.idle.rto":            "netstack's retransmission timer, when it is really due, always resends or gives up",
	"seg.retrans":               "fallback: a retransmission whose cause is neither a timer nor an arriving ACK",
	"drop.cookie_invalid":       "netstack answers an ACK that is no valid SYN cookie with a RST even when it uses cookies (verdict refused)",
	"verdict.cookie_invalid":    "netstack answers an ACK that is no valid SYN cookie with a RST even when it uses cookies (verdict refused)",
	"why.had.acked":             "netstack does not resend data once an ACK for it has reached it",
	"why.noack":                 "netstack acknowledges what arrives at once (no delayed ACK), so the receiver has always sent an ACK",
}

// TestAnnotationsDemonstrated checks that every annotation of the
// catalogue (segments, states, queues, counters, the switch, netstack
// differences) appears in at least one golden timeline, so that each is
// pinned by a golden file in both languages.
func TestAnnotationsDemonstrated(t *testing.T) {
	seen := map[string]bool{}
	var walk func(m i18n.Msg)
	walk = func(m i18n.Msg) {
		seen[m.Key] = true
		for _, a := range m.Args {
			switch v := a.(type) {
			case i18n.Msg:
				walk(v)
			case []i18n.Msg:
				for _, x := range v {
					walk(x)
				}
			case i18n.List:
				for _, x := range v {
					walk(x)
				}
			}
		}
	}
	for _, ref := range goldenLabs(t) {
		run := runLab(t, ref)
		for _, r := range run.Rows {
			for _, m := range r.Notes {
				walk(m)
			}
			walk(r.CauseMsg)
			if r.App != nil {
				walk(r.App.Result)
				walk(r.App.Err)
			}
		}
	}
	keys := i18n.Keys()
	slices.Sort(keys)
	for _, k := range keys {
		// cap.* are the notes of tcplab explain, demonstrated by the
		// explanations of captures (capture's TestAnnotationsDemonstrated).
		if strings.HasPrefix(k, "ui.") || strings.HasPrefix(k, "out.") || strings.HasPrefix(k, "app.") || strings.HasPrefix(k, "errno.") || strings.HasPrefix(k, "pcap.") || strings.HasPrefix(k, "cap.") {
			continue
		}
		why, excused := undemonstrated[k]
		switch {
		case seen[k] && excused:
			t.Errorf("%s is now demonstrated by a lab: remove it from undemonstrated (%s)", k, why)
		case !seen[k] && !excused:
			t.Errorf("annotation %s (%q) appears in no golden timeline: add a lab that produces it", k, i18n.Format(i18n.EN, k))
		}
	}
}
