package tap

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"slices"
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
	// Width is the width of the listing in terminal columns; 0 means no
	// limit (every row on one line, as golden timelines hold it). Within
	// a width, a row's notes wrap under it, aligned with the column they
	// start in; when the columns themselves do not fit, a row is written
	// as No., Time and one text that wraps.
	Width int
	// Compact writes every row on one line, cut to Width with "…", with
	// only a segment's first note.
	Compact bool
	// Fold merges a listener's queue rows at one instant (with the
	// application steps between them) into one row, and folds a counter
	// row into the segment row its cause then sends, as a note.
	Fold bool
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
	// narrow says the columns do not fit in Header.Width: rows are
	// written as No., Time and one flowing text.
	narrow bool
	// queues are queue rows held to be merged (Header.Fold), with the
	// application rows of their host at the same instant written
	// meanwhile; counter is a counter row held to be folded.
	queues  []*Row
	counter *Row
	// buf is println's line, reused.
	buf []byte
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
	tw.narrow = h.Width > 0 && tw.column(len(textColumns)-1) > h.Width-minText
	return tw
}

// minText is the least room a text that wraps should have on its lines;
// a column that leaves less is not used to align wrapped lines.
const minText = 30

// column returns where column i starts.
func (tw *TextWriter) column(i int) int {
	n := 0
	for _, w := range tw.width[:i] {
		n += w + 2
	}
	return n
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
		tw.headLine(h.Title, sgrBold)
	}
	for _, l := range h.Lines {
		tw.headLine(l, "")
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
		tw.headLine(tw.text(i18n.M("out.hosts", strings.Join(hosts, tw.text(i18n.M("out.hosts.sep"))))), "")
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
	if tw.narrow {
		head := cols[0] + "  " + strings.Repeat(" ", max(0, tw.width[1]-textWidth(cols[1]))) + cols[1] + "  "
		fmt.Fprintln(tw.w, tw.p.paint(sgrBold, head+truncate(tw.text(i18n.M("out.col.what")), tw.h.Width-textWidth(head))))
		return
	}
	fmt.Fprintln(tw.w, tw.p.paint(sgrBold, tw.line(cols)))
}

// headLine writes a line of the header, painted, wrapped at the width
// with further lines indented by two columns.
func (tw *TextWriter) headLine(l, sgr string) {
	if tw.h.Width == 0 || textWidth(l) <= tw.h.Width {
		fmt.Fprintln(tw.w, tw.p.paint(sgr, l))
		return
	}
	for i, part := range wrap(l, tw.h.Width, tw.h.Width-2) {
		if i > 0 {
			part = "  " + part
		}
		fmt.Fprintln(tw.w, tw.p.paint(sgr, part))
	}
}

