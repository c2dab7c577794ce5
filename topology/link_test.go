package topology

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// ipv4Packet builds a raw IPv4 packet of size bytes (at least the header)
// from src to dst with the given IP ID; the switch reads only the
// destination, tests use the ID to tell packets apart.
func ipv4Packet(id uint16, src, dst string, size int) []byte {
	size = max(size, header.IPv4MinimumSize)
	b := make([]byte, size)
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(size),
		ID:          id,
		TTL:         64,
		Protocol:    uint8(header.TCPProtocolNumber),
		SrcAddr:     tcpip.AddrFrom4(netip.MustParseAddr(src).As4()),
		DstAddr:     tcpip.AddrFrom4(netip.MustParseAddr(dst).As4()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	return b
}

// recorder is an event.Observer that records what the switch reports, in
// order.
type recorder struct {
	event.Nop
	sent  []*event.Sent
	fates []*event.Fate
	all   []any // every *event.Sent and *event.Fate, in order
}

var _ event.Observer = (*recorder)(nil)

// Sent implements event.Observer.
func (r *recorder) Sent(e *event.Sent) {
	r.sent = append(r.sent, e)
	r.all = append(r.all, e)
}

// Fate implements event.Observer.
func (r *recorder) Fate(f *event.Fate) {
	r.fates = append(r.fates, f)
	r.all = append(r.all, f)
}

// frame returns the Sent event of ref's frame, or nil.
func (r *recorder) frame(ref event.Ref) *event.Sent {
	for _, e := range r.sent {
		if e.Frame == ref.Frame {
			return e
		}
	}
	return nil
}

// ipID returns the IP ID of the packet ref names (0 when unknown).
func (r *recorder) ipID(ref event.Ref) uint16 {
	if e := r.frame(ref); e != nil && len(e.Data) >= header.IPv4MinimumSize {
		return header.IPv4(e.Data).ID()
	}
	return 0
}

// fatesOf returns the recorded fates of the given kinds (all of them when
// none is given), in order.
func (r *recorder) fatesOf(kinds ...event.FateKind) []fate {
	var out []fate
	for _, f := range r.fates {
		if len(kinds) == 0 || slices.Contains(kinds, f.Kind) {
			out = append(out, fateOf(f))
		}
	}
	return out
}

// drops returns the Dropped fates.
func (r *recorder) drops() []fate { return r.fatesOf(event.Dropped) }

// dropped returns the IP IDs of the dropped packets, in order.
func (r *recorder) dropped() []uint16 {
	var out []uint16
	for _, f := range r.drops() {
		out = append(out, r.ipID(f.Ref))
	}
	return out
}

// fate is what tests compare of an event.Fate: everything but the delivered
// bytes, with the rule by value, so that fates compare with ==.
type fate struct {
	Kind   event.FateKind
	Ref    event.Ref
	At     time.Duration
	Place  event.Place
	Reason event.DropReason
	Rule   event.Rule
	Delay  time.Duration
	Until  time.Duration
	Outage event.Window
	Queued int
	Addr   netip.Addr
	Detail string
	Copy   int
	To     string
}

func fateOf(f *event.Fate) fate {
	c := fate{
		Kind: f.Kind, Ref: f.Ref, At: f.At, Place: f.Place, Reason: f.Reason,
		Delay: f.Delay, Until: f.Until, Outage: f.Outage, Queued: f.Queued,
		Addr: f.Addr, Detail: f.Detail, Copy: f.Copy, To: f.To,
	}
	if f.Rule != nil {
		c.Rule = *f.Rule
	}
	return c
}

// String renders the fate's set fields: "frame 3 dropped at 1s on
// a→switch reason=link_down outage=1s–2s".
func (f fate) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %v at %v on %v", f.Ref, f.Kind, f.At, f.Place)
	add := func(set bool, name string, v any) {
		if set {
			fmt.Fprintf(&b, " %s=%v", name, v)
		}
	}
	add(f.Reason != 0, "reason", f.Reason)
	add(f.Rule != event.Rule{}, "rule", fmt.Sprintf("%s(%v #%d)", f.Rule.Name, f.Rule.Flags, f.Rule.Match))
	add(f.Delay != 0, "delay", f.Delay)
	add(f.Until != 0, "until", f.Until)
	add(f.Outage != event.Window{}, "outage", Window(f.Outage))
	add(f.Queued != 0, "queued", f.Queued)
	add(f.Addr.IsValid(), "addr", f.Addr)
	add(f.Detail != "", "detail", f.Detail)
	add(f.Copy != 0, "copy", f.Copy)
	add(f.To != "", "to", f.To)
	return b.String()
}

