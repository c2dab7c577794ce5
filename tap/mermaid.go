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
	// NoteWidth is the width in columns (a CJK character takes two) at
	// which a note breaks onto a new line ("<br/>"): 0 means
	// DefaultMermaidNoteWidth, a negative width never breaks.
	NoteWidth int
}

// DefaultMermaidNoteWidth is the width at which notes break by default:
// about as wide as three lifelines are apart in Mermaid's default layout.
const DefaultMermaidNoteWidth = 60

// mermaidGap is the pause between two rows from which the diagram says how
// much virtual time passed, since a sequence diagram has no time axis.
const mermaidGap = time.Second

// mermaidHold is how much diagram text (bytes) the writer holds back to
// split it by connection group. Past it the diagram is one, written as the
// rows come: Mermaid draws no more than 50,000 characters by default
// anyway, and memory stays bounded.
const mermaidHold = 4 << 20

// mermaidRST is the background of a RST's arrow (rect rgba(...)):
// translucent red, which reads on light and dark themes.
const mermaidRST = "rgba(255, 80, 80, 0.18)"

// MermaidWriter writes the timeline as Mermaid sequence diagrams: one
// participant per host, in host order (an address no host owns that a
// segment is sent to joins too); one arrow per captured frame, labelled
// "[No.] FLAGS seq=S ack=A len=L", a dotted lost arrow (--x) when the
// network or the receiving stack dropped it, and a RST on a red
// background (rect); a note over a host for each state change
// ("SYN_SENT → ESTABLISHED (:40000)"), application step, queue change and
// counter move, broken into lines of NoteWidth columns; and a note over
// every host where a second or more of virtual time passes without a row.
// Characters Mermaid would read as syntax are written as its entity codes.
//
// Hosts that exchange segments, directly or through others, form a
// connection group. With one group the output is one diagram; with
// several it is Markdown, one fenced mermaid block per group, each
// opening with a %% comment that names it, so that a Markdown viewer (or
// mmdc -i) draws them all. To tell the groups apart the writer holds the
// diagram back until Flush, up to mermaidHold bytes; past that it writes
// one diagram as the rows come. It implements Sink.
type MermaidWriter struct {
	t     *Tap
	w     *bufio.Writer
	opts  MermaidOptions
	cast  *mermaidCast
	begun bool

	// parent is the union-find forest of participants' names: hosts
	// joined by a segment share a root.
	parent map[string]string
	// items are the rows held back, in order, and held their size.
	items []*mermaidItem
	held  int
	hold  int // mermaidHold, smaller in tests

	// streaming is set once the writer gave up holding back: it writes
	// each row as it comes, into one diagram.
	streaming bool
	// The diagram being written: the participants declared in it, in
	// order, the rows in it and the time of the last.
	declared map[string]bool
	shown    []mermaidParticipant
	rows     int
	last     time.Duration
}

// mermaidItem is one row's lines (an arrow, a note ...), held back until
// its connection group is known.
type mermaidItem struct {
	at    time.Duration
	node  string   // a participant's name: the row belongs to its group
	names []string // the participants its lines name, to declare first
	lines []string
}

var _ Sink = (*MermaidWriter)(nil)

// NewMermaidWriter returns a Mermaid writer on w for the tap's rows.
func (t *Tap) NewMermaidWriter(w io.Writer, opts MermaidOptions) *MermaidWriter {
	if opts.NoteWidth == 0 {
		opts.NoteWidth = DefaultMermaidNoteWidth
	}
	return &MermaidWriter{t: t, w: bufio.NewWriter(w), opts: opts, parent: map[string]string{}, hold: mermaidHold}
}

// text renders one message in the writer's language.
func (mw *MermaidWriter) text(m i18n.Msg) string { return m.Text(mw.opts.Lang, mw.t.Names) }

// begin takes the cast once: the hosts, in host order.
func (mw *MermaidWriter) begin() {
	if mw.begun {
		return
	}
	mw.begun = true
	mw.cast = &mermaidCast{ids: map[string]string{}, used: map[string]bool{}}
	for _, h := range mw.t.hosts {
		if mermaidID(h.name) {
			mw.cast.used[strings.ToLower(h.name)] = true
		}
	}
	for _, h := range mw.t.hosts {
		mw.cast.id(h.name)
	}
	if len(mw.t.hosts) == 0 {
		mw.cast.id("network")
	}
}

