package tap

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (go test ./tap -update)")

// Endpoints of the sample besides the usual connection.
var (
	epClient2 = netip.AddrPortFrom(addrClient, 40001)
	epClosed  = netip.AddrPortFrom(addrServer, 81)
	epNowhere = netip.MustParseAddrPort("10.0.0.9:7")
)

// sampleEnd is when the sample run ends.
const sampleEnd = 2020 * ms

// playSample plays a small run with a row of every kind into d:
//
//   - a listener (state and app rows) and a handshake with options;
//   - the handshake's last ACK duplicated by the client's link: its copy
//     arrives right after it (a copy row);
//   - data whose payload holds the characters Mermaid cannot take, lost on
//     the client's link;
//   - a packet that is not TCP, which the switch cannot route;
//   - a RST injected toward an address no host owns;
//   - the server's queues as the connection is accepted;
//   - a tail loss probe timer that does nothing (a timer row);
//   - the retransmission timer: counters, and the data again, corrupted on
//     the way and dropped by the server's stack (a drop row);
//   - after a pause, a connection to a closed port: refused, with the
//     counter the refusal moved, and a failed app step;
//   - at the end, the first connection stuck with its data unacknowledged
//     (a stall row).
func playSample(d *driver) {
	c := newConv()
	d.state(0, "server", epListener, netip.AddrPort{}, event.Closed, event.Listen, event.AppCause("listen"))
	d.app(0, "server", "listen :80", "listen", -1, i18n.M("app.listening", 80, 16, 17))

	d.state(1*ms, "client", c.cl, c.sv, event.Closed, event.SynSent, event.AppCause("connect"))
	syn := d.send(1*ms, "client", c.c2s(fSYN, 0, 0, "", optMSS(1460), optSACKPerm(), optTS(100, 0), optWS(7)), event.AppCause("connect"))
	d.arrive(syn, 11*ms, "server")
	d.state(11*ms, "server", c.sv, c.cl, event.Listen, event.SynRcvd, event.Arrival(syn))
	d.queue(11*ms, "server", epListener, 0, 17, 1)
	d.receipt(syn, 11*ms, "server", event.Processed)
	synAck := d.send(11*ms, "server", c.s2c(fSYN|fACK, 0, 1, "", optMSS(1460), optSACKPerm(), optTS(700, 100), optWS(7)), event.Arrival(syn))
	d.arrive(synAck, 21*ms, "client")
	d.state(21*ms, "client", c.cl, c.sv, event.SynSent, event.Established, event.Arrival(synAck))
	d.receipt(synAck, 21*ms, "client", event.Processed)
	ack := d.send(21*ms, "client", c.c2s(fACK, 1, 1, ""), event.Arrival(synAck))
	ackCopy := d.duplicate(ack, 21*ms, outClient, nil, 0)
	d.app(21*ms, "client", "connect server:80", "connect", -1, i18n.M("app.connected", c.cl))

	data := d.send(21*ms, "client", c.c2s(fPSH|fACK, 1, 1, "a;b#c<d>"), event.AppCause("send"))
	d.drop(data, 21*ms, outClient, event.Loss)
	d.app(21*ms, "client", `send "a;b#c<d>"`, "send", 8, i18n.M("app.sent", 8))

	junk := d.send(25*ms, "client", []byte{0x45, 0, 0, 20}, event.Cause{})
	d.fate(event.Fate{Kind: event.Dropped, Ref: junk, At: 25 * ms, Place: atSwitch, Reason: event.Unroutable, Detail: "truncated IPv4 header"})

	stray := d.inject(30*ms, "client", tcpSpec{src: c.cl, dst: epNowhere, flags: fRST, seq: 77, win: 0}.build(), event.Injected{Rule: "stray"})
	d.fate(event.Fate{Kind: event.Dropped, Ref: stray, At: 30 * ms, Place: atSwitch, Reason: event.NoHost, Addr: epNowhere.Addr()})

	d.arrive(ack, 31*ms, "server")
	d.state(31*ms, "server", c.sv, c.cl, event.SynRcvd, event.Established, event.Arrival(ack))
	d.queue(31*ms, "server", epListener, 1, 17, 0)
	d.receipt(ack, 31*ms, "server", event.Processed)
	d.deliver(ackCopy, 31*ms, "server")
	d.app(31*ms, "server", "accept", "accept", -1, i18n.M("app.accepted", c.cl))
	d.queue(31*ms, "server", epListener, 0, 17, 0)

	d.timer(61*ms, "client", c.cl, c.sv, event.TimerTLP, event.Established, 0)

	d.timer(221*ms, "client", c.cl, c.sv, event.TimerRTO, event.Established, 200*ms)
	rto := event.TimerCause(event.TimerRTO)
	d.counter(221*ms, "client", rto, event.CounterMove{Name: "Timeouts", Delta: 1, Total: 1})
	again := d.send(221*ms, "client", c.c2s(fPSH|fACK, 1, 1, "a;b#c<d>"), rto)
	d.corrupt(again, 221*ms, inServer)
	d.arrive(again, 231*ms, "server")
	d.receipt(again, 231*ms, "server", event.BadChecksum, event.CounterMove{Name: "ChecksumErrors", Delta: 1, Total: 1})

	// A second connection, to a port nobody listens on.
	c2 := &conv{cl: epClient2, sv: epClosed, isnC: 9000, isnS: 0}
	d.state(2000*ms, "client", c2.cl, c2.sv, event.Closed, event.SynSent, event.AppCause("connect"))
	syn2 := d.send(2000*ms, "client", c2.c2s(fSYN, 0, 0, "", optMSS(1460)), event.AppCause("connect"))
	d.arrive(syn2, 2010*ms, "server")
	d.receipt(syn2, 2010*ms, "server", event.NoSocket)
	rst := d.send(2010*ms, "server", tcpSpec{src: c2.sv, dst: c2.cl, flags: fRST | fACK, ack: 9001}.build(), event.Arrival(syn2))
	d.arrive(rst, 2020*ms, "client")
	d.state(2020*ms, "client", c2.cl, c2.sv, event.SynSent, event.Closed, event.Arrival(rst))
	d.receipt(rst, 2020*ms, "client", event.Processed, event.CounterMove{Name: "FailedConnectionAttempts", Delta: 1, Total: 1})
	d.appErr(2020*ms, "client", "connect server:81", "connect", "ECONNREFUSED", i18n.M("app.err.dial", "10.0.0.2:81", i18n.M("errno.ECONNREFUSED")))

	d.stall(event.Stall{At: sampleEnd, Host: "client", Local: c.cl, Remote: c.sv, State: event.Established, SndUna: 1001, SndNxt: 1009})
}

