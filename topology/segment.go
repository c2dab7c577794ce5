package topology

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// segment is what the switch reads of a TCP segment: enough to match
// faults and to track each direction's sequence numbers.
type segment struct {
	src, dst netip.AddrPort
	flags    uint8
	seq, ack uint32
	payload  int
}

// end returns the sequence number that follows the segment: seq plus its
// payload, plus one for SYN and one for FIN.
func (s segment) end() uint32 {
	e := s.seq + uint32(s.payload)
	if s.flags&uint8(header.TCPFlagSyn) != 0 {
		e++
	}
	if s.flags&uint8(header.TCPFlagFin) != 0 {
		e++
	}
	return e
}

// transport returns the offset of the transport header in a raw IP packet,
// its protocol, and whether the packet is a well-formed unfragmented IPv4 or
// IPv6 packet (IPv6 without extension headers). The packet's IP length may be
// shorter than pkt; callers that need the exact end use ipEnd.
func transport(pkt []byte) (off int, proto tcpip.TransportProtocolNumber, ok bool) {
	if len(pkt) == 0 {
		return 0, 0, false
	}
	switch header.IPVersion(pkt) {
	case header.IPv4Version:
		if len(pkt) < header.IPv4MinimumSize {
			return 0, 0, false
		}
		ip := header.IPv4(pkt)
		hl := int(ip.HeaderLength())
		if hl < header.IPv4MinimumSize || hl > len(pkt) || ip.More() || ip.FragmentOffset() != 0 {
			return 0, 0, false
		}
		return hl, ip.TransportProtocol(), true
	case header.IPv6Version:
		if len(pkt) < header.IPv6MinimumSize {
			return 0, 0, false
		}
		// The Next Header field: extension headers are not followed.
		return header.IPv6MinimumSize, tcpip.TransportProtocolNumber(header.IPv6(pkt).NextHeader()), true
	}
	return 0, 0, false
}

// ipEnd returns the end of the IP packet within pkt as its header states it,
// bounded by len(pkt).
func ipEnd(pkt []byte) int {
	switch header.IPVersion(pkt) {
	case header.IPv4Version:
		return min(len(pkt), int(header.IPv4(pkt).TotalLength()))
	case header.IPv6Version:
		return min(len(pkt), header.IPv6MinimumSize+int(header.IPv6(pkt).PayloadLength()))
	}
	return len(pkt)
}

// addrs returns the source and destination addresses of a raw IP packet that
// transport accepted.
func addrs(pkt []byte) (src, dst netip.Addr) {
	if header.IPVersion(pkt) == header.IPv4Version {
		ip := header.IPv4(pkt)
		return netip.AddrFrom4(ip.SourceAddress().As4()), netip.AddrFrom4(ip.DestinationAddress().As4())
	}
	ip := header.IPv6(pkt)
	return netip.AddrFrom16(ip.SourceAddress().As16()), netip.AddrFrom16(ip.DestinationAddress().As16())
}

// parseSegment reads the TCP segment in a raw IP packet; ok is false for
// anything else (not TCP, fragments, truncated headers).
func parseSegment(pkt []byte) (s segment, ok bool) {
	off, proto, ok := transport(pkt)
	if !ok || proto != header.TCPProtocolNumber {
		return segment{}, false
	}
	end := ipEnd(pkt)
	if end-off < header.TCPMinimumSize {
		return segment{}, false
	}
	tcp := header.TCP(pkt[off:end])
	doff := int(tcp.DataOffset())
	if doff < header.TCPMinimumSize || doff > len(tcp) {
		return segment{}, false
	}
	src, dst := addrs(pkt)
	return segment{
		src:     netip.AddrPortFrom(src, tcp.SourcePort()),
		dst:     netip.AddrPortFrom(dst, tcp.DestinationPort()),
		flags:   uint8(tcp.Flags()),
		seq:     tcp.SequenceNumber(),
		ack:     tcp.AckNumber(),
		payload: len(tcp) - doff,
	}, true
}

// flowKey is one direction of a connection.
type flowKey struct {
	src, dst netip.AddrPort
}

// flow is what the switch remembers of one direction of a connection, for
// injections that continue or replay it.
type flow struct {
	next    uint32 // end() of the last segment
	ack     uint32 // highest acknowledgement number (with ACK set)
	isn     uint32 // sequence number of the last SYN
	hasNext bool
	hasAck  bool
	hasISN  bool
}

// connKey is a connection: an unordered pair of endpoints, a before b.
type connKey struct {
	a, b netip.AddrPort
}

func connOf(s segment) connKey {
	if s.dst.Compare(s.src) < 0 {
		return connKey{a: s.dst, b: s.src}
	}
	return connKey{a: s.src, b: s.dst}
}

// track records a segment that reached the switch: its direction's sequence
// numbers, and the connection's number (1-based, in order of first
// segment), which it returns.
func (n *Network) track(s segment) int {
	k := flowKey{src: s.src, dst: s.dst}
	f := n.flows[k]
	if f == nil {
		f = &flow{}
		n.flows[k] = f
	}
	f.next, f.hasNext = s.end(), true
	if s.flags&uint8(header.TCPFlagAck) != 0 && (!f.hasAck || int32(s.ack-f.ack) > 0) {
		f.ack, f.hasAck = s.ack, true
	}
	if s.flags&uint8(header.TCPFlagSyn) != 0 {
		f.isn, f.hasISN = s.seq, true
	}
	c := connOf(s)
	id, ok := n.conns[c]
	if !ok {
		id = len(n.conns) + 1
		n.conns[c] = id
	}
	return id
}
