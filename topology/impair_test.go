package topology

import (
	"bytes"
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// tcpPacket builds a valid TCP/IP packet with IP ID id (IPv4 only) from src
// to dst ("10.0.0.1:40000").
func tcpPacket(id uint16, src, dst string, flags segment.Flags, seq, ack uint32, payload int) []byte {
	return buildSegment(netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst), flags, seq, ack, 65535, id, make([]byte, payload))
}

// parse parses the TCP segment in pkt and fails the test if there is none.
func parse(t *testing.T, pkt []byte) segment.Segment {
	t.Helper()
	s, err := segment.Parse(pkt)
	if err != nil {
		t.Fatalf("segment.Parse(%x) = %v, want a TCP segment", pkt, err)
	}
	return s
}

// tcpChecksumValid reports whether the TCP checksum of a raw IP packet holds.
func tcpChecksumValid(t *testing.T, pkt []byte) bool {
	t.Helper()
	s := parse(t, pkt)
	tcp := header.TCP(pkt[s.TCPOffset : s.PayloadOffset+s.Len])
	payload := pkt[s.PayloadOffset : s.PayloadOffset+s.Len]
	src, dst := tcpip.AddrFromSlice(s.Src.Addr().AsSlice()), tcpip.AddrFromSlice(s.Dst.Addr().AsSlice())
	return tcp.IsChecksumValid(src, dst, checksum.Checksum(payload, 0), uint16(len(payload)))
}

// impairPattern runs n packets through a pipe with dir and renders each
// outcome: "." plain, "D" duplicated, "R" reordered, "C" corrupted.
func impairPattern(seed uint64, dir Direction, packets int) string {
	p := New(seed, nil, nil).pipe(event.Place{Host: "x", Dir: event.Out}, dir, "x", "out")
	pkt := tcpPacket(1, "10.0.0.1:1", "10.0.0.2:2", segment.ACK, 1, 1, 10)
	var b []byte
	for i := range packets {
		if _, reason, _ := p.admit(time.Duration(i), len(pkt)); reason != 0 {
			b = append(b, 'L')
			continue
		}
		im := p.impair(pkt)
		c := byte('.')
		switch {
		case im.duplicate && im.reorder > 0 && im.corrupt >= 0:
			c = 'A'
		case im.duplicate:
			c = 'D'
		case im.reorder > 0:
			c = 'R'
		case im.corrupt >= 0:
			c = 'C'
		}
		b = append(b, c)
	}
	return string(b)
}

