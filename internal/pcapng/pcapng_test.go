package pcapng

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

var (
	addrClient  = netip.MustParseAddr("10.0.0.1")
	addrServer  = netip.MustParseAddr("10.0.0.2")
	addrClient6 = netip.MustParseAddr("fd00::1")
	addrServer6 = netip.MustParseAddr("fd00::2")
	baseTime    = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
)

// tcpPacket builds a raw IPv4 or IPv6 packet holding one TCP segment with
// correct IP and TCP checksums.
func tcpPacket(src, dst netip.Addr, sport, dport uint16, seq uint32, flags header.TCPFlags, payload string) []byte {
	srcA, dstA := tcpip.AddrFromSlice(src.AsSlice()), tcpip.AddrFromSlice(dst.AsSlice())
	tcpLen := header.TCPMinimumSize + len(payload)
	var b, seg []byte
	if src.Is4() {
		b = make([]byte, header.IPv4MinimumSize+tcpLen)
		ip := header.IPv4(b)
		ip.Encode(&header.IPv4Fields{
			TotalLength: uint16(len(b)), ID: uint16(seq), Flags: header.IPv4FlagDontFragment, TTL: 64,
			Protocol: uint8(header.TCPProtocolNumber), SrcAddr: srcA, DstAddr: dstA,
		})
		ip.SetChecksum(^ip.CalculateChecksum())
		seg = b[header.IPv4MinimumSize:]
	} else {
		b = make([]byte, header.IPv6MinimumSize+tcpLen)
		header.IPv6(b).Encode(&header.IPv6Fields{
			PayloadLength: uint16(tcpLen), TransportProtocol: header.TCPProtocolNumber,
			HopLimit: 64, SrcAddr: srcA, DstAddr: dstA,
		})
		seg = b[header.IPv6MinimumSize:]
	}
	tcp := header.TCP(seg)
	tcp.Encode(&header.TCPFields{
		SrcPort: sport, DstPort: dport, SeqNum: seq, AckNum: 1,
		DataOffset: header.TCPMinimumSize, Flags: flags, WindowSize: 65535,
	})
	copy(seg[header.TCPMinimumSize:], payload)
	xsum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, srcA, dstA, uint16(tcpLen))
	xsum = checksum.Checksum([]byte(payload), xsum)
	tcp.SetChecksum(^tcp.CalculateChecksum(xsum))
	return b
}

// --- a small pcapng parser, independent of the writer ---

type pngBlock struct {
	typ  uint32
	body []byte // between the leading total length and the trailing one
}

func parseBlocks(t *testing.T, b []byte) []pngBlock {
	t.Helper()
	var blocks []pngBlock
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatalf("trailing %d bytes: got a truncated block, want none", len(b))
		}
		typ, total := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
		if total < 12 || total%4 != 0 || int(total) > len(b) {
			t.Fatalf("block type %#x: got total length %d (%d bytes left), want a multiple of 4 in [12, %d]", typ, total, len(b), len(b))
		}
		if trail := binary.LittleEndian.Uint32(b[total-4:]); trail != total {
			t.Fatalf("block type %#x: got trailing length %d, want %d", typ, trail, total)
		}
		blocks = append(blocks, pngBlock{typ, b[8 : total-4]})
		b = b[total:]
	}
	return blocks
}

type pngOption struct {
	code uint16
	val  []byte
}