// line aligns cells in the columns. Cells are padded by their visible
// width, so colour escapes and wide runes do not shift the columns.
func (tw *TextWriter) line(c []string) string {
	var b strings.Builder
	b.Grow(128)
	for i, v := range c {
		if i > 0 {
			b.WriteString("  ")
		}
		pad := blanks(max(0, tw.width[i]-textWidth(v)))
		switch {
		case textColumns[i].right:
			b.WriteString(pad)
			b.WriteString(v)
		case i == len(c)-1:
			b.WriteString(v)
		default:
			b.WriteString(v)
			b.WriteString(pad)
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// Row implements Sink: it writes the row, on one line or, within a width,
// on as many as its notes need. With Header.Fold, queue and counter rows
// may wait for the rows after them. It returns the error of the first
// write that failed, from the row whose lines hit it on.
func (tw *TextWriter) Row(r *Row) error {
	if err := tw.row(r); err != nil {
		return err
	}
	_, err := tw.w.Write(nil) // the bufio.Writer's error, kept from a flush that failed
	return err
}

// row is Row, whose writes are buffered.
func (tw *TextWriter) row(r *Row) error {
	tw.begin()
	if !tw.h.Fold {
		return tw.write(r, nil, "")
	}
	if c := tw.counter; c != nil {
		tw.counter = nil
		if r.Kind == KindSegment && r.Host == c.Host && r.At == c.At && r.Cause == c.Cause {
			tw.flushQueues()
			return tw.write(r, []i18n.Msg{i18n.M("ui.counters", counterText(c.Counters))}, "")
		}
		tw.flushQueues()
		tw.write(c, nil, "")
	}
	if len(tw.queues) > 0 {
		q := tw.queues[0]
		switch {
		case r.Kind == KindQueue && r.At == q.At && r.Host == q.Host && r.Local == q.Local:
			tw.queues = append(tw.queues, r)
			return nil
		case r.Kind == KindApp && r.At == q.At && r.Host == q.Host:
			return tw.write(r, nil, "")
		}
		tw.flushQueues()
	}
	switch r.Kind {
	case KindQueue:
		tw.queues = []*Row{r}
		return nil
	case KindCounter:
		tw.counter = r
		return nil
	}
	return tw.write(r, nil, "")
}

// flushQueues writes the queue rows held, as one row that shows how the
// queues went at that instant.
func (tw *TextWriter) flushQueues() {
	qs := tw.queues
	tw.queues = nil
	if len(qs) == 0 {
		return
	}
	last := qs[len(qs)-1]
	if len(qs) == 1 {
		tw.write(last, nil, "")
		return
	}
	var waiting, half []string
	for _, q := range qs {
		w, h := strconv.Itoa(q.Waiting), strconv.Itoa(q.HalfOpen)
		if len(waiting) == 0 || waiting[len(waiting)-1] != w {
			waiting = append(waiting, w)
		}
		if len(half) == 0 || half[len(half)-1] != h {
			half = append(half, h)
		}
	}
	text := tw.text(i18n.M("ui.queue.steps", tw.t.connText(last.Local, netip.AddrPort{}), strings.Join(waiting, " → "), last.Capacity, strings.Join(half, " → ")))
	tw.write(last, nil, text)
}

// write writes one row, with extra notes after its own; text, when not
// empty, replaces the text of a row other than a segment.
func (tw *TextWriter) write(r *Row, extra []i18n.Msg, text string) error {
	notes := tw.notes(r, extra)
	if r.Kind == KindSegment {
		cells := tw.t.cells(r, tw.p, "")
		cells[9] = tw.paintNotes(r, notes)
		if tw.h.Width == 0 {
			fmt.Fprintln(tw.w, tw.line(cells))
			return nil
		}
		if tw.narrow {
			head := tw.line(cells[:2]) + "  "
			seg := cells[2] + " → " + cells[3] + "  " + cells[4] + "  seq=" + cells[5]
			if cells[6] != "" {
				seg += " ack=" + cells[6]
			}
			seg += " len=" + cells[7] + " win=" + cells[8]
			tw.flow(head, seg, cells[9])
			return nil
		}
		head := tw.line(cells[:9])
		head += strings.Repeat(" ", max(0, tw.column(9)-textWidth(head)))
		tw.flow(head, "", cells[9])
		return nil
	}
	at := fmtTime(r.At)
	lead := strings.Repeat(" ", tw.width[0]-1) + tw.p.paint(sgrDim, "·") + "  " +
		strings.Repeat(" ", max(0, tw.width[1]-len(at))) + at + "  "
	host := r.Host + strings.Repeat(" ", max(0, tw.width[2]-textWidth(r.Host)))
	if text == "" {
		text = tw.t.eventBody(r, tw.p, tw.h.Lang)
	}
	body := tw.t.paintEvent(r, tw.p, text, notes)
	if tw.h.Width == 0 {
		_, err := fmt.Fprintln(tw.w, lead+host+"  "+body)
		return err
	}
	if tw.narrow {
		tw.flow(lead, strings.TrimRight(host, " ")+"  "+body, "")
		return nil
	}
	tw.flow(lead+host+"  ", body, "")
	return nil
}

// notes renders a row's notes and extra notes; with Compact, a segment's
// first note only.
func (tw *TextWriter) notes(r *Row, extra []i18n.Msg) string {
	msgs := r.Notes
	if len(extra) > 0 {
		msgs = append(slices.Clip(msgs), extra...)
	}
	if tw.h.Compact && r.Kind == KindSegment && len(msgs) > 1 {
		msgs = msgs[:1]
	}
	if len(msgs) == len(r.Notes) && len(msgs) > 1 {
		// The row's own notes, which the capture renders too.
		return string(tw.t.memoNotes(r, tw.h.Lang))
	}
	return i18n.Join(msgs, tw.h.Lang, tw.t.Names)
}

// paintNotes paints a segment's notes as segmentCells does.
func (tw *TextWriter) paintNotes(r *Row, notes string) string {
	switch {
	case r.Dropped != nil || r.Arrival != nil && isDrop(r.Arrival.Verdict):
		return tw.p.paint(sgrRed, notes)
	case r.Analysis&badTCP != 0:
		return tw.p.paint(sgrYellow, notes)
	}
	return notes
}

// flow writes head, then text and notes (joined by two spaces) after it,
// within Header.Width: wrapped, each further line indented to where the
// text starts when that leaves room enough, else under the Time column;
// with Compact, cut to one line.
func (tw *TextWriter) flow(head, text, notes string) {
	body := text
	if notes != "" {
		if body != "" {
			body += "  "
		}
		body += notes
	}
	width, start := tw.h.Width, textWidth(head)
	if tw.h.Compact {
		fmt.Fprintln(tw.w, strings.TrimRight(head+truncate(body, width-start), " "))
		return
	}
	indent := start
	if indent > width-minText {
		indent = tw.column(1)
	}
	first := width - start
	lines := wrap(body, first, width-indent)
	if first < minText/2 && start > indent {
		// The head leaves almost no room: start the text on the next line.
		fmt.Fprintln(tw.w, strings.TrimRight(head, " "))
		lines = wrap(body, width-indent, width-indent)
		head = strings.Repeat(" ", indent)
	}
	for i, l := range lines {
		if i == 0 {
			tw.println(head, 0, l)
			continue
		}
		tw.println("", indent, l)
	}
}

// println writes head, then pad blanks, then l, without the blanks at the
// end, as one line: what fmt.Fprintln(strings.TrimRight(head+pad+l, " "))
// writes, without building the strings.
func (tw *TextWriter) println(head string, pad int, l string) {
	b := append(tw.buf[:0], head...)
	for range pad {
		b = append(b, ' ')
	}
	b = append(b, l...)
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	b = append(b, '\n')
	_, _ = tw.w.Write(b) // as with fmt.Fprintln before: the bufio.Writer keeps the error
	tw.buf = b
}

// Flush writes the header if no row came, and the rows held, and flushes
// the listing.
func (tw *TextWriter) Flush() error {
	tw.begin()
	if c := tw.counter; c != nil {
		tw.counter = nil
		tw.flushQueues()
		tw.write(c, nil, "")
	}
	tw.flushQueues()
	return tw.w.Flush()
}

// segmentCells returns the listing cells of a segment row, painted by p: a
// dropped segment's number, time, addresses and notes in red, a "Bad TCP"
// segment's notes (as Wireshark colours them) in yellow.
func (t *Tap) segmentCells(r *Row, p painter, lang i18n.Lang) []string {
	return t.cells(r, p, t.NoteText(r, lang))
}

// cells is segmentCells with the notes given, already rendered.
func (t *Tap) cells(r *Row, p painter, noteText string) []string {
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
		p.paint(notes, noteText),
	}
}

// eventText renders a row other than a segment, painted by p: the
// transition of a state row in cyan, a failed application step, a drop
// and a stall in red, queue and counter rows in magenta, a packet that is
// not TCP dimmed.
func (t *Tap) eventText(r *Row, p painter, lang i18n.Lang) string {
	return t.paintEvent(r, p, t.eventBody(r, p, lang), t.NoteText(r, lang))
}

// appErrMsg says that step, an application step, failed and what its
// script did then: went on (on_error = "continue"), or stopped with steps
// not run; else it is plain's text, given step and the error. The text
// timeline and the Mermaid notes both say it so.
func appErrMsg(a *event.App, step any, plain string) i18n.Msg {
	switch {
	case a.OnError == event.OnErrorContinue:
		return i18n.M("ui.app.err.continue", step, a.Err)
	case a.OnError == event.OnErrorStop && a.Skipped > 0:
		return i18n.M("ui.app.err.stop", step, a.Err, a.Skipped)
	}
	return i18n.M(plain, step, a.Err)
}

// eventBody renders what a row other than a segment says before its
// notes, with the colours of its parts (a state's transition in cyan, a
// failed application step in red).
func (t *Tap) eventBody(r *Row, p painter, lang i18n.Lang) string {
	text := func(m i18n.Msg) string { return m.Text(lang, t.Names) }
	switch r.Kind {
	case KindState:
		s := p.paint(sgrCyan, r.FromState.String()+" → "+r.ToState.String()) + "  " + t.connText(r.Local, r.Remote)
		if !r.CauseMsg.IsZero() {
			s += " " + text(i18n.M("ui.cause", r.CauseMsg))
		}
		return s
	case KindApp:
		a := r.App
		step := text(a.Step)
		if a.Label != "" {
			step = "[" + a.Label + "] " + step
		}
		if !a.Err.IsZero() {
			return p.paint(sgrRed, text(appErrMsg(a, step, "ui.app.err")))
		}
		return text(i18n.M("ui.app", step, a.Result))
	case KindPacket:
		return text(i18n.M("ui.frame", r.No, i18n.Msg{}))
	case KindQueue:
		return text(i18n.M("ui.queue", t.connText(r.Local, netip.AddrPort{}), r.Waiting, r.Capacity, r.HalfOpen))
	case KindCounter:
		s := text(i18n.M("ui.counters", counterText(r.Counters)))
		if !r.CauseMsg.IsZero() {
			s += " " + text(i18n.M("ui.cause", r.CauseMsg))
		}
		return s
	case KindCopy:
		flags := ""
		if r.Seg != nil { // nil for a copy of a packet that is not TCP
			flags = r.Seg.Flags.String()
		}
		return text(i18n.M("ui.copy", r.Copy, r.No, r.From, r.To, flags))
	case KindDrop:
		s := text(i18n.M("ui.drop", r.No, r.From, r.To, r.Seg.Flags.String()))
		if len(r.Counters) > 0 {
			s += " " + text(i18n.M("ui.cause", i18n.M("ui.counters", counterText(r.Counters))))
		}
		return s
	case KindTimer:
		return text(i18n.M("ui.timer", timerName(r.Cause), t.connText(r.Local, r.Remote)))
	case KindStall:
		return text(i18n.M("ui.stall", t.connText(r.Local, r.Remote)))
	case KindWorld:
		return ""
	}
	return ""
}

// paintEvent joins a row's body and notes (" — " between them) and paints
// the whole as its kind wants: a frame that is not TCP dimmed, queue and
// counter rows in magenta, drops and stalls in red. An application row
// shows no notes.
func (t *Tap) paintEvent(r *Row, p painter, body, notes string) string {
	withNotes := body
	if notes != "" {
		withNotes += " — " + notes
	}
	switch r.Kind {
	case KindApp:
		return body
	case KindPacket:
		return p.paint(sgrDim, body+notes)
	case KindQueue, KindCounter:
		return p.paint(sgrMagenta, withNotes)
	case KindDrop, KindStall:
		return p.paint(sgrRed, withNotes)
	case KindWorld:
		return p.paint(sgrYellow, notes) // its notes say it all
	}
	return withNotes
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