// ids returns the IP IDs of the packets a node received, in order.
func ids(ds []delivery) []uint16 {
	var out []uint16
	for _, d := range ds {
		out = append(out, header.IPv4(d.pkt).ID())
	}
	return out
}

// refs returns the references of the packets a node received, in order.
func refs(ds []delivery) []event.Ref {
	var out []event.Ref
	for _, d := range ds {
		out = append(out, d.ref)
	}
	return out
}

// sendCause is the cause sendAt gives the packets it makes a node send.
var sendCause = event.AppCause("send")

// sendAt makes node (with index idx) send pkts at virtual time at, as the
// application's send would.
func sendAt(n *Network, node *fakeNode, idx int, at time.Duration, pkts ...[]byte) {
	n.Schedule(at, idx, func() { node.queue(sendCause, pkts...) })
}

// twoHosts builds a network with hosts a (10.0.0.1, link la) and b
// (10.0.0.2, link lb) and a recorder.
func twoHosts(t *testing.T, seed uint64, la, lb Link) (n *Network, rec *recorder, a *fakeNode, ia int, b *fakeNode) {
	t.Helper()
	rec = &recorder{}
	n = New(seed, rec, nil)
	a, ia, _ = attachFake(t, n, "a", la, "10.0.0.1")
	b, _, _ = attachFake(t, n, "b", lb, "10.0.0.2")
	return n, rec, a, ia, b
}

// Places on the way between hosts a and b.
var (
	aOut = event.Place{Host: "a", Dir: event.Out}
	aIn  = event.Place{Host: "a", Dir: event.In}
	bIn  = event.Place{Host: "b", Dir: event.In}
	atSw = event.Place{Dir: event.Switch}
)

func testPipe(dir Direction) *pipe {
	return &pipe{place: event.Place{Host: "x", Dir: event.Out}, dir: dir, rng: New(1, nil, nil).rng("x", "out")}
}

