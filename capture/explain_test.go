package capture

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/tap"
)

// timed is a packet of a synthetic capture and when it was captured.
type timed struct {
	at time.Duration
	ip []byte
}

// explainTimed explains a synthetic raw-IP capture and returns its rows.
func explainTimed(t *testing.T, ps []timed) ([]*tap.Row, *Explainer) {
	t.Helper()
	data := pcapOf(t, ps)
	tp := tap.New()
	x := New(tp, Options{})
	col := &tap.Collector{}
	x.AddSink(col)
	for _, p := range readAll(t, data) {
		x.Packet(p)
	}
	if err := x.Finish(); err != nil {
		t.Fatal(err)
	}
	return col.Rows, x
}

const ms = time.Millisecond

// A capture on the client of a server 20 ms away: the client answers at
// once, the server after a round trip. The capture is near the client; the
// server's states begin about 10 ms after the capture saw what caused
// them, and say so.
func TestCaptureSide(t *testing.T) {
	ps := []timed{
		{0, tcpPacket(cl, srv, segment.SYN, 1000, 0, nil)},
		{20 * ms, tcpPacket(srv, cl, segment.SYN|segment.ACK, 5000, 1001, nil)},
		{20*ms + 30*time.Microsecond, tcpPacket(cl, srv, segment.ACK, 1001, 5001, nil)},
		{21 * ms, tcpPacket(cl, srv, segment.PSH|segment.ACK, 1001, 5001, []byte("GET /"))},
		{41 * ms, tcpPacket(srv, cl, segment.PSH|segment.ACK, 5001, 1006, []byte("200 OK"))},
		{41*ms + 20*time.Microsecond, tcpPacket(cl, srv, segment.FIN|segment.ACK, 1006, 5007, nil)},
		{61 * ms, tcpPacket(srv, cl, segment.FIN|segment.ACK, 5007, 1007, nil)},
		{61*ms + 20*time.Microsecond, tcpPacket(cl, srv, segment.ACK, 1007, 5008, nil)},
	}
	rows, x := explainTimed(t, ps)
	var side bool
	for _, r := range rows {
		for _, m := range r.Notes {
			if m.Key == "cap.side" && m.Args[0] == "10.0.0.1" && m.Args[2] == "10.0.0.2" {
				side = true
			}
		}
		if r.Kind != tap.KindState {
			continue
		}
		switch {
		case r.Host == "10.0.0.2" && r.Cause.Kind == event.ByArrival:
			if r.Cause.Inferred != event.InferFar {
				t.Errorf("server %s → %s: cause inferred %v, want far", r.FromState, r.ToState, r.Cause.Inferred)
			}
			seg := rows[0]
			for _, s := range rows {
				if s.Kind == tap.KindSegment && s.No == r.Cause.Ref.Frame {
					seg = s
				}
			}
			if d := r.At - seg.At; d < 9*ms || d > 11*ms {
				t.Errorf("server %s → %s %v after frame %d was captured, want about 10ms", r.FromState, r.ToState, d, seg.No)
			}
		case r.Host == "10.0.0.1" && r.Cause.Kind == event.ByArrival && r.Cause.Inferred != event.InferSeen:
			t.Errorf("client %s → %s: cause inferred %v, want seen", r.FromState, r.ToState, r.Cause.Inferred)
		}
	}
	if !side {
		t.Errorf("no row says the capture was taken near 10.0.0.1")
	}
	sums, _ := x.Summaries()
	if len(sums) != 1 || sums[0].Near != 0 || sums[0].History != "ShADdFaf" || sums[0].Bytes != [2]int64{5, 6} ||
		sums[0].States != [2]event.State{event.TimeWait, event.Closed} {
		t.Errorf("summary %+v, want near the client, history ShADdFaf, 5 and 6 bytes, TIME_WAIT and CLOSED", sums)
	}
}

// A capture that begins in the middle of a connection, and a SYN nobody
// answers: the states before the capture are said to be inferred, and the
// pattern is named.
func TestMidstreamAndUnansweredSYN(t *testing.T) {
	other := netip.MustParseAddrPort("10.0.0.3:80")
	ps := []timed{
		{0, tcpPacket(cl, srv, segment.PSH|segment.ACK, 1, 1, []byte("abc"))},
		{10 * ms, tcpPacket(srv, cl, segment.ACK, 1, 4, nil)},
		{20 * ms, tcpPacket(cl, other, segment.SYN, 77, 0, nil)},
		{1020 * ms, tcpPacket(cl, other, segment.SYN, 77, 0, nil)},
		{3020 * ms, tcpPacket(cl, other, segment.SYN, 77, 0, nil)},
	}
	rows, _ := explainTimed(t, ps)
	keys := map[string]int{}
	for _, r := range rows {
		for _, k := range r.NoteKeys() {
			keys[k]++
		}
	}
	for _, k := range []string{"cap.midstream", "cap.st.before", "cap.pat.syn", "cap.syn.retrans", "cap.unseen"} {
		if keys[k] == 0 {
			t.Errorf("no note %s; notes: %v", k, keys)
		}
	}
	if keys["cap.pat.syn"] != 1 {
		t.Errorf("the SYN pattern is named %d times, want once per connection", keys["cap.pat.syn"])
	}
}

var updateSynthetic = flag.Bool("update", false, "rewrite testdata/synthetic.pcap")

