package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/tcplab/tcplab/internal/pcapng"
	"github.com/tcplab/tcplab/internal/segment"
)

// tcpPacket builds a raw IPv4 or IPv6 TCP packet from src to dst with
// flags, seq, ack and payload, with an MSS option on a SYN.
func tcpPacket(src, dst netip.AddrPort, flags segment.Flags, seq, ack uint32, payload []byte) []byte {
	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:], src.Port())
	binary.BigEndian.PutUint16(tcp[2:], dst.Port())
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[13] = byte(flags)
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	if flags&segment.SYN != 0 {
		tcp = append(tcp, 2, 4, 0x05, 0xb4) // MSS 1460
	}
	tcp[12] = byte(len(tcp)/4) << 4
	tcp = append(tcp, payload...)
	if src.Addr().Is4() {
		ip := make([]byte, 20)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
		ip[8], ip[9] = 64, 6
		a, b := src.Addr().As4(), dst.Addr().As4()
		copy(ip[12:], a[:])
		copy(ip[16:], b[:])
		return append(ip, tcp...)
	}
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(tcp)))
	ip[6], ip[7] = 6, 64
	a, b := src.Addr().As16(), dst.Addr().As16()
	copy(ip[8:], a[:])
	copy(ip[24:], b[:])
	return append(ip, tcp...)
}

var (
	cl  = netip.MustParseAddrPort("10.0.0.1:40000")
	srv = netip.MustParseAddrPort("10.0.0.2:80")
	cl6 = netip.MustParseAddrPort("[fd00::1]:40000")
	sv6 = netip.MustParseAddrPort("[fd00::2]:80")
)

// frame wraps an IP packet in the link header of lt.
func frame(lt pcapng.LinkType, ip []byte) []byte {
	et := []byte{0x08, 0x00}
	if ip[0]>>4 == 6 {
		et = []byte{0x86, 0xdd}
	}
	switch lt {
	case pcapng.LinkTypeEthernet:
		h := append(make([]byte, 12), et...)
		return append(h, ip...)
	case pcapng.LinkTypeLinuxSLL:
		h := append(make([]byte, 14), et...)
		return append(h, ip...)
	case pcapng.LinkTypeLinuxSLL2:
		h := append(append([]byte{}, et...), make([]byte, 18)...)
		return append(h, ip...)
	case pcapng.LinkTypeNull:
		h := []byte{2, 0, 0, 0} // AF_INET, little endian
		if ip[0]>>4 == 6 {
			h = []byte{30, 0, 0, 0} // AF_INET6 on macOS
		}
		return append(h, ip...)
	case pcapng.LinkTypeLoop:
		return append([]byte{0, 0, 0, 2}, ip...)
	}
	return ip
}

// vlanFrame is an Ethernet frame with two VLAN tags (802.1ad then 802.1Q)
// and padding after the IP packet, as a short frame has on the wire.
func vlanFrame(ip []byte) []byte {
	f := make([]byte, 12)
	f = append(f, 0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00)
	f = append(f, ip...)
	return append(f, make([]byte, 6)...)
}

// writePcap writes frames of link type lt as a classic pcap, with snap
// length snap (0: none) cutting the captured bytes.
func writePcap(t *testing.T, lt pcapng.LinkType, snap int, frames ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkType(lt)); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 0)
	for i, f := range frames {
		data := f
		if snap > 0 && len(data) > snap {
			data = data[:snap]
		}
		ci := gopacket.CaptureInfo{Timestamp: at.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(data), Length: len(f)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// readAll reads every packet of a capture.
func readAll(t *testing.T, data []byte) []*Packet {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []*Packet
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
}

func TestReaderLinkTypes(t *testing.T) {
	syn4 := tcpPacket(cl, srv, segment.SYN, 100, 0, nil)
	data6 := tcpPacket(cl6, sv6, segment.PSH|segment.ACK, 101, 7, []byte("hello"))
	for _, c := range []struct {
		name string
		lt   pcapng.LinkType
		f    []byte
		ip   []byte
	}{
		{"ethernet", pcapng.LinkTypeEthernet, frame(pcapng.LinkTypeEthernet, syn4), syn4},
		{"ethernet ipv6", pcapng.LinkTypeEthernet, frame(pcapng.LinkTypeEthernet, data6), data6},
		{"vlan qinq padded", pcapng.LinkTypeEthernet, vlanFrame(syn4), syn4},
		{"linux cooked", pcapng.LinkTypeLinuxSLL, frame(pcapng.LinkTypeLinuxSLL, syn4), syn4},
		{"linux cooked v2", pcapng.LinkTypeLinuxSLL2, frame(pcapng.LinkTypeLinuxSLL2, data6), data6},
		{"raw", pcapng.LinkTypeRaw, syn4, syn4},
		{"ipv4", pcapng.LinkTypeIPv4, syn4, syn4},
		{"ipv6", pcapng.LinkTypeIPv6, data6, data6},
		{"bsd null", pcapng.LinkTypeNull, frame(pcapng.LinkTypeNull, data6), data6},
		{"bsd loop", pcapng.LinkTypeLoop, frame(pcapng.LinkTypeLoop, syn4), syn4},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps := readAll(t, writePcap(t, c.lt, 0, c.f))
			if len(ps) != 1 {
				t.Fatalf("read %d packets, want 1", len(ps))
			}
			p := ps[0]
			if p.Seg == nil {
				t.Fatalf("no segment: skip %q", p.Skip)
			}
			want, _ := segment.Parse(c.ip)
			if p.Seg.Src != want.Src || p.Seg.Dst != want.Dst || p.Seg.Flags != want.Flags || p.Seg.Seq != want.Seq || p.Seg.Len != want.Len {
				t.Errorf("segment %v→%v %v seq %d len %d, want %v→%v %v seq %d len %d", p.Seg.Src, p.Seg.Dst, p.Seg.Flags, p.Seg.Seq, p.Seg.Len, want.Src, want.Dst, want.Flags, want.Seq, want.Len)
			}
			if !bytes.Equal(p.IP, c.ip) {
				t.Errorf("IP packet of %d bytes, want %d (padding cut)", len(p.IP), len(c.ip))
			}
			if p.No != 1 || p.Truncated {
				t.Errorf("No %d, truncated %v; want 1, false", p.No, p.Truncated)
			}
		})
	}
}