// root returns the name of the connection group's representative.
func (mw *MermaidWriter) root(name string) string {
	for {
		p, ok := mw.parent[name]
		if !ok || p == name {
			return name
		}
		if gp, ok := mw.parent[p]; ok && gp != p {
			mw.parent[name] = gp // path halving
		}
		name = p
	}
}

// join puts a and b in one connection group.
func (mw *MermaidWriter) join(a, b string) {
	ra, rb := mw.root(a), mw.root(b)
	if ra != rb {
		mw.parent[rb] = ra
	}
}

// Row implements Sink.
func (mw *MermaidWriter) Row(r *Row) error {
	mw.begin()
	it := &mermaidItem{at: r.At, node: r.Host}
	from := mw.cast.id(r.Host)
	if r.Kind != KindSegment {
		it.names = append(it.names, r.Host)
	}
	add := func(format string, args ...any) {
		it.lines = append(it.lines, fmt.Sprintf(format, args...))
	}
	note := func(over, text string) {
		if text != "" {
			add("    Note over %s: %s", over, mw.noteText(text))
		}
	}
	switch r.Kind {
	case KindSegment:
		if r.Box != nil {
			// A middlebox's RST is drawn from the host it claims to come
			// from; its note names the box.
			it.node = mw.t.Name(r.Seg.Src.Addr())
			from = mw.cast.id(it.node)
		}
		// The arrow runs from it.node, the sender, to the receiver, and
		// joins their groups.
		dst := mw.t.Name(r.Seg.Dst.Addr())
		to := mw.cast.id(dst)
		it.names = append(it.names, it.node, dst)
		mw.join(it.node, dst)
		arrow := "->>"
		label := mw.t.mermaidLabel(r)
		if r.Dropped != nil || r.Arrival != nil && isDrop(r.Arrival.Verdict) {
			arrow = "--x"
			label = mw.text(i18n.M("out.mmd.dropped", label))
		}
		rst := r.Seg.Flags&segment.RST != 0
		if rst {
			add("    rect %s", mermaidRST)
		}
		add("    %s%s%s: %s", from, arrow, to, mermaidText(label))
		if mw.opts.Notes {
			note(mw.cast.span(from, to), mw.t.NoteText(r, mw.opts.Lang))
		}
		if rst {
			add("    end")
		}
	case KindPacket:
		note(from, mw.text(i18n.M("out.mmd.packet", r.No, r.Notes)))
	case KindState:
		s := r.FromState.String() + " → " + r.ToState.String()
		if r.Local.Port() != 0 {
			s += " (:" + strconv.Itoa(int(r.Local.Port())) + ")"
		}
		note(from, s)
	case KindApp:
		a := r.App
		if !a.Err.IsZero() {
			note(from, mw.text(appErrMsg(a, a.Step, "out.mmd.app.err")))
		} else {
			note(from, mw.text(i18n.M("out.mmd.app", a.Step)))
		}
	case KindQueue:
		note(from, mw.text(i18n.M("out.mmd.queue", r.Waiting, r.Capacity, r.HalfOpen)))
	case KindCounter:
		note(from, counterText(r.Counters))
	default:
		note(from, mw.t.eventText(r, painter{}, mw.opts.Lang))
	}
	if mw.streaming {
		mw.put(it)
		return nil
	}
	mw.items = append(mw.items, it)
	for _, l := range it.lines {
		mw.held += len(l) + 1
	}
	if mw.held > mw.hold {
		// Too long to hold back: one diagram from here on.
		mw.streaming = true
		fmt.Fprintf(mw.w, "%%%% %s\n", mermaidComment(mw.text(i18n.M("out.mmd.onediagram", mw.hold))))
		mw.head(mw.opts.Title, mw.cast.order)
		for _, it := range mw.items {
			mw.put(it)
		}
		mw.items, mw.held = nil, 0
	}
	return nil
}

// noteText breaks a note's text into lines of NoteWidth columns, escapes
// each and joins them with Mermaid's line break.
func (mw *MermaidWriter) noteText(s string) string {
	if mw.opts.NoteWidth < 0 {
		return mermaidText(s)
	}
	lines := wrap(s, mw.opts.NoteWidth, mw.opts.NoteWidth)
	for i, l := range lines {
		lines[i] = mermaidText(l)
	}
	return strings.Join(lines, "<br/>")
}

