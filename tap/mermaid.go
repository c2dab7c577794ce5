package tap

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/segment"
)

// MermaidOptions adjust the Mermaid form of the timeline.
type MermaidOptions struct {
	// Title is the diagram's title; none when empty.
	Title string
	// Lang is the language of notes.
	Lang i18n.Lang
	// Notes adds each segment's annotation as a note over its two hosts.
	// Without it the arrows carry only flags and numbers, which keeps a
	// diagram narrow enough to read.
	Notes bool
}

// mermaidGap is the pause between two rows from which the diagram says how
// much virtual time passed, since a sequence diagram has no time axis.
const mermaidGap = time.Second

// MermaidWriter writes the timeline as a Mermaid sequence diagram, one
// row at a time as the tap releases them: one participant per host, in
// host order (an address no host owns that a segment is sent to joins
// when it first appears); one arrow per captured frame, labelled "[No.]
// FLAGS seq=S ack=A len=L", drawn as a lost arrow (-x) when the network or
// the receiving stack dropped it; a note over a host for each state change
// ("SYN_SENT → ESTABLISHED (:40000)"), application step, queue change and
// counter move; and a note over every host where a second or more of
// virtual time passes without a row. Characters Mermaid would read as
// syntax are written as its entity codes. It implements Sink.
type MermaidWriter struct {
	t     *Tap
	w     *bufio.Writer
	opts  MermaidOptions
	cast  *mermaidCast
	last  time.Duration
	rows  int
	begun bool
}

var _ Sink = (*MermaidWriter)(nil)

// NewMermaidWriter returns a Mermaid writer on w for the tap's rows.
func (t *Tap) NewMermaidWriter(w io.Writer, opts MermaidOptions) *MermaidWriter {
	return &MermaidWriter{t: t, w: bufio.NewWriter(w), opts: opts}
}

// text renders one message in the writer's language.
func (mw *MermaidWriter) text(m i18n.Msg) string { return m.Text(mw.opts.Lang, mw.t.Names) }

// begin writes the diagram's head once: its title and the hosts.
func (mw *MermaidWriter) begin() {
	if mw.begun {
		return
	}
	mw.begun = true
	fmt.Fprintln(mw.w, "sequenceDiagram")
	if mw.opts.Title != "" {
		fmt.Fprintln(mw.w, "    title "+mermaidText(mw.opts.Title))
	}
	mw.cast = &mermaidCast{ids: map[string]string{}, used: map[string]bool{}}
	for _, h := range mw.t.hosts {
		if mermaidID(h.name) {
			mw.cast.used[strings.ToLower(h.name)] = true
		}
	}
	for _, h := range mw.t.hosts {
		mw.participant(h.name)
	}
	if len(mw.t.hosts) == 0 {
		mw.participant("network")
	}
}

// participant returns the source name of the participant called name,
// declaring it first if it is new.
func (mw *MermaidWriter) participant(name string) string {
	if id, ok := mw.cast.ids[name]; ok {
		return id
	}
	p := mw.cast.add(name)
	if p.id == p.name {
		fmt.Fprintf(mw.w, "    participant %s\n", p.id)
	} else {
		fmt.Fprintf(mw.w, "    participant %s as %s\n", p.id, mermaidText(p.name))
	}
	return p.id
}

// all names the span of every participant so far, for a note over all.
func (mw *MermaidWriter) all() string {
	o := mw.cast.order
	if len(o) == 1 {
		return o[0].id
	}
	return o[0].id + "," + o[len(o)-1].id
}

// Row implements Sink.
func (mw *MermaidWriter) Row(r *Row) error {
	mw.begin()
	bw := mw.w
	if mw.rows > 0 {
		if gap := r.At - mw.last; gap >= mermaidGap {
			note(bw, mw.all(), mw.text(i18n.M("out.mmd.gap", gap, fmtTime(r.At))))
		}
	}
	mw.last = r.At
	mw.rows++
	from := mw.participant(r.Host)
	switch r.Kind {
	case KindSegment:
		if r.Box != nil {
			// A middlebox's RST is drawn from the host it claims to come
			// from; its note names the box.
			from = mw.participant(mw.t.Name(r.Seg.Src.Addr()))
		}
		to := mw.participant(mw.t.Name(r.Seg.Dst.Addr()))
		arrow := "->>"
		label := mw.t.mermaidLabel(r)
		if r.Dropped != nil || r.Arrival != nil && isDrop(r.Arrival.Verdict) {
			arrow = "-x"
			label = mw.text(i18n.M("out.mmd.dropped", label))
		}
		fmt.Fprintf(bw, "    %s%s%s: %s\n", from, arrow, to, mermaidText(label))
		if mw.opts.Notes {
			note(bw, mw.cast.span(from, to), mw.t.NoteText(r, mw.opts.Lang))
		}
	case KindPacket:
		note(bw, from, mw.text(i18n.M("out.mmd.packet", r.No, r.Notes)))
	case KindState:
		s := r.FromState.String() + " → " + r.ToState.String()
		if r.Local.Port() != 0 {
			s += " (:" + strconv.Itoa(int(r.Local.Port())) + ")"
		}
		note(bw, from, s)
	case KindApp:
		a := r.App
		if !a.Err.IsZero() {
			note(bw, from, mw.text(i18n.M("out.mmd.app.err", a.Step, a.Err)))
		} else {
			note(bw, from, mw.text(i18n.M("out.mmd.app", a.Step)))
		}
	case KindQueue:
		note(bw, from, mw.text(i18n.M("out.mmd.queue", r.Waiting, r.Capacity, r.HalfOpen)))
	case KindCounter:
		note(bw, from, counterText(r.Counters))
	default:
		note(bw, from, mw.t.eventText(r, painter{}, mw.opts.Lang))
	}
	return nil
}