func TestPipeAdmit(t *testing.T) {
	type in struct {
		now  time.Duration
		size int
	}
	type out struct {
		arrive time.Duration
		reason event.DropReason
		queued int
	}
	ms := time.Millisecond
	tests := []struct {
		name string
		dir  Direction
		in   []in
		want []out
	}{
		{
			name: "unimpaired",
			in:   []in{{0, 100}, {5 * ms, 1500}},
			want: []out{{0, 0, 0}, {5 * ms, 0, 0}},
		},
		{
			name: "latency",
			dir:  Direction{Latency: 10 * ms},
			in:   []in{{0, 100}, {0, 100}, {3 * ms, 100}},
			want: []out{{10 * ms, 0, 0}, {10 * ms, 0, 0}, {13 * ms, 0, 0}},
		},
		{
			// 8000 bit/s = 1000 bytes/s: 100 bytes take 100ms.
			name: "rate serialises back to back",
			dir:  Direction{Rate: 8000},
			in:   []in{{0, 100}, {0, 100}, {0, 50}, {400 * ms, 100}},
			want: []out{{100 * ms, 0, 0}, {200 * ms, 0, 0}, {250 * ms, 0, 0}, {500 * ms, 0, 0}},
		},
		{
			name: "rate and latency",
			dir:  Direction{Rate: 1_000_000, Latency: 5 * ms}, // 1500 B = 12ms
			in:   []in{{0, 1500}, {1 * ms, 1500}},
			want: []out{{17 * ms, 0, 0}, {29 * ms, 0, 0}},
		},
		{
			name: "rate 100Mbit/s",
			dir:  Direction{Rate: 100_000_000},
			in:   []in{{0, 1500}},
			want: []out{{120 * time.Microsecond, 0, 0}},
		},
		{
			// The packet on the line counts against the limit: with
			// limit 2, two packets are in the pipe and the third is
			// dropped until the first has left.
			name: "queue limit",
			dir:  Direction{Rate: 8000, QueueLimit: 2},
			in:   []in{{0, 100}, {0, 100}, {0, 100}, {99 * ms, 100}, {100 * ms, 100}, {100 * ms, 100}},
			want: []out{
				{100 * ms, 0, 0},
				{200 * ms, 0, 0},
				{0, event.QueueFull, 2},
				{0, event.QueueFull, 2},
				{300 * ms, 0, 0},
				{0, event.QueueFull, 2},
			},
		},
		{
			name: "queue limit without rate is ignored",
			dir:  Direction{QueueLimit: 1},
			in:   []in{{0, 100}, {0, 100}, {0, 100}},
			want: []out{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
		},
		{
			name: "loss 1",
			dir:  Direction{Loss: 1, Latency: ms},
			in:   []in{{0, 100}, {ms, 100}},
			want: []out{{0, event.Loss, 0}, {0, event.Loss, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPipe(tt.dir)
			for i, in := range tt.in {
				arrive, reason, queued := p.admit(in.now, in.size)
				if got := (out{arrive, reason, queued}); got != tt.want[i] {
					t.Errorf("packet %d: admit(%v, %d) = %v, %v, %d, want %v, %v, %d", i, in.now, in.size, arrive, reason, queued, tt.want[i].arrive, tt.want[i].reason, tt.want[i].queued)
				}
			}
		})
	}
}

func TestPipeLossRate(t *testing.T) {
	const packets = 10000
	tests := []struct {
		loss   float64
		lo, hi int // accepted range of drops
	}{
		{loss: 0, lo: 0, hi: 0},
		{loss: 0.3, lo: 2700, hi: 3300}, // ±6.5σ
		{loss: 1, lo: packets, hi: packets},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.loss), func(t *testing.T) {
			p := testPipe(Direction{Loss: tt.loss})
			drops := 0
			for i := range packets {
				if _, reason, _ := p.admit(time.Duration(i), 100); reason != 0 {
					if reason != event.Loss {
						t.Fatalf("admit(%v, 100) dropped for %v, want %v", time.Duration(i), reason, event.Loss)
					}
					drops++
				}
			}
			if drops < tt.lo || drops > tt.hi {
				t.Errorf("admit() with loss %v dropped %d of %d packets, want %d..%d", tt.loss, drops, packets, tt.lo, tt.hi)
			}
		})
	}
}

func TestPipeJitterKeepsOrder(t *testing.T) {
	ms := time.Millisecond
	for _, dir := range []Direction{
		{Latency: 10 * ms, Jitter: 10 * ms},
		{Latency: 10 * ms, Jitter: 3 * ms},
		{Latency: 10 * ms, Jitter: 10 * ms, Rate: 10_000_000},
	} {
		t.Run(fmt.Sprintf("jitter %v rate %d", dir.Jitter, dir.Rate), func(t *testing.T) {
			p := testPipe(dir)
			var last time.Duration
			distinct := map[time.Duration]bool{}
			for i := range 2000 {
				now := time.Duration(i) * 100 * time.Microsecond
				arrive, reason, _ := p.admit(now, 100)
				if reason != 0 {
					t.Fatalf("admit(%v, 100) dropped: %v", now, reason)
				}
				if arrive < last {
					t.Fatalf("packet %d: admit(%v, 100) = %v, before the previous packet's %v", i, now, arrive, last)
				}
				if lo, hi := now+dir.Latency-dir.Jitter, now+time.Second; arrive < lo || arrive > hi {
					t.Fatalf("packet %d: admit(%v, 100) = %v, want within [%v, %v]", i, now, arrive, lo, hi)
				}
				distinct[arrive-now] = true
				last = arrive
			}
			if len(distinct) < 10 {
				t.Errorf("admit() produced %d distinct delays over 2000 packets, want jitter to vary them", len(distinct))
			}
		})
	}
}

