package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/pcapng"
)

// Starting tshark costs about half a second, so the agreement test runs it
// once per lab over all the lab's captures (every seed, sent and received)
// rather than once per capture. mergeCaptures puts the captures into one
// pcapng so that tshark's TCP analysis of each is exactly what it would be
// alone: each capture's addresses move into a space of its own (in the same
// order, so that tshark picks the same direction for each conversation),
// with the IP and TCP checksums adjusted (a bad one stays bad by the same
// amount), and its timestamps move past the end of the capture before.

// capturedPacket is one Enhanced Packet Block of a pcapng file.
type capturedPacket struct {
	iface int
	ts    uint64 // nanoseconds, as tcplab writes them (if_tsresol 9)
	data  []byte
}

// readPcapng reads a little-endian pcapng file as tcplab writes it: the link
// type of each interface and every packet.
func readPcapng(t *testing.T, file string) (links []uint16, packets []capturedPacket) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	for off := 0; off < len(b); {
		if off+12 > len(b) {
			t.Fatalf("%s: truncated block at %d", file, off)
		}
		typ, total := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if total < 12 || off+total > len(b) {
			t.Fatalf("%s: bad block length %d at %d", file, total, off)
		}
		body := b[off+8 : off+total-4]
		switch typ {
		case 1: // IDB
			links = append(links, le.Uint16(body))
		case 6: // EPB
			n := int(le.Uint32(body[12:]))
			packets = append(packets, capturedPacket{
				iface: int(le.Uint32(body)),
				ts:    uint64(le.Uint32(body[4:]))<<32 | uint64(le.Uint32(body[8:])),
				data:  slices.Clone(body[20 : 20+n]),
			})
		}
		off += total
	}
	return links, packets
}

// mergeCaptures writes the pcapng files into one, out, and returns, for
// each file, the frame number its frame 1 has in out, minus one, and its
// number of frames.
func mergeCaptures(t *testing.T, out string, files []string) (offsets, counts []int) {
	t.Helper()
	var buf bytes.Buffer
	w := pcapng.NewWriter(&buf)
	offsets = make([]int, len(files))
	counts = make([]int, len(files))
	frames := 0
	var start uint64 // where the next capture starts: after the one before
	for k, file := range files {
		if k >= 250 {
			t.Fatalf("mergeCaptures: %d captures, at most 250", len(files))
		}
		links, packets := readPcapng(t, file)
		ifaces := make([]int, len(links))
		for i, lt := range links {
			ifaces[i] = w.AddInterface(fmt.Sprintf("c%d-%d", k, i), file, pcapng.LinkType(lt))
		}
		move := addressSpace(t, k, packets)
		offsets[k], counts[k] = frames, len(packets)
		first := uint64(0)
		for i, p := range packets {
			if i == 0 || p.ts < first {
				first = p.ts
			}
		}
		var last uint64
		for _, p := range packets {
			data := remapPacket(p.data, move)
			ts := p.ts
			if k > 0 {
				ts = start + (p.ts - first)
			}
			last = max(last, ts)
			if err := w.WritePacket(ifaces[p.iface], time.Unix(0, int64(ts)), data, ""); err != nil {
				t.Fatal(err)
			}
			frames++
		}
		start = last + uint64(time.Second)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return offsets, counts
}

// splitFrames returns the part of a merged capture's analysis that belongs
// to the capture at offset with count frames, numbered as in that capture.
func splitFrames(ws map[int]tsharkFrame, offset, count int) map[int]tsharkFrame {
	out := make(map[int]tsharkFrame, count)
	for no := offset + 1; no <= offset+count; no++ {
		w, ok := ws[no]
		if !ok {
			continue
		}
		if w.dupOf > 0 {
			w.dupOf -= offset
		}
		out[no-offset] = w
	}
	return out
}

// addressSpace maps every address of capture k, in order, to 10.k.x.y (or
// fd00:k::x for IPv6).
func addressSpace(t *testing.T, k int, packets []capturedPacket) map[netip.Addr]netip.Addr {
	t.Helper()
	seen := map[netip.Addr]bool{}
	for _, p := range packets {
		for _, a := range packetAddrs(p.data) {
			seen[a] = true
		}
	}
	addrs := make([]netip.Addr, 0, len(seen))
	for a := range seen {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	if len(addrs) > 0xFFFF {
		t.Fatalf("capture %d has %d addresses, at most 65535", k, len(addrs))
	}
	move := map[netip.Addr]netip.Addr{}
	for i, a := range addrs {
		n := i + 1
		if a.Is4() {
			move[a] = netip.AddrFrom4([4]byte{10, byte(k), byte(n >> 8), byte(n)})
		} else {
			move[a] = netip.AddrFrom16([16]byte{0xfd, 0, 0, byte(k), 14: byte(n >> 8), 15: byte(n)})
		}
	}
	return move
}

// packetAddrs returns a raw IP packet's source and destination.
func packetAddrs(b []byte) []netip.Addr {
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		return []netip.Addr{netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))}
	case len(b) >= 40 && b[0]>>4 == 6:
		return []netip.Addr{netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))}
	}
	return nil
}