func TestPipeImpairSeeded(t *testing.T) {
	tests := []struct {
		name string
		dir  Direction
		want string
	}{
		{name: "none", dir: Direction{}, want: "...................."},
		{name: "duplicate 1", dir: Direction{Duplicate: 1}, want: "DDDDDDDDDDDDDDDDDDDD"},
		{name: "reorder 1", dir: Direction{Reorder: 1}, want: "RRRRRRRRRRRRRRRRRRRR"},
		{name: "corrupt 1", dir: Direction{Corrupt: 1}, want: "CCCCCCCCCCCCCCCCCCCC"},
		{name: "all 1", dir: Direction{Duplicate: 1, Reorder: 1, Corrupt: 1}, want: "AAAAAAAAAAAAAAAAAAAA"},
		{name: "loss 1 draws nothing else", dir: Direction{Loss: 1, Duplicate: 1}, want: "LLLLLLLLLLLLLLLLLLLL"},
		// Regression pins for seed 1: a change here means the draws
		// changed, and every seeded lab with these impairments with them.
		{name: "duplicate 0.5 seed 1", dir: Direction{Duplicate: 0.5}, want: seed1Duplicate},
		{name: "corrupt 0.5 seed 1", dir: Direction{Corrupt: 0.5}, want: seed1Corrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := impairPattern(1, tt.dir, 20); got != tt.want {
				t.Errorf("impair() with %+v, seed 1 = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

// Seed 1 patterns of 20 packets, pinned from a run.
const (
	seed1Duplicate = "..D..DDDD.DDDD.DDDD."
	seed1Corrupt   = ".C.CC.C.C.CCCCCC.C.."
)

func TestPipeImpairRates(t *testing.T) {
	const packets = 10000
	for _, tt := range []struct {
		name string
		dir  Direction
		c    byte
	}{
		{"duplicate", Direction{Duplicate: 0.3}, 'D'},
		{"reorder", Direction{Reorder: 0.3}, 'R'},
		{"corrupt", Direction{Corrupt: 0.3}, 'C'},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := bytes.Count([]byte(impairPattern(7, tt.dir, packets)), []byte{tt.c})
			if got < 2700 || got > 3300 { // ±6.5σ
				t.Errorf("%s 0.3 hit %d of %d packets, want 2700..3300", tt.name, got, packets)
			}
		})
	}
}

// TestPipeImpairIndependent checks that each impairment draws from its own
// stream: turning one on does not change another's pattern.
func TestPipeImpairIndependent(t *testing.T) {
	loss := func(dir Direction) string {
		p := impairPattern(3, dir, 200)
		return string(bytes.Map(func(r rune) rune {
			if r == 'L' {
				return 'L'
			}
			return '.'
		}, []byte(p)))
	}
	base := loss(Direction{Loss: 0.3})
	if got := loss(Direction{Loss: 0.3, Duplicate: 0.5, Reorder: 0.5, Corrupt: 0.5}); got != base {
		t.Errorf("loss pattern with other impairments = %q, want the same as without: %q", got, base)
	}
	dup := func(dir Direction) []int {
		var out []int
		for i, c := range impairPattern(3, dir, 200) {
			if c == 'D' || c == 'A' {
				out = append(out, i)
			}
		}
		return out
	}
	if a, b := dup(Direction{Duplicate: 0.5}), dup(Direction{Duplicate: 0.5, Corrupt: 1, Reorder: 1}); !slices.Equal(a, b) {
		t.Errorf("duplicated packets %v with reorder and corrupt on, want %v as without", b, a)
	}
}

func TestSwitchDuplicate(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		la, lb Link
		place  event.Place
	}{
		{name: "sender out", la: Link{Out: Direction{Duplicate: 1, Latency: ms}}, place: aOut},
		{name: "receiver in", lb: Link{In: Direction{Duplicate: 1, Latency: ms}}, place: bIn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, tt.la, tt.lb)
			sendAt(n, a, ia, 0, ipv4Packet(1, "10.0.0.1", "10.0.0.2", 60), ipv4Packet(2, "10.0.0.1", "10.0.0.2", 60))
			run(t, n, time.Hour)
			if got, want := ids(b.delivered), []uint16{1, 1, 2, 2}; !slices.Equal(got, want) {
				t.Errorf("b received %v, want %v", got, want)
			}
			if got, want := refs(b.delivered), []event.Ref{{Frame: 1}, {Frame: 1, Copy: 1}, {Frame: 2}, {Frame: 2, Copy: 1}}; !slices.Equal(got, want) {
				t.Errorf("b received %v, want %v", got, want)
			}
			for _, d := range b.delivered {
				if d.at != ms {
					t.Errorf("b received %v at %v, want 1ms", d.ref, d.at)
				}
			}
			at := time.Duration(0) // when the packet enters the duplicating direction
			if tt.lb.In.Duplicate > 0 {
				at = tt.la.Out.Latency
			}
			want := []fate{
				{Kind: event.Duplicated, Ref: event.Ref{Frame: 1}, At: at, Place: tt.place, Copy: 1},
				{Kind: event.Duplicated, Ref: event.Ref{Frame: 2}, At: at, Place: tt.place, Copy: 1},
			}
			if got := rec.fatesOf(event.Duplicated); !slices.Equal(got, want) {
				t.Errorf("Duplicated fates = %v, want %v", got, want)
			}
			if len(rec.sent) != 2 || n.Frames() != 2 {
				t.Errorf("observer saw %d Sent and Frames() = %d, want 2 and 2 (a copy is not a new packet)", len(rec.sent), n.Frames())
			}
		})
	}
}