// sampleKinds are the kinds of the sample's rows, in order.
var sampleKinds = []Kind{
	KindState, KindApp, // listen
	KindState, KindSegment, KindState, KindQueue, KindSegment, KindState, KindSegment, KindApp, // handshake
	KindSegment, KindApp, // lost data
	KindPacket, KindSegment, // not TCP, to nowhere
	KindState, KindQueue, KindCopy, KindApp, KindQueue, // accept
	KindTimer,                          // TLP
	KindCounter, KindSegment, KindDrop, // RTO
	KindState, KindSegment, KindSegment, KindState, KindCounter, KindApp, // refused
	KindStall,
}

// sample plays the sample into a tap whose sinks newSinks makes (they are
// added before the first event), and returns the driver.
func sample(t testing.TB, newSinks ...func(*Tap) Sink) *driver {
	t.Helper()
	d, err := sampleErr(t, newSinks...)
	if err != nil {
		t.Fatalf("Finish(%v) = %v, want nil", sampleEnd, err)
	}
	return d
}

// sampleErr is sample for sinks that may fail: it returns what Finish
// returned.
func sampleErr(t testing.TB, newSinks ...func(*Tap) Sink) (*driver, error) {
	t.Helper()
	d := newDriver(t)
	for _, f := range newSinks {
		d.tap.AddSink(f(d.tap))
	}
	playSample(d)
	return d, d.tap.Finish(sampleEnd)
}

// sampleRows returns the sample's rows as a Collector kept them.
func sampleRows(t testing.TB) (*Tap, []*Row) {
	t.Helper()
	var c Collector
	d := sample(t, func(*Tap) Sink { return &c })
	return d.tap, c.Rows
}

