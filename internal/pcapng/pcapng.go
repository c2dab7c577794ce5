package pcapng

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strings"
	"time"
)

// pcapng block types, option codes and record types (draft-ietf-opsawg-pcapng).
const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockNRB = 0x00000004
	blockEPB = 0x00000006

	byteOrderMagic = 0x1A2B3C4D

	optEndOfOpt    = 0
	optComment     = 1
	optShbUserAppl = 4
	optIfName      = 2
	optIfDesc      = 3
	optIfTsresol   = 9

	nrbRecordEnd  = 0
	nrbRecordIPv4 = 1
	nrbRecordIPv6 = 2

	// snapLen is the IDB snap length: libpcap's MAXIMUM_SNAPLEN.
	snapLen = 262144
)

type iface struct {
	name, description string
	linkType          LinkType
}

type hostName struct {
	addr netip.Addr
	name string
}

// Writer writes a pcapng capture: a Section Header Block, Interface
// Description Blocks, an optional Name Resolution Block, and Enhanced Packet
// Blocks with comments.
//
// The first error (a write error or a misuse such as an unknown interface
// index) is sticky: every later call returns it and writes nothing.
// A Writer is not safe for concurrent use.
type Writer struct {
	w          io.Writer
	ifaces     []iface
	names      []hostName
	headerDone bool
	err        error
	buf        []byte // reused block buffer
}

// NewWriter returns a writer on w. Nothing is written until the first
// call that needs to (Flush, or the first packet).
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// AddInterface declares an interface (name such as "client", description
// such as "tcplab host client 10.0.0.1") with a link type; returns its
// index. An interface added after the first packet is written at once,
// before the packets that use it (tshark reads such files; libpcap, and so
// tcpdump, may not).
//
// tcpdump compatibility (measured with tcpdump 4.99.3 / libpcap 1.10.3):
// libpcap refuses an IDB whose link type differs from the first IDB's, so
// `tcpdump -r` of a file mixing LinkTypeIPv4 and LinkTypeIPv6 prints no
// packets (all IDBs precede the first packet) and exits 1 with
//
//	tcpdump: pcap_loop: an interface has a type 229 different from the type of the first interface
//
// LINKTYPE_RAW (101) on every interface fails the same way even though the
// types agree ("an interface has a type 101 different from ..."): libpcap
// compares the first IDB's type after mapping it to DLT_RAW (12) with the
// raw 101 of later IDBs. What tcpdump reads fully: several interfaces that
// all use 228 (or all 229), or one single interface of type 101 carrying
// both IPv4 and IPv6. tshark 4.0.17 reads all of these layouts.
func (w *Writer) AddInterface(name, description string, linkType LinkType) int {
	if len(name) > 0xFFFF || len(description) > 0xFFFF {
		w.setErr(fmt.Errorf("pcapng: interface %q name or description too long", name))
	}
	ifc := iface{name, description, linkType}
	w.ifaces = append(w.ifaces, ifc)
	if w.headerDone && w.err == nil {
		w.writeIDB(ifc)
	}
	return len(w.ifaces) - 1
}

// AddName records an address → host name entry for the Name Resolution
// Block (IPv4 and IPv6 records). Must be called before the first packet.
// Entries are written in the order added.
func (w *Writer) AddName(addr netip.Addr, name string) {
	switch {
	case w.headerDone:
		w.setErr(fmt.Errorf("pcapng: name %q added after the first packet", name))
	case !addr.IsValid():
		w.setErr(fmt.Errorf("pcapng: invalid address for name %q", name))
	case name == "" || len(name) > 0xFF00 || strings.IndexByte(name, 0) >= 0:
		w.setErr(fmt.Errorf("pcapng: invalid host name %q", name))
	default:
		w.names = append(w.names, hostName{addr, name})
	}
}

// WritePacket writes one Enhanced Packet Block on interface iface with
// timestamp ts, the packet bytes (a raw IP packet), and an optional comment
// (opt_comment, omitted when empty). The first call writes the SHB (with
// shb_userappl "tcplab"), all IDBs (each with if_name, if_description,
// if_tsresol=9 i.e. nanoseconds) and the NRB.
func (w *Writer) WritePacket(iface int, ts time.Time, data []byte, comment string) error {
	if w.err != nil {
		return w.err
	}
	if len(comment) > 0xFFFF {
		return w.setErr(errors.New("pcapng: packet comment longer than 65535 bytes"))
	}
	if comment == "" {
		return w.WritePacketAppend(iface, ts, data, nil)
	}
	return w.WritePacketAppend(iface, ts, data, func(b []byte) []byte { return append(b, comment...) })
}

