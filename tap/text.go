package tap

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
)

// Header is what the text timeline prints above the rows, and how it
// prints them.
type Header struct {
	// Title is the lab's name and title.
	Title string
	// Lines are further lines (description, seed); each printed as is.
	Lines []string
	// Color marks the listing with ANSI colours for a terminal: flags (SYN
	// green, FIN yellow, RST red), state changes, dropped segments and
	// failed application steps. Columns stay aligned.
	Color bool
	// Lang is the language of the headings and notes.
	Lang i18n.Lang
	// MaxTime is the latest virtual time a row can have (the lab's time
	// limit), which sets the width of the Time column; 0 means 999 s.
	MaxTime time.Duration
}

// TextWriter writes the timeline as an aligned listing in the spirit of
// Wireshark's packet list, one row at a time as the tap releases them: one
// line per segment with No., Time, Source, Destination, Flags, Seq, Ack,
// Len, Win and Notes, and state changes, application steps and the other
// events as lines of their own marked "·". Column widths are fixed when the
// listing starts (from the hosts' names and the time limit), so that a
// line can be written as soon as its row is known; a value wider than its
// column pushes the rest of its line to the right. It implements Sink.
type TextWriter struct {
	t     *Tap
	w     *bufio.Writer
	h     Header
	p     painter
	width []int
	begun bool
}

var _ Sink = (*TextWriter)(nil)

// textColumns are the listing's columns: their heading keys and whether
// they are right-aligned.
var textColumns = []struct {
	key   string
	right bool
}{
	{"out.col.no", true}, {"out.col.time", true}, {"out.col.source", false}, {"out.col.destination", false},
	{"out.col.flags", false}, {"out.col.seq", true}, {"out.col.ack", true}, {"out.col.len", true},
	{"out.col.win", true}, {"out.col.notes", false},
}

// NewTextWriter returns a text writer on w for the tap's rows. The header
// is written with the first row, or by Flush.
func (t *Tap) NewTextWriter(w io.Writer, h Header) *TextWriter {
	tw := &TextWriter{t: t, w: bufio.NewWriter(w), h: h, p: painter{on: h.Color}}
	maxTime := h.MaxTime
	if maxTime <= 0 {
		maxTime = 999 * time.Second
	}
	host := 0
	for _, hs := range t.hosts {
		host = max(host, textWidth(hs.name))
	}
	// No., Time, Source, Destination, Flags, Seq, Ack, Len, Win, Notes.
	tw.width = []int{4, len(fmtTime(maxTime)), host + 6, host + 6, 8, 6, 6, 5, 7, 0}
	for i, c := range textColumns {
		tw.width[i] = max(tw.width[i], textWidth(tw.text(i18n.M(c.key))))
	}
	return tw
}

// text renders one message in the writer's language.
func (tw *TextWriter) text(m i18n.Msg) string { return m.Text(tw.h.Lang, tw.t.Names) }

// begin writes the header and the column headings once.
func (tw *TextWriter) begin() {
	if tw.begun {
		return
	}
	tw.begun = true
	h := tw.h
	if h.Title != "" {
		fmt.Fprintln(tw.w, tw.p.paint(sgrBold, h.Title))
	}
	for _, l := range h.Lines {
		fmt.Fprintln(tw.w, l)
	}
	var hosts []string
	for _, hst := range tw.t.hosts {
		var as []string
		for _, a := range hst.addrs {
			as = append(as, a.String())
		}
		hosts = append(hosts, hst.name+" = "+strings.Join(as, ", "))
	}
	if len(hosts) > 0 {
		fmt.Fprintln(tw.w, tw.text(i18n.M("out.hosts", strings.Join(hosts, tw.text(i18n.M("out.hosts.sep"))))))
	}
	if h.Title != "" || len(h.Lines) > 0 || len(hosts) > 0 {
		fmt.Fprintln(tw.w)
	}
	var cols []string
	for _, c := range textColumns {
		cols = append(cols, tw.text(i18n.M(c.key)))
	}
	// The first heading starts the line, as Wireshark's does, however
	// wide its column.
	cols[0] += strings.Repeat(" ", max(0, tw.width[0]-textWidth(cols[0])))
	fmt.Fprintln(tw.w, tw.p.paint(sgrBold, tw.line(cols)))
}