// TestSwitchCopyNumbers checks that the copies of one frame, whoever makes
// them (either link, or a fault rule) and whether they are copies of the
// packet or of a copy, get the numbers 1, 2, 3 ... in the order they are
// made, and that each frame counts its own copies.
func TestSwitchCopyNumbers(t *testing.T) {
	ms, s := time.Millisecond, time.Second
	dup := Direction{Duplicate: 1}
	ref := func(frame, copy int) event.Ref { return event.Ref{Frame: frame, Copy: copy} }
	rule := event.Rule{Name: "faults[1]", Match: 1}
	tests := []struct {
		name   string
		la, lb Link
		faults []Fault
		want   []fate      // the Duplicated fates
		refs   []event.Ref // what b received, in order
	}{
		{
			name: "sender's link",
			la:   Link{Out: dup},
			want: []fate{
				{Kind: event.Duplicated, Ref: ref(1, 0), Place: aOut, Copy: 1},
				{Kind: event.Duplicated, Ref: ref(2, 0), At: 10 * ms, Place: aOut, Copy: 1},
			},
			refs: []event.Ref{ref(1, 0), ref(1, 1), ref(2, 0), ref(2, 1)},
		},
		{
			// The receiver's link duplicates the packet and the sender's
			// link's copy of it: copies 2 and 3.
			name: "both links",
			la:   Link{Out: dup},
			lb:   Link{In: dup},
			want: []fate{
				{Kind: event.Duplicated, Ref: ref(1, 0), Place: aOut, Copy: 1},
				{Kind: event.Duplicated, Ref: ref(1, 0), Place: bIn, Copy: 2},
				{Kind: event.Duplicated, Ref: ref(1, 1), Place: bIn, Copy: 3},
				{Kind: event.Duplicated, Ref: ref(2, 0), At: 10 * ms, Place: aOut, Copy: 1},
				{Kind: event.Duplicated, Ref: ref(2, 0), At: 10 * ms, Place: bIn, Copy: 2},
				{Kind: event.Duplicated, Ref: ref(2, 1), At: 10 * ms, Place: bIn, Copy: 3},
			},
			refs: []event.Ref{ref(1, 0), ref(1, 2), ref(1, 1), ref(1, 3), ref(2, 0), ref(2, 2), ref(2, 1), ref(2, 3)},
		},
		{
			// The rule acts on its first match only (frame 1 itself); the
			// copy it makes crosses the receiver's link a second later and
			// is duplicated there too.
			name:   "links and a fault rule",
			la:     Link{Out: dup},
			lb:     Link{In: dup},
			faults: []Fault{{Action: FaultDuplicate, Nth: 1, Delay: s}},
			want: []fate{
				{Kind: event.Duplicated, Ref: ref(1, 0), Place: aOut, Copy: 1},
				{Kind: event.Duplicated, Ref: ref(1, 0), Place: atSw, Rule: rule, Delay: s, Copy: 2},
				{Kind: event.Duplicated, Ref: ref(1, 0), Place: bIn, Copy: 3},
				{Kind: event.Duplicated, Ref: ref(1, 1), Place: bIn, Copy: 4},
				{Kind: event.Duplicated, Ref: ref(2, 0), At: 10 * ms, Place: aOut, Copy: 1},
				{Kind: event.Duplicated, Ref: ref(2, 0), At: 10 * ms, Place: bIn, Copy: 2},
				{Kind: event.Duplicated, Ref: ref(2, 1), At: 10 * ms, Place: bIn, Copy: 3},
				{Kind: event.Duplicated, Ref: ref(1, 2), At: s, Place: bIn, Copy: 5},
			},
			refs: []event.Ref{ref(1, 0), ref(1, 3), ref(1, 1), ref(1, 4), ref(2, 0), ref(2, 2), ref(2, 1), ref(2, 3), ref(1, 2), ref(1, 5)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, tt.la, tt.lb)
			for _, f := range tt.faults {
				if err := n.AddFault(f); err != nil {
					t.Fatalf("AddFault(%+v) = %v", f, err)
				}
			}
			sendAt(n, a, ia, 0, tcpPacket(1, "10.0.0.1:40000", "10.0.0.2:80", segment.PSH|segment.ACK, 1, 1, 10))
			sendAt(n, a, ia, 10*ms, tcpPacket(2, "10.0.0.1:40000", "10.0.0.2:80", segment.PSH|segment.ACK, 11, 1, 10))
			run(t, n, time.Hour)
			if got := rec.fatesOf(event.Duplicated); !slices.Equal(got, tt.want) {
				t.Errorf("Duplicated fates =\n%v\nwant\n%v", got, tt.want)
			}
			if got := refs(b.delivered); !slices.Equal(got, tt.refs) {
				t.Errorf("b received %v, want %v", got, tt.refs)
			}
			// Every copy that arrives is reported as such, with its bytes.
			var arrived []event.Ref
			for _, f := range rec.fates {
				if f.Kind == event.Arrived {
					arrived = append(arrived, f.Ref)
					if sent := rec.frame(f.Ref); sent == nil || !bytes.Equal(f.Data, sent.Data) {
						t.Errorf("%v arrived with %x, want the bytes of its frame", f.Ref, f.Data)
					}
				}
			}
			if !slices.Equal(arrived, tt.refs) {
				t.Errorf("Arrived fates for %v, want %v", arrived, tt.refs)
			}
		})
	}
}