// Flush writes the diagram's head if no row came, and flushes.
func (mw *MermaidWriter) Flush() error {
	mw.begin()
	return mw.w.Flush()
}

// mermaidLabel is the short label of a segment's arrow: frame number,
// flags, relative seq, and ack, length and window where they say something
// (the window on a SYN, a zero window and a window update).
func (t *Tap) mermaidLabel(r *Row) string {
	s := fmt.Sprintf("[%d] %s seq=%d", r.No, r.Seg.Flags.String(), r.RelSeq)
	if r.HasAck {
		s += fmt.Sprintf(" ack=%d", r.RelAck)
	}
	if r.Seg.Len > 0 {
		s += fmt.Sprintf(" len=%d", r.Seg.Len)
	}
	if r.Seg.Flags&segment.SYN != 0 || r.Window == 0 || r.Analysis&(WindowUpdate|ZeroWindow) != 0 {
		s += fmt.Sprintf(" win=%d", r.Window)
	}
	return s
}

// note writes a note over participants ("a" or "a,b"); an empty text
// writes nothing.
func note(w io.Writer, over, text string) {
	if text == "" {
		return
	}
	fmt.Fprintf(w, "    Note over %s: %s\n", over, mermaidText(text))
}

// mermaidParticipant is one lifeline: a host, or an address no host owns
// that a segment was sent to.
type mermaidParticipant struct {
	id   string // the name in the diagram's source
	name string // the name drawn
}

// mermaidCast is the diagram's participants.
type mermaidCast struct {
	order []mermaidParticipant
	ids   map[string]string // by name
	used  map[string]bool   // source names taken, lower case
	alias int               // aliases given
}

// add makes name a participant: it stands as it is in the source when it
// can, else it gets an alias "p1", "p2" ... that no other participant is
// called.
func (m *mermaidCast) add(name string) mermaidParticipant {
	id := name
	if !mermaidID(name) {
		for {
			m.alias++
			id = "p" + strconv.Itoa(m.alias)
			if !m.used[id] {
				break
			}
		}
	}
	m.used[strings.ToLower(id)] = true
	m.ids[name] = id
	p := mermaidParticipant{id: id, name: name}
	m.order = append(m.order, p)
	return p
}

// span returns what a note over participants a and b names: "a,b" in the
// diagram's order, or "a" when they are one.
func (m *mermaidCast) span(a, b string) string {
	if a == b {
		return a
	}
	for _, p := range m.order {
		switch p.id {
		case a:
			return a + "," + b
		case b:
			return b + "," + a
		}
	}
	return a + "," + b
}

// mermaidKeywords are the words of Mermaid's sequence diagram lexer. A
// participant cannot be called one of them, and older Mermaid versions,
// whose keyword rules have no word boundary, also read a name that merely
// starts with one ("endpoint", "paris") as the keyword; such names get an
// alias too.
var mermaidKeywords = []string{
	"sequencediagram", "participant", "actor", "create", "destroy", "box",
	"loop", "rect", "opt", "alt", "else", "par", "and", "critical", "option",
	"break", "end", "left of", "right of", "links", "link", "properties",
	"details", "over", "note", "activate", "deactivate", "title", "acctitle",
	"accdescr", "autonumber", "off",
}

// mermaidID reports whether a host name can stand in the diagram's source
// as it is: letters, digits and underscores, not starting with a digit or
// a keyword. Other names get an alias.
func mermaidID(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	lower := strings.ToLower(name)
	for _, k := range mermaidKeywords {
		if strings.HasPrefix(lower, k) {
			return false
		}
	}
	return true
}

// mermaidEscapes are the characters Mermaid cannot take in a message or a
// note: its lexer ends the text at '#', ';' and a newline, and the renderer
// reads '<' and '>' as HTML. Each is written as a Mermaid entity code
// ("#59;"), which Mermaid decodes before it draws.
var mermaidEscapes = strings.NewReplacer(
	"#", "#35;",
	";", "#59;",
	"<", "#lt;",
	">", "#gt;",
	"\n", " ",
	"\r", " ",
)

// mermaidText escapes s for a message, a note or a participant's alias. A
// leading "%%" would start a comment and is escaped too.
func mermaidText(s string) string {
	s = mermaidEscapes.Replace(s)
	if strings.HasPrefix(s, "%") {
		s = "#37;" + s[1:]
	}
	return s
}
