package pcapng

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"slices"
	"time"
)

// Limits on lengths read from a file.
const (
	// maxBlock is the longest pcapng block and the longest classic pcap
	// record the Reader takes (Wireshark's own limit is lower).
	maxBlock = 64 << 20
	// eagerMax is the longest buffer allocated before its bytes are
	// read (libpcap's MAXIMUM_SNAPLEN); a longer one grows as its bytes
	// arrive, so that a short file cannot make the Reader allocate much.
	eagerMax = 256 << 10
)

// Classic pcap magic numbers, as read in little-endian order.
const (
	pcapMicro        = 0xA1B2C3D4
	pcapNano         = 0xA1B23C4D
	pcapMicroSwapped = 0xD4C3B2A1
	pcapNanoSwapped  = 0x4D3CB2A1
)

// pcapng blocks and options only the Reader uses.
const (
	blockPB       = 0x00000002 // obsolete Packet Block
	blockSPB      = 0x00000003
	optIfTsoffset = 14
)

// Format is a capture file format.
type Format int

// The formats a Reader reads.
const (
	FormatPcap   Format = iota + 1 // classic libpcap format
	FormatPcapng                   // pcapng
)

// String returns "pcap" or "pcapng".
func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapng:
		return "pcapng"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Packet is one packet of a capture.
type Packet struct {
	// Data holds the bytes captured, link-layer header included; its
	// length is the captured length. It belongs to the caller.
	Data []byte
	// Time is the capture timestamp, in UTC; the zero Time for a pcapng
	// Simple Packet Block, which has none.
	Time time.Time
	// Length is the packet's length on the wire, as the file gives it
	// (more than len(Data) when the snap length cut the packet short).
	Length int
	// Interface is the index of the capture interface in its pcapng
	// section (0 in a classic pcap file).
	Interface int
}

// Interface is a capture interface: the one interface of a classic pcap
// file, or an Interface Description Block of a pcapng section.
type Interface struct {
	// Name is if_name ("eth0"); empty when the file does not give one.
	Name string
	// LinkType is the link-layer header type of the interface's packets.
	LinkType LinkType
	// SnapLen is the snap length (0: none).
	SnapLen uint32

	units  uint64 // timestamp units per second (if_tsresol)
	offset int64  // seconds added to every timestamp (if_tsoffset)
}

// time converts a pcapng timestamp in the interface's units.
func (ifc *Interface) time(ts uint64) time.Time {
	sec, frac := ts/ifc.units, ts%ifc.units
	var ns uint64
	switch ifc.units {
	case 1e9:
		ns = frac
	case 1e6:
		ns = frac * 1e3
	default:
		// frac < units, so frac*1e9/units fits and Div64 cannot panic.
		hi, lo := bits.Mul64(frac, 1e9)
		ns, _ = bits.Div64(hi, lo, ifc.units)
	}
	return time.Unix(int64(sec)+ifc.offset, int64(ns)).UTC()
}

// NameRecord is an IPv4 or IPv6 record of a pcapng Name Resolution Block:
// an address and its names.
type NameRecord struct {
	Addr  netip.Addr
	Names []string
}

// Reader reads the packets of a classic pcap or a pcapng capture from a
// stream, holding one packet at a time. A Reader is not safe for
// concurrent use.
type Reader struct {
	r          *bufio.Reader
	off        int64 // bytes of the (uncompressed) capture read so far
	format     Format
	compressed bool
	big        bool // the file, or the current pcapng section, is big-endian
	nano       bool // classic pcap: nanosecond timestamps
	skipping   bool // pcapng: in a section of a version the Reader does not read
	ifaces     []Interface
	names      []NameRecord
	hdr        [20]byte
	buf        []byte // reused block buffer
	err        error  // sticky: the first error of Next
}