// WritePacketAppend is WritePacket with the comment appended by comment
// (which may be nil for none) straight into the block being built, so that
// a caller rendering the comment need not make a string of it first.
func (w *Writer) WritePacketAppend(iface int, ts time.Time, data []byte, comment func([]byte) []byte) error {
	if w.err != nil {
		return w.err
	}
	if iface < 0 || iface >= len(w.ifaces) {
		return w.setErr(fmt.Errorf("pcapng: unknown interface index %d (%d declared)", iface, len(w.ifaces)))
	}
	if ts.Before(time.Unix(0, 0)) || ts.After(time.Unix(0, math.MaxInt64)) {
		return w.setErr(fmt.Errorf("pcapng: timestamp %v not representable in nanoseconds since 1970", ts))
	}
	if err := w.writeHeader(); err != nil {
		return err
	}
	nanos := uint64(ts.UnixNano())
	b := w.start(blockEPB)
	b = binary.LittleEndian.AppendUint32(b, uint32(iface))
	b = binary.LittleEndian.AppendUint32(b, uint32(nanos>>32))
	b = binary.LittleEndian.AppendUint32(b, uint32(nanos))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data))) // captured length
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data))) // original length
	b = pad32(append(b, data...))
	if comment != nil {
		// The option's header, then its value, then the length filled in.
		at := len(b)
		b = binary.LittleEndian.AppendUint16(b, optComment)
		b = append(b, 0, 0)
		b = comment(b)
		switch n := len(b) - at - 4; {
		case n == 0:
			b = b[:at]
		case n > 0xFFFF:
			w.buf = b[:0]
			return w.setErr(errors.New("pcapng: packet comment longer than 65535 bytes"))
		default:
			binary.LittleEndian.PutUint16(b[at+2:], uint16(n))
			b = appendOption(pad32(b), optEndOfOpt, nil)
		}
	}
	return w.finish(b)
}

// Flush writes the header blocks if no packet was written yet (so an empty
// capture is still a valid file) and returns the first error seen. It does
// not flush the underlying io.Writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.writeHeader()
}

// writeHeader writes the SHB, the IDBs and the NRB (if any names) once.
func (w *Writer) writeHeader() error {
	if w.headerDone {
		return w.err
	}
	w.headerDone = true

	b := w.start(blockSHB)
	b = binary.LittleEndian.AppendUint32(b, byteOrderMagic)
	b = binary.LittleEndian.AppendUint16(b, 1) // major version
	b = binary.LittleEndian.AppendUint16(b, 0) // minor version
	b = binary.LittleEndian.AppendUint64(b, 0xFFFFFFFFFFFFFFFF)
	b = appendOption(b, optShbUserAppl, []byte("tcplab"))
	b = appendOption(b, optEndOfOpt, nil)
	if err := w.finish(b); err != nil {
		return err
	}

	for _, ifc := range w.ifaces {
		if err := w.writeIDB(ifc); err != nil {
			return err
		}
	}

	if len(w.names) == 0 {
		return nil
	}
	b = w.start(blockNRB)
	for _, n := range w.names {
		typ := uint16(nrbRecordIPv6)
		if n.addr.Is4() {
			typ = nrbRecordIPv4
		}
		b = appendOption(b, typ, append(append(n.addr.AsSlice(), n.name...), 0))
	}
	b = appendOption(b, nrbRecordEnd, nil)
	return w.finish(b)
}

// writeIDB writes an Interface Description Block.
func (w *Writer) writeIDB(ifc iface) error {
	b := w.start(blockIDB)
	b = binary.LittleEndian.AppendUint16(b, uint16(ifc.linkType))
	b = binary.LittleEndian.AppendUint16(b, 0) // reserved
	b = binary.LittleEndian.AppendUint32(b, snapLen)
	b = appendOption(b, optIfName, []byte(ifc.name))
	b = appendOption(b, optIfDesc, []byte(ifc.description))
	b = appendOption(b, optIfTsresol, []byte{9}) // 10^-9 s
	b = appendOption(b, optEndOfOpt, nil)
	return w.finish(b)
}

// start returns the reused buffer holding the block type and a placeholder
// for the total length.
func (w *Writer) start(blockType uint32) []byte {
	b := binary.LittleEndian.AppendUint32(w.buf[:0], blockType)
	return append(b, 0, 0, 0, 0)
}

// finish fills in both total-length fields of the block in b and writes it.
func (w *Writer) finish(b []byte) error {
	total := uint32(len(b) + 4)
	binary.LittleEndian.PutUint32(b[4:], total)
	b = binary.LittleEndian.AppendUint32(b, total)
	w.buf = b
	if _, err := w.w.Write(b); err != nil {
		return w.setErr(err)
	}
	return nil
}

func (w *Writer) setErr(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// appendOption appends a TLV option (or NRB record) padded to 32 bits.
func appendOption(b []byte, code uint16, val []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(val)))
	return pad32(append(b, val...))
}

// pad32 appends zero bytes until len(b) is a multiple of 4.
func pad32(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
