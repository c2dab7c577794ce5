package topology

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/field"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// SeqMode says how an Injection chooses its segments' sequence numbers.
type SeqMode int

// Sequence number modes.
const (
	// SeqAbsolute uses Injection.SeqValue.
	SeqAbsolute SeqMode = iota
	// SeqNext uses the sequence number the receiver (Dst) expects next from
	// Src on that 4-tuple: the highest ACK the switch has seen from Dst to
	// Src, or else the end (seq+len) of the last segment from Src to Dst.
	SeqNext
	// SeqISN uses the initial sequence number of the last SYN the switch
	// saw from Src to Dst: a replayed old SYN.
	SeqISN
)

var seqModeNames = []string{"absolute", "next", "isn"}

// String returns the mode's name: "absolute", "next" or "isn".
func (m SeqMode) String() string {
	if m >= 0 && int(m) < len(seqModeNames) {
		return seqModeNames[m]
	}
	return fmt.Sprintf("SeqMode(%d)", int(m))
}

// Injection sends raw TCP segments into the switch as if a host had sent
// them: the observer records them on Via's port, Via's Out direction
// applies, the faults apply, and the switch routes them by Dst's address.
type Injection struct {
	// Name is how notes name the injection, such as "inject[1]";
	// AddInjection fills in "inject[N]" (1-based, in order added) when it
	// is empty.
	Name string
	// Via is the host through whose port the segments enter the switch
	// (the attacker). It must be attached.
	Via string
	// At is the virtual time of the first segment.
	At time.Duration
	// Count is the number of segments to send (0 means 1).
	Count int
	// Interval is the time between segments.
	Interval time.Duration
	// Src is the segments' source, which may be any address (spoofed).
	// Port 0 draws a different source port per segment, from a seeded
	// random source, in [1024, 65535].
	Src netip.AddrPort
	// SrcPrefix, when valid, draws each segment's source address from the
	// prefix (a spoofed SYN flood); it overrides Src's address.
	SrcPrefix netip.Prefix
	// Dst is the segments' destination.
	Dst netip.AddrPort
	// Flags are the segments' TCP flags.
	Flags segment.Flags
	// Seq chooses the sequence number, SeqValue is the number SeqAbsolute
	// uses, and SeqOffset is added to it in every mode (mod 2^32). When
	// SeqNext or SeqISN finds nothing observed it starts from 0, and the
	// note says so.
	Seq       SeqMode
	SeqValue  uint32
	SeqOffset int64
	// Ack is the acknowledgement number, unless AckNext is set: then it is
	// what Src would acknowledge, the end (seq+len) of the last segment
	// the switch saw from Dst to Src (0 if none, and the note says so).
	Ack     uint32
	AckNext bool
	// Window is the receive window (0 means 65535).
	Window uint16
	// Payload is the segments' data.
	Payload []byte
}

// synMSS is the MSS option an injected SYN carries.
const synMSS = 1460

// Validate reports every configuration error in i, as a field.List whose
// fields are named as a lab file writes them ("via", "from" for the source,
// "to" for the destination, "data" for the payload), or nil.
func (i Injection) Validate() error {
	var l field.List
	src := i.Src.Addr()
	if i.SrcPrefix.IsValid() {
		src = i.SrcPrefix.Addr()
	}
	if i.Via == "" {
		l.Add("via", "via is empty: name the host whose port the segments enter the switch from")
	}
	if i.At < 0 {
		l.Add("at", "at %v is negative", i.At)
	}
	if i.Count < 0 {
		l.Add("count", "count %d is negative", i.Count)
	}
	if i.Interval < 0 {
		l.Add("interval", "interval %v is negative", i.Interval)
	}
	if !src.IsValid() {
		l.Add("from", "from has no address and there is no source prefix")
	}
	switch {
	case !i.Dst.Addr().IsValid():
		l.Add("to", "to has no address")
	case i.Dst.Port() == 0:
		l.Add("to", "to %v has port 0", i.Dst)
	case src.IsValid() && src.Unmap().Is4() != i.Dst.Addr().Unmap().Is4():
		l.Add("to", "from %v and to %v are of different IP versions", src, i.Dst.Addr())
	}
	if i.Seq < SeqAbsolute || i.Seq > SeqISN {
		l.Add("seq", "unknown seq mode %d", int(i.Seq))
	}
	if n := len(i.Payload); n > maxInjectPayload {
		l.Add("data", "data of %d bytes is too large (at most %d)", n, maxInjectPayload)
	}
	return l.Err()
}