// TestSwitchLatency sends packets through the switch and checks when they
// arrive: the sender's Out latency plus the receiver's In latency.
func TestSwitchLatency(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		la, lb Link
		want   time.Duration
	}{
		{name: "none", want: 0},
		{name: "sender out", la: Link{Out: Direction{Latency: 10 * ms}}, want: 10 * ms},
		{name: "receiver in", lb: Link{In: Direction{Latency: 7 * ms}}, want: 7 * ms},
		{name: "both", la: Link{Out: Direction{Latency: 10 * ms}, In: Direction{Latency: time.Hour}}, lb: Link{In: Direction{Latency: 7 * ms}, Out: Direction{Latency: time.Hour}}, want: 17 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, tt.la, tt.lb)
			sendAt(n, a, ia, 5*ms, ipv4Packet(1, "10.0.0.1", "10.0.0.2", 60))
			run(t, n, 2*time.Hour)
			if len(b.delivered) != 1 || b.delivered[0].at != 5*ms+tt.want {
				t.Errorf("b received %v, want one packet at %v", b.delivered, 5*ms+tt.want)
			}
			if len(rec.sent) != 1 || rec.sent[0].At != 5*ms || rec.sent[0].From != "a" || rec.sent[0].Ref != (event.Ref{Frame: 1}) {
				t.Errorf("observer saw %d Sent %+v, want one frame 1 from a at 5ms", len(rec.sent), rec.sent)
			}
			want := []fate{{Kind: event.Arrived, Ref: event.Ref{Frame: 1}, At: 5*ms + tt.want, Place: bIn, To: "b"}}
			if got := rec.fatesOf(); !slices.Equal(got, want) {
				t.Errorf("fates = %v, want %v", got, want)
			}
		})
	}
}

// TestSwitchRate checks serialisation delay (size*8/rate) on a's Out
// direction and queueing of back-to-back packets.
func TestSwitchRate(t *testing.T) {
	ms := time.Millisecond
	// 1 Mbit/s: 1250 bytes take 10ms.
	n, _, a, ia, b := twoHosts(t, 1, Link{Out: Direction{Rate: 1_000_000, Latency: 2 * ms}}, Link{})
	sendAt(n, a, ia, 0,
		ipv4Packet(1, "10.0.0.1", "10.0.0.2", 1250),
		ipv4Packet(2, "10.0.0.1", "10.0.0.2", 1250),
		ipv4Packet(3, "10.0.0.1", "10.0.0.2", 125))
	sendAt(n, a, ia, 100*ms, ipv4Packet(4, "10.0.0.1", "10.0.0.2", 1250))
	run(t, n, time.Hour)
	var got []time.Duration
	for _, d := range b.delivered {
		got = append(got, d.at)
	}
	want := []time.Duration{12 * ms, 22 * ms, 23 * ms, 112 * ms}
	if !slices.Equal(got, want) {
		t.Errorf("arrival times = %v, want %v", got, want)
	}
	if got, want := ids(b.delivered), []uint16{1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("arrival order = %v, want %v", got, want)
	}
}

func TestSwitchQueueLimit(t *testing.T) {
	n, rec, a, ia, b := twoHosts(t, 1, Link{Out: Direction{Rate: 1_000_000, QueueLimit: 3}}, Link{})
	var burst [][]byte
	for i := range 5 {
		burst = append(burst, ipv4Packet(uint16(i+1), "10.0.0.1", "10.0.0.2", 1250))
	}
	sendAt(n, a, ia, 0, burst...)
	run(t, n, time.Hour)
	if got, want := ids(b.delivered), []uint16{1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("b received %v, want %v", got, want)
	}
	if got, want := rec.dropped(), []uint16{4, 5}; !slices.Equal(got, want) {
		t.Errorf("dropped %v, want %v", got, want)
	}
	want := []fate{
		{Kind: event.Dropped, Ref: event.Ref{Frame: 4}, Place: aOut, Reason: event.QueueFull, Queued: 3},
		{Kind: event.Dropped, Ref: event.Ref{Frame: 5}, Place: aOut, Reason: event.QueueFull, Queued: 3},
	}
	if got := rec.drops(); !slices.Equal(got, want) {
		t.Errorf("drops = %v, want %v", got, want)
	}
}

