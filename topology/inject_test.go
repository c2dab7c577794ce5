package topology

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

func TestBuildSegment(t *testing.T) {
	tests := []struct {
		name     string
		src, dst string
		flags    segment.Flags
		payload  string
		wantOpts int // bytes of TCP options
	}{
		{name: "IPv4 SYN", src: "10.9.0.7:1234", dst: "10.0.0.2:80", flags: segment.SYN, wantOpts: 4},
		{name: "IPv4 data", src: "10.0.0.1:40000", dst: "10.0.0.2:80", flags: segment.PSH | segment.ACK, payload: "hello, world"},
		{name: "IPv4 odd payload", src: "10.0.0.1:40000", dst: "10.0.0.2:80", flags: segment.ACK, payload: "abc"},
		{name: "IPv4 RST", src: "10.0.0.1:40000", dst: "10.0.0.2:80", flags: segment.RST},
		{name: "IPv6 SYN-ACK", src: "[fd00::2]:80", dst: "[fd00::1]:40000", flags: segment.SYN | segment.ACK, wantOpts: 4},
		{name: "IPv6 data", src: "[fd00::1]:40000", dst: "[fd00::2]:80", flags: segment.PSH | segment.ACK, payload: strings.Repeat("x", 1001)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := netip.MustParseAddrPort(tt.src), netip.MustParseAddrPort(tt.dst)
			pkt := buildSegment(src, dst, tt.flags, 0xfffffff0, 12345, 4096, 77, []byte(tt.payload))
			ipLen := header.IPv6MinimumSize
			if src.Addr().Is4() {
				ipLen = header.IPv4MinimumSize
				ip := header.IPv4(pkt)
				if !ip.IsValid(len(pkt)) || !ip.IsChecksumValid() || ip.TTL() != 64 || ip.ID() != 77 || int(ip.TotalLength()) != len(pkt) || ip.TransportProtocol() != header.TCPProtocolNumber {
					t.Errorf("IPv4 header %x: valid %v, checksum valid %v, TTL %d, ID %d, length %d of %d, want valid, 64, 77, whole packet",
						pkt[:ipLen], ip.IsValid(len(pkt)), ip.IsChecksumValid(), ip.TTL(), ip.ID(), ip.TotalLength(), len(pkt))
				}
			} else {
				ip := header.IPv6(pkt)
				if ip.HopLimit() != 64 || int(ip.PayloadLength()) != len(pkt)-ipLen || ip.NextHeader() != uint8(header.TCPProtocolNumber) {
					t.Errorf("IPv6 header %x: hop limit %d, payload length %d, next header %d, want 64, %d, TCP", pkt[:ipLen], ip.HopLimit(), ip.PayloadLength(), ip.NextHeader(), len(pkt)-ipLen)
				}
			}
			if !tcpChecksumValid(t, pkt) {
				t.Errorf("TCP checksum of %x is invalid", pkt)
			}
			tcp := header.TCP(pkt[ipLen:])
			if got := int(tcp.DataOffset()) - header.TCPMinimumSize; got != tt.wantOpts {
				t.Errorf("TCP options are %d bytes, want %d", got, tt.wantOpts)
			}
			if tt.wantOpts > 0 {
				if opts := header.ParseSynOptions(tcp.Options(), tt.flags&segment.ACK != 0); opts.MSS != 1460 {
					t.Errorf("SYN options %x carry MSS %d, want 1460", tcp.Options(), opts.MSS)
				}
			}
			seg := parse(t, pkt)
			if seg.Src != src || seg.Dst != dst || seg.Flags != tt.flags || seg.Seq != 0xfffffff0 || seg.Ack != 12345 || seg.Len != len(tt.payload) || seg.Win != 4096 {
				t.Errorf("segment.Parse() = %+v, want %v > %v flags %v seq 0xfffffff0 ack 12345 len %d win 4096", seg, src, dst, tt.flags, len(tt.payload))
			}
			if tcp.WindowSize() != 4096 || string(tcp.Payload()) != tt.payload {
				t.Errorf("window %d and payload %q, want 4096 and %q", tcp.WindowSize(), tcp.Payload(), tt.payload)
			}
		})
	}
}