func TestReaderTruncatedAndSkipped(t *testing.T) {
	big := tcpPacket(cl, srv, segment.PSH|segment.ACK, 1, 1, bytes.Repeat([]byte("x"), 1000))
	udp := tcpPacket(cl, srv, segment.ACK, 1, 1, nil)
	udp[9] = 17
	arp := append(make([]byte, 12), 0x08, 0x06)
	arp = append(arp, make([]byte, 28)...)
	frag := tcpPacket(cl, srv, segment.ACK, 1, 1, []byte("abc"))
	binary.BigEndian.PutUint16(frag[6:], 0x2000) // more fragments
	frames := [][]byte{frame(pcapng.LinkTypeEthernet, big), frame(pcapng.LinkTypeEthernet, udp), arp, frame(pcapng.LinkTypeEthernet, frag)}
	ps := readAll(t, writePcap(t, pcapng.LinkTypeEthernet, 96, frames...))
	if len(ps) != 4 {
		t.Fatalf("read %d packets, want 4", len(ps))
	}
	if p := ps[0]; p.Seg == nil || !p.Truncated || p.Seg.Len != 1000 || p.Length != len(frames[0]) || len(p.Frame) != 96 {
		t.Errorf("truncated segment: seg %v truncated %v len %v wire %d captured %d; want a segment of 1000 bytes cut to 96", p.Seg != nil, p.Truncated, p.Seg, p.Length, len(p.Frame))
	}
	for i, want := range []string{"", "UDP", "ARP", "IPv4 fragment"} {
		if ps[i].Skip != want {
			t.Errorf("packet %d: skip %q, want %q", i+1, ps[i].Skip, want)
		}
	}
}

func TestReaderRejects(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("not a capture file at all")} {
		if _, err := NewReader(bytes.NewReader(data)); err == nil {
			t.Errorf("NewReader(%q) = nil error, want one", data)
		}
	}
	// A file cut in the middle of a packet ends with an error that says so.
	full := writePcap(t, pcapng.LinkTypeRaw, 0, tcpPacket(cl, srv, segment.SYN, 1, 0, nil))
	r, err := NewReader(bytes.NewReader(full[:len(full)-10]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Next on a cut file = %v, want an error that is not EOF", err)
	}
}

// FuzzDecode feeds arbitrary frames of each link type to the decoder: it
// must never panic, and a segment it finds must lie within the frame.
func FuzzDecode(f *testing.F) {
	f.Add(uint16(pcapng.LinkTypeEthernet), frame(pcapng.LinkTypeEthernet, tcpPacket(cl, srv, segment.SYN, 1, 0, nil)))
	f.Add(uint16(pcapng.LinkTypeLinuxSLL2), frame(pcapng.LinkTypeLinuxSLL2, tcpPacket(cl6, sv6, segment.ACK, 1, 1, []byte("x"))))
	f.Add(uint16(pcapng.LinkTypeNull), []byte{2, 0, 0, 0, 0x45})
	f.Add(uint16(pcapng.LinkTypeEthernet), vlanFrame(tcpPacket(cl, srv, segment.FIN, 1, 1, nil)))
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		p := &Packet{LinkType: pcapng.LinkType(lt), Frame: data}
		decode(p)
		if p.Seg == nil && p.Skip == "" && p.IP == nil {
			t.Errorf("no segment and no reason")
		}
		if p.Seg != nil && (p.Seg.PayloadOffset > len(p.IP) || p.Seg.Len < 0) {
			t.Errorf("segment beyond its packet: payload offset %d, packet %d bytes, len %d", p.Seg.PayloadOffset, len(p.IP), p.Seg.Len)
		}
	})
}

func TestReaderOtherLinkTypes(t *testing.T) {
	for _, c := range []struct {
		lt   pcapng.LinkType
		want string
	}{
		{105, "link type 802.11"}, // gopacket's name, as before
		{147, "link type 147"},    // gopacket said "UnknownLinkType"
	} {
		ps := readAll(t, writePcap(t, c.lt, 0, tcpPacket(cl, srv, segment.SYN, 1, 0, nil)))
		if len(ps) != 1 || ps[0].Skip != c.want || ps[0].LinkType != c.lt {
			t.Errorf("link type %d: got %d packets, the first with link type %v, skip %q; want 1, %q", uint16(c.lt), len(ps), ps[0].LinkType, ps[0].Skip, c.want)
		}
	}
}