// maxInjectPayload is the largest payload of an injected segment: what
// fits in an IPv6 packet with an MSS option.
const maxInjectPayload = 65535 - header.IPv6MinimumSize - header.TCPMinimumSize - header.TCPOptionMSSLength

// injection is an Injection with its runtime state.
type injection struct {
	Injection
	via int
	rng *rand.Rand
}

// AddInjection schedules an injection's segments at At, At+Interval, and so
// on. Via must already be attached, and names must be unique.
func (n *Network) AddInjection(i Injection) error {
	if err := i.Validate(); err != nil {
		return err
	}
	via := -1
	for idx, p := range n.ports {
		if p.name == i.Via {
			via = idx
			break
		}
	}
	if via < 0 {
		return fmt.Errorf("via host %q is not attached", i.Via)
	}
	if i.Name == "" {
		i.Name = fmt.Sprintf("inject[%d]", len(n.injections)+1)
	}
	if slices.Contains(n.injections, i.Name) {
		return fmt.Errorf("injection name %q is already used", i.Name)
	}
	n.injections = append(n.injections, i.Name)
	// The random source derives from the name only, so adding another
	// injection does not change this one's draws.
	if (i.Seq != SeqAbsolute || i.AckNext) && !i.SrcPrefix.IsValid() {
		// The switch remembers the sequence numbers this injection
		// continues, both ways.
		src, dst := netip.AddrPortFrom(i.Src.Addr().Unmap(), i.Src.Port()), netip.AddrPortFrom(i.Dst.Addr().Unmap(), i.Dst.Port())
		n.flowWatch[flowKey{src: src, dst: dst}] = true
		n.flowWatch[flowKey{src: dst, dst: src}] = true
	}
	in := &injection{Injection: i, via: via, rng: n.rng("inject", i.Name)}
	in.Payload = append([]byte(nil), i.Payload...)
	for k := range max(i.Count, 1) {
		n.sched.At(i.At+time.Duration(k)*i.Interval, -1, func() {
			pkt, how := n.inject(in)
			n.send(in.via, pkt, event.Cause{Kind: event.ByInjection, Rule: in.Name}, how, nil, nil)
		})
	}
	return nil
}

// inject builds the next segment of in and says how it was made.
func (n *Network) inject(in *injection) ([]byte, *event.Injected) {
	srcAddr := in.Src.Addr().Unmap()
	if in.SrcPrefix.IsValid() {
		srcAddr = randomAddr(in.rng, in.SrcPrefix)
	}
	srcPort := in.Src.Port()
	if srcPort == 0 {
		srcPort = uint16(1024 + in.rng.IntN(65536-1024))
	}
	src := netip.AddrPortFrom(srcAddr, srcPort)
	dst := netip.AddrPortFrom(in.Dst.Addr().Unmap(), in.Dst.Port())

	how := &event.Injected{Rule: in.Name, Spoofed: n.hostOf(srcAddr) != in.Via}
	seq := in.SeqValue
	if in.Seq != SeqAbsolute {
		var ok bool
		seq, ok = n.observedSeq(in.Seq, src, dst)
		how.NoSeq = !ok
	}
	seq += uint32(in.SeqOffset)
	ack := in.Ack
	if in.AckNext {
		if f := n.flows[flowKey{src: dst, dst: src}]; f != nil && f.hasNext {
			ack = uint32(f.next)
		} else {
			ack = 0
			how.NoAck = true
		}
	}
	win := in.Window
	if win == 0 {
		win = 65535
	}
	return buildSegment(src, dst, in.Flags, seq, ack, win, uint16(in.rng.Uint32()), in.Payload), how
}