// TestSampleRows checks that the sample holds a row of every kind, in the
// order it was played, and every segment's frame number.
func TestSampleRows(t *testing.T) {
	_, rows := sampleRows(t)
	var kinds []Kind
	seen := map[Kind]bool{}
	for _, r := range rows {
		kinds = append(kinds, r.Kind)
		seen[r.Kind] = true
	}
	if !slices.Equal(kinds, sampleKinds) {
		t.Fatalf("row kinds = %v, want %v", kinds, sampleKinds)
	}
	for k := KindSegment; k <= KindStall; k++ {
		if !seen[k] {
			t.Errorf("the sample has no %v row; it should hold every kind", k)
		}
	}
	var frames []int
	for _, r := range rows {
		if r.Kind == KindSegment || r.Kind == KindPacket {
			frames = append(frames, r.No)
		}
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(frames, want) {
		t.Errorf("frame numbers = %v, want %v", frames, want)
	}
}

// sampleRenderings returns every rendering of the sample in lang: the text
// listing (plain and in colour), JSON Lines, Mermaid (with and without
// notes), and the comments of both captures.
func sampleRenderings(t *testing.T, lang i18n.Lang) map[string]string {
	t.Helper()
	out := map[string]string{
		"text":          sampleText(t, Header{Title: "sample", Lang: lang}),
		"text color":    sampleText(t, Header{Title: "sample", Lang: lang, Color: true}),
		"json":          sampleJSON(t, lang),
		"mermaid":       sampleMermaid(t, MermaidOptions{Title: "sample", Lang: lang}),
		"mermaid notes": sampleMermaid(t, MermaidOptions{Title: "sample", Lang: lang, Notes: true}),
	}
	for _, view := range []PcapView{ViewSent, ViewReceived} {
		var comments []string
		for _, p := range pcapPackets(t, samplePcap(t, view, lang)) {
			comments = append(comments, p.comment)
		}
		out[fmt.Sprintf("pcap view %d", view)] = strings.Join(comments, "\n")
	}
	tp, rows := sampleRows(t)
	var lines []string
	for _, r := range rows {
		lines = append(lines, tp.RowText(r, lang))
	}
	out["RowText"] = strings.Join(lines, "\n")
	return out
}

// missingText matches what i18n and fmt write for a message they cannot
// render: "!key[args]" for a key missing from the catalogues, "%!d(string=x)"
// or "%!(EXTRA ...)" for arguments that do not fit its text, and the verb
// itself ("%s") for a message given no arguments at all.
var missingText = regexp.MustCompile(`%!|%(\[\d+\])?[-+# 0-9.]*[sdvqxXf]|![a-z][a-z0-9_]*\.[a-zA-Z]`)

// TestSampleTexts checks every rendering of the sample, in every language,
// for messages that did not render: a key missing from a catalogue, or
// arguments that do not fit the text.
func TestSampleTexts(t *testing.T) {
	for _, bad := range []string{
		i18n.M("no.such.key", 1).Text(i18n.ZH, nil),
		i18n.M("seg.ack").Text(i18n.EN, nil),
		i18n.M("seg.ack", "client").Text(i18n.EN, nil),
		i18n.M("seg.ack", 1, 2, 3).Text(i18n.EN, nil),
	} {
		if !missingText.MatchString(bad) {
			t.Fatalf("missingText does not match %q, a message that did not render", bad)
		}
	}
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		for name, out := range sampleRenderings(t, lang) {
			for i, l := range strings.Split(out, "\n") {
				if missingText.MatchString(l) {
					t.Errorf("%s, %s, line %d: a message did not render:\n%s", lang, name, i+1, l)
				}
			}
		}
	}
}

// TestSampleNoteKeys checks that every note key of the sample has a text in
// every language.
func TestSampleNoteKeys(t *testing.T) {
	_, rows := sampleRows(t)
	for _, r := range rows {
		for _, m := range append(slices.Clone(r.Notes), r.CauseMsg) {
			for _, key := range msgKeys(m) {
				for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
					if !i18n.Has(lang, key) {
						t.Errorf("%v row at %v: key %q has no %s text", r.Kind, r.At, key, lang)
					}
				}
			}
		}
	}
}

// msgKeys returns the keys of m and of the messages among its arguments.
func msgKeys(m i18n.Msg) []string {
	if m.IsZero() {
		return nil
	}
	keys := []string{m.Key}
	for _, a := range m.Args {
		switch v := a.(type) {
		case i18n.Msg:
			keys = append(keys, msgKeys(v)...)
		case []i18n.Msg:
			for _, x := range v {
				keys = append(keys, msgKeys(x)...)
			}
		case i18n.List:
			for _, x := range v {
				keys = append(keys, msgKeys(x)...)
			}
		}
	}
	return keys
}

// golden compares got with testdata/name, or rewrites the file with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tap -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test ./tap -update rewrites it):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// goldenName is the golden file of a form of the sample in lang: English
// has no language in the name ("sample.jsonl", which docs/OUTPUT.md
// points to), Chinese has ("sample.zh.jsonl").
func goldenName(lang i18n.Lang, ext string) string {
	if lang == i18n.EN {
		return "sample." + ext
	}
	return "sample." + lang.String() + "." + ext
}

// lineDiff lists the lines that differ between want and got, by line
// number.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// ansi matches an ANSI CSI escape sequence.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// stripANSI removes the colour escapes from s.
func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

var errWrite = fmt.Errorf("disk full")

// TestSampleTimes checks that the sample's rows come in time order, as a
// run's do: every row is created at the virtual time it stands at.
func TestSampleTimes(t *testing.T) {
	_, rows := sampleRows(t)
	var last time.Duration
	for i, r := range rows {
		if r.At < last {
			t.Errorf("row %d (%v) at %v comes after a row at %v", i+1, r.Kind, r.At, last)
		}
		last = r.At
	}
}