// injectNet builds hosts a (10.0.0.1, fd00::1), b (10.0.0.2, fd00::2) and
// attacker (10.0.0.3) with the given seed and a recorder.
func injectNet(t *testing.T, seed uint64) (n *Network, rec *recorder, a, b, x *fakeNode) {
	t.Helper()
	rec = &recorder{}
	n = New(seed, rec, nil)
	a, _, _ = attachFake(t, n, "a", Link{}, "10.0.0.1", "fd00::1")
	b, _, _ = attachFake(t, n, "b", Link{}, "10.0.0.2", "fd00::2")
	x, _, _ = attachFake(t, n, "attacker", Link{Out: Direction{Latency: time.Millisecond}}, "10.0.0.3")
	return n, rec, a, b, x
}

func addInjection(t *testing.T, n *Network, i Injection) {
	t.Helper()
	if err := n.AddInjection(i); err != nil {
		t.Fatalf("AddInjection(%+v) = %v", i, err)
	}
}

// injected is what tests compare of the Sent event of an injected packet.
type injected struct {
	Ref      event.Ref
	At       time.Duration
	From     string
	Cause    event.Cause
	Injected event.Injected
}

// injectedOf returns what tests compare of e; Injected is zero when e has
// none.
func injectedOf(e *event.Sent) injected {
	i := injected{Ref: e.Ref, At: e.At, From: e.From, Cause: e.Cause}
	if e.Injected != nil {
		i.Injected = *e.Injected
	}
	return i
}

func TestInjection(t *testing.T) {
	ms := time.Millisecond
	n, rec, _, b, _ := injectNet(t, 1)
	addInjection(t, n, Injection{
		Via: "attacker", At: 5 * ms, Count: 3, Interval: ms,
		Src: netip.MustParseAddrPort("10.9.0.7:0"), Dst: netip.MustParseAddrPort("10.0.0.2:80"),
		Flags: segment.SYN, SeqValue: 1000, SeqOffset: -1,
	})
	addInjection(t, n, Injection{
		Name: "own", Via: "attacker", At: 20 * ms,
		Src: netip.MustParseAddrPort("10.0.0.3:5555"), Dst: netip.MustParseAddrPort("10.0.0.2:80"),
		Flags: segment.RST | segment.ACK, Ack: 42, Window: 1,
	})
	run(t, n, time.Hour)
	flood := event.Cause{Kind: event.ByInjection, Rule: "inject[1]"}
	spoofed := event.Injected{Rule: "inject[1]", Spoofed: true}
	want := []injected{
		{Ref: event.Ref{Frame: 1}, At: 5 * ms, From: "attacker", Cause: flood, Injected: spoofed},
		{Ref: event.Ref{Frame: 2}, At: 6 * ms, From: "attacker", Cause: flood, Injected: spoofed},
		{Ref: event.Ref{Frame: 3}, At: 7 * ms, From: "attacker", Cause: flood, Injected: spoofed},
		{Ref: event.Ref{Frame: 4}, At: 20 * ms, From: "attacker", Cause: event.Cause{Kind: event.ByInjection, Rule: "own"}, Injected: event.Injected{Rule: "own"}},
	}
	var got []injected
	for _, e := range rec.sent {
		got = append(got, injectedOf(e))
	}
	if !slices.Equal(got, want) {
		t.Errorf("Sent =\n%+v\nwant\n%+v", got, want)
	}
	if len(b.delivered) != 4 || len(rec.sent) != 4 {
		t.Fatalf("b received %d segments of %d sent, want 4 of 4", len(b.delivered), len(rec.sent))
	}
	ports := map[uint16]bool{}
	for i, d := range b.delivered {
		if want := []time.Duration{6 * ms, 7 * ms, 8 * ms, 21 * ms}[i]; d.at != want {
			t.Errorf("segment %d arrived at %v, want %v", i, d.at, want)
		}
		e := rec.sent[i]
		if !bytes.Equal(d.pkt, e.Data) || d.ref != e.Ref {
			t.Errorf("segment %d: delivered bytes or reference %v differ from the Sent ones (%v)", i, d.ref, e.Ref)
		}
		if !tcpChecksumValid(t, d.pkt) {
			t.Fatalf("segment %d: checksum invalid", i)
		}
		seg := parse(t, d.pkt)
		var inline segment.Segment // as the network parses it, options kept inline
		if err := segment.ParseInto(&inline, d.pkt); err != nil {
			t.Fatal(err)
		}
		if e.Seg == nil || !reflect.DeepEqual(*e.Seg, inline) || d.seg != e.Seg {
			t.Errorf("segment %d: Sent.Seg %+v (delivered %p, sent %p), want %+v, the one delivered", i, e.Seg, d.seg, e.Seg, seg)
		}
		if i < 3 {
			if seg.Src.Addr() != netip.MustParseAddr("10.9.0.7") || seg.Src.Port() < 1024 || seg.Flags != segment.SYN || seg.Seq != 999 || seg.Dst.String() != "10.0.0.2:80" {
				t.Errorf("segment %d = %+v, want SYN seq 999 from 10.9.0.7 with a port >= 1024 to 10.0.0.2:80", i, seg)
			}
			ports[seg.Src.Port()] = true
		} else {
			if seg.Src.String() != "10.0.0.3:5555" || seg.Flags != segment.RST|segment.ACK || seg.Ack != 42 || seg.Win != 1 {
				t.Errorf("segment %d = %+v, want RST-ACK ack 42 window 1 from 10.0.0.3:5555", i, seg)
			}
		}
	}
	if len(ports) != 3 {
		t.Errorf("source ports %v, want 3 different ones", ports)
	}
}