// TestSwitchDuplicateCopyDropped checks that losing a copy is reported as
// the drop of that copy, not of the packet.
func TestSwitchDuplicateCopyDropped(t *testing.T) {
	n, rec, a, ia, b := twoHosts(t, 1, Link{Out: Direction{Duplicate: 1}}, Link{Down: []Window{{From: 0}}})
	sendAt(n, a, ia, 0, ipv4Packet(1, "10.0.0.1", "10.0.0.2", 60))
	run(t, n, time.Hour)
	if len(b.delivered) != 0 {
		t.Errorf("b received %d packets during an outage, want 0", len(b.delivered))
	}
	want := []fate{
		{Kind: event.Duplicated, Ref: event.Ref{Frame: 1}, Place: aOut, Copy: 1},
		{Kind: event.Dropped, Ref: event.Ref{Frame: 1}, Place: bIn, Reason: event.LinkDown},
		{Kind: event.Dropped, Ref: event.Ref{Frame: 1, Copy: 1}, Place: bIn, Reason: event.LinkDown},
	}
	if got := rec.fatesOf(); !slices.Equal(got, want) {
		t.Errorf("fates =\n%v\nwant\n%v", got, want)
	}
}

func TestSwitchReorder(t *testing.T) {
	ms := time.Millisecond
	t.Run("default delay", func(t *testing.T) {
		for _, tt := range []struct {
			dir  Direction
			want time.Duration // arrival of a packet sent at 0
		}{
			{Direction{Reorder: 1}, ms},
			{Direction{Reorder: 1, Latency: 10 * ms}, 20 * ms},
			{Direction{Reorder: 1, Latency: 10 * ms, ReorderDelay: 3 * ms}, 13 * ms},
		} {
			n, rec, a, ia, b := twoHosts(t, 1, Link{Out: tt.dir}, Link{})
			sendAt(n, a, ia, 0, ipv4Packet(1, "10.0.0.1", "10.0.0.2", 60))
			run(t, n, time.Hour)
			if len(b.delivered) != 1 || b.delivered[0].at != tt.want {
				t.Errorf("%+v: b received %v, want one packet at %v", tt.dir, b.delivered, tt.want)
			}
			want := []fate{{Kind: event.Reordered, Ref: event.Ref{Frame: 1}, Place: aOut, Delay: tt.want - tt.dir.Latency}}
			if got := rec.fatesOf(event.Reordered); !slices.Equal(got, want) {
				t.Errorf("%+v: Reordered fates %v, want %v", tt.dir, got, want)
			}
		}
	})
	t.Run("later packets overtake", func(t *testing.T) {
		n, rec, a, ia, b := twoHosts(t, 5, Link{Out: Direction{Reorder: 0.3, Latency: 10 * ms}}, Link{})
		for i := range 100 {
			sendAt(n, a, ia, time.Duration(i)*ms, ipv4Packet(uint16(i), "10.0.0.1", "10.0.0.2", 60))
		}
		run(t, n, time.Hour)
		reordered := map[uint16]bool{}
		for _, f := range rec.fatesOf(event.Reordered) {
			id := rec.ipID(f.Ref)
			if want := (fate{Kind: event.Reordered, Ref: f.Ref, At: time.Duration(id) * ms, Place: aOut, Delay: 10 * ms}); f != want {
				t.Fatalf("Reordered fate %v, want %v", f, want)
			}
			reordered[id] = true
		}
		if len(reordered) < 10 || len(reordered) > 60 {
			t.Fatalf("%d of 100 packets reordered with reorder 0.3, want about 30", len(reordered))
		}
		for _, d := range b.delivered {
			id := header.IPv4(d.pkt).ID()
			want := time.Duration(id)*ms + 10*ms
			if reordered[id] {
				want += 10 * ms
			}
			if d.at != want {
				t.Errorf("packet %d arrived at %v, want %v (reordered: %v)", id, d.at, want, reordered[id])
			}
		}
		if got := ids(b.delivered); slices.IsSorted(got) {
			t.Errorf("b received %v in send order, want reordered packets overtaken", got)
		}
	})
}

