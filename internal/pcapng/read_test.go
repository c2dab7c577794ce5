package pcapng

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// --- building captures byte by byte ---

// order returns the byte order of a file or section.
func order(big bool) binary.AppendByteOrder {
	if big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// pad4 pads b with zeros to a multiple of 4 bytes.
func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// blk builds a pcapng block of type typ around body (padded).
func blk(big bool, typ uint32, body ...[]byte) []byte {
	o := order(big)
	var bb []byte
	for _, p := range body {
		bb = append(bb, p...)
	}
	bb = pad4(bb)
	total := uint32(12 + len(bb))
	b := o.AppendUint32(nil, typ)
	b = o.AppendUint32(b, total)
	b = append(b, bb...)
	return o.AppendUint32(b, total)
}

// opt builds an option (or NRB record), padded.
func opt(big bool, code uint16, val []byte) []byte {
	o := order(big)
	b := o.AppendUint16(nil, code)
	b = o.AppendUint16(b, uint16(len(val)))
	return pad4(append(b, val...))
}

func endOpt(big bool) []byte { return opt(big, 0, nil) }

// shb builds a Section Header Block of version major.minor.
func shb(big bool, major, minor uint16, opts ...[]byte) []byte {
	o := order(big)
	b := o.AppendUint32(nil, byteOrderMagic)
	b = o.AppendUint16(b, major)
	b = o.AppendUint16(b, minor)
	b = o.AppendUint64(b, 0xFFFFFFFFFFFFFFFF)
	return blk(big, blockSHB, append([][]byte{b}, opts...)...)
}

// idb builds an Interface Description Block.
func idb(big bool, lt LinkType, snap uint32, opts ...[]byte) []byte {
	o := order(big)
	b := o.AppendUint16(nil, uint16(lt))
	b = o.AppendUint16(b, 0)
	b = o.AppendUint32(b, snap)
	return blk(big, blockIDB, append([][]byte{b}, opts...)...)
}

// epb builds an Enhanced Packet Block.
func epb(big bool, iface uint32, ts uint64, data string, orig uint32, opts ...[]byte) []byte {
	o := order(big)
	b := o.AppendUint32(nil, iface)
	b = o.AppendUint32(b, uint32(ts>>32))
	b = o.AppendUint32(b, uint32(ts))
	b = o.AppendUint32(b, uint32(len(data)))
	b = o.AppendUint32(b, orig)
	b = pad4(append(b, data...))
	return blk(big, blockEPB, append([][]byte{b}, opts...)...)
}

// pb builds an obsolete Packet Block.
func pb(big bool, iface uint16, ts uint64, data string, orig uint32) []byte {
	o := order(big)
	b := o.AppendUint16(nil, iface)
	b = o.AppendUint16(b, 0) // drops count
	b = o.AppendUint32(b, uint32(ts>>32))
	b = o.AppendUint32(b, uint32(ts))
	b = o.AppendUint32(b, uint32(len(data)))
	b = o.AppendUint32(b, orig)
	return blk(big, blockPB, append(b, data...))
}

// spb builds a Simple Packet Block.
func spb(big bool, data string, orig uint32) []byte {
	return blk(big, blockSPB, order(big).AppendUint32(nil, orig), []byte(data))
}

// nrb builds a Name Resolution Block of records and an end record.
func nrb(big bool, recs ...[]byte) []byte {
	return blk(big, blockNRB, append(recs, opt(big, nrbRecordEnd, nil))...)
}

// rec4 and rec6 build NRB records.
func rec4(big bool, addr string, names ...string) []byte {
	a := netip.MustParseAddr(addr).As4()
	return opt(big, nrbRecordIPv4, append(a[:], strings.Join(names, "\x00")+"\x00"...))
}

func rec6(big bool, addr string, names ...string) []byte {
	a := netip.MustParseAddr(addr).As16()
	return opt(big, nrbRecordIPv6, append(a[:], strings.Join(names, "\x00")+"\x00"...))
}

// pcapHeader builds a classic pcap file header.
func pcapHeader(big, nano bool, snap uint32, lt uint32) []byte {
	o := order(big)
	magic := uint32(pcapMicro)
	if nano {
		magic = pcapNano
	}
	b := o.AppendUint32(nil, magic)
	b = o.AppendUint16(b, 2)
	b = o.AppendUint16(b, 4)
	b = o.AppendUint32(b, 0) // thiszone
	b = o.AppendUint32(b, 0) // sigfigs
	b = o.AppendUint32(b, snap)
	return o.AppendUint32(b, lt)
}

// pcapRecord builds a classic pcap packet record.
func pcapRecord(big bool, sec, frac uint32, data string, orig uint32) []byte {
	o := order(big)
	b := o.AppendUint32(nil, sec)
	b = o.AppendUint32(b, frac)
	b = o.AppendUint32(b, uint32(len(data)))
	b = o.AppendUint32(b, orig)
	return append(b, data...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// --- reading back ---

// got is what a Reader read of a capture: one line per packet, and the
// names.
type got struct {
	packets []string
	names   []string
}

// readCapture reads a whole capture and renders every packet as a line:
// interface (name and link type), time, lengths and data.
func readCapture(t testing.TB, b []byte) (got, *Reader, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return got{}, nil, err
	}
	var g got
	for {
		p, err := r.Next()
		if err != nil {
			for _, n := range r.Names() {
				g.names = append(g.names, fmt.Sprintf("%v=%s", n.Addr, strings.Join(n.Names, ",")))
			}
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return g, r, err
		}
		ifc, ok := r.Interface(p.Interface)
		if !ok {
			t.Fatalf("Interface(%d) of a packet's interface = false, want true", p.Interface)
		}
		g.packets = append(g.packets, fmt.Sprintf("if%d %q %v %s cap=%d len=%d %q",
			p.Interface, ifc.Name, ifc.LinkType, p.Time.Format(time.RFC3339Nano), len(p.Data), p.Length, p.Data))
	}
}

func TestReadRoundTrip(t *testing.T) {
	syn := tcpPacket(addrClient, addrServer, 40000, 80, 100, header.TCPFlagSyn, "")
	data6 := tcpPacket(addrServer6, addrClient6, 80, 40000, 7, header.TCPFlagAck|header.TCPFlagPsh, "hello") // odd length
	var buf bytes.Buffer
	w := NewWriter(&buf)
	ifaces := []struct {
		name string
		lt   LinkType
	}{{"client", LinkTypeIPv4}, {"server6", LinkTypeIPv6}, {"raw", LinkTypeRaw}}
	for _, i := range ifaces {
		w.AddInterface(i.name, "tcplab host "+i.name, i.lt)
	}
	w.AddName(addrServer6, "server6.example")
	w.AddName(addrClient, "client")
	type sent struct {
		iface   int
		at      time.Duration
		data    []byte
		comment string
	}
	packets := []sent{
		{0, 0, syn, "SYN: connect()"},
		{1, 1500 * time.Microsecond, data6, ""},
		{2, time.Second + 1, syn, strings.Repeat("x", 1001)},
		{0, 2 * time.Second, nil, ""},
	}
	for _, p := range packets {
		if err := w.WritePacket(p.iface, baseTime.Add(p.at), p.data, p.comment); err != nil {
			t.Fatal(err)
		}
	}
	w.AddInterface("late", "added after the first packet", LinkTypeIPv4)
	if err := w.WritePacket(3, baseTime.Add(3*time.Second), syn, "late"); err != nil {
		t.Fatal(err)
	}

	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("NewReader = %v, want no error", err)
	}
	if r.Format() != FormatPcapng || r.Compressed() {
		t.Errorf("Format(), Compressed() = %v, %v; want pcapng, false", r.Format(), r.Compressed())
	}
	packets = append(packets, sent{3, 3 * time.Second, syn, "late"})
	ifaces = append(ifaces, struct {
		name string
		lt   LinkType
	}{"late", LinkTypeIPv4})
	for i, want := range packets {
		p, err := r.Next()
		if err != nil {
			t.Fatalf("Next() #%d = %v, want packet", i, err)
		}
		if p.Interface != want.iface || !p.Time.Equal(baseTime.Add(want.at)) || !bytes.Equal(p.Data, want.data) || p.Length != len(want.data) {
			t.Errorf("Next() #%d = if%d %v %d bytes (length %d), want if%d %v %d bytes", i, p.Interface, p.Time, len(p.Data), p.Length, want.iface, baseTime.Add(want.at), len(want.data))
		}
		ifc, ok := r.Interface(p.Interface)
		if w := ifaces[want.iface]; !ok || ifc.Name != w.name || ifc.LinkType != w.lt || ifc.SnapLen != snapLen {
			t.Errorf("Interface(%d) = %+v, %v; want %q %v snap %d", p.Interface, ifc, ok, w.name, w.lt, snapLen)
		}
	}
	if p, err := r.Next(); err != io.EOF {
		t.Errorf("Next() after the last packet = %+v, %v; want io.EOF", p, err)
	}
	wantNames := []NameRecord{{addrServer6, []string{"server6.example"}}, {addrClient, []string{"client"}}}
	if got := r.Names(); !slices.EqualFunc(got, wantNames, func(a, b NameRecord) bool { return a.Addr == b.Addr && slices.Equal(a.Names, b.Names) }) {
		t.Errorf("Names() = %v, want %v", got, wantNames)
	}
	if _, ok := r.Interface(4); ok {
		t.Errorf("Interface(4) = true, want false (4 interfaces)")
	}
}

// ts is 2026-01-02T03:04:05.123456789Z in nanoseconds.
var ts = uint64(baseTime.UnixNano())

// readCases are captures built byte by byte with what a Reader must read
// of them. oracle says gopacket's pcapgo reads them the same (see
// TestReadOracle).
var readCases = []struct {
	name    string
	file    func(t testing.TB) []byte
	format  Format
	gz      bool
	packets []string
	names   []string
	oracle  bool
}{
	{
		name: "pcap little-endian microseconds",
		file: func(testing.TB) []byte {
			return cat(pcapHeader(false, false, 65535, 101), pcapRecord(false, 1767323045, 123456, "abc", 3))
		},
		format:  FormatPcap,
		packets: []string{`if0 "" Raw 2026-01-02T03:04:05.123456Z cap=3 len=3 "abc"`},
		oracle:  true,
	},
	{
		name: "pcap big-endian microseconds, snap length cut",
		file: func(testing.TB) []byte {
			return cat(pcapHeader(true, false, 2, 1), pcapRecord(true, 1767323045, 999999, "ab", 60))
		},
		format:  FormatPcap,
		packets: []string{`if0 "" Ethernet 2026-01-02T03:04:05.999999Z cap=2 len=60 "ab"`},
		oracle:  true,
	},
	{
		name: "pcap little-endian nanoseconds, FCS bits in the link type",
		file: func(testing.TB) []byte {
			return cat(pcapHeader(false, true, 65535, 0x1000_0000|113), pcapRecord(false, 1767323045, 123456789, "x", 1), pcapRecord(false, 1767323046, 0, "", 0))
		},
		format: FormatPcap,
		packets: []string{
			`if0 "" Linux SLL 2026-01-02T03:04:05.123456789Z cap=1 len=1 "x"`,
			`if0 "" Linux SLL 2026-01-02T03:04:06Z cap=0 len=0 ""`,
		},
		oracle: true,
	},
	{
		name: "pcap big-endian nanoseconds",
		file: func(testing.TB) []byte {
			return cat(pcapHeader(true, true, 65535, 276), pcapRecord(true, 1767323045, 1, "yz", 2))
		},
		format:  FormatPcap,
		packets: []string{`if0 "" Linux SLL2 2026-01-02T03:04:05.000000001Z cap=2 len=2 "yz"`},
		oracle:  true,
	},
	{
		name: "pcap gzip",
		file: func(t testing.TB) []byte {
			return gz(t, cat(pcapHeader(false, true, 65535, 0), pcapRecord(false, 1767323045, 5, "q", 1)))
		},
		format:  FormatPcap,
		gz:      true,
		packets: []string{`if0 "" Null 2026-01-02T03:04:05.000000005Z cap=1 len=1 "q"`},
		oracle:  true,
	},
	{
		name: "pcapng little-endian, default microseconds, unknown blocks and options",
		file: func(testing.TB) []byte {
			return cat(
				shb(false, 1, 0, opt(false, 4, []byte("test")), opt(false, 0x8001, []byte("custom")), endOpt(false)),
				blk(false, 0x0BAD, []byte("unknown block")),
				idb(false, LinkTypeEthernet, 0, opt(false, 99, []byte("?")), opt(false, optIfName, []byte("eth0")), endOpt(false)),
				blk(false, 5, make([]byte, 12)), // interface statistics
				epb(false, 0, 1767323045_123456, "hello", 60, opt(false, optComment, []byte("a comment")), opt(false, 2, []byte{1, 0, 0, 0}), endOpt(false)),
				blk(false, 0x0A, make([]byte, 8)), // decryption secrets
			)
		},
		format:  FormatPcapng,
		packets: []string{`if0 "eth0" Ethernet 2026-01-02T03:04:05.123456Z cap=5 len=60 "hello"`},
		oracle:  true,
	},
	{
		name: "pcapng big-endian, mixed link types, nanoseconds, names",
		file: func(testing.TB) []byte {
			return cat(
				shb(true, 1, 0),
				idb(true, LinkTypeIPv4, 65535, opt(true, optIfName, []byte("v4")), opt(true, optIfTsresol, []byte{9}), endOpt(true)),
				nrb(true, rec4(true, "10.0.0.1", "client", "alias"), opt(true, 3, make([]byte, 6)), rec6(true, "fd00::2", "server")),
				idb(true, LinkTypeIPv6, 65535, opt(true, optIfName, []byte("v6")), opt(true, optIfTsresol, []byte{9})),
				epb(true, 1, ts, "six", 3),
				epb(true, 0, ts+1, "four", 4),
			)
		},
		format: FormatPcapng,
		packets: []string{
			`if1 "v6" IPv6 2026-01-02T03:04:05.123456789Z cap=3 len=3 "six"`,
			`if0 "v4" IPv4 2026-01-02T03:04:05.12345679Z cap=4 len=4 "four"`,
		},
		names:  []string{"10.0.0.1=client,alias", "fd00::2=server"},
		oracle: true,
	},
	{
		name: "pcapng milliseconds and a timestamp offset",
		file: func(testing.TB) []byte {
			off := binary.LittleEndian.AppendUint64(nil, 1767323045)
			return cat(shb(false, 1, 0), idb(false, 1, 0, opt(false, optIfTsresol, []byte{3}), opt(false, optIfTsoffset, off)), epb(false, 0, 1500, "m", 1))
		},
		format:  FormatPcapng,
		packets: []string{`if0 "" Ethernet 2026-01-02T03:04:06.5Z cap=1 len=1 "m"`},
		oracle:  true,
	},
	{
		name: "pcapng resolution 2^-10 and 10^-12",
		file: func(testing.TB) []byte {
			return cat(shb(false, 1, 0),
				idb(false, 1, 0, opt(false, optIfTsresol, []byte{0x80 | 10})),
				idb(false, 1, 0, opt(false, optIfTsresol, []byte{12})),
				epb(false, 0, 1767323045<<10|512+1, "b", 1), // 0.5 s + 1/1024 s
				epb(false, 1, 5_123456789_123, "p", 1))      // 10^-12 s overflows 64 bits after 213 days
		},
		format: FormatPcapng,
		packets: []string{
			`if0 "" Ethernet 2026-01-02T03:04:05.500976562Z cap=1 len=1 "b"`,
			`if1 "" Ethernet 1970-01-01T00:00:05.123456789Z cap=1 len=1 "p"`,
		},
		// pcapgo scales 2^-n timestamps by an integer factor: inexact.
	},
	{
		name: "pcapng simple packet blocks cut by the snap length",
		file: func(testing.TB) []byte {
			return cat(shb(false, 1, 0), idb(false, LinkTypeRaw, 4), spb(false, "abcdefgh", 100), spb(false, "ab", 2))
		},
		format: FormatPcapng,
		packets: []string{
			`if0 "" Raw 0001-01-01T00:00:00Z cap=4 len=100 "abcd"`,
			`if0 "" Raw 0001-01-01T00:00:00Z cap=2 len=2 "ab"`,
		},
		oracle: true,
	},
	{
		name: "pcapng simple packet block without a snap length",
		file: func(testing.TB) []byte {
			return cat(shb(true, 1, 0), idb(true, LinkTypeRaw, 0), spb(true, "abcdef", 6))
		},
		format:  FormatPcapng,
		packets: []string{`if0 "" Raw 0001-01-01T00:00:00Z cap=6 len=6 "abcdef"`},
		oracle:  true,
	},
	{
		name: "pcapng obsolete packet block",
		file: func(testing.TB) []byte {
			return cat(shb(false, 1, 0), idb(false, 1, 0), idb(false, 113, 0, opt(false, optIfTsresol, []byte{9})), pb(false, 1, ts, "old", 70))
		},
		format:  FormatPcapng,
		packets: []string{`if1 "" Linux SLL 2026-01-02T03:04:05.123456789Z cap=3 len=70 "old"`},
		oracle:  true,
	},
	{
		name: "pcapng sections: little then big-endian, interfaces anew, names kept",
		file: func(testing.TB) []byte {
			return cat(
				shb(false, 1, 0), idb(false, 1, 0, opt(false, optIfName, []byte("a"))), nrb(false, rec4(false, "10.0.0.1", "one")), epb(false, 0, 1, "1", 1),
				shb(true, 1, 0), idb(true, 101, 0, opt(true, optIfName, []byte("b"))), nrb(true, rec4(true, "10.0.0.2", "two")), epb(true, 0, 2, "2", 1),
			)
		},
		format: FormatPcapng,
		packets: []string{
			`if0 "a" Ethernet 1970-01-01T00:00:00.000001Z cap=1 len=1 "1"`,
			`if0 "b" Raw 1970-01-01T00:00:00.000002Z cap=1 len=1 "2"`,
		},
		names: []string{"10.0.0.1=one", "10.0.0.2=two"},
		// pcapgo forgets the names of earlier sections.
	},
	{
		name: "pcapng section of an unknown version skipped",
		file: func(testing.TB) []byte {
			return cat(
				shb(false, 1, 0), idb(false, 1, 0), epb(false, 0, 1, "1", 1),
				shb(false, 2, 0), idb(false, 1, 0), epb(false, 0, 2, "2", 1),
				shb(false, 1, 0), idb(false, 101, 0), epb(false, 0, 3, "3", 1),
			)
		},
		format: FormatPcapng,
		packets: []string{
			`if0 "" Ethernet 1970-01-01T00:00:00.000001Z cap=1 len=1 "1"`,
			`if0 "" Raw 1970-01-01T00:00:00.000003Z cap=1 len=1 "3"`,
		},
		oracle: true,
	},
	{
		name: "pcapng gzip",
		file: func(t testing.TB) []byte {
			return gz(t, cat(shb(false, 1, 0), idb(false, 1, 0), epb(false, 0, 1, "z", 1)))
		},
		format:  FormatPcapng,
		gz:      true,
		packets: []string{`if0 "" Ethernet 1970-01-01T00:00:00.000001Z cap=1 len=1 "z"`},
		oracle:  true,
	},
	{
		name:   "pcapng without packets",
		file:   func(testing.TB) []byte { return cat(shb(false, 1, 0), idb(false, 1, 0)) },
		format: FormatPcapng,
		oracle: true,
	},
	{
		name:   "pcap without packets",
		file:   func(testing.TB) []byte { return pcapHeader(false, false, 0, 1) },
		format: FormatPcap,
		oracle: true,
	},
}

func TestReadFormats(t *testing.T) {
	for _, c := range readCases {
		t.Run(c.name, func(t *testing.T) {
			g, r, err := readCapture(t, c.file(t))
			if err != nil {
				t.Fatalf("reading: %v, want no error", err)
			}
			if r.Format() != c.format || r.Compressed() != c.gz {
				t.Errorf("Format(), Compressed() = %v, %v; want %v, %v", r.Format(), r.Compressed(), c.format, c.gz)
			}
			if !slices.Equal(g.packets, c.packets) {
				t.Errorf("packets:\n%s\nwant:\n%s", strings.Join(g.packets, "\n"), strings.Join(c.packets, "\n"))
			}
			if !slices.Equal(g.names, c.names) {
				t.Errorf("Names() = %q, want %q", g.names, c.names)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	le := binary.LittleEndian
	ng := func(blocks ...[]byte) []byte {
		return cat(append([][]byte{shb(false, 1, 0), idb(false, 1, 0)}, blocks...)...)
	}
	withLength := func(b []byte, total uint32) []byte {
		b = slices.Clone(b)
		le.PutUint32(b[4:], total)
		return b
	}
	tests := []struct {
		name string
		file []byte
		want string // in the error
		eof  bool   // the error wraps io.ErrUnexpectedEOF
	}{
		{"empty", nil, "empty file", false},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, "a file of 3 bytes is too short for a pcap or pcapng header", true},
		{"text", []byte("hello, world"), "not a pcap or pcapng file (it starts with 68 65 6c 6c)", false},
		{"gzip of text", gz(t, []byte("hello, world")), "not a pcap or pcapng file", false},
		{"cut gzip", gz(t, pcapHeader(false, false, 0, 1))[:5], "gzip:", true},
		{"pcap version", cat(pcapHeader(false, false, 0, 1)[:4], []byte{3, 0, 0, 0}, make([]byte, 16)), "pcap: unsupported file format version 3.0", false},
		{"pcap cut header", pcapHeader(true, false, 0, 1)[:23], "pcap: file header at byte 0", true},
		{"pcap cut record", cat(pcapHeader(false, false, 0, 1), pcapRecord(false, 0, 0, "abc", 3)[:18]), "pcap: packet record at byte 24", true},
		{"pcap over the snap length", cat(pcapHeader(false, false, 0, 1), pcapRecord(false, 0, 0, "", 0)[:8], le.AppendUint32(nil, 1<<30), le.AppendUint32(nil, 1<<30)), "captured length 1073741824 exceeds the snap length 0", false},
		{"pcap over the original length", cat(pcapHeader(false, false, 0, 1), pcapRecord(false, 0, 0, "abc", 2)), "captured length 3 exceeds the original length 2", false},
		{"pcapng cut SHB", shb(false, 1, 0)[:20], "pcapng: section header block at byte 0", true},
		{"pcapng bad byte-order magic", cat(shb(false, 1, 0)[:8], []byte{1, 2, 3, 4}, shb(false, 1, 0)[12:]), "byte-order magic 01020304 is neither", false},
		{"pcapng SHB too short", withLength(shb(false, 1, 0), 24), "section header block at byte 0: total length 24 is shorter than the 28 bytes", false},
		{"pcapng huge block", ng(withLength(epb(false, 0, 0, "abcd", 4), 0xFFFFFFF0)), "enhanced packet block at byte 48: total length 4294967280 is over the limit of 64 MiB", false},
		{"pcapng odd block length", ng(withLength(blk(false, 0x99, []byte("abcdefgh")), 17)), "block of type 0x00000099 at byte 48: total length 17 is not a multiple of 4", false},
		{"pcapng short EPB", ng(withLength(epb(false, 0, 0, "", 0), 28)), "total length 28 is shorter than the 32 bytes", false},
		{"pcapng block length past the end", ng(withLength(blk(false, 0x99, []byte("abcdefgh")), 64<<20)), "block of type 0x00000099 at byte 48", true},
		{"pcapng cut block header", ng(epb(false, 0, 0, "", 0)[:5]), "pcapng: block header at byte 48", true},
		{"pcapng cut EPB", ng(epb(false, 0, 0, "abcdef", 6)[:30]), "pcapng: enhanced packet block at byte 48", true},
		{"pcapng cut IDB", cat(shb(false, 1, 0), idb(false, 1, 0)[:19]), "pcapng: interface description block at byte 28", true},
		{"pcapng undeclared interface", ng(epb(false, 1, 0, "", 0)), "enhanced packet block at byte 48: interface 1 is not declared (the section declares 1)", false},
		{"pcapng interface of another section", cat(ng(), shb(false, 1, 0), epb(false, 0, 0, "", 0)), "interface 0 is not declared (the section declares 0)", false},
		{"pcapng captured length past the block", ng(func() []byte {
			b := epb(false, 0, 0, "abcd", 4)
			le.PutUint32(b[20:], 5)
			return b
		}()), "captured length 5 does not fit in the block's 36 bytes", false},
		{"pcapng SPB without an interface", cat(shb(false, 1, 0), spb(false, "a", 1)), "simple packet block at byte 28: no interface is declared before it", false},
		{"pcapng resolution too fine", cat(shb(false, 1, 0), idb(false, 1, 0, opt(false, optIfTsresol, []byte{20}))), "timestamp resolution 10^-20 is finer than 10^-19", false},
		{"pcapng binary resolution too fine", cat(shb(false, 1, 0), idb(false, 1, 0, opt(false, optIfTsresol, []byte{0x80 | 64}))), "timestamp resolution 2^-64 is finer than 2^-63", false},
		{"pcapng option past the block", cat(shb(false, 1, 0), idb(false, 1, 0, le.AppendUint16(le.AppendUint16(nil, optIfName), 200))), "option 2 of 200 bytes runs past the end of the block", false},
		{"pcapng NRB record past the block", ng(blk(false, blockNRB, le.AppendUint16(le.AppendUint16(nil, nrbRecordIPv4), 100))), "record of type 1 and 100 bytes runs past the end", false},
		{"pcapng NRB IPv6 record too short", ng(nrb(false, opt(false, nrbRecordIPv6, []byte{1, 2, 3, 4}))), "IPv6 record of 4 bytes", false},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readCapture(t, c.file)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("reading = %v, want an error with %q", err, c.want)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) != c.eof {
				t.Errorf("reading = %v: errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v", err, !c.eof, c.eof)
			}
			if errors.Is(err, io.EOF) {
				t.Errorf("reading = %v, which is io.EOF: want an error", err)
			}
		})
	}
}

// TestReadTruncated cuts small captures at every byte: the Reader reads the
// packets before the cut, then ends with io.EOF when the cut falls between
// blocks (or records), and with an error wrapping io.ErrUnexpectedEOF
// otherwise; it never panics.
func TestReadTruncated(t *testing.T) {
	ng := [][]byte{
		shb(false, 1, 0, opt(false, 4, []byte("app")), endOpt(false)),
		idb(false, LinkTypeIPv4, 0, opt(false, optIfName, []byte("client")), opt(false, optIfTsresol, []byte{9}), endOpt(false)),
		nrb(false, rec4(false, "10.0.0.1", "client")),
		epb(false, 0, ts, "hello", 5, opt(false, optComment, []byte("c")), endOpt(false)),
		spb(false, "abc", 3),
		blk(false, 0x77, []byte("?")),
		shb(true, 1, 0),
		idb(true, LinkTypeRaw, 0),
		pb(true, 0, ts, "x", 1),
	}
	pcap := [][]byte{
		pcapHeader(true, true, 65535, 1),
		pcapRecord(true, 1, 2, "abcdef", 6),
		pcapRecord(true, 3, 4, "", 0),
		pcapRecord(true, 5, 6, "g", 1),
	}
	for _, c := range []struct {
		name   string
		blocks [][]byte
	}{{"pcapng", ng}, {"pcap", pcap}} {
		t.Run(c.name, func(t *testing.T) {
			file := cat(c.blocks...)
			bounds := map[int]int{} // offset of a block boundary → packets before it
			off, packets := 0, 0
			for i, b := range c.blocks {
				off += len(b)
				if i > 0 && (c.name == "pcap" || slices.Contains([]uint32{blockEPB, blockSPB, blockPB}, binary.LittleEndian.Uint32(b)) || binary.BigEndian.Uint32(b) == blockPB) {
					packets++
				}
				bounds[off] = packets
			}
			full, _, err := readCapture(t, file)
			if err != nil || len(full.packets) != packets {
				t.Fatalf("reading the whole file = %d packets, %v; want %d, no error", len(full.packets), err, packets)
			}
			for n := range len(file) {
				g, r, err := readCapture(t, file[:n])
				want, atBoundary := bounds[n]
				switch {
				case r == nil && n == 0:
					if err == nil || err.Error() != "empty file" {
						t.Errorf("NewReader(0 bytes) = %v, want empty file", err)
					}
				case r == nil:
					if !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Errorf("NewReader(%d bytes) = %v, want an error wrapping io.ErrUnexpectedEOF", n, err)
					}
				case atBoundary:
					if err != nil || len(g.packets) != want {
						t.Errorf("reading %d bytes (a block boundary) = %d packets, %v; want %d, io.EOF", n, len(g.packets), err, want)
					}
				default:
					if !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Errorf("reading %d bytes = %v, want an error wrapping io.ErrUnexpectedEOF", n, err)
					}
				}
				if len(g.packets) > 0 && !slices.Equal(g.packets, full.packets[:len(g.packets)]) {
					t.Errorf("reading %d bytes = packets %q, want the first of %q", n, g.packets, full.packets)
				}
			}
			// The same, compressed: a cut gzip stream is a cut file too.
			z := gz(t, file)
			for n := range len(z) {
				_, _, err := readCapture(t, z[:n])
				if n > 0 && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("reading %d of %d gzip bytes = %v, want an error wrapping io.ErrUnexpectedEOF", n, len(z), err)
				}
			}
		})
	}
}

