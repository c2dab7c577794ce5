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

// MermaidOptions adjust the Mermaid form of the timeline.
type MermaidOptions struct {
	// Title is the diagram's title; none when empty.
	Title string
	// Notes adds each segment's annotation as a note over its two hosts.
	// Without it the arrows carry only flags and numbers, which keeps a
	// diagram narrow enough to read.
	Notes bool
}

// mermaidGap is the pause between two rows from which the diagram says how
// much virtual time passed, since a sequence diagram has no time axis.
const mermaidGap = time.Second

// WriteMermaid writes the timeline as a Mermaid sequence diagram: one
// participant per host, in host order; one arrow per captured frame,
// labelled "[No.] FLAGS seq=S ack=A len=L", drawn as a lost arrow (-x) when
// the switch dropped it; a note over a host for each state change
// ("SYN_SENT → ESTABLISHED"), application step, queue change and counter
// move; and a note over every host where a second or more of virtual time
// passes without a row. Texts are in t.Lang; characters Mermaid would read
// as syntax are written as its entity codes.
func (t *Tap) WriteMermaid(w io.Writer, opts MermaidOptions) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "sequenceDiagram")
	if opts.Title != "" {
		fmt.Fprintln(bw, "    title "+mermaidText(opts.Title))
	}
	m := t.mermaidParticipants()
	for _, p := range m.order {
		if p.id == p.name {
			fmt.Fprintf(bw, "    participant %s\n", p.id)
		} else {
			fmt.Fprintf(bw, "    participant %s as %s\n", p.id, mermaidText(p.name))
		}
	}
	all := m.order[0].id
	if len(m.order) > 1 {
		all += "," + m.order[len(m.order)-1].id
	}
	ports := t.busyHosts()
	for i, r := range t.rows {
		if i > 0 {
			if gap := r.At - t.rows[i-1].At; gap >= mermaidGap {
				note(bw, all, t.text(i18n.M("out.mmd.gap", gap, fmtTime(r.At))))
			}
		}
		from := m.id(r.Host)
		switch r.Kind {
		case KindSegment:
			to := m.id(t.Name(r.Seg.Dst.Addr()))
			arrow := "->>"
			label := t.mermaidLabel(r)
			if !r.Dropped.IsZero() {
				arrow = "-x"
				label = t.text(i18n.M("out.mmd.dropped", label))
			}
			fmt.Fprintf(bw, "    %s%s%s: %s\n", from, arrow, to, mermaidText(label))
			if opts.Notes {
				note(bw, m.span(from, to), t.NoteText(r))
			}
		case KindPacket:
			note(bw, from, t.text(i18n.M("out.mmd.packet", r.No, r.Notes)))
		case KindState:
			s := r.FromState + " → " + r.ToState
			if ports[r.Host] && r.Local.Port() != 0 {
				s += " (:" + strconv.Itoa(int(r.Local.Port())) + ")"
			}
			note(bw, from, s)
		case KindApp:
			if r.Err != "" {
				note(bw, from, t.text(i18n.M("out.mmd.app.err", r.Step, r.Err)))
			} else {
				note(bw, from, t.text(i18n.M("out.mmd.app", r.Step)))
			}
		case KindQueue:
			note(bw, from, t.text(i18n.M("out.mmd.queue", r.Waiting, r.Capacity, r.HalfOpen)))
		case KindCounter:
			note(bw, from, counterText(r.Counters))
		}
	}
	return bw.Flush()
}

// mermaidLabel is the short label of a segment's arrow: frame number,
// flags, relative seq, and ack, length and window where they say something
// (the window on a SYN, a zero window and a window update).
func (t *Tap) mermaidLabel(r *Row) string {
	s := fmt.Sprintf("[%d] %s seq=%d", r.No, FlagString(r.Seg.Flags), r.RelSeq)
	if r.HasAck {
		s += fmt.Sprintf(" ack=%d", r.RelAck)
	}
	if r.Seg.Len > 0 {
		s += fmt.Sprintf(" len=%d", r.Seg.Len)
	}
	if r.Seg.Flags&SYN != 0 || r.Window == 0 || r.Analysis&(WindowUpdate|ZeroWindow) != 0 {
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

// busyHosts returns the hosts with state changes on more than one local
// endpoint, whose state notes name the local port to tell them apart.
func (t *Tap) busyHosts() map[string]bool {
	first := map[string]netip.AddrPort{}
	busy := map[string]bool{}
	for _, r := range t.rows {
		if r.Kind != KindState {
			continue
		}
		if l, ok := first[r.Host]; !ok {
			first[r.Host] = r.Local
		} else if l.Port() != r.Local.Port() {
			busy[r.Host] = true
		}
	}
	return busy
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
}

// id returns the source name of the participant called name.
func (m *mermaidCast) id(name string) string { return m.ids[name] }

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

// mermaidParticipants returns the hosts in host order, then any other
// address a segment was sent to, in the order first seen. A name that
// cannot stand in the source as it is gets an alias "p1", "p2" ... that no
// other participant is called.
func (t *Tap) mermaidParticipants() *mermaidCast {
	var names []string
	seen := map[string]bool{}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	for _, h := range t.hosts {
		add(h.name)
	}
	for _, r := range t.rows {
		add(r.Host)
		if r.Kind == KindSegment {
			add(t.Name(r.Seg.Dst.Addr()))
		}
	}
	if len(names) == 0 {
		add("network")
	}
	m := &mermaidCast{ids: map[string]string{}}
	used := map[string]bool{}
	for _, n := range names {
		if mermaidID(n) {
			used[strings.ToLower(n)] = true
		}
	}
	alias := 0
	for _, n := range names {
		id := n
		if !mermaidID(n) {
			for {
				alias++
				id = "p" + strconv.Itoa(alias)
				if !used[id] {
					break
				}
			}
			used[id] = true
		}
		m.ids[n] = id
		m.order = append(m.order, mermaidParticipant{id: id, name: n})
	}
	return m
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