// injectedSources runs an injection of 20 segments and returns their
// source endpoints.
func injectedSources(t *testing.T, seed uint64, i Injection) []string {
	t.Helper()
	n, _, _, b, _ := injectNet(t, seed)
	addInjection(t, n, i)
	run(t, n, time.Hour)
	var out []string
	for _, d := range b.delivered {
		out = append(out, parse(t, d.pkt).Src.String())
	}
	return out
}

func TestInjectionRandomSources(t *testing.T) {
	tests := []struct {
		name   string
		i      Injection
		prefix netip.Prefix
	}{
		{
			name:   "ports",
			i:      Injection{Src: netip.MustParseAddrPort("10.9.0.7:0"), Dst: netip.MustParseAddrPort("10.0.0.2:80")},
			prefix: netip.MustParsePrefix("10.9.0.7/32"),
		},
		{
			name:   "IPv4 prefix",
			i:      Injection{SrcPrefix: netip.MustParsePrefix("10.9.3.4/20"), Dst: netip.MustParseAddrPort("10.0.0.2:80")},
			prefix: netip.MustParsePrefix("10.9.0.0/20"),
		},
		{
			name:   "IPv6 prefix and fixed port",
			i:      Injection{SrcPrefix: netip.MustParsePrefix("fd00:9::/100"), Src: netip.MustParseAddrPort("[::]:7"), Dst: netip.MustParseAddrPort("[fd00::2]:80")},
			prefix: netip.MustParsePrefix("fd00:9::/100"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.i.Via, tt.i.Count, tt.i.Interval, tt.i.Flags = "attacker", 20, time.Millisecond, segment.SYN
			first := injectedSources(t, 1, tt.i)
			if len(first) != 20 {
				t.Fatalf("b received %d segments, want 20", len(first))
			}
			addrs, ports := map[netip.Addr]bool{}, map[uint16]bool{}
			for _, s := range first {
				ap := netip.MustParseAddrPort(s)
				if !tt.prefix.Contains(ap.Addr()) || ap.Port() < 1024 && tt.i.Src.Port() == 0 {
					t.Errorf("source %v, want an address in %v and a port >= 1024", ap, tt.prefix)
				}
				if tt.i.Src.Port() != 0 && ap.Port() != tt.i.Src.Port() {
					t.Errorf("source %v, want port %d", ap, tt.i.Src.Port())
				}
				addrs[ap.Addr()], ports[ap.Port()] = true, true
			}
			if tt.i.SrcPrefix.IsValid() && len(addrs) < 15 {
				t.Errorf("%d distinct addresses in 20 segments from %v, want them drawn", len(addrs), tt.prefix)
			}
			if tt.i.Src.Port() == 0 && len(ports) < 15 {
				t.Errorf("%d distinct ports in 20 segments, want them drawn", len(ports))
			}
			if again := injectedSources(t, 1, tt.i); !slices.Equal(first, again) {
				t.Errorf("seed 1 gave sources %v, then %v, want the same", first, again)
			}
			if other := injectedSources(t, 2, tt.i); slices.Equal(first, other) {
				t.Errorf("seeds 1 and 2 both gave sources %v, want different ones", first)
			}
		})
	}
}

