package topology

import (
	"net/netip"

	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// transport returns the offset of the transport header in a raw IP packet,
// whether it is TCP, and whether the packet is a well-formed unfragmented
// IPv4 or IPv6 packet (IPv6 without extension headers).
func transport(pkt []byte) (off int, tcp, ok bool) {
	if len(pkt) == 0 {
		return 0, false, false
	}
	switch header.IPVersion(pkt) {
	case header.IPv4Version:
		if len(pkt) < header.IPv4MinimumSize {
			return 0, false, false
		}
		ip := header.IPv4(pkt)
		hl := int(ip.HeaderLength())
		if hl < header.IPv4MinimumSize || hl > len(pkt) || ip.More() || ip.FragmentOffset() != 0 {
			return 0, false, false
		}
		return hl, ip.TransportProtocol() == header.TCPProtocolNumber, true
	case header.IPv6Version:
		if len(pkt) < header.IPv6MinimumSize {
			return 0, false, false
		}
		// The Next Header field: extension headers are not followed.
		return header.IPv6MinimumSize, header.IPv6(pkt).NextHeader() == uint8(header.TCPProtocolNumber), true
	}
	return 0, false, false
}

// flowKey is one direction of a connection.
type flowKey struct {
	src, dst netip.AddrPort
}

// flow is what the switch remembers of one direction of a connection, for
// injections that continue or replay it.
type flow struct {
	next    seqnum.Value // End() of the last segment
	ack     seqnum.Value // highest acknowledgement number (with ACK set)
	isn     seqnum.Value // sequence number of the last SYN
	hasNext bool
	hasAck  bool
	hasISN  bool
}

// connKey is a connection: an unordered pair of endpoints, a before b.
type connKey struct {
	a, b netip.AddrPort
}

func connOf(s *segment.Segment) connKey {
	if s.Dst.Compare(s.Src) < 0 {
		return connKey{a: s.Dst, b: s.Src}
	}
	return connKey{a: s.Src, b: s.Dst}
}

// track records a segment that reached the switch: its direction's sequence
// numbers, and the connection's number (1-based, in order of first
// segment), which it returns.
func (n *Network) track(s *segment.Segment) int {
	k := flowKey{src: s.Src, dst: s.Dst}
	if n.flowWatch[k] {
		f := n.flows[k]
		if f == nil {
			f = &flow{}
			n.flows[k] = f
		}
		f.next, f.hasNext = s.End(), true
		if s.Flags&segment.ACK != 0 && (!f.hasAck || f.ack.LessThan(s.Ack)) {
			f.ack, f.hasAck = s.Ack, true
		}
		if s.Flags&segment.SYN != 0 {
			f.isn, f.hasISN = s.Seq, true
		}
	}
	if n.maxConn == 0 {
		return 0
	}
	c := connOf(s)
	if id, ok := n.conns[c]; ok {
		return id
	}
	if n.connCount < n.maxConn {
		n.connCount++
		n.conns[c] = n.connCount
		return n.connCount
	}
	return n.maxConn + 1 // a later connection: no fault selects it
}