// synthetic builds a capture of the cases the namespace tests cannot make
// on demand: a server 20 ms away (the capture is near the client), a
// capture that begins mid-connection, a final ACK the server keeps
// dropping, an old duplicate SYN, and a SYN flood from spoofed addresses.
func synthetic() []timed {
	ap := netip.MustParseAddrPort
	var ps []timed
	add := func(at time.Duration, ip []byte) { ps = append(ps, timed{at, ip}) }
	// A server 20 ms away.
	c, s := ap("10.0.0.1:40000"), ap("10.0.0.2:80")
	add(0, tcpPacket(c, s, segment.SYN, 1000, 0, nil))
	add(20*ms, tcpPacket(s, c, segment.SYN|segment.ACK, 5000, 1001, nil))
	add(20*ms+30*time.Microsecond, tcpPacket(c, s, segment.ACK, 1001, 5001, nil))
	add(21*ms, tcpPacket(c, s, segment.PSH|segment.ACK, 1001, 5001, []byte("GET /")))
	add(41*ms, tcpPacket(s, c, segment.PSH|segment.ACK, 5001, 1006, []byte("200 OK")))
	add(41*ms+20*time.Microsecond, tcpPacket(c, s, segment.FIN|segment.ACK, 1006, 5007, nil))
	add(61*ms, tcpPacket(s, c, segment.FIN|segment.ACK, 5007, 1007, nil))
	add(61*ms+20*time.Microsecond, tcpPacket(c, s, segment.ACK, 1007, 5008, nil))
	// Mid-connection.
	c, s = ap("10.0.0.1:40001"), ap("10.0.0.2:8080")
	add(100*ms, tcpPacket(c, s, segment.PSH|segment.ACK, 300, 900, []byte("more")))
	add(101*ms, tcpPacket(s, c, segment.ACK, 900, 304, nil))
	// A final ACK dropped by a full accept queue, twice.
	c, s = ap("10.0.0.1:40002"), ap("10.0.0.2:81")
	add(200*ms, tcpPacket(c, s, segment.SYN, 7000, 0, nil))
	add(201*ms, tcpPacket(s, c, segment.SYN|segment.ACK, 8000, 7001, nil))
	add(202*ms, tcpPacket(c, s, segment.ACK, 7001, 8001, nil))
	add(1201*ms, tcpPacket(s, c, segment.SYN|segment.ACK, 8000, 7001, nil))
	add(1202*ms, tcpPacket(c, s, segment.ACK, 7001, 8001, nil))
	add(3201*ms, tcpPacket(s, c, segment.SYN|segment.ACK, 8000, 7001, nil))
	add(3202*ms, tcpPacket(c, s, segment.ACK, 7001, 8001, nil))
	// A connection, closed, and an old duplicate of its SYN.
	c, s = ap("10.0.0.1:40003"), ap("10.0.0.2:82")
	add(300*ms, tcpPacket(c, s, segment.SYN, 100, 0, nil))
	add(301*ms, tcpPacket(s, c, segment.SYN|segment.ACK, 200, 101, nil))
	add(302*ms, tcpPacket(c, s, segment.ACK, 101, 201, nil))
	add(303*ms, tcpPacket(c, s, segment.FIN|segment.ACK, 101, 201, nil))
	add(304*ms, tcpPacket(s, c, segment.FIN|segment.ACK, 201, 102, nil))
	add(305*ms, tcpPacket(c, s, segment.ACK, 102, 202, nil))
	add(4000*ms, tcpPacket(c, s, segment.SYN, 100, 0, nil))
	add(4001*ms, tcpPacket(s, c, segment.SYN|segment.ACK, 9000, 101, nil))
	add(4002*ms, tcpPacket(c, s, segment.RST, 101, 0, nil))
	// A SYN flood from spoofed addresses: 17 half-open connections.
	s = ap("10.0.0.2:83")
	for i := range 17 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, 0, byte(10 + i)}), uint16(30000+i))
		at := 500*ms + time.Duration(i)*ms
		add(at, tcpPacket(src, s, segment.SYN, uint32(i*1000), 0, nil))
		add(at+100*time.Microsecond, tcpPacket(s, src, segment.SYN|segment.ACK, uint32(50000+i), uint32(i*1000+1), nil))
	}
	slices.SortStableFunc(ps, func(a, b timed) int { return int(a.at - b.at) })
	return ps
}

// pcapOf writes packets as a raw-IP pcap.
func pcapOf(t *testing.T, ps []timed) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1700000000, 0)
	for _, p := range ps {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: base.Add(p.at), CaptureLength: len(p.ip), Length: len(p.ip)}, p.ip); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestSyntheticCapture keeps testdata/synthetic.pcap, which the golden
// explanations and the annotations test read, equal to what synthetic
// builds, and checks what its explanation must show.
func TestSyntheticCapture(t *testing.T) {
	data := pcapOf(t, synthetic())
	if *updateSynthetic {
		if err := os.WriteFile("testdata/synthetic.pcap", data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile("testdata/synthetic.pcap")
	if err != nil || !bytes.Equal(old, data) {
		t.Fatalf("testdata/synthetic.pcap differs from what synthetic builds (go test ./capture -run TestSyntheticCapture -update): %v", err)
	}
	rows, x := explainTimed(t, synthetic())
	keys := map[string]bool{}
	for _, r := range rows {
		for _, k := range r.NoteKeys() {
			keys[k] = true
		}
	}
	for _, k := range []string{"cap.side", "cap.midstream", "cap.st.before", "cap.pat.finalack", "cap.oldsyn", "cap.pat.flood"} {
		if !keys[k] {
			t.Errorf("no row has note %s", k)
		}
	}
	// The 17 of the flood and the one whose final ACK is dropped.
	if n := x.PeakHalfOpen(); n != 18 {
		t.Errorf("PeakHalfOpen() = %d, want 18", n)
	}
}
