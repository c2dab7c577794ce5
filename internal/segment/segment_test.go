package segment

import (
	"encoding/binary"
	"reflect"
	"slices"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// packetWithOptions builds an IPv4 TCP packet whose header carries opts.
func packetWithOptions(t *testing.T, opts []byte, payload int) []byte {
	t.Helper()
	for len(opts)%4 != 0 {
		opts = append(opts, header.TCPOptionNOP)
	}
	tcpLen := header.TCPMinimumSize + len(opts)
	pkt := make([]byte, header.IPv4MinimumSize+tcpLen+payload)
	ip := header.IPv4(pkt)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(len(pkt)), TTL: 64, Protocol: uint8(header.TCPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), DstAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2}),
	})
	tcp := header.TCP(pkt[header.IPv4MinimumSize:])
	tcp.Encode(&header.TCPFields{SrcPort: 40000, DstPort: 80, SeqNum: 1000, AckNum: 2000,
		DataOffset: uint8(tcpLen), Flags: header.TCPFlagAck, WindowSize: 512})
	copy(tcp[header.TCPMinimumSize:], opts)
	return pkt
}

// sackOpts returns timestamps and n SACK blocks, as netstack writes them.
func sackOpts(n int) []byte {
	o := []byte{header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionTS, 10, 0, 0, 0, 7, 0, 0, 0, 9}
	o = append(o, header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionSACK, byte(2+8*n))
	for i := range n {
		o = binary.BigEndian.AppendUint32(o, uint32(3000+100*i))
		o = binary.BigEndian.AppendUint32(o, uint32(3050+100*i))
	}
	return o
}

// TestParseIntoAgreesWithParse checks that ParseInto reads what Parse does,
// for segments with no options, with timestamps and SACK blocks, and with
// more option kinds than its inline buffer holds; and that it allocates
// nothing for the segments of a transfer.
func TestParseIntoAgreesWithParse(t *testing.T) {
	many := []byte{}
	for range 10 {
		many = append(many, header.TCPOptionSACKPermitted, 2) // 10 kinds: more than kindBuf
	}
	for name, pkt := range map[string][]byte{
		"none":   packetWithOptions(t, nil, 100),
		"sack1":  packetWithOptions(t, sackOpts(1), 0),
		"sack3":  packetWithOptions(t, sackOpts(3), 0),
		"kinds":  packetWithOptions(t, many, 0),
		"broken": packetWithOptions(t, []byte{header.TCPOptionMSS, 9}, 0),
	} {
		want, werr := Parse(pkt)
		var got Segment
		gerr := ParseInto(&got, pkt)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: Parse error %v, ParseInto error %v", name, werr, gerr)
		}
		got.Opts.Kinds, got.Opts.SACK = slices.Clone(got.Opts.Kinds), slices.Clone(got.Opts.SACK) // off the buffers
		got.kindBuf, got.sackBuf = [8]byte{}, [4]Block{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ParseInto = %+v, want %+v", name, got, want)
		}
	}
	pkt := packetWithOptions(t, sackOpts(3), 0)
	var s Segment
	if n := testing.AllocsPerRun(100, func() { _ = ParseInto(&s, pkt) }); n != 0 {
		t.Errorf("ParseInto of a segment with timestamps and 3 SACK blocks allocates %v times, want 0", n)
	}
	if len(s.Opts.SACK) != 3 || s.Opts.SACK[2].Start != 3200 || !s.Opts.HasTS || s.Opts.TSVal != 7 {
		t.Errorf("ParseInto read options %+v, want timestamps 7/9 and 3 SACK blocks", s.Opts)
	}
}

// TestCopyTo checks that a segment copied with CopyTo keeps what it was
// parsed from when the original is parsed again (a plain copy would share
// the original's option buffers), and that its option lists then live in
// the copy's own buffers.
func TestCopyTo(t *testing.T) {
	many := []byte{}
	for range 10 {
		many = append(many, header.TCPOptionSACKPermitted, 2)
	}
	pkts := map[string][]byte{
		"none":  packetWithOptions(t, nil, 100),
		"sack3": packetWithOptions(t, sackOpts(3), 0),
		"kinds": packetWithOptions(t, many, 0),
	}
	other := packetWithOptions(t, sackOpts(2), 0)
	for name, pkt := range pkts {
		want, err := Parse(pkt)
		if err != nil {
			t.Fatal(err)
		}
		var orig, cp Segment
		if err := ParseInto(&orig, pkt); err != nil {
			t.Fatal(err)
		}
		orig.CopyTo(&cp)
		if err := ParseInto(&orig, other); err != nil {
			t.Fatal(err)
		}
		if len(cp.Opts.Kinds) > 0 && len(cp.Opts.Kinds) <= len(cp.kindBuf) && &cp.Opts.Kinds[0] != &cp.kindBuf[0] {
			t.Errorf("%s: the copy's option kinds are not in its own buffer", name)
		}
		if len(cp.Opts.SACK) > 0 && &cp.Opts.SACK[0] != &cp.sackBuf[0] {
			t.Errorf("%s: the copy's SACK blocks are not in its own buffer", name)
		}
		got := cp
		got.Opts.Kinds, got.Opts.SACK = slices.Clone(got.Opts.Kinds), slices.Clone(got.Opts.SACK)
		got.kindBuf, got.sackBuf = [8]byte{}, [4]Block{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: copy after the original was parsed again = %+v, want %+v", name, got, want)
		}
	}
}

// TestOptionsClone: a clone of a segment's options shares no memory with
// the segment, and holds the same options.
func TestOptionsClone(t *testing.T) {
	for name, pkt := range map[string][]byte{
		"none":  packetWithOptions(t, nil, 100),
		"sack3": packetWithOptions(t, sackOpts(3), 0),
	} {
		var s Segment
		if err := ParseInto(&s, pkt); err != nil {
			t.Fatal(err)
		}
		c := s.Opts.Clone()
		if !reflect.DeepEqual(c, s.Opts) {
			t.Errorf("%s: Clone() = %+v, want %+v", name, c, s.Opts)
		}
		if len(c.Kinds) > 0 && &c.Kinds[0] == &s.Opts.Kinds[0] {
			t.Errorf("%s: the clone's option kinds are the segment's", name)
		}
		if len(c.SACK) > 0 && &c.SACK[0] == &s.Opts.SACK[0] {
			t.Errorf("%s: the clone's SACK blocks are the segment's", name)
		}
	}
}
