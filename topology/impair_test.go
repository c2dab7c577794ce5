package topology

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// tcpPacket builds a valid TCP/IP packet with IP ID id (IPv4 only) from src
// to dst ("10.0.0.1:40000").
func tcpPacket(id uint16, src, dst string, flags uint8, seq, ack uint32, payload int) []byte {
	return buildSegment(netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst), flags, seq, ack, 65535, id, make([]byte, payload))
}

// tcpChecksumValid reports whether the TCP checksum of a raw IP packet holds.
func tcpChecksumValid(t *testing.T, pkt []byte) bool {
	t.Helper()
	off, proto, ok := transport(pkt)
	if !ok || proto != header.TCPProtocolNumber {
		t.Fatalf("transport(%x) = %d, %d, %v, want a TCP packet", pkt, off, proto, ok)
	}
	src, dst := addrs(pkt)
	tcp := header.TCP(pkt[off:ipEnd(pkt)])
	payload := tcp[min(int(tcp.DataOffset()), len(tcp)):]
	return tcp.IsChecksumValid(tcpip.AddrFromSlice(src.AsSlice()), tcpip.AddrFromSlice(dst.AsSlice()), checksum.Checksum(payload, 0), uint16(len(payload)))
}

const (
	fSYN = uint8(header.TCPFlagSyn)
	fACK = uint8(header.TCPFlagAck)
	fFIN = uint8(header.TCPFlagFin)
	fPSH = uint8(header.TCPFlagPsh)
	fRST = uint8(header.TCPFlagRst)
)

// impairPattern runs n packets through a pipe with dir and renders each
// outcome: "." plain, "D" duplicated, "R" reordered, "C" corrupted.
func impairPattern(seed uint64, dir Direction, packets int) string {
	p := New(seed, nil, nil).pipe("x→switch", dir, "x", "out")
	pkt := tcpPacket(1, "10.0.0.1:1", "10.0.0.2:2", fACK, 1, 1, 10)
	var b []byte
	for i := range packets {
		if _, reason := p.admit(time.Duration(i), len(pkt)); !reason.IsZero() {
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
		want   string
	}{
		{name: "sender out", la: Link{Out: Direction{Duplicate: 1, Latency: ms}}, want: "duplicated on a→switch"},
		{name: "receiver in", lb: Link{In: Direction{Duplicate: 1, Latency: ms}}, want: "duplicated on switch→b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, tt.la, tt.lb)
			sendAt(n, a, ia, 0, ipv4Packet(1, "10.0.0.1", "10.0.0.2", 60), ipv4Packet(2, "10.0.0.1", "10.0.0.2", 60))
			run(t, n, time.Hour)
			if got, want := ids(b.delivered), []uint16{1, 1, 2, 2}; !slices.Equal(got, want) {
				t.Errorf("b received %v, want %v", got, want)
			}
			for _, d := range b.delivered {
				if d.at != ms {
					t.Errorf("b received packet %d at %v, want 1ms", header.IPv4(d.pkt).ID(), d.at)
				}
			}
			at := time.Duration(0) // when the packet enters the duplicating direction
			if tt.lb.In.Duplicate > 0 {
				at = tt.la.Out.Latency
			}
			want := []drop{{0, at, tt.want}, {1, at, tt.want}}
			if !slices.Equal(rec.alters, want) {
				t.Errorf("Altered calls = %+v, want %+v", rec.alters, want)
			}
			if len(rec.packets) != 2 {
				t.Errorf("observer saw %d packets, want 2 (a copy is not a new packet)", len(rec.packets))
			}
		})
	}
}