// remapPacket returns a copy of the raw IP packet b with its addresses
// moved and its checksums adjusted by the difference (RFC 1624).
func remapPacket(b []byte, move map[netip.Addr]netip.Addr) []byte {
	b = slices.Clone(b)
	var addrOff, addrLen, tcpOff int
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		addrOff, addrLen = 12, 4
		if ihl := int(b[0]&0xf) * 4; b[9] == 6 && len(b) >= ihl+18 {
			tcpOff = ihl
		}
	case len(b) >= 40 && b[0]>>4 == 6:
		addrOff, addrLen = 8, 16
		if b[6] == 6 && len(b) >= 58 {
			tcpOff = 40
		}
	default:
		return b
	}
	old := slices.Clone(b[addrOff : addrOff+2*addrLen])
	for i := range 2 {
		a, _ := netip.AddrFromSlice(b[addrOff+i*addrLen : addrOff+(i+1)*addrLen])
		copy(b[addrOff+i*addrLen:], move[a].AsSlice())
	}
	now := b[addrOff : addrOff+2*addrLen]
	if addrLen == 4 {
		adjustChecksum(b[10:12], old, now) // the IPv4 header checksum
	}
	if tcpOff > 0 {
		adjustChecksum(b[tcpOff+16:tcpOff+18], old, now) // the pseudo-header
	}
	return b
}

// adjustChecksum updates the Internet checksum at sum for the 16-bit words
// of old replaced by those of now: HC' = ~(~HC + ~m + m').
func adjustChecksum(sum, old, now []byte) {
	acc := uint32(^binary.BigEndian.Uint16(sum))
	for i := 0; i+1 < len(old); i += 2 {
		acc += uint32(^binary.BigEndian.Uint16(old[i:])) + uint32(binary.BigEndian.Uint16(now[i:]))
	}
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	binary.BigEndian.PutUint16(sum, ^uint16(acc))
}

// TestRemapPacketChecksums checks the checksum arithmetic: a packet with
// correct checksums keeps them correct after its addresses move.
func TestRemapPacketChecksums(t *testing.T) {
	pkt := []byte{
		0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
		0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0, // TCP SYN
	}
	binary.BigEndian.PutUint16(pkt[10:], inetChecksum(pkt[:20], 0))
	binary.BigEndian.PutUint16(pkt[36:], tcpChecksum(pkt))
	move := map[netip.Addr]netip.Addr{
		netip.MustParseAddr("10.0.0.1"): netip.MustParseAddr("10.7.0.1"),
		netip.MustParseAddr("10.0.0.2"): netip.MustParseAddr("10.7.0.2"),
	}
	got := remapPacket(pkt, move)
	if !bytes.Equal(got[12:20], []byte{10, 7, 0, 1, 10, 7, 0, 2}) {
		t.Fatalf("remapPacket addresses = % x", got[12:20])
	}
	if s := inetChecksum(got[:20], 0); s != 0 {
		t.Errorf("IPv4 header checksum of the moved packet does not verify (%#04x)", s)
	}
	if s := tcpChecksum(got); s != 0 {
		t.Errorf("TCP checksum of the moved packet does not verify (%#04x)", s)
	}
}

// inetChecksum is the Internet checksum of b added to sum.
func inetChecksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// tcpChecksum is the checksum of an IPv4 packet's TCP segment with its
// pseudo-header (0 when the segment's checksum is right).
func tcpChecksum(pkt []byte) uint16 {
	seg := pkt[20:]
	var sum uint32
	for i := 12; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(pkt[i:]))
	}
	sum += 6 + uint32(len(seg))
	return inetChecksum(seg, sum)
}
