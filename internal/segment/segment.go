package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unsafe"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// Segment is the parsed TCP/IP header of one packet: what every part of
// tcplab reads of it. It is parsed once: where the packet enters the
// switch, or by the sending host's Linux edge, whose parse the switch
// copies (CopyTo).
type Segment struct {
	Src, Dst netip.AddrPort
	Flags    Flags
	Seq, Ack seqnum.Value
	// Len is the payload length in bytes.
	Len int
	// Win is the raw window field, before any scaling.
	Win  uint16
	Opts Options
	// TCPOffset is the offset of the TCP header in the packet, and
	// PayloadOffset that of the payload.
	TCPOffset, PayloadOffset int

	// kindBuf and sackBuf back Opts.Kinds and Opts.SACK when ParseInto
	// filled the segment, so that parsing allocates nothing.
	kindBuf [8]byte
	sackBuf [4]Block
}

// Span returns the sequence space the segment occupies: its payload, plus
// one for SYN and one for FIN.
func (s *Segment) Span() seqnum.Size {
	n := seqnum.Size(s.Len)
	if s.Flags&SYN != 0 {
		n++
	}
	if s.Flags&FIN != 0 {
		n++
	}
	return n
}

// End returns the sequence number that follows the segment.
func (s *Segment) End() seqnum.Value { return s.Seq.Add(s.Span()) }

// Options are the TCP options of a segment.
type Options struct {
	MSS      int  // 0 when absent
	WS       int  // window scale shift; -1 when absent
	SACKPerm bool // SACK permitted
	HasTS    bool
	TSVal    uint32
	TSEcr    uint32
	SACK     []Block // SACK blocks, in wire order
	// Kinds lists the option kinds in wire order (without NOP and EOL).
	Kinds []byte
}

// DSACK reports whether the segment's first SACK block is a D-SACK
// (RFC 2883): a report of data received twice, which is a block below the
// cumulative ACK, or one inside the second block. The test is Linux's
// (tcp_check_dsack).
func (s *Segment) DSACK() bool {
	if s.Flags&ACK == 0 || len(s.Opts.SACK) == 0 {
		return false
	}
	b := s.Opts.SACK[0]
	if b.Start.LessThan(s.Ack) {
		return true
	}
	if len(s.Opts.SACK) < 2 {
		return false
	}
	c := s.Opts.SACK[1]
	return c.Start.LessThanEq(b.Start) && b.End.LessThanEq(c.End)
}

// Block is a SACK block: the sequence range [Start, End).
type Block struct {
	Start, End seqnum.Value
}

// Text renders the options in wire order, with SACK blocks relative to
// base: "MSS=1460 SACK_PERM TSval=1 TSecr=0 WS=128".
func (o *Options) Text(base seqnum.Value) string {
	var b strings.Builder
	for _, kind := range o.Kinds {
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
				fmt.Fprintf(&b, "%d-%d", uint32(blk.Start-base), uint32(blk.End-base))
			}
		default:
			fmt.Fprintf(&b, "opt%d", kind)
		}
	}
	return b.String()
}

// Parse reads the TCP segment in a raw IPv4 or IPv6 packet (no link
// header). It does not verify checksums, so a corrupted segment still
// parses as long as its headers hold together. The error says why a packet
// is not a TCP segment: another protocol, a fragment, a truncated header.
func Parse(pkt []byte) (Segment, error) {
	var s Segment
	err := parse(&s, pkt, false)
	return s, err
}

// ParseInto is Parse into *s, whose options' lists it keeps inside s rather
// than in allocations of their own (while they fit): for a Segment that
// stays where it is, as a field of a longer-lived value. A plain copy of s
// shares them, which is harmless while s is not parsed into again; to keep
// a segment whose place is reused, copy it with CopyTo.
func ParseInto(s *Segment, pkt []byte) error {
	*s = Segment{}
	return parse(s, pkt, true)
}

// Clone returns a copy of o with lists of its own: kept after its segment,
// it keeps neither the segment nor what holds the segment alive.
func (o Options) Clone() Options {
	if o.SACK != nil {
		o.SACK = append([]Block(nil), o.SACK...)
	}
	if o.Kinds != nil {
		o.Kinds = append([]byte(nil), o.Kinds...)
	}
	return o
}

// CopyTo copies s into *d as ParseInto would have parsed the same packet
// into d: option lists that s keeps inside itself are copied into d's own
// buffers (a plain copy would share s's, which s's next parse overwrites).
func (s *Segment) CopyTo(d *Segment) {
	*d = *s
	if len(s.Opts.Kinds) > 0 && unsafe.SliceData(s.Opts.Kinds) == &s.kindBuf[0] {
		d.Opts.Kinds = d.kindBuf[:len(s.Opts.Kinds)]
	}
	if len(s.Opts.SACK) > 0 && unsafe.SliceData(s.Opts.SACK) == &s.sackBuf[0] {
		d.Opts.SACK = d.sackBuf[:len(s.Opts.SACK)]
	}
}

