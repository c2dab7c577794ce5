package capture

import (
	"io"
	"net/netip"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/pcapng"
	"github.com/tcplab/tcplab/tap"
)

// Writeback writes a capture back as pcapng, each explained segment with
// its explanation as the packet comment, and host names in a Name
// Resolution Block, which Wireshark and tshark show. Frames keep their
// link type, interface and timestamp. Give it every frame in capture order
// (Packet) and add it to the Explainer as a sink: a frame is written once
// the rows before it are released.
type Writeback struct {
	w      *pcapng.Writer
	rd     *Reader
	t      *tap.Tap
	lang   i18n.Lang
	only   bool // write only explained frames
	ifaces map[int]int
	queue  []*Packet
	head   int
	err    error
}

var _ tap.Sink = (*Writeback)(nil)

// NewWriteback returns a writer of the capture read by rd on w, with
// comments in lang and the host names of names and the capture's own.
// With onlyExplained, frames without an explanation (not TCP, or of a
// connection --conn left out) are left out.
func NewWriteback(w io.Writer, rd *Reader, t *tap.Tap, lang i18n.Lang, names map[netip.Addr]string, onlyExplained bool) *Writeback {
	wb := &Writeback{w: pcapng.NewWriter(w), rd: rd, t: t, lang: lang, only: onlyExplained, ifaces: map[int]int{}}
	all := map[netip.Addr]string{}
	for a, n := range rd.Names() {
		all[a] = n
	}
	for a, n := range names {
		all[a] = n
	}
	for _, a := range sortedAddrs(all) {
		wb.w.AddName(a, all[a])
	}
	return wb
}

// Packet queues a frame, in capture order.
func (wb *Writeback) Packet(p *Packet) { wb.queue = append(wb.queue, p) }

// Row implements tap.Sink: it writes the frames before the row's frame,
// then the row's frame with its notes as the comment.
func (wb *Writeback) Row(r *tap.Row) error {
	if r.Kind != tap.KindSegment {
		return nil
	}
	for wb.head < len(wb.queue) {
		p := wb.queue[wb.head]
		if p.No > r.No {
			break
		}
		wb.queue[wb.head] = nil
		wb.head++
		switch {
		case p.No == r.No:
			wb.write(p, wb.t.NoteText(r, wb.lang))
		case !wb.only:
			wb.write(p, "")
		}
	}
	if wb.head > 1024 && wb.head*2 > len(wb.queue) {
		n := copy(wb.queue, wb.queue[wb.head:])
		clear(wb.queue[n:])
		wb.queue, wb.head = wb.queue[:n], 0
	}
	return wb.err
}

// Close writes the frames left and returns the first error.
func (wb *Writeback) Close() error {
	for _, p := range wb.queue[wb.head:] {
		if !wb.only {
			wb.write(p, "")
		}
	}
	wb.queue, wb.head = nil, 0
	if err := wb.w.Flush(); err != nil && wb.err == nil {
		wb.err = err
	}
	return wb.err
}

// write writes one frame on its interface.
func (wb *Writeback) write(p *Packet, comment string) {
	if wb.err != nil {
		return
	}
	i, ok := wb.ifaces[p.Iface]
	if !ok {
		name, lt := wb.rd.Interface(p.Iface)
		if name == "" {
			name = "capture"
		}
		i = wb.w.AddInterface(name, "explained by tcplab", lt)
		wb.ifaces[p.Iface] = i
	}
	if err := wb.w.WritePacket(i, p.Time, p.Frame, comment); err != nil {
		wb.err = err
	}
}