func TestRandomAddr(t *testing.T) {
	rng := New(1, nil, nil).rng("test")
	for _, p := range []string{"10.1.2.3/32", "10.0.0.0/8", "10.1.2.0/23", "10.1.2.0/31", "0.0.0.0/0", "fd00::/64", "fd00::1/128", "fd00::/7", "::ffff:10.0.0.0/104"} {
		pfx := netip.MustParsePrefix(p)
		for range 100 {
			a := randomAddr(rng, pfx)
			want := pfx
			if pfx.Addr().Is4In6() {
				want = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
			}
			if !want.Contains(a) {
				t.Fatalf("randomAddr(%v) = %v, outside %v", pfx, a, want)
			}
		}
	}
}

// TestInjectionSeq checks SeqNext, SeqISN and AckNext against scripted
// traffic between a:40000 and b:80, injected at 100ms as if from a.
func TestInjectionSeq(t *testing.T) {
	type seg struct {
		fromA      bool
		flags      segment.Flags
		seq, ack   uint32
		payloadLen int
	}
	syn := seg{true, segment.SYN, 1000, 0, 0}
	synack := seg{false, segment.SYN | segment.ACK, 5000, 1001, 0}
	ack := seg{true, segment.ACK, 1001, 5001, 0}
	data := seg{true, segment.PSH | segment.ACK, 1001, 5001, 100}
	ackData := seg{false, segment.ACK, 5001, 1101, 0}
	reply := seg{false, segment.PSH | segment.ACK, 5001, 1101, 50}
	wrap := seg{true, segment.SYN, 0xfffffff0, 0, 0}
	tests := []struct {
		name      string
		traffic   []seg
		mode      SeqMode
		offset    int64
		ackNext   bool
		wantSeq   uint32
		wantAck   uint32
		wantNoSeq bool // nothing seen to take seq from
		wantNoAck bool // nothing seen to take ack from
	}{
		{name: "next from ack", traffic: []seg{syn, synack, ack, data, ackData}, mode: SeqNext, wantSeq: 1101},
		{name: "next before data is acked", traffic: []seg{syn, synack, ack, data}, mode: SeqNext, wantSeq: 1001},
		{name: "next falls back to seq+len", traffic: []seg{syn}, mode: SeqNext, wantSeq: 1001},
		{name: "next with offset", traffic: []seg{syn, synack, ack, data, ackData}, mode: SeqNext, offset: 100000, wantSeq: 101101},
		{name: "next with negative offset", traffic: []seg{syn, synack, ack, data, ackData}, mode: SeqNext, offset: -1102, wantSeq: 0xffffffff},
		{name: "isn", traffic: []seg{syn, synack, ack, data, ackData}, mode: SeqISN, wantSeq: 1000},
		{name: "isn wraps", traffic: []seg{wrap}, mode: SeqISN, offset: 0x20, wantSeq: 0x10},
		{name: "ack next", traffic: []seg{syn, synack, ack, data, ackData, reply}, mode: SeqNext, ackNext: true, wantSeq: 1101, wantAck: 5051},
		{name: "ack next after syn-ack", traffic: []seg{syn, synack}, mode: SeqISN, ackNext: true, wantSeq: 1000, wantAck: 5001},
		{name: "nothing seen", mode: SeqNext, offset: 7, ackNext: true, wantSeq: 7, wantNoSeq: true, wantNoAck: true},
		{name: "no syn seen", traffic: []seg{ack}, mode: SeqISN, wantNoSeq: true},
		{name: "no reply seen", traffic: []seg{syn}, mode: SeqNext, ackNext: true, wantSeq: 1001, wantNoAck: true},
		{name: "absolute", traffic: []seg{syn}, mode: SeqAbsolute, offset: 5, wantSeq: 12350},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, b, _ := injectNet(t, 1)
			for i, s := range tt.traffic {
				src, dst, node, idx := "10.0.0.1:40000", "10.0.0.2:80", a, 0
				if !s.fromA {
					src, dst, node, idx = dst, src, b, 1
				}
				sendAt(n, node, idx, time.Duration(i)*time.Millisecond, tcpPacket(uint16(i), src, dst, s.flags, s.seq, s.ack, s.payloadLen))
			}
			addInjection(t, n, Injection{
				Via: "attacker", At: 100 * time.Millisecond,
				Src: netip.MustParseAddrPort("10.0.0.1:40000"), Dst: netip.MustParseAddrPort("10.0.0.2:80"),
				Flags: segment.ACK, Seq: tt.mode, SeqValue: 12345, SeqOffset: tt.offset, Ack: 999, AckNext: tt.ackNext,
			})
			run(t, n, time.Hour)
			last := b.delivered[len(b.delivered)-1]
			got := parse(t, last.pkt)
			wantAck := tt.wantAck
			if !tt.ackNext {
				wantAck = 999
			}
			if uint32(got.Seq) != tt.wantSeq || uint32(got.Ack) != wantAck {
				t.Errorf("injected seq %d ack %d, want %d and %d", got.Seq, got.Ack, tt.wantSeq, wantAck)
			}
			// a's address through the attacker's port: spoofed.
			want := injected{
				Ref: event.Ref{Frame: len(tt.traffic) + 1}, At: 100 * time.Millisecond, From: "attacker",
				Cause:    event.Cause{Kind: event.ByInjection, Rule: "inject[1]"},
				Injected: event.Injected{Rule: "inject[1]", Spoofed: true, NoSeq: tt.wantNoSeq, NoAck: tt.wantNoAck},
			}
			if got := injectedOf(rec.sent[len(rec.sent)-1]); got != want {
				t.Errorf("last Sent = %+v, want %+v", got, want)
			}
		})
	}
}