// observedSeq returns the sequence number mode SeqNext or SeqISN picks for a
// segment from src to dst, and whether the switch had seen what it needs.
func (n *Network) observedSeq(mode SeqMode, src, dst netip.AddrPort) (uint32, bool) {
	f := n.flows[flowKey{src: src, dst: dst}]
	if mode == SeqISN {
		if f != nil && f.hasISN {
			return uint32(f.isn), true
		}
		return 0, false
	}
	if r := n.flows[flowKey{src: dst, dst: src}]; r != nil && r.hasAck {
		return uint32(r.ack), true
	}
	if f != nil && f.hasNext {
		return uint32(f.next), true
	}
	return 0, false
}

// randomAddr draws an address from prefix p.
func randomAddr(rng *rand.Rand, p netip.Prefix) netip.Addr {
	p = p.Masked()
	b := p.Addr().Unmap().AsSlice()
	bits := p.Bits()
	if p.Addr().Is4In6() {
		bits -= 96
	}
	for i := range b {
		r := byte(rng.Uint32())
		switch {
		case (i+1)*8 <= bits: // network byte
		case i*8 >= bits: // host byte
			b[i] = r
		default: // split byte
			mask := byte(0xff) >> (bits - i*8)
			b[i] = b[i]&^mask | r&mask
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// buildSegment returns an IPv4 or IPv6 packet (by the addresses' family)
// carrying one TCP segment with valid checksums. A SYN carries an MSS option
// of 1460; other segments carry no options.
func buildSegment(src, dst netip.AddrPort, flags segment.Flags, seq, ack uint32, win, ipID uint16, payload []byte) []byte {
	tcpLen := header.TCPMinimumSize
	if flags&segment.SYN != 0 {
		tcpLen += header.TCPOptionMSSLength
	}
	ipLen := header.IPv4MinimumSize
	if !src.Addr().Is4() {
		ipLen = header.IPv6MinimumSize
	}
	pkt := make([]byte, ipLen+tcpLen+len(payload))
	srcA, dstA := tcpip.AddrFromSlice(src.Addr().AsSlice()), tcpip.AddrFromSlice(dst.Addr().AsSlice())
	if src.Addr().Is4() {
		ip := header.IPv4(pkt)
		ip.Encode(&header.IPv4Fields{
			TotalLength: uint16(len(pkt)),
			ID:          ipID,
			TTL:         64,
			Protocol:    uint8(header.TCPProtocolNumber),
			SrcAddr:     srcA,
			DstAddr:     dstA,
		})
		ip.SetChecksum(^ip.CalculateChecksum())
	} else {
		header.IPv6(pkt).Encode(&header.IPv6Fields{
			PayloadLength:     uint16(tcpLen + len(payload)),
			TransportProtocol: header.TCPProtocolNumber,
			HopLimit:          64,
			SrcAddr:           srcA,
			DstAddr:           dstA,
		})
	}
	tcp := header.TCP(pkt[ipLen:])
	tcp.Encode(&header.TCPFields{
		SrcPort:    src.Port(),
		DstPort:    dst.Port(),
		SeqNum:     seq,
		AckNum:     ack,
		DataOffset: uint8(tcpLen),
		Flags:      header.TCPFlags(flags),
		WindowSize: win,
	})
	if tcpLen > header.TCPMinimumSize {
		header.EncodeMSSOption(synMSS, tcp[header.TCPMinimumSize:tcpLen])
	}
	copy(tcp[tcpLen:], payload)
	xsum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, srcA, dstA, uint16(len(tcp)))
	xsum = checksum.Checksum(payload, xsum)
	tcp.SetChecksum(^tcp.CalculateChecksum(xsum))
	return pkt
}