// parseOptions reads TLVs (options or NRB records) up to the end marker,
// checking 32-bit padding, and requires that nothing follows the marker.
func parseOptions(t *testing.T, b []byte) []pngOption {
	t.Helper()
	var opts []pngOption
	for {
		if len(b) < 4 {
			t.Fatalf("options: got %d bytes without an end marker, want code 0", len(b))
		}
		code, n := binary.LittleEndian.Uint16(b), int(binary.LittleEndian.Uint16(b[2:]))
		if code == 0 {
			if n != 0 || len(b) != 4 {
				t.Fatalf("end marker: got length %d and %d bytes after it, want 0 and 0", n, len(b)-4)
			}
			return opts
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(b) {
			t.Fatalf("option %d: got length %d with %d bytes left, want it to fit", code, n, len(b)-4)
		}
		if pad := b[4+n : 4+padded]; !bytes.Equal(pad, make([]byte, len(pad))) {
			t.Fatalf("option %d: got padding %x, want zeros", code, pad)
		}
		opts = append(opts, pngOption{code, b[4 : 4+n]})
		b = b[4+padded:]
	}
}

// describe renders the file as one line per block, every field decoded.
func describe(t *testing.T, file []byte) (lines []string, packets [][]byte) {
	t.Helper()
	le := binary.LittleEndian
	for _, blk := range parseBlocks(t, file) {
		var s string
		var opts []pngOption
		switch b := blk.body; blk.typ {
		case blockSHB:
			s = fmt.Sprintf("SHB magic=%#x v%d.%d len=%d", le.Uint32(b), le.Uint16(b[4:]), le.Uint16(b[6:]), int64(le.Uint64(b[8:])))
			opts = parseOptions(t, b[16:])
		case blockIDB:
			s = fmt.Sprintf("IDB link=%d reserved=%d snap=%d", le.Uint16(b), le.Uint16(b[2:]), le.Uint32(b[4:]))
			opts = parseOptions(t, b[8:])
		case blockNRB:
			s = "NRB"
			for _, r := range parseOptions(t, b) {
				size := map[uint16]int{nrbRecordIPv4: 4, nrbRecordIPv6: 16}[r.code]
				addr, _ := netip.AddrFromSlice(r.val[:size])
				s += fmt.Sprintf(" %d:%v=%q", r.code, addr, r.val[size:])
			}
		case blockEPB:
			ts := time.Unix(0, int64(le.Uint64(b[4:])<<32|uint64(le.Uint32(b[8:])))).UTC()
			capLen := le.Uint32(b[12:])
			s = fmt.Sprintf("EPB if=%d ts=%s cap=%d orig=%d", le.Uint32(b), ts.Format(time.RFC3339Nano), capLen, le.Uint32(b[16:]))
			packets = append(packets, b[20:20+capLen])
			if rest := b[20+(capLen+3)&^3:]; len(rest) > 0 {
				opts = parseOptions(t, rest)
			}
		default:
			t.Fatalf("got block type %#x, want SHB, IDB, NRB or EPB", blk.typ)
		}
		for _, o := range opts {
			s += fmt.Sprintf(" opt%d=%q", o.code, o.val)
		}
		lines = append(lines, s)
	}
	return lines, packets
}

type testPacket struct {
	iface   int
	at      time.Duration
	data    []byte
	comment string
}

func TestPcapngStructure(t *testing.T) {
	syn := tcpPacket(addrClient, addrServer, 40000, 80, 100, header.TCPFlagSyn, "")
	odd := tcpPacket(addrServer, addrClient, 80, 40000, 7, header.TCPFlagAck|header.TCPFlagPsh, "hello") // 45 bytes
	shb := `SHB magic=0x1a2b3c4d v1.0 len=-1 opt4="tcplab"`
	idbClient := `IDB link=228 reserved=0 snap=262144 opt2="client" opt3="tcplab host client 10.0.0.1" opt9="\t"`
	idbServer := `IDB link=229 reserved=0 snap=262144 opt2="srv" opt3="" opt9="\t"`
	tests := []struct {
		name    string
		ifaces  [][2]string // name, description; link type 228 then 229
		names   map[string]netip.Addr
		order   []string // keys of names, in AddName order
		packets []testPacket
		want    []string
	}{
		{name: "empty capture without interfaces", want: []string{shb}},
		{
			name:   "empty capture with interfaces",
			ifaces: [][2]string{{"client", "tcplab host client 10.0.0.1"}, {"srv", ""}},
			want:   []string{shb, idbClient, idbServer},
		},
		{
			name:   "packets, names and comments",
			ifaces: [][2]string{{"client", "tcplab host client 10.0.0.1"}, {"srv", ""}},
			names:  map[string]netip.Addr{"client": addrClient, "server6.example": addrServer6},
			order:  []string{"server6.example", "client"},
			packets: []testPacket{
				{0, 0, syn, "SYN sent"},
				{1, time.Nanosecond, odd, ""},
				{0, 90 * time.Second, odd, "abcde"},
			},
			want: []string{
				shb, idbClient, idbServer,
				`NRB 2:fd00::2="server6.example\x00" 1:10.0.0.1="client\x00"`,
				`EPB if=0 ts=2026-01-02T03:04:05.123456789Z cap=40 orig=40 opt1="SYN sent"`,
				`EPB if=1 ts=2026-01-02T03:04:05.12345679Z cap=45 orig=45`,
				`EPB if=0 ts=2026-01-02T03:05:35.123456789Z cap=45 orig=45 opt1="abcde"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			write := func() []byte {
				var buf bytes.Buffer
				w := NewWriter(&buf)
				for i, ifc := range tc.ifaces {
					if got := w.AddInterface(ifc[0], ifc[1], []LinkType{LinkTypeIPv4, LinkTypeIPv6}[i]); got != i {
						t.Fatalf("AddInterface(%q): got index %d, want %d", ifc[0], got, i)
					}
				}
				for _, n := range tc.order {
					w.AddName(tc.names[n], n)
				}
				if buf.Len() != 0 {
					t.Fatalf("before the first packet: got %d bytes written, want 0", buf.Len())
				}
				for _, p := range tc.packets {
					if err := w.WritePacket(p.iface, baseTime.Add(p.at), p.data, p.comment); err != nil {
						t.Fatalf("WritePacket: got error %v, want nil", err)
					}
				}
				if err := w.Flush(); err != nil {
					t.Fatalf("Flush: got error %v, want nil", err)
				}
				return buf.Bytes()
			}
			file := write()
			got, packets := describe(t, file)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("blocks:\ngot\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
			if len(packets) != len(tc.packets) {
				t.Fatalf("got %d packets, want %d", len(packets), len(tc.packets))
			}
			for i, p := range tc.packets {
				if !bytes.Equal(packets[i], p.data) {
					t.Errorf("packet %d: got %x, want %x", i, packets[i], p.data)
				}
			}
			if again := write(); !bytes.Equal(again, file) {
				t.Errorf("second identical write: got %d differing bytes, want byte-identical output", len(again))
			}
		})
	}
}

type failWriter struct{ n int } // fails every write after n successful ones

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestPcapngErrors(t *testing.T) {
	pkt := tcpPacket(addrClient, addrServer, 1, 2, 3, header.TCPFlagSyn, "")
	tests := []struct {
		name    string
		w       *failWriter // nil: a bytes.Buffer
		misuse  func(w *Writer) error
		wantErr string
	}{
		{name: "unknown interface", misuse: func(w *Writer) error { return w.WritePacket(1, baseTime, pkt, "") },
			wantErr: "pcapng: unknown interface index 1 (1 declared)"},
		{name: "negative interface", misuse: func(w *Writer) error { return w.WritePacket(-1, baseTime, pkt, "") },
			wantErr: "pcapng: unknown interface index -1 (1 declared)"},
		{name: "timestamp before 1970", misuse: func(w *Writer) error { return w.WritePacket(0, time.Unix(-1, 0), pkt, "") },
			wantErr: "not representable"},
		{name: "invalid address", misuse: func(w *Writer) error { w.AddName(netip.Addr{}, "x"); return w.Flush() },
			wantErr: `pcapng: invalid address for name "x"`},
		{name: "name after first packet", misuse: func(w *Writer) error {
			w.WritePacket(0, baseTime, pkt, "")
			w.AddName(addrClient, "late")
			return w.Flush()
		}, wantErr: `pcapng: name "late" added after the first packet`},
		{name: "write error in header", w: &failWriter{n: 1}, misuse: func(w *Writer) error { return w.Flush() },
			wantErr: "disk full"},
		{name: "write error in packet", w: &failWriter{n: 2}, misuse: func(w *Writer) error { return w.WritePacket(0, baseTime, pkt, "") },
			wantErr: "disk full"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w *Writer
			if tc.w != nil {
				w = NewWriter(tc.w)
			} else {
				w = NewWriter(new(bytes.Buffer))
			}
			w.AddInterface("client", "", LinkTypeIPv4)
			err := tc.misuse(w)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
			}
			if again := w.WritePacket(0, baseTime, pkt, ""); again != err {
				t.Errorf("WritePacket after the error: got %v, want the sticky %v", again, err)
			}
			if again := w.Flush(); again != err {
				t.Errorf("Flush after the error: got %v, want the sticky %v", again, err)
			}
		})
	}
}

// The oracles: tshark and tcpdump must read what the writer produces.
func TestPcapngOracle(t *testing.T) {
	for _, tool := range []string{"tshark", "tcpdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("oracle %s is missing (CI is set): got %v, want it installed", tool, err)
			}
			t.Skipf("oracle %s is missing: %v", tool, err)
		}
	}
	type ifc struct {
		name     string
		linkType LinkType
	}
	type pk struct {
		iface    int
		src, dst netip.Addr
		sport    uint16
		dport    uint16
		payload  string
		comment  string
	}
	// libpcap 1.10 refuses IDBs whose link type differs from the first
	// IDB's (and, through a DLT mapping bug, every second LINKTYPE_RAW
	// IDB); in those cases tcpdump must fail with exactly this, nothing else.
	const mixedErr = "different from the type of the first interface"
	tests := []struct {
		name        string
		ifaces      []ifc
		packets     []pk
		tcpdumpMay  string // tcpdump may fail with this error instead
		wantTcpdump int    // packets tcpdump must print when it succeeds
	}{
		{
			name:   "two IPv4 interfaces",
			ifaces: []ifc{{"client", LinkTypeIPv4}, {"server", LinkTypeIPv4}},
			packets: []pk{
				{0, addrClient, addrServer, 40000, 80, "", "client SYN"},
				{1, addrServer, addrClient, 80, 40000, "", "server SYN-ACK"},
				{0, addrClient, addrServer, 40000, 80, "GET /", ""},
				{1, addrServer, addrClient, 80, 40000, "HTTP/1.0 200 OK", "reply, with comma"},
			},
		},
		{
			name:   "IPv4 and IPv6 interfaces",
			ifaces: []ifc{{"client", LinkTypeIPv4}, {"client6", LinkTypeIPv6}},
			packets: []pk{
				{0, addrClient, addrServer, 40000, 80, "", "v4 SYN"},
				{1, addrClient6, addrServer6, 40001, 443, "", "v6 SYN"},
				{0, addrServer, addrClient, 80, 40000, "x", ""},
			},
			tcpdumpMay: mixedErr,
		},
		{
			name:   "one LINKTYPE_RAW interface with IPv4 and IPv6",
			ifaces: []ifc{{"raw", LinkTypeRaw}},
			packets: []pk{
				{0, addrClient, addrServer, 40000, 80, "", "v4"},
				{0, addrClient6, addrServer6, 40001, 443, "abc", "v6"},
			},
		},
		{
			name:   "two LINKTYPE_RAW interfaces",
			ifaces: []ifc{{"raw0", LinkTypeRaw}, {"raw1", LinkTypeRaw}},
			packets: []pk{
				{0, addrClient, addrServer, 40000, 80, "", "v4"},
				{1, addrClient6, addrServer6, 40001, 443, "", "v6"},
			},
			tcpdumpMay: mixedErr,
		},
	}
	hostNames := map[netip.Addr]string{addrClient: "client", addrServer: "server", addrClient6: "client6", addrServer6: "server6"}
	if testing.Short() {
		// tshark takes about half a second to start: the quick loop checks
		// the two layouts tcplab writes, CI all of them.
		tests = tests[:2]
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w := NewWriter(&buf)
			for _, i := range tc.ifaces {
				w.AddInterface(i.name, "tcplab host "+i.name, i.linkType)
			}
			for _, a := range []netip.Addr{addrClient, addrServer, addrClient6, addrServer6} {
				w.AddName(a, hostNames[a])
			}
			var wantTshark, wantTcpdump []string
			for n, p := range tc.packets {
				data := tcpPacket(p.src, p.dst, p.sport, p.dport, uint32(n), header.TCPFlagAck, p.payload)
				ts := baseTime.Add(time.Duration(n) * time.Millisecond)
				if err := w.WritePacket(p.iface, ts, data, p.comment); err != nil {
					t.Fatalf("WritePacket: got error %v, want nil", err)
				}
				v4, v6 := hostNames[p.src], ""
				if p.src.Is6() {
					v4, v6 = "", v4
				}
				// tcp.checksum.status 1 is "Good".
				wantTshark = append(wantTshark, fmt.Sprintf("%d\t%d.%09d\t%s\t%s\t%s\t%s\t1",
					n+1, ts.Unix(), ts.Nanosecond(), v4, v6, p.comment, tc.ifaces[p.iface].name))
				wantTcpdump = append(wantTcpdump, fmt.Sprintf("%s.%d > %s.%d:", p.src, p.sport, p.dst, p.dport))
			}
			if err := w.Flush(); err != nil {
				t.Fatalf("Flush: got error %v, want nil", err)
			}
			file := filepath.Join(t.TempDir(), "capture.pcapng")
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}

			out, stderr, err := run("tshark", "-r", file, "-N", "n", "-o", "tcp.check_checksum:TRUE", "-T", "fields",
				"-e", "frame.number", "-e", "frame.time_epoch", "-e", "ip.src_host", "-e", "ipv6.src_host", "-e", "frame.comment",
				"-e", "frame.interface_name", "-e", "tcp.checksum.status")
			if err != nil {
				t.Fatalf("tshark: got error %v (stderr %q), want success", err, stderr)
			}
			if got := strings.Split(strings.TrimRight(out, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(wantTshark, "\n") {
				t.Errorf("tshark fields (number, time, ip host, ipv6 host, comment, interface, tcp checksum status):\ngot\n\t%s\nwant\n\t%s",
					strings.Join(got, "\n\t"), strings.Join(wantTshark, "\n\t"))
			}

			out, stderr, err = run("tcpdump", "-nr", file)
			if err != nil {
				if tc.tcpdumpMay != "" && strings.Contains(stderr, tc.tcpdumpMay) {
					t.Logf("tcpdump refused the file as expected of libpcap 1.10: %s", strings.TrimSpace(stderr))
					return
				}
				t.Fatalf("tcpdump: got error %v (stderr %q), want success", err, stderr)
			}
			got := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if len(got) != len(wantTcpdump) {
				t.Fatalf("tcpdump: got %d lines\n\t%s\nwant %d packets", len(got), strings.Join(got, "\n\t"), len(wantTcpdump))
			}
			for i, want := range wantTcpdump {
				if !strings.Contains(got[i], want) {
					t.Errorf("tcpdump line %d: got %q, want it to contain %q", i+1, got[i], want)
				}
			}
		})
	}
}

func run(name string, args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// TestWritePacketAppend checks that a comment appended into the block gives
// the bytes WritePacket gives for the same comment, for empty comments and
// every padding, and that an over-long one is refused.
func TestWritePacketAppend(t *testing.T) {
	ts := time.Unix(1, 5)
	for _, comment := range []string{"", "a", "ab", "abc", "abcd", "注释 five", strings.Repeat("x", 0xFFFF)} {
		var want, got bytes.Buffer
		a, b := NewWriter(&want), NewWriter(&got)
		for _, w := range []*Writer{a, b} {
			w.AddInterface("h", "host h", LinkTypeIPv4)
		}
		pkt := []byte{0x45, 0, 0, 20, 1, 2, 3}
		if err := a.WritePacket(0, ts, pkt, comment); err != nil {
			t.Fatal(err)
		}
		if err := b.WritePacketAppend(0, ts, pkt, func(buf []byte) []byte { return append(buf, comment...) }); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Fatalf("comment %q: WritePacketAppend wrote\n%x\nWritePacket\n%x", comment, got.Bytes(), want.Bytes())
		}
	}
	w := NewWriter(io.Discard)
	w.AddInterface("h", "host h", LinkTypeIPv4)
	long := strings.Repeat("y", 0x10000)
	if err := w.WritePacketAppend(0, ts, []byte{0x45}, func(buf []byte) []byte { return append(buf, long...) }); err == nil {
		t.Fatal("a 65536-byte comment was accepted")
	}
}
