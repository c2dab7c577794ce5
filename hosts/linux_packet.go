package hosts

import (
	"net/netip"

	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// Packets the linux profile makes or changes at the host's edge.

// rstPacket returns an IPv4 or IPv6 packet carrying a RST without options,
// as Linux's tcp_v4_send_reset builds it: with the ACK flag only when ack
// is set (an answer to a segment without ACK).
func rstPacket(src, dst netip.AddrPort, seq uint32, ack *uint32, ipID uint16) []byte {
	ipLen := header.IPv4MinimumSize
	if !src.Addr().Is4() {
		ipLen = header.IPv6MinimumSize
	}
	pkt := make([]byte, ipLen+header.TCPMinimumSize)
	srcA, dstA := tcpip.AddrFromSlice(src.Addr().AsSlice()), tcpip.AddrFromSlice(dst.Addr().AsSlice())
	if src.Addr().Is4() {
		ip := header.IPv4(pkt)
		ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(pkt)), ID: ipID, TTL: 64, Protocol: uint8(header.TCPProtocolNumber), SrcAddr: srcA, DstAddr: dstA})
		ip.SetChecksum(^ip.CalculateChecksum())
	} else {
		header.IPv6(pkt).Encode(&header.IPv6Fields{PayloadLength: header.TCPMinimumSize, TransportProtocol: header.TCPProtocolNumber, HopLimit: 64, SrcAddr: srcA, DstAddr: dstA})
	}
	f := header.TCPFields{SrcPort: src.Port(), DstPort: dst.Port(), SeqNum: seq, DataOffset: header.TCPMinimumSize, Flags: header.TCPFlagRst}
	if ack != nil {
		f.AckNum, f.Flags = *ack, f.Flags|header.TCPFlagAck
	}
	tcp := header.TCP(pkt[ipLen:])
	tcp.Encode(&f)
	setTCPChecksum(pkt, ipLen, srcA, dstA)
	return pkt
}

// setTCPChecksum computes the TCP checksum of a packet whose TCP header
// starts at off.
func setTCPChecksum(pkt []byte, off int, src, dst tcpip.Address) {
	tcp := header.TCP(pkt[off:])
	tcp.SetChecksum(0)
	xsum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, src, dst, uint16(len(tcp)))
	xsum = checksum.Checksum(tcp.Payload(), xsum)
	tcp.SetChecksum(^tcp.CalculateChecksum(xsum))
}

// stripWindowScale replaces a SYN's window scale option by no-ops, in
// place (the segment keeps its length), and fixes the checksum. It reports
// whether there was one.
func stripWindowScale(pkt []byte, s *segment.Segment) bool {
	if s.Flags&segment.SYN == 0 || s.Opts.WS < 0 {
		return false
	}
	tcp := header.TCP(pkt[s.TCPOffset:])
	opts := tcp.Options()
	for i := 0; i < len(opts); {
		switch kind := opts[i]; kind {
		case header.TCPOptionEOL:
			return false
		case header.TCPOptionNOP:
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 {
			return false
		}
		n := int(opts[i+1])
		if opts[i] == header.TCPOptionWS {
			for j := i; j < i+n && j < len(opts); j++ {
				opts[j] = header.TCPOptionNOP
			}
			src, dst := tcpip.AddrFromSlice(s.Src.Addr().AsSlice()), tcpip.AddrFromSlice(s.Dst.Addr().AsSlice())
			setTCPChecksum(pkt, s.TCPOffset, src, dst)
			s.Opts.WS = -1
			return true
		}
		i += n
	}
	return false
}