func TestSwitchLoss(t *testing.T) {
	tests := []struct {
		name      string
		la, lb    Link
		wantDrops int
		wantPlace event.Place
	}{
		{name: "loss 1 out", la: Link{Out: Direction{Loss: 1}}, wantDrops: 50, wantPlace: aOut},
		{name: "loss 1 in", lb: Link{In: Direction{Loss: 1}}, wantDrops: 50, wantPlace: bIn},
		{name: "loss 0", la: Link{Out: Direction{Loss: 0}}, wantDrops: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, tt.la, tt.lb)
			for i := range 50 {
				sendAt(n, a, ia, time.Duration(i)*time.Millisecond, ipv4Packet(uint16(i), "10.0.0.1", "10.0.0.2", 100))
			}
			run(t, n, time.Hour)
			drops := rec.drops()
			if len(drops) != tt.wantDrops || len(b.delivered) != 50-tt.wantDrops {
				t.Errorf("%d dropped and %d delivered, want %d and %d", len(drops), len(b.delivered), tt.wantDrops, 50-tt.wantDrops)
			}
			for i, d := range drops {
				want := fate{Kind: event.Dropped, Ref: event.Ref{Frame: i + 1}, At: time.Duration(i) * time.Millisecond, Place: tt.wantPlace, Reason: event.Loss}
				if d != want {
					t.Errorf("drop %d = %v, want %v", i, d, want)
					break
				}
			}
		})
	}
}

// TestSwitchLossSeed checks that the drop pattern depends only on the seed.
func TestSwitchLossSeed(t *testing.T) {
	pattern := func(seed uint64) []uint16 {
		n, rec, a, ia, _ := twoHosts(t, seed, Link{Out: Direction{Loss: 0.5}}, Link{})
		for i := range 200 {
			sendAt(n, a, ia, time.Duration(i)*time.Millisecond, ipv4Packet(uint16(i), "10.0.0.1", "10.0.0.2", 100))
		}
		run(t, n, time.Hour)
		return rec.dropped()
	}
	first, again, other := pattern(1), pattern(1), pattern(2)
	if len(first) == 0 || len(first) == 200 {
		t.Fatalf("loss 0.5 dropped %d of 200 packets, want some but not all", len(first))
	}
	if !slices.Equal(first, again) {
		t.Errorf("seed 1 dropped %v, then %v, want the same pattern", first, again)
	}
	if slices.Equal(first, other) {
		t.Errorf("seeds 1 and 2 both dropped %v, want different patterns", first)
	}
}

// TestSwitchJitterOrder checks that jitter on both directions never
// reorders the packets of one sender.
func TestSwitchJitterOrder(t *testing.T) {
	ms := time.Millisecond
	for _, seed := range []uint64{1, 2, 3} {
		n, _, a, ia, b := twoHosts(t, seed,
			Link{Out: Direction{Latency: 5 * ms, Jitter: 5 * ms}},
			Link{In: Direction{Latency: 3 * ms, Jitter: 3 * ms}})
		var want []uint16
		for i := range 500 {
			sendAt(n, a, ia, time.Duration(i)*100*time.Microsecond, ipv4Packet(uint16(i), "10.0.0.1", "10.0.0.2", 100))
			want = append(want, uint16(i))
		}
		run(t, n, time.Hour)
		if got := ids(b.delivered); !slices.Equal(got, want) {
			t.Errorf("seed %d: b received packets in order %v, want send order", seed, got)
		}
		for i := 1; i < len(b.delivered); i++ {
			if b.delivered[i].at < b.delivered[i-1].at {
				t.Errorf("seed %d: packet %d arrived at %v, before packet %d at %v", seed, i, b.delivered[i].at, i-1, b.delivered[i-1].at)
				break
			}
		}
	}
}

