package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/internal/pcapng"
	"github.com/tcplab/tcplab/internal/segment"
)

// Packet is one frame of a capture, with its TCP segment when it carries
// one.
type Packet struct {
	// No is the frame number, 1-based, as Wireshark numbers frames.
	No int
	// Time is the capture timestamp.
	Time time.Time
	// Iface is the capture interface (0 for a pcap file), and LinkType
	// its link type.
	Iface    int
	LinkType pcapng.LinkType
	// Frame is the frame as captured (link header included), and Length
	// its length on the wire (more than len(Frame) when the snap length
	// truncated it).
	Frame  []byte
	Length int
	// IP is the IP packet inside the frame, cut to the length its header
	// gives (a link layer's padding removed); nil when the frame holds no
	// IPv4 or IPv6 packet.
	IP []byte
	// Seg is the TCP segment; nil when the packet is not one, and then
	// Skip says what it is ("UDP", "ARP", "IPv4 fragment").
	Seg  *segment.Segment
	Skip string
	// Truncated says that the snap length cut the packet short: Seg's
	// payload length is the length the IP header gives, though fewer
	// bytes were captured.
	Truncated bool
}

// Reader reads the frames of a pcap or pcapng capture, as written by
// tcpdump, Wireshark, tshark or tcplab, and finds the TCP segment in each.
// It reads link types Ethernet (with 802.1Q and 802.1ad VLAN tags), Linux
// cooked capture v1 and v2, raw IPv4 and IPv6 (LINKTYPE_RAW, IPV4, IPV6)
// and BSD loopback (NULL, LOOP). The file formats are read by
// internal/pcapng (gzip-compressed files too).
type Reader struct {
	rd     *pcapng.Reader
	format string
	no     int
	// names are the host names of the capture's Name Resolution Blocks
	// read so far (pcapng), and nnames the number of records taken.
	names  map[netip.Addr]string
	nnames int
}

// Trim drops the packet's payload and its frame, keeping a copy of the IP
// and TCP headers: what the explanation needs, when the frame is not
// written back. The frame's buffer can then be collected.
func (p *Packet) Trim() {
	p.Frame = nil
	if p.Seg != nil {
		p.IP = append([]byte(nil), p.IP[:min(p.Seg.PayloadOffset, len(p.IP))]...)
	} else {
		p.IP = nil
	}
}

// Format returns "pcapng" or "pcap", with ".gz" when the file is
// gzip-compressed.
func (r *Reader) Format() string { return r.format }

// NewReader returns a reader of the capture in rd, pcap or pcapng: which
// is told by its first bytes.
func NewReader(rd io.Reader) (*Reader, error) {
	pr, err := pcapng.NewReader(rd)
	if err != nil {
		return nil, fmt.Errorf("read capture: %w", err)
	}
	r := &Reader{rd: pr, format: pr.Format().String(), names: map[netip.Addr]string{}}
	if pr.Compressed() {
		r.format += ".gz"
	}
	return r, nil
}

// Next returns the next frame, or io.EOF after the last one. A frame that
// is cut short or holds something else than TCP is still returned, with
// Skip saying why it has no segment.
func (r *Reader) Next() (*Packet, error) {
	pkt, err := r.rd.Next()
	if err != nil {
		return nil, readErr(err)
	}
	r.readNames()
	ifc, _ := r.rd.Interface(pkt.Interface)
	r.no++
	p := &Packet{No: r.no, Time: pkt.Time, Iface: pkt.Interface, LinkType: ifc.LinkType, Frame: pkt.Data, Length: max(pkt.Length, len(pkt.Data))}
	decode(p)
	return p, nil
}

// readErr passes io.EOF on and names other errors.
func readErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read capture: the file ends in the middle of a packet (still being written, or cut short): %w", err)
	}
	return fmt.Errorf("read capture: %w", err)
}

// readNames takes the names of the Name Resolution Blocks read so far: the
// first name of each address.
func (r *Reader) readNames() {
	recs := r.rd.Names()
	for _, rec := range recs[r.nnames:] {
		if _, dup := r.names[rec.Addr]; !dup {
			r.names[rec.Addr] = rec.Names[0]
		}
	}
	r.nnames = len(recs)
}

// Names returns the host names the capture's Name Resolution Blocks gave
// so far (tcplab writes them at the start of its captures).
func (r *Reader) Names() map[netip.Addr]string { return r.names }

// Interface returns the name and link type of capture interface i.
func (r *Reader) Interface(i int) (string, pcapng.LinkType) {
	ifc, ok := r.rd.Interface(i)
	if !ok {
		return "", 0
	}
	return ifc.Name, ifc.LinkType
}

// decode finds the IP packet and the TCP segment in p's frame.
func decode(p *Packet) {
	ip, skip := linkPayload(p.LinkType, p.Frame)
	if ip == nil {
		p.Skip = skip
		return
	}
	ip, wire, skip := cutIP(ip)
	if ip == nil {
		p.Skip = skip
		return
	}
	p.IP = ip
	seg, truncated, skip := parseTCP(ip, wire)
	if seg == nil {
		p.Skip = skip
		return
	}
	p.Seg, p.Truncated = seg, truncated
}

