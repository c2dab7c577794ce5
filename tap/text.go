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
}

// WriteText writes the timeline as an aligned listing in the spirit of
// Wireshark's packet list: one row per segment with No., Time, Source,
// Destination, Flags, Seq, Ack, Len, Win, Options and Notes, and state
// changes and application steps as rows of their own marked "·". Column
// headings and notes are in t.Lang.
func (t *Tap) WriteText(w io.Writer, h Header) error {
	p := painter{on: h.Color}
	bw := bufio.NewWriter(w)
	if h.Title != "" {
		fmt.Fprintln(bw, p.paint(sgrBold, h.Title))
	}
	for _, l := range h.Lines {
		fmt.Fprintln(bw, l)
	}
	var hosts []string
	for _, hst := range t.hosts {
		var as []string
		for _, a := range hst.addrs {
			as = append(as, a.String())
		}
		hosts = append(hosts, hst.name+" = "+strings.Join(as, ", "))
	}
	if len(hosts) > 0 {
		fmt.Fprintln(bw, t.text(i18n.M("out.hosts", strings.Join(hosts, t.text(i18n.M("out.hosts.sep"))))))
	}
	if h.Title != "" || len(h.Lines) > 0 || len(hosts) > 0 {
		fmt.Fprintln(bw)
	}

	var cols []string
	for _, m := range []i18n.Msg{
		i18n.M("out.col.no"), i18n.M("out.col.time"), i18n.M("out.col.source"), i18n.M("out.col.destination"),
		i18n.M("out.col.flags"), i18n.M("out.col.seq"), i18n.M("out.col.ack"), i18n.M("out.col.len"),
		i18n.M("out.col.win"), i18n.M("out.col.options"), i18n.M("out.col.notes"),
	} {
		cols = append(cols, t.text(m))
	}
	right := []bool{true, true, false, false, false, true, true, true, true, false, false}
	var cells [][]string
	for _, r := range t.rows {
		if r.Kind == KindSegment {
			cells = append(cells, t.segmentCells(r, p))
		}
	}
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = textWidth(c)
	}
	for _, c := range cells {
		for i, v := range c {
			width[i] = max(width[i], textWidth(v))
		}
	}
	// Event rows have no frame number but their time aligns with segments.
	for _, r := range t.rows {
		width[1] = max(width[1], len(fmtTime(r.At)))
	}
	// Cells are padded by their visible width, so colour escapes and wide
	// runes do not shift the columns.
	line := func(c []string) string {
		var b strings.Builder
		for i, v := range c {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-textWidth(v))
			if right[i] {
				b.WriteString(pad + v)
			} else if i == len(c)-1 {
				b.WriteString(v)
			} else {
				b.WriteString(v + pad)
			}
		}
		return strings.TrimRight(b.String(), " ")
	}
	fmt.Fprintln(bw, p.paint(sgrBold, line(cols)))
	seg := 0
	for _, r := range t.rows {
		switch r.Kind {
		case KindSegment:
			fmt.Fprintln(bw, line(cells[seg]))
			seg++
		default:
			lead := strings.Repeat(" ", width[0]-1) + p.paint(sgrDim, "·") + "  " + strings.Repeat(" ", width[1]-len(fmtTime(r.At))) + fmtTime(r.At) + "  "
			host := r.Host + strings.Repeat(" ", max(0, width[2]-textWidth(r.Host)))
			fmt.Fprintln(bw, lead+host+"  "+t.eventText(r, p))
		}
	}
	return bw.Flush()
}

// segmentCells returns the listing cells of a segment row, painted by p: a
// dropped segment's number, time, addresses and notes in red, a "Bad TCP"
// segment's notes (as Wireshark colours them) in yellow.
func (t *Tap) segmentCells(r *Row, p painter) []string {
	ack := ""
	if r.HasAck {
		ack = strconv.FormatUint(uint64(r.RelAck), 10)
	}
	mark, notes := "", ""
	switch {
	case !r.Dropped.IsZero():
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
		r.OptText(),
		p.paint(notes, t.NoteText(r)),
	}
}

// eventText renders a state, application, packet, queue or counter row,
// painted by p: the transition of a state row in cyan, a failed
// application step in red, queue and counter rows in magenta, a packet that
// is not TCP dimmed.
func (t *Tap) eventText(r *Row, p painter) string {
	switch r.Kind {
	case KindState:
		s := p.paint(sgrCyan, r.FromState+" → "+r.ToState) + "  " + t.connText(r.Local, r.Remote)
		if len(r.Cause) > 0 {
			s += " " + t.text(i18n.M("ui.cause", r.Cause))
		}
		if n := t.NoteText(r); n != "" {
			s += " — " + n
		}
		return s
	case KindApp:
		if r.Err != "" {
			return p.paint(sgrRed, t.text(i18n.M("ui.app.err", r.Step, r.Err)))
		}
		return t.text(i18n.M("ui.app", r.Step, r.Result))
	case KindPacket:
		return p.paint(sgrDim, t.text(i18n.M("ui.frame", r.No, i18n.Msg{}))+t.NoteText(r))
	case KindQueue:
		s := t.text(i18n.M("ui.queue", t.connText(r.Local, netip.AddrPort{}), r.Waiting, r.Capacity, r.HalfOpen))
		if n := t.NoteText(r); n != "" {
			s += " — " + n
		}
		return p.paint(sgrMagenta, s)
	case KindCounter:
		s := t.text(i18n.M("ui.counters", counterText(r.Counters)))
		if n := t.NoteText(r); n != "" {
			s += " — " + n
		}
		return p.paint(sgrMagenta, s)
	}
	return ""
}

// counterText renders counter moves: "ListenOverflowSynDrop +1 = 3, ...".
func counterText(cs []CounterMove) string {
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

// NoteText renders a row's notes in the tap's language.
func (t *Tap) NoteText(r *Row) string { return i18n.Join(r.Notes, t.Lang, t.hostName) }

// CauseText renders a state row's cause in the tap's language.
func (t *Tap) CauseText(r *Row) string { return i18n.Join(r.Cause, t.Lang, t.hostName) }

// text renders one message in the tap's language.
func (t *Tap) text(m i18n.Msg) string { return m.Text(t.Lang, t.hostName) }

// hostName is the i18n.Namer of the tap's hosts.
func (t *Tap) hostName(a netip.Addr) string { return t.byAddr[a] }

// fmtTime renders virtual time in seconds with microseconds, as Wireshark
// does: "0.010000".
func fmtTime(d time.Duration) string {
	us := d / time.Microsecond
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

// RowText renders one row on a single line, without column alignment, as
// reports quote it: "#12 1.020000 server:80 → client:16000 RST,ACK seq=6
// ack=1 len=0 — <notes>" or "· 80.000000 client app: send ... → error: ...".
func (t *Tap) RowText(r *Row) string {
	if r.Kind != KindSegment {
		return fmt.Sprintf("· %s %s %s", fmtTime(r.At), r.Host, t.eventText(r, painter{}))
	}
	c := t.segmentCells(r, painter{})
	s := fmt.Sprintf("#%s %s %s → %s %s seq=%s", c[0], c[1], c[2], c[3], c[4], c[5])
	if c[6] != "" {
		s += " ack=" + c[6]
	}
	s += " len=" + c[7]
	if n := t.NoteText(r); n != "" {
		s += " — " + n
	}
	return s
}