func TestSwitchUnroutable(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		pkt  []byte
		want fate // without Kind, Ref, At and Place: a drop of frame 1 at the switch at 1ms
	}{
		{name: "unknown address", pkt: ipv4Packet(1, "10.0.0.1", "10.0.0.99", 40), want: fate{Reason: event.NoHost, Addr: netip.MustParseAddr("10.0.0.99")}},
		{name: "empty", pkt: []byte{}, want: fate{Reason: event.Unroutable, Detail: "empty packet"}},
		{name: "truncated IPv4", pkt: ipv4Packet(1, "10.0.0.1", "10.0.0.2", 40)[:12], want: fate{Reason: event.Unroutable, Detail: "truncated IPv4 header"}},
		{name: "truncated IPv6", pkt: []byte{0x60, 0, 0, 0}, want: fate{Reason: event.Unroutable, Detail: "truncated IPv6 header"}},
		{name: "not IP", pkt: []byte{0x10, 0, 0, 0}, want: fate{Reason: event.Unroutable, Detail: "not an IP packet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, Link{Out: Direction{Latency: ms}}, Link{})
			sendAt(n, a, ia, 0, tt.pkt)
			run(t, n, time.Hour)
			want := tt.want
			want.Kind, want.Ref, want.At, want.Place = event.Dropped, event.Ref{Frame: 1}, ms, atSw
			if got := rec.fatesOf(); !slices.Equal(got, []fate{want}) {
				t.Errorf("fates = %v, want %v", got, []fate{want})
			}
			if len(b.delivered)+len(a.delivered) != 0 {
				t.Errorf("%d packets delivered, want none", len(b.delivered)+len(a.delivered))
			}
		})
	}
}

// TestSwitchIPv6 checks routing by an IPv6 destination.
func TestSwitchIPv6(t *testing.T) {
	n := New(1, &recorder{}, nil)
	a, ia, _ := attachFake(t, n, "a", Link{}, "fd00::1")
	b, _, _ := attachFake(t, n, "b", Link{}, "10.0.0.2", "fd00::2")
	pkt := make([]byte, header.IPv6MinimumSize)
	header.IPv6(pkt).Encode(&header.IPv6Fields{
		TransportProtocol: header.TCPProtocolNumber,
		HopLimit:          64,
		SrcAddr:           tcpip.AddrFrom16(netip.MustParseAddr("fd00::1").As16()),
		DstAddr:           tcpip.AddrFrom16(netip.MustParseAddr("fd00::2").As16()),
	})
	sendAt(n, a, ia, 0, pkt)
	run(t, n, time.Hour)
	if len(b.delivered) != 1 {
		t.Errorf("b received %d packets for fd00::2, want 1", len(b.delivered))
	}
}