func TestSwitchCorrupt(t *testing.T) {
	for _, tt := range []struct {
		name   string
		la, lb Link
		place  event.Place
	}{
		{"sender out", Link{Out: Direction{Corrupt: 1}}, Link{}, aOut},
		{"receiver in", Link{}, Link{In: Direction{Corrupt: 1}}, bIn},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, tt.la, tt.lb)
			var sent, orig [][]byte
			for i := range 200 {
				pkt := tcpPacket(uint16(i), "10.0.0.1:40000", "10.0.0.2:80", segment.ACK|segment.PSH, uint32(i), 7, i%3*50)
				sent = append(sent, pkt)
				orig = append(orig, slices.Clone(pkt))
				sendAt(n, a, ia, time.Duration(i)*time.Millisecond, pkt)
			}
			run(t, n, time.Hour)
			for i := range sent {
				if !bytes.Equal(sent[i], orig[i]) || !bytes.Equal(rec.sent[i].Data, orig[i]) {
					t.Fatalf("packet %d: the sender's (and observer's) bytes were altered", i)
				}
			}
			corrupted, arrived := rec.fatesOf(event.Corrupted), rec.fatesOf(event.Arrived)
			if len(b.delivered) != len(sent) || len(corrupted) != len(sent) || len(arrived) != len(sent) {
				t.Fatalf("%d delivered, %d Corrupted and %d Arrived fates, want %d each", len(b.delivered), len(corrupted), len(arrived), len(sent))
			}
			offsets := map[int]bool{}
			for i, d := range b.delivered {
				ref := event.Ref{Frame: i + 1}
				if want := (fate{Kind: event.Corrupted, Ref: ref, At: time.Duration(i) * time.Millisecond, Place: tt.place}); corrupted[i] != want {
					t.Errorf("Corrupted fate %v, want %v", corrupted[i], want)
				}
				// The packet arrives with other bytes than it was sent
				// with: the Arrived fate has what the receiver got.
				var data []byte
				for _, f := range rec.fates {
					if f.Kind == event.Arrived && f.Ref == ref {
						data = f.Data
					}
				}
				if d.ref != ref || !bytes.Equal(data, d.pkt) || bytes.Equal(data, rec.sent[i].Data) {
					t.Errorf("%v arrived as %v with %x, sent with %x; want %v with the delivered bytes %x, unlike the sent ones", ref, d.ref, data, rec.sent[i].Data, ref, d.pkt)
				}
				var diff []int
				for j := range d.pkt {
					if x := d.pkt[j] ^ orig[i][j]; x != 0 {
						if x&(x-1) != 0 {
							t.Errorf("packet %d byte %d: %08b flipped, want one bit", i, j, x)
						}
						diff = append(diff, j)
					}
				}
				if len(diff) != 1 {
					t.Fatalf("packet %d: bytes %v differ, want exactly one", i, diff)
				}
				off := diff[0] - header.IPv4MinimumSize
				if off < header.TCPSeqNumOffset || off == header.TCPDataOffset {
					t.Errorf("packet %d: flipped TCP byte %d, want neither the ports nor the data offset", i, off)
				}
				offsets[off] = true
				if tcpChecksumValid(t, d.pkt) {
					t.Errorf("packet %d: corrupted segment's checksum is still valid", i)
				}
				if !tcpChecksumValid(t, orig[i]) {
					t.Errorf("packet %d: original's checksum is invalid", i)
				}
			}
			if len(offsets) < 20 {
				t.Errorf("flips hit %d distinct TCP bytes over 200 packets, want them spread", len(offsets))
			}
		})
	}
}