// TestSwitchDuplicateCopyDropped checks that losing a copy is reported as
// an alteration of the packet, not as its drop.
func TestSwitchDuplicateCopyDropped(t *testing.T) {
	n, rec, a, ia, b := twoHosts(t, 1, Link{Out: Direction{Duplicate: 1}}, Link{Down: []Window{{From: 0}}})
	sendAt(n, a, ia, 0, ipv4Packet(1, "10.0.0.1", "10.0.0.2", 60))
	run(t, n, time.Hour)
	if len(b.delivered) != 0 {
		t.Errorf("b received %d packets during an outage, want 0", len(b.delivered))
	}
	wantDrops := []drop{{0, 0, "link b down (outage 0s–end)"}}
	wantAlters := []drop{{0, 0, "duplicated on a→switch"}, {0, 0, "copy dropped: link b down (outage 0s–end)"}}
	if !slices.Equal(rec.drops, wantDrops) || !slices.Equal(rec.alters, wantAlters) {
		t.Errorf("drops %+v and alters %+v, want %+v and %+v", rec.drops, rec.alters, wantDrops, wantAlters)
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
			want := fmt.Sprintf("reordered on a→switch (held back %v)", tt.want-tt.dir.Latency)
			if len(rec.alters) != 1 || rec.alters[0].reason != want {
				t.Errorf("%+v: Altered calls %+v, want one %q", tt.dir, rec.alters, want)
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
		for _, al := range rec.alters {
			if al.reason != "reordered on a→switch (held back 10ms)" {
				t.Fatalf("Altered(%d, %v, %q), want a reorder note", al.id, al.at, al.reason)
			}
			reordered[rec.packets[al.id].id] = true
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
		want   string
	}{
		{"sender out", Link{Out: Direction{Corrupt: 1}}, Link{}, "corrupted on a→switch (bit flip; the receiver's checksum check will fail)"},
		{"receiver in", Link{}, Link{In: Direction{Corrupt: 1}}, "corrupted on switch→b (bit flip; the receiver's checksum check will fail)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, tt.la, tt.lb)
			var sent, orig [][]byte
			for i := range 200 {
				pkt := tcpPacket(uint16(i), "10.0.0.1:40000", "10.0.0.2:80", fACK|fPSH, uint32(i), 7, i%3*50)
				sent = append(sent, pkt)
				orig = append(orig, slices.Clone(pkt))
				sendAt(n, a, ia, time.Duration(i)*time.Millisecond, pkt)
			}
			run(t, n, time.Hour)
			for i := range sent {
				if !bytes.Equal(sent[i], orig[i]) {
					t.Fatalf("packet %d: the sender's (and observer's) bytes were altered", i)
				}
			}
			if len(b.delivered) != len(sent) || len(rec.alters) != len(sent) {
				t.Fatalf("%d delivered and %d Altered calls, want %d each", len(b.delivered), len(rec.alters), len(sent))
			}
			offsets := map[int]bool{}
			for i, d := range b.delivered {
				if rec.alters[i].reason != tt.want {
					t.Errorf("Altered(%d, ..., %q), want %q", i, rec.alters[i].reason, tt.want)
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
	n, rec, a, ia, b := twoHosts(t, 1, Link{Down: []Window{{From: 3 * s, To: 0}, {From: s, To: 2 * s}}}, Link{})
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
	var got []string
	for _, d := range rec.drops {
		got = append(got, fmt.Sprintf("%d@%v: %s", rec.packets[d.id].id, d.at, d.reason))
	}
	want := []string{
		"1@1s: link a down (outage 1s–2s)",
		"101@1s: link a down (outage 1s–2s)",
		"2@1.5s: link a down (outage 1s–2s)",
		"102@1.5s: link a down (outage 1s–2s)",
		"5@3s: link a down (outage 3s–end)",
		"105@3s: link a down (outage 3s–end)",
		"6@10s: link a down (outage 3s–end)",
		"106@10s: link a down (outage 3s–end)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("drops =\n%q\nwant\n%q", got, want)
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
		{name: "negative reorder delay", dir: Direction{ReorderDelay: -time.Millisecond}, want: "reorder delay -1ms is negative"},
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
		{name: "negative start", down: []Window{{From: -s, To: s}}, want: "link of b: outage -1s–1s starts at a negative time"},
		{name: "negative end", down: []Window{{From: s, To: -s}}, want: "link of b: outage 1s–-1s ends at a negative time"},
		{name: "end before start", down: []Window{{From: 5 * s, To: s}}, want: "link of b: outage 5s–1s does not end after it starts"},
		{name: "empty", down: []Window{{From: s, To: s}}, want: "link of b: outage 1s–1s does not end after it starts"},
		{name: "overlap", down: []Window{{From: s, To: 5 * s}, {From: 3 * s, To: 8 * s}}, want: "link of b: outages 1s–5s and 3s–8s overlap"},
		{name: "inside open end", down: []Window{{From: 2 * s}, {From: 3 * s, To: 4 * s}}, want: "link of b: outages 2s–end and 3s–4s overlap"},
		{name: "two open ends", down: []Window{{From: 9 * s}, {From: 2 * s}}, want: "link of b: outages 9s–end and 2s–end overlap"},
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