// EtherTypes.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86DD
	etherARP   = 0x0806
	etherVLAN  = 0x8100
	etherQinQ  = 0x88A8
	etherQinQ9 = 0x9100
)

// linkPayload returns the network-layer packet of a frame of link type
// lt, or nil and what the frame carries instead.
func linkPayload(lt pcapng.LinkType, f []byte) ([]byte, string) {
	switch lt {
	case pcapng.LinkTypeEthernet:
		if len(f) < 14 {
			return nil, "short Ethernet frame"
		}
		et, off := binary.BigEndian.Uint16(f[12:]), 14
		for et == etherVLAN || et == etherQinQ || et == etherQinQ9 {
			if len(f) < off+4 {
				return nil, "short VLAN tag"
			}
			et, off = binary.BigEndian.Uint16(f[off+2:]), off+4
		}
		return etherPayload(et, f[off:])
	case pcapng.LinkTypeLinuxSLL:
		if len(f) < 16 {
			return nil, "short Linux cooked header"
		}
		return etherPayload(binary.BigEndian.Uint16(f[14:]), f[16:])
	case pcapng.LinkTypeLinuxSLL2:
		if len(f) < 20 {
			return nil, "short Linux cooked v2 header"
		}
		return etherPayload(binary.BigEndian.Uint16(f[0:]), f[20:])
	case pcapng.LinkTypeRaw, pcapng.LinkTypeIPv4, pcapng.LinkTypeIPv6, 12, 14:
		// LINKTYPE_RAW; DLT_RAW is 12 or 14 in files from some systems.
		return ipOnly(f)
	case pcapng.LinkTypeNull, pcapng.LinkTypeLoop:
		if len(f) < 4 {
			return nil, "short loopback header"
		}
		// The address family, in the capturing host's byte order
		// (NULL) or in network order (LOOP): AF_INET is 2 everywhere,
		// AF_INET6 is 10, 24, 28 or 30. Look at the IP version instead.
		return ipOnly(f[4:])
	}
	return nil, fmt.Sprintf("link type %s", lt)
}

// etherPayload returns the payload of an EtherType, or what it is.
func etherPayload(et uint16, b []byte) ([]byte, string) {
	switch et {
	case etherIPv4, etherIPv6:
		return b, ""
	case etherARP:
		return nil, "ARP"
	}
	return nil, fmt.Sprintf("EtherType 0x%04x", et)
}

// ipOnly returns b when it starts like an IPv4 or IPv6 packet.
func ipOnly(b []byte) ([]byte, string) {
	if len(b) > 0 && (b[0]>>4 == 4 || b[0]>>4 == 6) {
		return b, ""
	}
	return nil, "not IP"
}

// cutIP cuts an IP packet to the length its header gives (dropping a link
// layer's padding) and returns that length, which is more than len(ip)
// when the capture's snap length cut it short.
func cutIP(b []byte) (ip []byte, wire int, skip string) {
	if len(b) == 0 {
		return nil, 0, "empty IP packet"
	}
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return nil, 0, "short IPv4 header"
		}
		wire = int(binary.BigEndian.Uint16(b[2:]))
		if hl := int(b[0]&0xf) * 4; hl < 20 || wire < hl {
			return nil, 0, "bad IPv4 header"
		}
	case 6:
		if len(b) < 40 {
			return nil, 0, "short IPv6 header"
		}
		wire = 40 + int(binary.BigEndian.Uint16(b[4:]))
	default:
		return nil, 0, "not IP"
	}
	if len(b) > wire {
		b = b[:wire]
	}
	return b, wire, ""
}

// protoNames names the IP protocols a capture usually holds besides TCP.
var protoNames = map[uint8]string{1: "ICMP", 2: "IGMP", 17: "UDP", 58: "ICMPv6", 47: "GRE", 50: "ESP", 132: "SCTP"}

// parseTCP parses the TCP segment of IP packet ip, whose length on the
// wire is wire. When the capture cut the packet short, the headers are
// parsed from a copy whose length fields say what was captured, and the
// payload length is then taken from the IP header.
func parseTCP(ip []byte, wire int) (*segment.Segment, bool, string) {
	truncated := len(ip) < wire
	pkt := ip
	if truncated {
		pkt = append([]byte(nil), ip...)
		switch pkt[0] >> 4 {
		case 4:
			binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
		case 6:
			binary.BigEndian.PutUint16(pkt[4:], uint16(len(pkt)-40))
		}
	}
	s, err := segment.Parse(pkt)
	if err != nil {
		return nil, false, skipName(ip, err)
	}
	if truncated {
		s.Len += wire - len(ip)
		if s.PayloadOffset > len(ip) {
			// The TCP header itself was cut: its options are unknown.
			return nil, false, "TCP header cut by the snap length"
		}
	}
	return &s, truncated, ""
}

// skipName says what a packet that is not a TCP segment is.
func skipName(ip []byte, err error) string {
	var proto uint8
	switch ip[0] >> 4 {
	case 4:
		if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			return "IPv4 fragment"
		}
		proto = ip[9]
	case 6:
		proto = ip[6]
	}
	if n, ok := protoNames[proto]; ok {
		return n
	}
	if proto == 6 {
		return "malformed TCP (" + err.Error() + ")"
	}
	return fmt.Sprintf("IP protocol %d", proto)
}
