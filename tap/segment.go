package tap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// Flag bits of a TCP segment.
const (
	FIN = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
)

// Segment is the decoded TCP/IP header of one captured packet.
type Segment struct {
	Src, Dst netip.AddrPort
	Flags    uint8
	Seq, Ack uint32
	Len      int    // payload length
	Win      uint16 // raw window field
	Opts     Options
}

// Options are the TCP options of a segment.
type Options struct {
	MSS      int  // 0 when absent
	WS       int  // window scale shift; -1 when absent
	SACKPerm bool // SACK permitted
	HasTS    bool
	TSVal    uint32
	TSEcr    uint32
	SACK     [][2]uint32 // SACK blocks
	order    []byte      // option kinds in wire order
}

// text renders the options in wire order; SACK blocks are shown relative to
// base.
func (o *Options) text(base uint32) string {
	var b strings.Builder
	for _, kind := range o.order {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		switch kind {
		case header.TCPOptionMSS:
			fmt.Fprintf(&b, "MSS=%d", o.MSS)
		case header.TCPOptionWS:
			fmt.Fprintf(&b, "WS=%d", 1<<min(o.WS, 14))
		case header.TCPOptionSACKPermitted:
			b.WriteString("SACK_PERM")
		case header.TCPOptionTS:
			fmt.Fprintf(&b, "TSval=%d TSecr=%d", o.TSVal, o.TSEcr)
		case header.TCPOptionSACK:
			b.WriteString("SACK=")
			for i, blk := range o.SACK {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%d-%d", blk[0]-base, blk[1]-base)
			}
		default:
			fmt.Fprintf(&b, "opt%d", kind)
		}
	}
	return b.String()
}

// FlagString renders flags as Wireshark does: "SYN, ACK".
func FlagString(f uint8) string {
	var parts []string
	for _, x := range []struct {
		bit  uint8
		name string
	}{{FIN, "FIN"}, {SYN, "SYN"}, {RST, "RST"}, {PSH, "PSH"}, {ACK, "ACK"}, {URG, "URG"}} {
		if f&x.bit != 0 {
			parts = append(parts, x.name)
		}
	}
	return strings.Join(parts, ", ")
}

// decode parses a raw IP packet carrying TCP.
func decode(pkt []byte) (Segment, error) {
	var s Segment
	if len(pkt) == 0 {
		return s, errors.New("empty packet")
	}
	var payload []byte
	switch header.IPVersion(pkt) {
	case header.IPv4Version:
		ip := header.IPv4(pkt)
		if !ip.IsValid(len(pkt)) {
			return s, errors.New("malformed IPv4 packet")
		}
		if ip.TransportProtocol() != header.TCPProtocolNumber {
			return s, fmt.Errorf("IPv4 protocol %d is not TCP", ip.Protocol())
		}
		payload = ip.Payload()
		s.Src = netip.AddrPortFrom(netip.AddrFrom4(ip.SourceAddress().As4()), 0)
		s.Dst = netip.AddrPortFrom(netip.AddrFrom4(ip.DestinationAddress().As4()), 0)
	case header.IPv6Version:
		ip := header.IPv6(pkt)
		if !ip.IsValid(len(pkt)) {
			return s, errors.New("malformed IPv6 packet")
		}
		if ip.NextHeader() != uint8(header.TCPProtocolNumber) {
			return s, fmt.Errorf("IPv6 next header %d is not TCP", ip.NextHeader())
		}
		payload = ip.Payload()
		s.Src = netip.AddrPortFrom(netip.AddrFrom16(ip.SourceAddress().As16()), 0)
		s.Dst = netip.AddrPortFrom(netip.AddrFrom16(ip.DestinationAddress().As16()), 0)
	default:
		return s, errors.New("not an IP packet")
	}
	if len(payload) < header.TCPMinimumSize {
		return s, errors.New("truncated TCP header")
	}
	t := header.TCP(payload)
	off := int(t.DataOffset())
	if off < header.TCPMinimumSize || off > len(payload) {
		return s, errors.New("bad TCP data offset")
	}
	s.Src = netip.AddrPortFrom(s.Src.Addr(), t.SourcePort())
	s.Dst = netip.AddrPortFrom(s.Dst.Addr(), t.DestinationPort())
	s.Flags = uint8(t.Flags())
	s.Seq = t.SequenceNumber()
	s.Ack = t.AckNumber()
	s.Win = t.WindowSize()
	s.Len = len(payload) - off
	s.Opts = parseTCPOptions(payload[header.TCPMinimumSize:off])
	return s, nil
}

func parseTCPOptions(b []byte) Options {
	o := Options{WS: -1}
	for len(b) > 0 {
		kind := b[0]
		if kind == header.TCPOptionEOL {
			break
		}
		if kind == header.TCPOptionNOP {
			b = b[1:]
			continue
		}
		if len(b) < 2 || int(b[1]) < 2 || int(b[1]) > len(b) {
			break
		}
		v := b[2:b[1]]
		switch kind {
		case header.TCPOptionMSS:
			if len(v) == 2 {
				o.MSS = int(binary.BigEndian.Uint16(v))
			}
		case header.TCPOptionWS:
			if len(v) == 1 {
				o.WS = int(v[0])
			}
		case header.TCPOptionSACKPermitted:
			o.SACKPerm = true
		case header.TCPOptionTS:
			if len(v) == 8 {
				o.HasTS = true
				o.TSVal = binary.BigEndian.Uint32(v)
				o.TSEcr = binary.BigEndian.Uint32(v[4:])
			}
		case header.TCPOptionSACK:
			for i := 0; i+8 <= len(v); i += 8 {
				l, r := binary.BigEndian.Uint32(v[i:]), binary.BigEndian.Uint32(v[i+4:])
				o.SACK = append(o.SACK, [2]uint32{l, r})
			}
		}
		o.order = append(o.order, kind)
		b = b[b[1]:]
	}
	return o
}