func TestInjectionErrors(t *testing.T) {
	dst := netip.MustParseAddrPort("10.0.0.2:80")
	src := netip.MustParseAddrPort("10.0.0.9:1")
	tests := []struct {
		name string
		i    Injection
		want string
	}{
		{name: "valid", i: Injection{Via: "attacker", Src: src, Dst: dst}},
		{name: "prefix only", i: Injection{Via: "attacker", SrcPrefix: netip.MustParsePrefix("10.9.0.0/16"), Dst: dst}},
		{name: "no via", i: Injection{Src: src, Dst: dst}, want: "via is empty: name the host whose port the segments enter the switch from"},
		{name: "via unknown", i: Injection{Via: "mallory", Src: src, Dst: dst}, want: `via host "mallory" is not attached`},
		{name: "negative at", i: Injection{Via: "attacker", At: -1, Src: src, Dst: dst}, want: "at -1ns is negative"},
		{name: "negative count", i: Injection{Via: "attacker", Count: -1, Src: src, Dst: dst}, want: "count -1 is negative"},
		{name: "negative interval", i: Injection{Via: "attacker", Interval: -time.Second, Src: src, Dst: dst}, want: "interval -1s is negative"},
		{name: "no src", i: Injection{Via: "attacker", Dst: dst}, want: "from has no address and there is no source prefix"},
		{name: "no dst", i: Injection{Via: "attacker", Src: src}, want: "to has no address"},
		{name: "dst port 0", i: Injection{Via: "attacker", Src: src, Dst: netip.MustParseAddrPort("10.0.0.2:0")}, want: "to 10.0.0.2:0 has port 0"},
		{name: "mixed families", i: Injection{Via: "attacker", Src: src, Dst: netip.MustParseAddrPort("[fd00::2]:80")}, want: "from 10.0.0.9 and to fd00::2 are of different IP versions"},
		{name: "mixed prefix", i: Injection{Via: "attacker", SrcPrefix: netip.MustParsePrefix("fd00::/64"), Dst: dst}, want: "from fd00:: and to 10.0.0.2 are of different IP versions"},
		{name: "bad seq mode", i: Injection{Via: "attacker", Src: src, Dst: dst, Seq: 3}, want: "unknown seq mode 3"},
		{name: "huge payload", i: Injection{Via: "attacker", Src: src, Dst: dst, Payload: make([]byte, 70000)}, want: "data of 70000 bytes is too large (at most 65471)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, _, _, _, _ := injectNet(t, 1)
			if got := errText(n.AddInjection(tt.i)); got != tt.want {
				t.Errorf("AddInjection(%+v) = %q, want %q", tt.i, got, tt.want)
			}
		})
	}
	t.Run("duplicate name", func(t *testing.T) {
		n, _, _, _, _ := injectNet(t, 1)
		i := Injection{Via: "attacker", Src: src, Dst: dst}
		addInjection(t, n, i)
		i.Name = "inject[1]"
		if got, want := errText(n.AddInjection(i)), `injection name "inject[1]" is already used`; got != want {
			t.Errorf("AddInjection(%+v) = %q, want %q", i, got, want)
		}
	})
}

