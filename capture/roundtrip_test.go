package capture_test

import (
	"bytes"
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/capture"
	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/tap"
	"github.com/tcplab/tcplab/topology"
)

// endKey names one endpoint of one host.
type endKey struct {
	host          string
	local, remote netip.AddrPort
}

// paths returns each endpoint's state path ("CLOSED>SYN_SENT>..."), from a
// timeline's state rows; listeners (no remote) are left out.
func paths(rows []*tap.Row, keep func(r *tap.Row) bool) map[endKey][]string {
	out := map[endKey][]string{}
	for _, r := range rows {
		if r.Kind != tap.KindState || !r.Remote.Addr().IsValid() || r.Remote.Addr().IsUnspecified() || keep != nil && !keep(r) {
			continue
		}
		k := endKey{r.Host, r.Local, r.Remote}
		if len(out[k]) == 0 {
			out[k] = append(out[k], r.FromState.String())
		}
		out[k] = append(out[k], r.ToState.String())
	}
	return out
}

// runLab runs a catalogue lab with its capture at the send point.
func runLab(t *testing.T, name string) (*labs.Run, []byte) {
	t.Helper()
	lab, err := labs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	run, err := labs.Prepare(lab, labs.RunOptions{KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	var pcap bytes.Buffer
	pw := run.Tap.NewPcapWriter(&pcap, tap.ViewSent, topology.Epoch, i18n.EN)
	run.Tap.AddSink(pw)
	if err := run.Go(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := pw.Flush(); err != nil {
		t.Fatal(err)
	}
	return run, pcap.Bytes()
}

// explain explains a capture and returns its rows.
func explain(t *testing.T, data []byte, opts capture.Options) ([]*tap.Row, *capture.Explainer) {
	t.Helper()
	rd, err := capture.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tp := tap.New()
	x := capture.New(tp, opts)
	col := &tap.Collector{}
	x.AddSink(col)
	first := true
	for {
		p, err := rd.Next()
		if err != nil {
			break
		}
		if first {
			x.AddNames(rd.Names())
			first = false
		}
		x.Packet(p)
	}
	if err := x.Finish(); err != nil {
		t.Fatal(err)
	}
	return col.Rows, x
}

// Round trips: every catalogue lab's capture at the send point, explained,
// must show the state paths tcplab recorded and the same kind of note on
// each segment, except where a capture cannot see what the run knew. The
// exceptions are rules, not lists of rows:
//
//   - a timer that ends an endpoint without sending anything (TIME_WAIT,
//     FIN_WAIT_2, a SYN given up, keep-alive) shows in no capture that ends
//     first: such trailing transitions are left out of what is expected;
//   - a SYN cookie leaves no SYN_RCVD endpoint in the run, but a capture
//     cannot tell a cookie SYN-ACK from another: the explanation has
//     LISTEN → SYN_RCVD → ESTABLISHED where the run has LISTEN →
//     ESTABLISHED, and a half-open endpoint for each cookie nobody
//     answered, on a host whose counters show it sent cookies;
//   - segments a lab forged (injections) look real in a capture: they and
//     what follows them on their connection are not compared;
//   - what made a sender retransmit (which timer, which ACK) and what a
//     receiver already had are ground truth: such rows must still be a
//     retransmission, or an ACK, but may name another cause.
func TestRoundTrip(t *testing.T) {
	entries, err := labs.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			run, data := runLab(t, e.Name)
			rows, _ := explain(t, data, capture.Options{})
			checkPaths(t, run, rows)
			compared += checkNotes(t, run, rows)
		})
	}
	if compared < 200 {
		t.Errorf("compared the notes of %d segment rows over the catalogue, want at least 200", compared)
	}
}