// head starts a diagram: its title and participants.
func (mw *MermaidWriter) head(title string, cast []mermaidParticipant) {
	fmt.Fprintln(mw.w, "sequenceDiagram")
	if title != "" {
		fmt.Fprintln(mw.w, "    title "+mermaidText(title))
	}
	mw.declared, mw.shown, mw.rows = map[string]bool{}, nil, 0
	for _, p := range cast {
		mw.declare(p)
	}
}

// declare writes a participant's line once per diagram.
func (mw *MermaidWriter) declare(p mermaidParticipant) {
	if mw.declared[p.name] {
		return
	}
	mw.declared[p.name] = true
	mw.shown = append(mw.shown, p)
	if p.id == p.name {
		fmt.Fprintf(mw.w, "    participant %s\n", p.id)
	} else {
		fmt.Fprintf(mw.w, "    participant %s as %s\n", p.id, mermaidText(p.name))
	}
}

// put writes one row's lines into the diagram being written, after the
// participants it names that are new to it, and after a note on the time
// that passed since the diagram's last row, if a second or more did.
func (mw *MermaidWriter) put(it *mermaidItem) {
	for _, n := range it.names {
		mw.declare(mw.cast.participant(n))
	}
	if mw.rows > 0 {
		if gap := it.at - mw.last; gap >= mermaidGap {
			over := mw.shown[0].id
			if len(mw.shown) > 1 {
				over += "," + mw.shown[len(mw.shown)-1].id
			}
			fmt.Fprintf(mw.w, "    Note over %s: %s\n", over, mermaidText(mw.text(i18n.M("out.mmd.gap", gap, fmtTime(it.at)))))
		}
	}
	mw.last = it.at
	mw.rows++
	for _, l := range it.lines {
		mw.w.WriteString(l)
		mw.w.WriteByte('\n')
	}
}

// group writes the diagram of connection group i of n, whose root is r,
// as a fenced Markdown block: a %% comment that names it, its title and
// participants, and its rows.
func (mw *MermaidWriter) group(i, n int, r string, items []*mermaidItem) {
	var cast []mermaidParticipant
	var names []string
	for _, p := range mw.cast.order {
		if mw.root(p.name) == r {
			cast = append(cast, p)
			names = append(names, p.name)
		}
	}
	label := mw.text(i18n.M("out.mmd.group", i+1, n, strings.Join(names, ", ")))
	title := label
	if mw.opts.Title != "" {
		title = mw.text(i18n.M("out.mmd.group.title", mw.opts.Title, label))
	}
	if i > 0 {
		fmt.Fprintln(mw.w)
	}
	fmt.Fprintln(mw.w, "```mermaid")
	fmt.Fprintf(mw.w, "%%%% %s\n", mermaidComment(label))
	mw.head(title, cast)
	for _, it := range items {
		mw.put(it)
	}
	fmt.Fprintln(mw.w, "```")
}

// Flush writes the diagrams held back, or the head of one if no row came,
// and flushes.
func (mw *MermaidWriter) Flush() error {
	mw.begin()
	if mw.streaming {
		return mw.w.Flush()
	}
	// The groups, in the order of their first row.
	var roots []string
	byRoot := map[string][]*mermaidItem{}
	for _, it := range mw.items {
		r := mw.root(it.node)
		if _, ok := byRoot[r]; !ok {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], it)
	}
	if len(roots) <= 1 {
		mw.head(mw.opts.Title, mw.cast.order)
		for _, it := range mw.items {
			mw.put(it)
		}
	} else {
		for i, r := range roots {
			mw.group(i, len(roots), r, byRoot[r])
		}
	}
	mw.items, mw.held = nil, 0
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

// id returns the source name of the participant called name, making it
// one if it is new.
func (m *mermaidCast) id(name string) string {
	if id, ok := m.ids[name]; ok {
		return id
	}
	return m.add(name).id
}

// participant returns the participant called name, which must be one.
func (m *mermaidCast) participant(name string) mermaidParticipant {
	return mermaidParticipant{id: m.ids[name], name: name}
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

// mermaidComment makes s fit on a %% comment line: one line, and no "{"
// right after the %%, which Mermaid would read as a directive.
func mermaidComment(s string) string {
	s = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
	return strings.TrimLeft(s, "{")
}