// errReader fails after its bytes.
type errReader struct {
	b   []byte
	err error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, r.err
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func TestReadStickyError(t *testing.T) {
	fail := errors.New("disk on fire")
	r, err := NewReader(&errReader{cat(shb(false, 1, 0), idb(false, 1, 0), epb(false, 0, 0, "a", 1)), fail})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("Next() = %v, want a packet", err)
	}
	for i := range 2 {
		if _, err := r.Next(); !errors.Is(err, fail) {
			t.Errorf("Next() #%d after the failure = %v, want %v", i, err, fail)
		}
	}
}

// FuzzReader reads arbitrary bytes as a capture: it must never panic, nor
// allocate much more than the input holds, and must end with io.EOF or an
// error.
func FuzzReader(f *testing.F) {
	for _, c := range readCases {
		f.Add(c.file(f))
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.AddInterface("c", "", LinkTypeIPv4)
	w.AddName(addrClient, "client")
	w.WritePacket(0, baseTime, tcpPacket(addrClient, addrServer, 1, 2, 3, header.TCPFlagSyn, ""), "syn")
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for range 1000 {
			p, err := r.Next()
			if err != nil {
				break
			}
			if !r.Compressed() && len(p.Data) > len(b) {
				t.Fatalf("packet of %d bytes from %d bytes of input", len(p.Data), len(b))
			}
			if _, ok := r.Interface(p.Interface); !ok {
				t.Fatalf("packet on interface %d, which Interface does not know", p.Interface)
			}
		}
		runtime.ReadMemStats(&after)
		// Two 64 KiB read buffers, buffers of up to eagerMax, twice what
		// is read beyond; gzip's own state.
		if n := after.TotalAlloc - before.TotalAlloc; !r.Compressed() && n > uint64(1<<20+4*eagerMax+20*len(b)) {
			t.Fatalf("reading %d bytes allocated %d bytes", len(b), n)
		}
	})
}
