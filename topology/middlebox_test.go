package topology

import (
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

// worldRecorder is a recorder that also keeps world events.
type worldRecorder struct {
	*recorder
	worlds []*event.World
}

// World implements event.Observer.
func (r *worldRecorder) World(w *event.World) { r.worlds = append(r.worlds, w) }

// boxPacket is one packet of a middlebox test: sent at at by a (the host
// behind the box, 10.0.0.1) or b (10.0.0.2).
type boxPacket struct {
	at       time.Duration
	fromA    bool
	src, dst string
	flags    segment.Flags
	ack      uint32
}

// runBox plays pkts through a network whose host a sits behind box m.
func runBox(t *testing.T, m Middlebox, pkts []boxPacket) (*worldRecorder, *fakeNode, *fakeNode) {
	t.Helper()
	rec := &worldRecorder{recorder: &recorder{}}
	n := New(1, rec, nil)
	a, ia, _ := attachFake(t, n, "a", Link{}, "10.0.0.1")
	b, ib, _ := attachFake(t, n, "b", Link{}, "10.0.0.2")
	m.Host = "a"
	if err := n.AddMiddlebox(m); err != nil {
		t.Fatalf("AddMiddlebox(%+v) = %v, want nil", m, err)
	}
	for i, p := range pkts {
		node, idx := a, ia
		if !p.fromA {
			node, idx = b, ib
		}
		sendAt(n, node, idx, p.at, tcpPacket(uint16(i+1), p.src, p.dst, p.flags, 100, p.ack, 0))
	}
	run(t, n, time.Hour)
	return rec, a, b
}

var (
	aWeb = "10.0.0.1:40000"
	bWeb = "10.0.0.2:80"
)

// handshake opens a:40000 → b:80 at 0–2s.
var handshake = []boxPacket{
	{0, true, aWeb, bWeb, segment.SYN, 0},
	{time.Second, false, bWeb, aWeb, segment.SYN | segment.ACK, 101},
	{2 * time.Second, true, aWeb, bWeb, segment.ACK, 101},
}

func TestMiddleboxForgetsIdleFlows(t *testing.T) {
	pkts := append(append([]boxPacket{}, handshake...),
		boxPacket{20 * time.Second, true, aWeb, bWeb, segment.PSH | segment.ACK, 101},      // id 4: forgotten
		boxPacket{21 * time.Second, false, bWeb, aWeb, segment.PSH | segment.ACK, 101},     // id 5: forgotten, inbound
		boxPacket{30 * time.Second, false, "10.0.0.2:5000", "10.0.0.1:22", segment.SYN, 0}, // id 6: opened from outside
	)
	rec, a, b := runBox(t, Middlebox{Name: "nat", Kind: NAT, IdleTimeout: 10 * time.Second}, pkts)
	if len(rec.worlds) != 1 {
		t.Fatalf("world events = %d, want 1 (the flow forgotten)", len(rec.worlds))
	}
	w := rec.worlds[0]
	if w.Kind != event.FlowForgotten || w.At != 12*time.Second || w.A.String() != aWeb || w.B.String() != bWeb || w.Box.Name != "nat" || w.Box.Idle != 10*time.Second {
		t.Errorf("forgotten = %+v (box %+v), want nat forgetting %s ↔ %s at 12s after 10s", w, w.Box, aWeb, bWeb)
	}
	drops := rec.drops()
	if got := len(drops); got != 3 {
		t.Fatalf("drops = %v, want 3", drops)
	}
	for i, want := range []struct {
		id     uint16
		place  event.Place
		forgot time.Duration
	}{{4, aOut, 12 * time.Second}, {5, aIn, 12 * time.Second}, {6, aIn, 0}} {
		f := rec.fates[slicesIndexFate(rec.fates, drops[i].Ref)]
		if rec.ipID(f.Ref) != want.id || f.Reason != event.Middlebox || f.Place != want.place || f.Box == nil || f.Box.Forgot != want.forgot {
			t.Errorf("drop %d = %+v (box %+v), want packet %d dropped by the box at %v, forgotten at %v", i, f, f.Box, want.id, want.place, want.forgot)
		}
	}
	if len(a.delivered) != 1 || len(b.delivered) != 2 {
		t.Errorf("delivered: a %d, b %d; want 1 and 2 (the handshake only)", len(a.delivered), len(b.delivered))
	}
	if len(rec.sent) != len(pkts) {
		t.Errorf("frames = %d, want %d: a dropping box forges nothing", len(rec.sent), len(pkts))
	}
}

func TestMiddleboxRefreshAndConntrack(t *testing.T) {
	pkts := append(append([]boxPacket{}, handshake...),
		boxPacket{8 * time.Second, false, bWeb, aWeb, segment.ACK, 101},                    // refreshes the flow: forgotten at 18s
		boxPacket{15 * time.Second, true, aWeb, bWeb, segment.ACK, 101},                    // still known
		boxPacket{30 * time.Second, false, "10.0.0.2:5000", "10.0.0.1:22", segment.SYN, 0}, // conntrack: opens a flow
	)
	rec, a, _ := runBox(t, Middlebox{Name: "fw", Kind: Conntrack, IdleTimeout: 10 * time.Second}, pkts)
	if d := rec.drops(); len(d) != 0 {
		t.Errorf("drops = %v, want none", d)
	}
	if len(a.delivered) != 3 {
		t.Errorf("a received %d packets, want 3 (SYN-ACK, ACK, the outside SYN)", len(a.delivered))
	}
	var at []time.Duration
	for _, w := range rec.worlds {
		at = append(at, w.At)
	}
	if len(at) != 2 || at[0] != 25*time.Second || at[1] != 40*time.Second {
		t.Errorf("flows forgotten at %v, want [25s 40s] (10s after each flow's last segment)", at)
	}
}

func TestMiddleboxRST(t *testing.T) {
	pkts := append(append([]boxPacket{}, handshake...),
		boxPacket{20 * time.Second, true, aWeb, bWeb, segment.PSH | segment.ACK, 777},
	)
	rec, a, b := runBox(t, Middlebox{Name: "lb", Kind: NAT, IdleTimeout: 10 * time.Second, OnForgotten: ForgetRST}, pkts)
	if len(rec.sent) != len(pkts)+1 {
		t.Fatalf("frames = %d, want %d (the box's RST)", len(rec.sent), len(pkts)+1)
	}
	rst := rec.sent[len(rec.sent)-1]
	if rst.Box == nil || rst.Box.Name != "lb" || rst.From != "a" || rst.At != 20*time.Second {
		t.Errorf("RST sent = %+v, want one forged by lb at 20s on a's link", rst)
	}
	s := rst.Seg
	if s == nil || s.Flags != segment.RST || s.Src.String() != bWeb || s.Dst.String() != aWeb || uint32(s.Seq) != 777 {
		t.Fatalf("RST = %+v, want RST %s → %s seq 777 (the segment's ACK)", s, bWeb, aWeb)
	}
	last := a.delivered[len(a.delivered)-1]
	if last.ref != rst.Ref {
		t.Errorf("a's last delivery is %v, want the box's RST %v", last.ref, rst.Ref)
	}
	if len(b.delivered) != 2 {
		t.Errorf("b received %d packets, want 2: the data never passed the box", len(b.delivered))
	}
}

func TestAddMiddleboxErrors(t *testing.T) {
	n := New(1, nil, nil)
	attachFake(t, n, "a", Link{}, "10.0.0.1")
	for _, m := range []Middlebox{
		{Name: "x", Host: "nobody", IdleTimeout: time.Second},
		{Name: "x", Host: "a"},
		{Name: "x", Host: "a", IdleTimeout: time.Second, Kind: 7},
		{Name: "x", Host: "a", IdleTimeout: time.Second, OnForgotten: -1},
	} {
		if err := n.AddMiddlebox(m); err == nil {
			t.Errorf("AddMiddlebox(%+v) = nil, want an error", m)
		}
	}
	if err := n.AddMiddlebox(Middlebox{Name: "one", Host: "a", IdleTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := n.AddMiddlebox(Middlebox{Name: "two", Host: "a", IdleTimeout: time.Second}); err == nil {
		t.Error("a second middlebox on one link: nil error, want one")
	}
}

// slicesIndexFate returns the index of the drop of ref in fates.
func slicesIndexFate(fates []*event.Fate, ref event.Ref) int {
	for i, f := range fates {
		if f.Kind == event.Dropped && f.Ref == ref {
			return i
		}
	}
	return -1
}