func TestSeqModeString(t *testing.T) {
	got := []string{SeqAbsolute.String(), SeqNext.String(), SeqISN.String(), SeqMode(5).String()}
	if want := []string{"absolute", "next", "isn", "SeqMode(5)"}; !slices.Equal(got, want) {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// transcript renders everything the recorder saw, in order, with every
// field and byte, so that two runs compare as strings.
func (r *recorder) transcript() string {
	var b strings.Builder
	for _, e := range r.all {
		switch e := e.(type) {
		case *event.Sent:
			fmt.Fprintf(&b, "sent %v at %v from %s cause %+v", e.Ref, e.At, e.From, e.Cause)
			if e.Injected != nil {
				fmt.Fprintf(&b, " injected %+v", *e.Injected)
			}
			if e.Seg != nil {
				fmt.Fprintf(&b, " seg %+v", *e.Seg)
			}
			fmt.Fprintf(&b, " err %v data %x\n", e.ParseErr, e.Data)
		case *event.Fate:
			fmt.Fprintf(&b, "%v data %x\n", fateOf(e), e.Data)
		}
	}
	return b.String()
}

// TestDeterminism runs a busy lab with every kind of randomness twice per
// seed and compares everything observed and delivered.
func TestDeterminism(t *testing.T) {
	ms := time.Millisecond
	runOnce := func(seed uint64) (string, *recorder) {
		impaired := Direction{Latency: 5 * ms, Jitter: 2 * ms, Loss: 0.1, Duplicate: 0.1, Reorder: 0.1, Corrupt: 0.1}
		rec := &recorder{}
		n := New(seed, rec, nil)
		a, ia, _ := attachFake(t, n, "a", Link{Out: impaired, In: impaired}, "10.0.0.1")
		b, ib, _ := attachFake(t, n, "b", Link{Out: impaired, Down: []Window{{From: 50 * ms, To: 60 * ms}}}, "10.0.0.2")
		attachFake(t, n, "attacker", Link{}, "10.0.0.3")
		for _, f := range []Fault{
			{Action: FaultDuplicate, Flags: segment.FlagMatch{Set: segment.PSH}, Nth: 3, Delay: 20 * ms},
			{Action: FaultHold, Flags: segment.FlagMatch{Set: segment.FIN}, Until: 150 * ms},
		} {
			if err := n.AddFault(f); err != nil {
				t.Fatal(err)
			}
		}
		addInjection(t, n, Injection{Via: "attacker", At: 10 * ms, Count: 20, Interval: 3 * ms, SrcPrefix: netip.MustParsePrefix("10.9.0.0/16"), Dst: netip.MustParseAddrPort("10.0.0.2:80"), Flags: segment.SYN})
		for i := range 100 {
			flags := segment.PSH | segment.ACK
			if i%10 == 9 {
				flags = segment.FIN | segment.ACK
			}
			sendAt(n, a, ia, time.Duration(i)*ms, tcpPacket(uint16(i), "10.0.0.1:40000", "10.0.0.2:80", flags, uint32(i*100), 1, 100))
			sendAt(n, b, ib, time.Duration(i)*ms, tcpPacket(uint16(i), "10.0.0.2:80", "10.0.0.1:40000", segment.ACK, 1, uint32(i*100), 0))
		}
		run(t, n, time.Hour)
		var sb strings.Builder
		sb.WriteString(rec.transcript())
		for _, node := range []*fakeNode{a, b} {
			for _, d := range node.delivered {
				fmt.Fprintf(&sb, "%v %v %x\n", d.at, d.ref, d.pkt)
			}
		}
		return sb.String(), rec
	}
	first, rec := runOnce(1)
	for _, m := range []struct {
		name string
		ok   func(f fate) bool
	}{
		{"duplicated by a link", func(f fate) bool { return f.Kind == event.Duplicated && f.Place.Dir != event.Switch }},
		{"reordered", func(f fate) bool { return f.Kind == event.Reordered }},
		{"corrupted", func(f fate) bool { return f.Kind == event.Corrupted }},
		{"lost", func(f fate) bool { return f.Kind == event.Dropped && f.Reason == event.Loss }},
		{"dropped by b's outage", func(f fate) bool {
			return f.Kind == event.Dropped && f.Reason == event.LinkDown && f.Place.Host == "b"
		}},
		{"duplicated by faults[1]", func(f fate) bool { return f.Kind == event.Duplicated && f.Rule.Name == "faults[1]" }},
		{"held by faults[2]", func(f fate) bool { return f.Kind == event.Held && f.Rule.Name == "faults[2]" }},
		{"a copy arrived", func(f fate) bool { return f.Kind == event.Arrived && f.Ref.Copy > 0 }},
	} {
		if !slices.ContainsFunc(rec.fatesOf(), m.ok) {
			t.Errorf("seed 1 run has no fate %s, want every mechanism exercised", m.name)
		}
	}
	if !slices.ContainsFunc(rec.sent, func(e *event.Sent) bool { return e.Injected != nil && e.Injected.Rule == "inject[1]" }) {
		t.Errorf("seed 1 run has no packet injected by inject[1], want every mechanism exercised")
	}
	if again, _ := runOnce(1); again != first {
		t.Errorf("two runs with seed 1 differ")
	}
	if other, _ := runOnce(2); other == first {
		t.Errorf("runs with seeds 1 and 2 are identical, want the seed to matter")
	}
}