func TestSwitchOutage(t *testing.T) {
	s := time.Second
	first, second := event.Window{From: s, To: 2 * s}, event.Window{From: 3 * s}
	n, rec, a, ia, b := twoHosts(t, 1, Link{Down: []Window{Window(second), Window(first)}}, Link{})
	ib := 1
	times := []time.Duration{s / 2, s, 3 * s / 2, 2 * s, 5 * s / 2, 3 * s, 10 * s}
	for i, at := range times {
		sendAt(n, a, ia, at, ipv4Packet(uint16(i), "10.0.0.1", "10.0.0.2", 60))
		sendAt(n, b, ib, at, ipv4Packet(uint16(100+i), "10.0.0.2", "10.0.0.1", 60))
	}
	run(t, n, time.Hour)
	if got, want := ids(b.delivered), []uint16{0, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("b received %v, want %v", got, want)
	}
	if got, want := ids(a.delivered), []uint16{100, 103, 104}; !slices.Equal(got, want) {
		t.Errorf("a received %v, want %v", got, want)
	}
	if got, want := rec.dropped(), []uint16{1, 101, 2, 102, 5, 105, 6, 106}; !slices.Equal(got, want) {
		t.Errorf("dropped %v, want %v", got, want)
	}
	// At each time a sends frame 2i+1, then b frame 2i+2: a's packets are
	// dropped as they enter a's link, b's as they would leave the switch
	// toward a.
	down := func(frame int, at time.Duration, place event.Place, w event.Window) fate {
		return fate{Kind: event.Dropped, Ref: event.Ref{Frame: frame}, At: at, Place: place, Reason: event.LinkDown, Outage: w}
	}
	want := []fate{
		down(3, s, aOut, first),
		down(4, s, aIn, first),
		down(5, 3*s/2, aOut, first),
		down(6, 3*s/2, aIn, first),
		down(11, 3*s, aOut, second),
		down(12, 3*s, aIn, second),
		down(13, 10*s, aOut, second),
		down(14, 10*s, aIn, second),
	}
	if got := rec.drops(); !slices.Equal(got, want) {
		t.Errorf("drops =\n%v\nwant\n%v", got, want)
	}
}

// TestSwitchOutageInFlight checks that an outage drops a packet that was
// already on the link when it started: on the sender's link when it reaches
// the switch, on the receiver's link when it reaches the receiver.
func TestSwitchOutageInFlight(t *testing.T) {
	ms := time.Millisecond
	lat := Direction{Latency: 10 * ms}
	outage := event.Window{From: 1000 * ms, To: 2000 * ms}
	short := event.Window{From: 1000 * ms, To: 1002 * ms} // over before the packet arrives
	tests := []struct {
		name   string
		la, lb Link
		sent   time.Duration
		want   fate // zero: delivered at sent+10ms
	}{
		{
			name: "sender's link",
			la:   Link{Out: lat, Down: []Window{Window(outage)}},
			sent: 995 * ms,
			want: fate{At: 1005 * ms, Place: aOut, Outage: outage},
		},
		{
			name: "receiver's link",
			lb:   Link{In: lat, Down: []Window{Window(outage)}},
			sent: 995 * ms,
			want: fate{At: 1005 * ms, Place: bIn, Outage: outage},
		},
		{
			name: "sender's link, starts as it arrives",
			la:   Link{Out: lat, Down: []Window{Window(outage)}},
			sent: 990 * ms,
			want: fate{At: 1000 * ms, Place: aOut, Outage: outage},
		},
		{
			name: "receiver's link, starts as it arrives",
			lb:   Link{In: lat, Down: []Window{Window(outage)}},
			sent: 990 * ms,
			want: fate{At: 1000 * ms, Place: bIn, Outage: outage},
		},
		{
			name: "sender's link, over before it arrives",
			la:   Link{Out: lat, Down: []Window{Window(short)}},
			sent: 995 * ms,
			want: fate{At: 1005 * ms, Place: aOut, Outage: short},
		},
		{
			name: "receiver's link, over before it arrives",
			lb:   Link{In: lat, Down: []Window{Window(short)}},
			sent: 995 * ms,
			want: fate{At: 1005 * ms, Place: bIn, Outage: short},
		},
		{name: "sender's link, arrives before it", la: Link{Out: lat, Down: []Window{Window(outage)}}, sent: 989 * ms},
		{name: "receiver's link, arrives before it", lb: Link{In: lat, Down: []Window{Window(outage)}}, sent: 989 * ms},
		{name: "sender's link, sent as it ends", la: Link{Out: lat, Down: []Window{Window(outage)}}, sent: 2000 * ms},
		{name: "receiver's link, sent as it ends", lb: Link{In: lat, Down: []Window{Window(outage)}}, sent: 2000 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, tt.la, tt.lb)
			sendAt(n, a, ia, tt.sent, ipv4Packet(1, "10.0.0.1", "10.0.0.2", 60))
			run(t, n, time.Hour)
			var want []fate
			var wantAt []time.Duration
			if tt.want == (fate{}) {
				want = []fate{{Kind: event.Arrived, Ref: event.Ref{Frame: 1}, At: tt.sent + 10*ms, Place: bIn, To: "b"}}
				wantAt = []time.Duration{tt.sent + 10*ms}
			} else {
				w := tt.want
				w.Kind, w.Ref, w.Reason = event.Dropped, event.Ref{Frame: 1}, event.LinkDown
				want = []fate{w}
			}
			if got := rec.fatesOf(); !slices.Equal(got, want) {
				t.Errorf("fates = %v, want %v", got, want)
			}
			var got []time.Duration
			for _, d := range b.delivered {
				got = append(got, d.at)
			}
			if !slices.Equal(got, wantAt) {
				t.Errorf("b received packets at %v, want %v", got, wantAt)
			}
		})
	}
}