// TestSwitchSent checks what the switch reports of each packet entering
// it: the next frame number, the sending host, the time, the cause the
// node's Drain gave, the bytes, and the parsed segment (or why there is
// none); and that the receiver gets the same segment and reference.
func TestSwitchSent(t *testing.T) {
	tcp := tcpPacket(7, "10.0.0.1:40000", "10.0.0.2:80", segment.PSH|segment.ACK, 1000, 2000, 10)
	udp := ipv4Packet(8, "10.0.0.1", "10.0.0.2", 40)
	udp[9] = uint8(header.UDPProtocolNumber)
	header.IPv4(udp).SetChecksum(0)
	header.IPv4(udp).SetChecksum(^header.IPv4(udp).CalculateChecksum())
	tests := []struct {
		name    string
		pkt     []byte
		cause   event.Cause
		wantErr string // "" for a TCP segment
	}{
		{name: "app", pkt: tcp, cause: event.AppCause("send")},
		{name: "app with a reason", pkt: tcp, cause: event.Cause{Kind: event.ByApp, Op: "close", Why: "idle timeout"}},
		{name: "arrival", pkt: tcp, cause: event.Arrival(event.Ref{Frame: 9, Copy: 2})},
		{name: "timer", pkt: tcp, cause: event.TimerCause(event.TimerRTO)},
		{name: "no cause", pkt: tcp},
		{name: "not TCP", pkt: udp, cause: event.AppCause("send"), wantErr: "IPv4 protocol 17 is not TCP"},
		{name: "truncated TCP header", pkt: ipv4Packet(9, "10.0.0.1", "10.0.0.2", 30), cause: event.AppCause("send"), wantErr: "truncated TCP header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, Link{}, Link{})
			// A first packet, so that the one under test is frame 2.
			sendAt(n, a, ia, 0, ipv4Packet(1, "10.0.0.1", "10.0.0.2", 20))
			n.Schedule(3*time.Millisecond, ia, func() { a.queue(tt.cause, tt.pkt) })
			run(t, n, time.Hour)
			if len(rec.sent) != 2 || n.Frames() != 2 {
				t.Fatalf("observer saw %d Sent and Frames() = %d, want 2 and 2", len(rec.sent), n.Frames())
			}
			e := rec.sent[1]
			if e.Ref != (event.Ref{Frame: 2}) || e.At != 3*time.Millisecond || e.From != "a" || e.Cause != tt.cause || e.Injected != nil {
				t.Errorf("Sent = {%v, at %v, from %q, cause %+v, injected %v}, want {frame 2, at 3ms, from \"a\", cause %+v, injected <nil>}", e.Ref, e.At, e.From, e.Cause, e.Injected, tt.cause)
			}
			if !bytes.Equal(e.Data, tt.pkt) {
				t.Errorf("Sent.Data = %x, want %x", e.Data, tt.pkt)
			}
			if got := errText(e.ParseErr); got != tt.wantErr || (e.Seg == nil) != (tt.wantErr != "") {
				t.Errorf("Sent.Seg, ParseErr = %v, %q, want a segment: %v, %q", e.Seg, got, tt.wantErr == "", tt.wantErr)
			}
			if e.Seg != nil {
				want, err := segment.Parse(tt.pkt)
				if err != nil {
					t.Fatalf("segment.Parse(%x) = %v", tt.pkt, err)
				}
				if !reflect.DeepEqual(*e.Seg, want) {
					t.Errorf("Sent.Seg = %+v, want %+v", *e.Seg, want)
				}
			}
			if len(b.delivered) != 2 {
				t.Fatalf("b received %d packets, want 2", len(b.delivered))
			}
			if d := b.delivered[1]; d.ref != e.Ref || d.seg != e.Seg || !bytes.Equal(d.pkt, tt.pkt) {
				t.Errorf("Deliver(%x, %p, %v), want the bytes sent, the Sent event's segment %p and %v", d.pkt, d.seg, d.ref, e.Seg, e.Ref)
			}
		})
	}
}

// TestFrames checks that every packet entering the switch gets the next
// frame number, whatever then becomes of it, and that copies do not.
func TestFrames(t *testing.T) {
	ms := time.Millisecond
	n, rec, a, ia, b := twoHosts(t, 1, Link{Out: Direction{Duplicate: 1}, Down: []Window{{From: 2 * ms, To: 3 * ms}}}, Link{})
	if got := n.Frames(); got != 0 {
		t.Errorf("Frames() before running = %d, want 0", got)
	}
	sendAt(n, a, ia, 0, ipv4Packet(1, "10.0.0.1", "10.0.0.2", 20), ipv4Packet(2, "10.0.0.1", "10.0.0.99", 20))
	sendAt(n, a, ia, 2*ms, ipv4Packet(3, "10.0.0.1", "10.0.0.2", 20)) // in the outage
	sendAt(n, b, 1, 4*ms, ipv4Packet(4, "10.0.0.2", "10.0.0.1", 20))
	run(t, n, time.Hour)
	if got := n.Frames(); got != 4 {
		t.Errorf("Frames() = %d, want 4", got)
	}
	var got []event.Ref
	var gotIDs []uint16
	for _, e := range rec.sent {
		got = append(got, e.Ref)
		gotIDs = append(gotIDs, header.IPv4(e.Data).ID())
	}
	if want := []event.Ref{{Frame: 1}, {Frame: 2}, {Frame: 3}, {Frame: 4}}; !slices.Equal(got, want) {
		t.Errorf("Sent refs = %v, want %v", got, want)
	}
	if want := []uint16{1, 2, 3, 4}; !slices.Equal(gotIDs, want) {
		t.Errorf("Sent IP IDs = %v, want %v", gotIDs, want)
	}
}