// checkPaths compares each endpoint's state path.
func checkPaths(t *testing.T, run *labs.Run, rows []*tap.Row) {
	t.Helper()
	hosts := map[string]bool{}
	for _, h := range run.Lab.Hosts {
		hosts[h.Name] = true
	}
	lastFrame := map[[2]netip.AddrPort]time.Duration{}
	for _, r := range run.Rows {
		if r.Kind == tap.KindSegment {
			lastFrame[pair(r.Seg.Src, r.Seg.Dst)] = r.At
		}
	}
	// What a capture can show of the run's state rows.
	var visible []*tap.Row
	for _, r := range run.Rows {
		if r.Kind == tap.KindState && r.Cause.Kind == event.ByTimer && r.ToState == event.Closed && r.At > lastFrame[pair(r.Local, r.Remote)] {
			continue
		}
		visible = append(visible, r)
	}
	want := paths(visible, nil)
	for k, p := range want {
		if len(p) == 2 && p[0] == "LISTEN" && p[1] == "ESTABLISHED" {
			want[k] = []string{"LISTEN", "SYN_RCVD", "ESTABLISHED"} // a SYN cookie
		}
	}
	got := paths(rows, func(r *tap.Row) bool { return hosts[r.Host] })
	n := 0
	for k, g := range got {
		w, ok := want[k]
		switch {
		case !ok && strings.Join(g, ">") == "LISTEN>SYN_RCVD" && run.Counters[k.host]["ListenOverflowSynCookieSent"] > 0:
			// A cookie SYN-ACK nobody answered.
		case !slices.Equal(g, w):
			t.Errorf("%s %s ↔ %s: inferred %s, recorded %s", k.host, k.local, k.remote, strings.Join(g, " → "), strings.Join(w, " → "))
		default:
			n++
		}
	}
	for k, w := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("%s %s ↔ %s: recorded %s, inferred nothing", k.host, k.local, k.remote, strings.Join(w, " → "))
		}
	}
	if n == 0 {
		t.Errorf("no endpoint's state path was inferred")
	}
}

// families are notes that name one of several causes a capture cannot tell
// apart: a row recorded with one may be explained with another of its
// family.
var families = map[string]string{
	"seg.retrans.rto": "retrans", "seg.retrans.sack": "retrans", "seg.retrans.rescue": "retrans", "seg.retrans.partial": "retrans",
	"seg.retrans.rack": "retrans", "seg.retrans.tlp": "retrans", "seg.retrans.fast": "retrans", "seg.retrans": "retrans",
	"seg.fin.retrans": "fin", "seg.fin.tlp": "fin", "seg.fin.retrans.ack": "fin", "seg.fin.retrans.rack": "fin", "seg.fin.retrans.other": "fin",
	"seg.ack": "ack", "seg.ack.dupdata": "ack", "seg.ack.dupcopy": "ack", "seg.dupack.num": "ack", "seg.dupack.plain": "ack", "seg.winupdate": "ack",
	"seg.hs2": "hs2", "seg.synack.cookie": "hs2", "seg.hs3": "hs3", "seg.hs3.cookie": "hs3",
	"seg.syn.retrans": "synretrans", "seg.syn.retrans.linux": "synretrans", "cap.syn.retrans": "synretrans",
	"seg.simopen.ack": "simopen.ack", "cap.simopen.ack": "simopen.ack",
}

// checkNotes compares the first note of each segment row, and returns how
// many rows it compared.
func checkNotes(t *testing.T, run *labs.Run, rows []*tap.Row) int {
	t.Helper()
	rec := map[int]*tap.Row{}
	forged := map[[2]netip.AddrPort]int{} // the first forged frame of each connection
	for _, r := range run.Rows {
		if r.Kind != tap.KindSegment {
			continue
		}
		rec[r.No] = r
		if k := pair(r.Seg.Src, r.Seg.Dst); r.Injected != nil && forged[k] == 0 {
			forged[k] = r.No
		}
	}
	n := 0
	for _, r := range rows {
		if r.Kind != tap.KindSegment {
			continue
		}
		w := rec[r.No]
		if w == nil {
			t.Errorf("frame %d explained, but the run has no such frame", r.No)
			continue
		}
		if f := forged[pair(w.Seg.Src, w.Seg.Dst)]; f != 0 && r.No >= f || len(w.Notes) == 0 {
			continue
		}
		wk, gk := w.Notes[0].Key, ""
		if len(r.Notes) > 0 {
			gk = r.Notes[0].Key
		}
		if wk != gk && (families[wk] == "" || families[wk] != families[gk]) {
			t.Errorf("frame %d: explained %v, recorded %v", r.No, r.NoteKeys(), w.NoteKeys())
		}
		n++
	}
	return n
}

// pair returns a connection's endpoints in a fixed order.
func pair(a, b netip.AddrPort) [2]netip.AddrPort {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return [2]netip.AddrPort{a, b}
}