// parse fills *s from pkt, with its options' lists in s's own buffers when
// inline.
func parse(s *Segment, pkt []byte, inline bool) error {
	if len(pkt) == 0 {
		return errors.New("empty packet")
	}
	var src, dst netip.Addr
	var payload []byte
	switch header.IPVersion(pkt) {
	case header.IPv4Version:
		ip := header.IPv4(pkt)
		if !ip.IsValid(len(pkt)) {
			return errors.New("malformed IPv4 packet")
		}
		if ip.More() || ip.FragmentOffset() != 0 {
			return errors.New("IPv4 fragment")
		}
		if ip.TransportProtocol() != header.TCPProtocolNumber {
			return fmt.Errorf("IPv4 protocol %d is not TCP", ip.Protocol())
		}
		s.TCPOffset = int(ip.HeaderLength())
		payload = ip.Payload()
		src, dst = netip.AddrFrom4(ip.SourceAddress().As4()), netip.AddrFrom4(ip.DestinationAddress().As4())
	case header.IPv6Version:
		ip := header.IPv6(pkt)
		if !ip.IsValid(len(pkt)) {
			return errors.New("malformed IPv6 packet")
		}
		if ip.NextHeader() != uint8(header.TCPProtocolNumber) {
			return fmt.Errorf("IPv6 next header %d is not TCP", ip.NextHeader())
		}
		s.TCPOffset = header.IPv6MinimumSize
		payload = ip.Payload()
		src, dst = netip.AddrFrom16(ip.SourceAddress().As16()), netip.AddrFrom16(ip.DestinationAddress().As16())
	default:
		return errors.New("not an IP packet")
	}
	if len(payload) < header.TCPMinimumSize {
		return errors.New("truncated TCP header")
	}
	t := header.TCP(payload)
	off := int(t.DataOffset())
	if off < header.TCPMinimumSize || off > len(payload) {
		return errors.New("bad TCP data offset")
	}
	s.Src = netip.AddrPortFrom(src, t.SourcePort())
	s.Dst = netip.AddrPortFrom(dst, t.DestinationPort())
	s.Flags = Flags(t.Flags())
	s.Seq = seqnum.Value(t.SequenceNumber())
	s.Ack = seqnum.Value(t.AckNumber())
	s.Win = t.WindowSize()
	s.Len = len(payload) - off
	s.PayloadOffset = s.TCPOffset + off
	if inline {
		s.Opts = parseOptions(payload[header.TCPMinimumSize:off], s.kindBuf[:0], s.sackBuf[:0])
	} else {
		s.Opts = parseOptions(payload[header.TCPMinimumSize:off], nil, nil)
	}
	return nil
}

// parseOptions reads a TCP header's options; it stops at the first
// malformed one. Kinds and SACK blocks are appended to kinds and sack.
func parseOptions(b []byte, kinds []byte, sack []Block) Options {
	o := Options{WS: -1, Kinds: kinds, SACK: sack}
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
				o.SACK = append(o.SACK, Block{
					Start: seqnum.Value(binary.BigEndian.Uint32(v[i:])),
					End:   seqnum.Value(binary.BigEndian.Uint32(v[i+4:])),
				})
			}
		}
		o.Kinds = append(o.Kinds, kind)
		b = b[b[1]:]
	}
	if len(o.Kinds) == 0 {
		o.Kinds = nil // as when nothing was appended to nil
	}
	if len(o.SACK) == 0 {
		o.SACK = nil
	}
	return o
}

// Destination returns the destination address of a raw IP packet, whether
// or not it carries TCP.
func Destination(pkt []byte) (netip.Addr, error) {
	if len(pkt) == 0 {
		return netip.Addr{}, errors.New("empty packet")
	}
	switch header.IPVersion(pkt) {
	case header.IPv4Version:
		if len(pkt) < header.IPv4MinimumSize {
			return netip.Addr{}, errors.New("truncated IPv4 header")
		}
		return netip.AddrFrom4(header.IPv4(pkt).DestinationAddress().As4()), nil
	case header.IPv6Version:
		if len(pkt) < header.IPv6MinimumSize {
			return netip.Addr{}, errors.New("truncated IPv6 header")
		}
		return netip.AddrFrom16(header.IPv6(pkt).DestinationAddress().As16()), nil
	}
	return netip.Addr{}, errors.New("not an IP packet")
}