// NewReader reads the file header of the capture in rd (the first
// Section Header Block of a pcapng file) and returns a reader of its
// packets. The format is told by the first bytes; a gzip-compressed
// capture is decompressed as it is read. rd is read through a buffer of
// its own.
func NewReader(rd io.Reader) (*Reader, error) {
	r := &Reader{r: bufio.NewReaderSize(rd, 1<<16)}
	magic, err := r.r.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, zerr := gzip.NewReader(r.r)
		if zerr != nil {
			return nil, fmt.Errorf("gzip: %w", zerr)
		}
		r.r = bufio.NewReaderSize(zr, 1<<16)
		r.compressed = true
		magic, err = r.r.Peek(4)
	}
	if err != nil {
		switch {
		case len(magic) == 0 && err == io.EOF:
			return nil, errors.New("empty file")
		case err == io.EOF:
			return nil, fmt.Errorf("a file of %d bytes is too short for a pcap or pcapng header: %w", len(magic), io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	switch binary.LittleEndian.Uint32(magic) {
	case blockSHB:
		r.format = FormatPcapng
		if err := r.full(r.hdr[:8]); err != nil {
			return nil, r.cut("section header block", 0, err)
		}
		err = r.readSHB(0)
	case pcapMicro, pcapNano, pcapMicroSwapped, pcapNanoSwapped:
		r.format = FormatPcap
		err = r.readPcapHeader()
	default:
		return nil, fmt.Errorf("not a pcap or pcapng file (it starts with % x)", magic)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Format returns the format of the capture.
func (r *Reader) Format() Format { return r.format }

// Compressed reports whether the capture is gzip-compressed.
func (r *Reader) Compressed() bool { return r.compressed }

// Interface returns capture interface i of the current pcapng section
// (interface 0 of a classic pcap file), and false when there is no such
// interface.
func (r *Reader) Interface(i int) (Interface, bool) {
	if i < 0 || i >= len(r.ifaces) {
		return Interface{}, false
	}
	return r.ifaces[i], true
}

// Names returns the IPv4 and IPv6 records of the Name Resolution Blocks
// read so far, of every section, in the order read; records without a name
// are left out. The slice belongs to the Reader: the caller must not change
// it, and Next may append to it.
func (r *Reader) Names() []NameRecord { return r.names }

// Next returns the next packet, or io.EOF after the last one. A file that
// ends in the middle of a block or record gives an error wrapping
// io.ErrUnexpectedEOF. After an error, Next returns it again.
func (r *Reader) Next() (Packet, error) {
	if r.err != nil {
		return Packet{}, r.err
	}
	var p Packet
	var err error
	if r.format == FormatPcap {
		p, err = r.nextPcap()
	} else {
		p, err = r.nextNg()
	}
	if err != nil {
		r.err = err
	}
	return p, err
}

// --- classic pcap ---

// readPcapHeader reads the 24-byte file header of a classic pcap file.
func (r *Reader) readPcapHeader() error {
	h := r.hdr[:20]
	var magic [4]byte
	if err := r.full(magic[:]); err != nil {
		return r.cut("file header", 0, err)
	}
	if err := r.full(h); err != nil {
		return r.cut("file header", 0, err)
	}
	switch binary.LittleEndian.Uint32(magic[:]) {
	case pcapNano:
		r.nano = true
	case pcapMicroSwapped:
		r.big = true
	case pcapNanoSwapped:
		r.big, r.nano = true, true
	}
	if major, minor := r.u16(h), r.u16(h[2:]); major != 2 {
		return fmt.Errorf("pcap: unsupported file format version %d.%d (want 2.4)", major, minor)
	}
	// The link type's upper 16 bits hold the FCS length and flags.
	r.ifaces = []Interface{{LinkType: LinkType(r.u32(h[16:])), SnapLen: r.u32(h[12:])}}
	return nil
}

// nextPcap reads a packet record of a classic pcap file.
func (r *Reader) nextPcap() (Packet, error) {
	at := r.off
	h := r.hdr[:16]
	if err := r.full(h); err != nil {
		if err == io.EOF {
			return Packet{}, io.EOF
		}
		return Packet{}, r.cut("packet record", at, err)
	}
	sec, frac, caplen, orig := r.u32(h), r.u32(h[4:]), r.u32(h[8:]), r.u32(h[12:])
	snap := r.ifaces[0].SnapLen
	// Writers that do not cut packets to the snap length they declare
	// exist; tcpdump and Wireshark read such records up to their own
	// maximum, and so does this reader.
	if limit := min(max(snap, eagerMax), maxBlock); caplen > limit {
		return Packet{}, fmt.Errorf("pcap: packet record at byte %d: captured length %d exceeds the snap length %d", at, caplen, snap)
	}
	if caplen > orig {
		return Packet{}, fmt.Errorf("pcap: packet record at byte %d: captured length %d exceeds the original length %d", at, caplen, orig)
	}
	data, err := r.readInto(nil, int(caplen))
	if err != nil {
		return Packet{}, r.cut("packet record", at, err)
	}
	ns := int64(frac) * 1e3
	if r.nano {
		ns = int64(frac)
	}
	return Packet{Data: data, Time: time.Unix(int64(sec), ns).UTC(), Length: int(orig)}, nil
}

// --- pcapng ---

// nextNg reads pcapng blocks up to the next packet.
func (r *Reader) nextNg() (Packet, error) {
	for {
		at := r.off
		h := r.hdr[:8]
		if err := r.full(h); err != nil {
			if err == io.EOF {
				return Packet{}, io.EOF
			}
			return Packet{}, r.cut("block header", at, err)
		}
		typ := r.u32(h)
		if typ == blockSHB {
			if err := r.readSHB(at); err != nil {
				return Packet{}, err
			}
			continue
		}
		total := r.u32(h[4:])
		if err := checkLength(typ, total, at); err != nil {
			return Packet{}, err
		}
		body := int(total) - 12 // without the header and the trailing length
		if r.skipping {
			if err := r.skip(body + 4); err != nil {
				return Packet{}, r.cut(blockName(typ), at, err)
			}
			continue
		}
		switch typ {
		case blockEPB, blockPB:
			return r.readPacketBlock(typ, at, body)
		case blockSPB:
			return r.readSimplePacketBlock(at, body)
		case blockIDB, blockNRB:
			b, err := r.readBlock(typ, at, body)
			if err != nil {
				return Packet{}, err
			}
			if typ == blockIDB {
				err = r.parseIDB(at, b)
			} else {
				err = r.parseNRB(at, b)
			}
			if err != nil {
				return Packet{}, err
			}
		default:
			if err := r.skip(body + 4); err != nil {
				return Packet{}, r.cut(blockName(typ), at, err)
			}
		}
	}
}

// minLength is the shortest total length of each block type.
func minLength(typ uint32) uint32 {
	switch typ {
	case blockSHB:
		return 28
	case blockIDB:
		return 20
	case blockEPB, blockPB:
		return 32
	case blockSPB:
		return 16
	}
	return 12
}

// checkLength checks the total length of the block of type typ at at.
func checkLength(typ, total uint32, at int64) error {
	var why string
	switch {
	case total < minLength(typ):
		why = fmt.Sprintf("is shorter than the %d bytes of the smallest one", minLength(typ))
	case total%4 != 0:
		why = "is not a multiple of 4"
	case total > maxBlock:
		why = fmt.Sprintf("is over the limit of %d MiB", maxBlock>>20)
	default:
		return nil
	}
	return fmt.Errorf("pcapng: %s at byte %d: total length %d %s", blockName(typ), at, total, why)
}

// blockName names a block type for messages.
func blockName(typ uint32) string {
	switch typ {
	case blockSHB:
		return "section header block"
	case blockIDB:
		return "interface description block"
	case blockPB:
		return "packet block"
	case blockSPB:
		return "simple packet block"
	case blockNRB:
		return "name resolution block"
	case blockEPB:
		return "enhanced packet block"
	}
	return fmt.Sprintf("block of type 0x%08x", typ)
}

// readSHB reads a Section Header Block at at whose type and length are in
// r.hdr[:8]: its byte-order magic sets the byte order of the section, and
// its version whether the Reader reads the section or skips it.
func (r *Reader) readSHB(at int64) error {
	var magic [4]byte
	if err := r.full(magic[:]); err != nil {
		return r.cut("section header block", at, err)
	}
	switch {
	case binary.BigEndian.Uint32(magic[:]) == byteOrderMagic:
		r.big = true
	case binary.LittleEndian.Uint32(magic[:]) == byteOrderMagic:
		r.big = false
	default:
		return fmt.Errorf("pcapng: section header block at byte %d: byte-order magic %x is neither 1a2b3c4d nor 4d3c2b1a", at, magic)
	}
	total := r.u32(r.hdr[4:])
	if err := checkLength(blockSHB, total, at); err != nil {
		return err
	}
	b, err := r.readBlock(blockSHB, at, int(total)-16)
	if err != nil {
		return err
	}
	// A new section: new interfaces. Names are kept, being of hosts.
	r.ifaces = r.ifaces[:0]
	// Version 1.0; 1.2 is what some old writers wrote for the same format.
	// Sections of other versions are skipped, as the specification says.
	major, minor := r.u16(b), r.u16(b[2:])
	r.skipping = major != 1 || (minor != 0 && minor != 2)
	return nil
}

// readBlock reads the rest of a block of n body bytes, and its trailing
// length, into r.buf and returns the body.
func (r *Reader) readBlock(typ uint32, at int64, n int) ([]byte, error) {
	b, err := r.readInto(r.buf, n+4)
	r.buf = b
	if err != nil {
		return nil, r.cut(blockName(typ), at, err)
	}
	return b[:n], nil
}

// parseIDB parses the body of an Interface Description Block.
func (r *Reader) parseIDB(at int64, b []byte) error {
	ifc := Interface{LinkType: LinkType(r.u16(b)), SnapLen: r.u32(b[4:]), units: 1e6}
	err := r.options(b[8:], func(code uint16, v []byte) error {
		switch code {
		case optIfName:
			ifc.Name = string(v)
		case optIfTsresol:
			if len(v) < 1 {
				break
			}
			exp := uint(v[0] & 0x7f)
			if v[0]&0x80 != 0 {
				if exp > 63 {
					return fmt.Errorf("timestamp resolution 2^-%d is finer than 2^-63, the finest this reader takes", exp)
				}
				ifc.units = 1 << exp
				break
			}
			if exp > 19 {
				return fmt.Errorf("timestamp resolution 10^-%d is finer than 10^-19, the finest this reader takes", exp)
			}
			ifc.units = 1
			for range exp {
				ifc.units *= 10
			}
		case optIfTsoffset:
			if len(v) >= 8 {
				ifc.offset = int64(r.u64(v))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pcapng: interface description block at byte %d: %w", at, err)
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// options calls f with each option of b, up to opt_endofopt or the end of
// b, and returns f's first error.
func (r *Reader) options(b []byte, f func(code uint16, v []byte) error) error {
	for len(b) >= 4 {
		code, n := r.u16(b), int(r.u16(b[2:]))
		if code == optEndOfOpt {
			return nil
		}
		if 4+n > len(b) {
			return fmt.Errorf("option %d of %d bytes runs past the end of the block", code, n)
		}
		if err := f(code, b[4:4+n]); err != nil {
			return err
		}
		b = b[min(4+(n+3)&^3, len(b)):]
	}
	return nil
}

// parseNRB parses the body of a Name Resolution Block: its IPv4 and IPv6
// records (others are skipped) up to nrb_record_end. Its options follow
// the records, and are skipped.
func (r *Reader) parseNRB(at int64, b []byte) error {
	for len(b) >= 4 {
		typ, n := r.u16(b), int(r.u16(b[2:]))
		if typ == nrbRecordEnd {
			return nil
		}
		if 4+n > len(b) {
			return fmt.Errorf("pcapng: name resolution block at byte %d: record of type %d and %d bytes runs past the end of the block", at, typ, n)
		}
		v := b[4 : 4+n]
		b = b[min(4+(n+3)&^3, len(b)):]
		var rec NameRecord
		switch typ {
		case nrbRecordIPv4:
			if n < 4 {
				return fmt.Errorf("pcapng: name resolution block at byte %d: IPv4 record of %d bytes", at, n)
			}
			rec.Addr, v = netip.AddrFrom4([4]byte(v)), v[4:]
		case nrbRecordIPv6:
			if n < 16 {
				return fmt.Errorf("pcapng: name resolution block at byte %d: IPv6 record of %d bytes", at, n)
			}
			rec.Addr, v = netip.AddrFrom16([16]byte(v)), v[16:]
		default:
			continue
		}
		// Names are zero-terminated (the last one may lack its zero).
		for len(v) > 0 {
			i := 0
			for i < len(v) && v[i] != 0 {
				i++
			}
			if i > 0 {
				rec.Names = append(rec.Names, string(v[:i]))
			}
			v = v[min(i+1, len(v)):]
		}
		if len(rec.Names) > 0 {
			r.names = append(r.names, rec)
		}
	}
	return nil
}

// readPacketBlock reads an Enhanced Packet Block, or an obsolete Packet
// Block, of body bytes at at, whose header is read.
func (r *Reader) readPacketBlock(typ uint32, at int64, body int) (Packet, error) {
	h := r.hdr[:20]
	if err := r.full(h); err != nil {
		return Packet{}, r.cut(blockName(typ), at, err)
	}
	ifc := r.u32(h)
	if typ == blockPB {
		ifc = uint32(r.u16(h)) // then a 16-bit drops count
	}
	if uint64(ifc) >= uint64(len(r.ifaces)) {
		return Packet{}, fmt.Errorf("pcapng: %s at byte %d: interface %d is not declared (the section declares %d)", blockName(typ), at, ifc, len(r.ifaces))
	}
	ts := uint64(r.u32(h[4:]))<<32 | uint64(r.u32(h[8:]))
	caplen, orig := r.u32(h[12:]), r.u32(h[16:])
	if int64(caplen) > int64(body-20) {
		return Packet{}, fmt.Errorf("pcapng: %s at byte %d: captured length %d does not fit in the block's %d bytes", blockName(typ), at, caplen, body+12)
	}
	data, err := r.readInto(nil, int(caplen))
	if err != nil {
		return Packet{}, r.cut(blockName(typ), at, err)
	}
	// The padding, the options and the trailing length.
	if err := r.skip(body - 20 - int(caplen) + 4); err != nil {
		return Packet{}, r.cut(blockName(typ), at, err)
	}
	return Packet{Data: data, Time: r.ifaces[ifc].time(ts), Length: int(orig), Interface: int(ifc)}, nil
}

// readSimplePacketBlock reads a Simple Packet Block of body bytes at at,
// whose header is read. Its packet is on interface 0, and its captured
// length is the least of the original length, the interface's snap
// length and what the block holds.
func (r *Reader) readSimplePacketBlock(at int64, body int) (Packet, error) {
	h := r.hdr[:4]
	if err := r.full(h); err != nil {
		return Packet{}, r.cut("simple packet block", at, err)
	}
	if len(r.ifaces) == 0 {
		return Packet{}, fmt.Errorf("pcapng: simple packet block at byte %d: no interface is declared before it", at)
	}
	orig := r.u32(h)
	caplen := min(orig, uint32(body-4))
	if snap := r.ifaces[0].SnapLen; snap != 0 {
		caplen = min(caplen, snap)
	}
	data, err := r.readInto(nil, int(caplen))
	if err != nil {
		return Packet{}, r.cut("simple packet block", at, err)
	}
	if err := r.skip(body - 4 - int(caplen) + 4); err != nil {
		return Packet{}, r.cut("simple packet block", at, err)
	}
	return Packet{Data: data, Length: int(orig)}, nil
}

// --- reading ---

// full reads len(b) bytes: io.EOF when there were none, and
// io.ErrUnexpectedEOF when there were some.
func (r *Reader) full(b []byte) error {
	n, err := io.ReadFull(r.r, b)
	r.off += int64(n)
	return err
}

// readInto reads n bytes into dst's memory, or new memory when dst is too
// small. Up to eagerMax bytes are allocated at once; beyond, the buffer
// grows as the bytes arrive.
func (r *Reader) readInto(dst []byte, n int) ([]byte, error) {
	if n <= cap(dst) || n <= eagerMax {
		dst = slices.Grow(dst[:0], n)[:n]
		return dst, r.full(dst)
	}
	dst = dst[:0]
	for len(dst) < n {
		m := len(dst)
		chunk := min(n-m, max(m, eagerMax))
		dst = slices.Grow(dst, chunk)[:m+chunk]
		if err := r.full(dst[m:]); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// skip reads past n bytes.
func (r *Reader) skip(n int) error {
	m, err := r.r.Discard(n)
	r.off += int64(m)
	return err
}

// cut returns the error of reading what starts at byte at: a file that
// ends there wraps io.ErrUnexpectedEOF.
func (r *Reader) cut(what string, at int64, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%v: %s at byte %d: %w", r.format, what, at, err)
}

func (r *Reader) u16(b []byte) uint16 {
	if r.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *Reader) u32(b []byte) uint32 {
	if r.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *Reader) u64(b []byte) uint64 {
	if r.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}