func TestImpairValidate(t *testing.T) {
	tests := []struct {
		name string
		dir  Direction
		want string
	}{
		{name: "all set", dir: Direction{Duplicate: 1, Reorder: 0.5, ReorderDelay: time.Second, Corrupt: 0}},
		{name: "duplicate above 1", dir: Direction{Duplicate: 1.5}, want: "duplicate 1.5 is outside [0, 1]"},
		{name: "duplicate NaN", dir: Direction{Duplicate: math.NaN()}, want: "duplicate NaN is outside [0, 1]"},
		{name: "negative reorder", dir: Direction{Reorder: -0.5}, want: "reorder -0.5 is outside [0, 1]"},
		{name: "negative reorder delay", dir: Direction{ReorderDelay: -time.Millisecond}, want: "reorder_delay -1ms is negative"},
		{name: "corrupt above 1", dir: Direction{Corrupt: 2}, want: "corrupt 2 is outside [0, 1]"},
		{name: "corrupt NaN", dir: Direction{Corrupt: math.NaN()}, want: "corrupt NaN is outside [0, 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errText(tt.dir.Validate()); got != tt.want {
				t.Errorf("%+v.Validate() = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

func TestWindowValidate(t *testing.T) {
	s := time.Second
	tests := []struct {
		name string
		down []Window
		want string
	}{
		{name: "none"},
		{name: "open ended", down: []Window{{From: 0}}},
		{name: "adjacent", down: []Window{{From: s, To: 2 * s}, {From: 2 * s, To: 3 * s}}},
		{name: "unordered", down: []Window{{From: 5 * s}, {From: s, To: 2 * s}}},
		{name: "negative start", down: []Window{{From: -s, To: s}}, want: "link of b: down.0: from -1s is negative"},
		{name: "negative end", down: []Window{{From: s, To: -s}}, want: "link of b: down.0: to -1s is negative"},
		{name: "end before start", down: []Window{{From: 5 * s, To: s}}, want: "link of b: down.0: impossible window: to 1s is not after from 5s"},
		{name: "empty", down: []Window{{From: s, To: s}}, want: "link of b: down.0: impossible window: to 1s is not after from 1s"},
		{name: "overlap", down: []Window{{From: s, To: 5 * s}, {From: 3 * s, To: 8 * s}}, want: "link of b: down: outage 3s–8s overlaps outage 1 (1s–5s)"},
		{name: "inside open end", down: []Window{{From: 2 * s}, {From: 3 * s, To: 4 * s}}, want: "link of b: down: outage 3s–4s overlaps outage 1 (2s–end)"},
		{name: "two open ends", down: []Window{{From: 9 * s}, {From: 2 * s}}, want: "link of b: down: outage 2s–end overlaps outage 1 (9s–end)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(1, nil, nil)
			_, err := n.Attach("b", nil, Link{Down: tt.down}, func(int, tcpip.Clock) (Node, error) { return &fakeNode{net: n}, nil })
			if got := errText(err); got != tt.want {
				t.Errorf("Attach(b, Link{Down: %v}) = %q, want %q", tt.down, got, tt.want)
			}
		})
	}
}

// errText returns err's text, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