func TestDirectionValidate(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		dir  Direction
		want string // "" for valid
	}{
		{name: "zero", dir: Direction{}},
		{name: "full", dir: Direction{Latency: 10 * ms, Jitter: 10 * ms, Loss: 1, Rate: 1e6, QueueLimit: 10}},
		{name: "loss 0", dir: Direction{Loss: 0}},
		{name: "negative latency", dir: Direction{Latency: -ms}, want: "latency -1ms is negative"},
		{name: "negative jitter", dir: Direction{Latency: ms, Jitter: -ms}, want: "jitter -1ms is negative"},
		{name: "jitter larger than latency", dir: Direction{Latency: ms, Jitter: 2 * ms}, want: "jitter 2ms is larger than latency 1ms"},
		{name: "jitter without latency", dir: Direction{Jitter: 1}, want: "jitter 1ns is larger than latency 0s"},
		{name: "negative loss", dir: Direction{Loss: -0.1}, want: "loss -0.1 is outside [0, 1]"},
		{name: "loss above 1", dir: Direction{Loss: 1.5}, want: "loss 1.5 is outside [0, 1]"},
		// NaN fails every comparison; Validate must still reject it.
		{name: "NaN loss", dir: Direction{Loss: math.NaN()}, want: "loss NaN is outside [0, 1]"},
		{name: "negative rate", dir: Direction{Rate: -1}, want: "rate -1 is negative"},
		{name: "negative queue limit", dir: Direction{QueueLimit: -1}, want: "queue_limit -1 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.dir.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("%+v.Validate() = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

func TestAttachErrors(t *testing.T) {
	tests := []struct {
		name  string
		addrs []string
		link  Link
		want  string
	}{
		{name: "duplicate address", addrs: []string{"10.0.0.1"}, want: "host b: address 10.0.0.1 is already used by host a"},
		{name: "duplicate second address", addrs: []string{"10.0.0.3", "fd00::1"}, want: "host b: address fd00::1 is already used by host a"},
		{name: "bad out direction", addrs: []string{"10.0.0.2"}, link: Link{Out: Direction{Latency: -1}}, want: "link of b: out: latency -1ns is negative"},
		{name: "bad in direction", addrs: []string{"10.0.0.2"}, link: Link{In: Direction{Loss: 2}}, want: "link of b: in: loss 2 is outside [0, 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(1, nil, nil)
			attachFake(t, n, "a", Link{}, "10.0.0.1", "fd00::1")
			var addrs []netip.Addr
			for _, a := range tt.addrs {
				addrs = append(addrs, netip.MustParseAddr(a))
			}
			built := false
			_, err := n.Attach("b", addrs, tt.link, func(int, tcpip.Clock) (Node, error) {
				built = true
				return &fakeNode{net: n}, nil
			})
			if err == nil || err.Error() != tt.want {
				t.Errorf("Attach(%q, %v) = %v, want %q", "b", addrs, err, tt.want)
			}
			if built {
				t.Errorf("Attach(%q, %v) called build although it failed", "b", addrs)
			}
			// The failed attach must not have claimed any address.
			if _, err := n.Attach("c", []netip.Addr{netip.MustParseAddr("10.0.0.3")}, Link{}, func(int, tcpip.Clock) (Node, error) {
				return &fakeNode{net: n}, nil
			}); err != nil {
				t.Errorf("Attach(%q, [10.0.0.3]) after a failed attach = %v, want nil", "c", err)
			}
		})
	}
}

func TestAttachIndexes(t *testing.T) {
	n := New(1, nil, nil)
	for i, name := range []string{"a", "b", "c"} {
		var gotIndex int
		idx, err := n.Attach(name, []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})}, Link{}, func(index int, _ tcpip.Clock) (Node, error) {
			gotIndex = index
			return &fakeNode{net: n}, nil
		})
		if err != nil || idx != i || gotIndex != i {
			t.Errorf("Attach(%q) = %d, %v with build index %d, want %d, nil, %d", name, idx, err, gotIndex, i, i)
		}
	}
}