// line aligns cells in the columns. Cells are padded by their visible
// width, so colour escapes and wide runes do not shift the columns.
func (tw *TextWriter) line(c []string) string {
	var b strings.Builder
	for i, v := range c {
		if i > 0 {
			b.WriteString("  ")
		}
		pad := strings.Repeat(" ", max(0, tw.width[i]-textWidth(v)))
		switch {
		case textColumns[i].right:
			b.WriteString(pad + v)
		case i == len(c)-1:
			b.WriteString(v)
		default:
			b.WriteString(v + pad)
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// Row implements Sink: it writes one line.
func (tw *TextWriter) Row(r *Row) error {
	tw.begin()
	if r.Kind == KindSegment {
		fmt.Fprintln(tw.w, tw.line(tw.t.segmentCells(r, tw.p, tw.h.Lang)))
		return nil
	}
	at := fmtTime(r.At)
	lead := strings.Repeat(" ", tw.width[0]-1) + tw.p.paint(sgrDim, "·") + "  " +
		strings.Repeat(" ", max(0, tw.width[1]-len(at))) + at + "  "
	host := r.Host + strings.Repeat(" ", max(0, tw.width[2]-textWidth(r.Host)))
	_, err := fmt.Fprintln(tw.w, lead+host+"  "+tw.t.eventText(r, tw.p, tw.h.Lang))
	return err
}

// Flush writes the header if no row came, and flushes the listing.
func (tw *TextWriter) Flush() error {
	tw.begin()
	return tw.w.Flush()
}

// segmentCells returns the listing cells of a segment row, painted by p: a
// dropped segment's number, time, addresses and notes in red, a "Bad TCP"
// segment's notes (as Wireshark colours them) in yellow.
func (t *Tap) segmentCells(r *Row, p painter, lang i18n.Lang) []string {
	ack := ""
	if r.HasAck {
		ack = strconv.FormatUint(uint64(r.RelAck), 10)
	}
	mark, notes := "", ""
	switch {
	case r.Dropped != nil || r.Arrival != nil && isDrop(r.Arrival.Verdict):
		mark, notes = sgrRed, sgrRed
	case r.Analysis&badTCP != 0:
		notes = sgrYellow
	}
	return []string{
		p.paint(mark, strconv.Itoa(r.No)),
		p.paint(mark, fmtTime(r.At)),
		p.paint(mark, r.From),
		p.paint(mark, r.To),
		p.flags(r.Seg.Flags),
		strconv.FormatUint(uint64(r.RelSeq), 10),
		ack,
		strconv.Itoa(r.Seg.Len),
		strconv.Itoa(r.Window),
		p.paint(notes, t.NoteText(r, lang)),
	}
}

// eventText renders a row other than a segment, painted by p: the
// transition of a state row in cyan, a failed application step, a drop
// and a stall in red, queue and counter rows in magenta, a packet that is
// not TCP dimmed.
func (t *Tap) eventText(r *Row, p painter, lang i18n.Lang) string {
	text := func(m i18n.Msg) string { return m.Text(lang, t.Names) }
	withNotes := func(s string) string {
		if n := t.NoteText(r, lang); n != "" {
			s += " — " + n
		}
		return s
	}
	switch r.Kind {
	case KindState:
		s := p.paint(sgrCyan, r.FromState.String()+" → "+r.ToState.String()) + "  " + t.connText(r.Local, r.Remote)
		if !r.CauseMsg.IsZero() {
			s += " " + text(i18n.M("ui.cause", r.CauseMsg))
		}
		return withNotes(s)
	case KindApp:
		a := r.App
		step := text(a.Step)
		if a.Label != "" {
			step = "[" + a.Label + "] " + step
		}
		if !a.Err.IsZero() {
			return p.paint(sgrRed, text(i18n.M("ui.app.err", step, a.Err)))
		}
		return text(i18n.M("ui.app", step, a.Result))
	case KindPacket:
		return p.paint(sgrDim, text(i18n.M("ui.frame", r.No, i18n.Msg{}))+t.NoteText(r, lang))
	case KindQueue:
		return p.paint(sgrMagenta, withNotes(text(i18n.M("ui.queue", t.connText(r.Local, netip.AddrPort{}), r.Waiting, r.Capacity, r.HalfOpen))))
	case KindCounter:
		s := text(i18n.M("ui.counters", counterText(r.Counters)))
		if !r.CauseMsg.IsZero() {
			s += " " + text(i18n.M("ui.cause", r.CauseMsg))
		}
		return p.paint(sgrMagenta, withNotes(s))
	case KindCopy:
		flags := ""
		if r.Seg != nil { // nil for a copy of a packet that is not TCP
			flags = r.Seg.Flags.String()
		}
		return withNotes(text(i18n.M("ui.copy", r.Copy, r.No, r.From, r.To, flags)))
	case KindDrop:
		s := text(i18n.M("ui.drop", r.No, r.From, r.To, r.Seg.Flags.String()))
		if len(r.Counters) > 0 {
			s += " " + text(i18n.M("ui.cause", i18n.M("ui.counters", counterText(r.Counters))))
		}
		return p.paint(sgrRed, withNotes(s))
	case KindTimer:
		return withNotes(text(i18n.M("ui.timer", timerName(r.Cause), t.connText(r.Local, r.Remote))))
	case KindStall:
		return p.paint(sgrRed, withNotes(text(i18n.M("ui.stall", t.connText(r.Local, r.Remote)))))
	}
	return withNotes("")
}

// counterText renders counter moves: "ListenOverflowSynDrop +1 = 3, ...".
func counterText(cs []event.CounterMove) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s +%d = %d", c.Name, c.Delta, c.Total))
	}
	return strings.Join(parts, ", ")
}

// connText renders an endpoint's addresses: "client:16000 ↔ server:80", or
// "*:80" for a listener.
func (t *Tap) connText(local, remote netip.AddrPort) string {
	l := "*:" + strconv.Itoa(int(local.Port()))
	if local.Addr().IsValid() && !local.Addr().IsUnspecified() {
		l = t.endpoint(local)
	}
	if !remote.Addr().IsValid() || remote.Addr().IsUnspecified() {
		return l
	}
	return l + " ↔ " + t.endpoint(remote)
}

// NoteText renders a row's notes in lang.
func (t *Tap) NoteText(r *Row, lang i18n.Lang) string { return i18n.Join(r.Notes, lang, t.Names) }

// RowText renders one row on a single line, without column alignment, as
// reports quote it: "#12 1.020000 server:80 → client:16000 RST, ACK seq=6
// ack=1 len=0 — <notes>" or "· 80.000000 client app: send ... → error: ...".
func (t *Tap) RowText(r *Row, lang i18n.Lang) string {
	if r.Kind != KindSegment {
		return fmt.Sprintf("· %s %s %s", fmtTime(r.At), r.Host, t.eventText(r, painter{}, lang))
	}
	c := t.segmentCells(r, painter{}, lang)
	s := fmt.Sprintf("#%s %s %s → %s %s seq=%s", c[0], c[1], c[2], c[3], c[4], c[5])
	if c[6] != "" {
		s += " ack=" + c[6]
	}
	s += " len=" + c[7]
	if n := c[9]; n != "" {
		s += " — " + n
	}
	return s
}
