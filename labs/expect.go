package labs

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/tap"
)

// ExpectKind says what an expectation checks.
type ExpectKind int

// Expectation kinds.
const (
	// ExpectSegment counts segments that match a pattern.
	ExpectSegment ExpectKind = iota + 1
	// ExpectState counts a host's connections in a state at a time, or
	// its transitions into the state.
	ExpectState
	// ExpectError counts application steps that saw an error.
	ExpectError
	// ExpectResult counts application steps whose result contains a text.
	ExpectResult
	// ExpectCounter bounds a stack counter at the end of the run.
	ExpectCounter
	// ExpectStall counts connections left stuck when nothing was left to
	// happen: holding data, a SYN or a FIN never acknowledged, with no
	// timer to send it again.
	ExpectStall
	// ExpectStep counts application steps of a kind, whatever their
	// outcome.
	ExpectStep
	// ExpectNote counts rows of any kind explained by a note key.
	ExpectNote
)

var expectKeys = map[ExpectKind]string{
	ExpectSegment: "segment", ExpectState: "state", ExpectError: "error", ExpectResult: "result", ExpectCounter: "counter", ExpectStall: "stall",
	ExpectStep: "step", ExpectNote: "note",
}

// String returns the kind's key in a lab file.
func (k ExpectKind) String() string { return expectKeys[k] }

// Expectation is one check a lab makes of its own run, for CI.
type Expectation struct {
	// Kind says what is checked; Text is its value as written.
	Kind ExpectKind
	Text string
	// Where is the expectation's position in its file ("backlog.toml:80:1").
	Where string
	// Pattern is the segment pattern of a segment expectation.
	Pattern Pattern
	// Host and Port narrow a state, error, result or counter expectation
	// (Port: the connection's local or remote port).
	Host string
	Port uint16
	// At, when set, makes a state expectation a snapshot: the number of
	// the host's connections in the state at that time.
	At    time.Duration
	HasAt bool
	// After and Before bound the rows considered.
	After, Before Bound
	// Min and Max bound the count (or the counter's value); Max < 0 means
	// no upper bound.
	Min, Max int64
	// Why explains the expectation; it is shown when it fails.
	Why string
	// Segment narrows a segment expectation by the segment's fields.
	Segment SegmentMatch
	// Step, when set, counts only application rows of this step (error,
	// result and step expectations): see stepMatches.
	Step string
	// Note, when set, counts only rows with a note of this catalogue key.
	Note string
}

// Bound is an expectation's time bound: a fixed time, or the time of the
// first segment matching a pattern.
type Bound struct {
	Set     bool
	Time    time.Duration
	Pattern *Pattern
}

// String describes the bound.
func (b Bound) String() string {
	if b.Pattern != nil {
		return "the first " + b.Pattern.String()
	}
	return b.Time.String()
}

// Pattern matches segments: "server > client RST". From and To are host
// names or "*"; Flags as in segment.ParseFlagMatch. The sender matches
// the host owning the source address, or the host whose port the segment
// entered the switch from (an injected, spoofed segment).
type Pattern struct {
	From, To string
	Flags    segment.FlagMatch
}

// String renders the pattern in its canonical form.
func (p Pattern) String() string {
	s := p.From + " > " + p.To
	if !p.Flags.IsZero() {
		s += " " + p.Flags.String()
	}
	return s
}

// ParsePattern parses "FROM > TO [FLAGS]"; hosts lists the valid names.
func ParsePattern(s string, hosts []string) (Pattern, error) {
	from, rest, ok := strings.Cut(s, ">")
	if !ok {
		return Pattern{}, fmt.Errorf("segment pattern %q must look like \"server > client RST\"", s)
	}
	fields := strings.Fields(rest)
	p := Pattern{From: strings.TrimSpace(from)}
	if len(fields) == 0 {
		return Pattern{}, fmt.Errorf("segment pattern %q has no receiving host", s)
	}
	p.To = fields[0]
	for _, name := range []string{p.From, p.To} {
		if name != "*" && !slices.Contains(hosts, name) {
			return Pattern{}, errors.New(undefinedHost(fmt.Sprintf("segment pattern %q", s), name, hosts))
		}
	}
	if len(fields) > 1 {
		m, err := segment.ParseFlagMatch(strings.Join(fields[1:], ""))
		if err != nil {
			return Pattern{}, fmt.Errorf("segment pattern %q: %v", s, err)
		}
		p.Flags = m
	}
	return p, nil
}

// Match reports whether segment row r matches the pattern.
func (p Pattern) Match(t *tap.Tap, r *tap.Row) bool {
	if r.Kind != tap.KindSegment {
		return false
	}
	if p.From != "*" && p.From != t.Name(r.Seg.Src.Addr()) && p.From != r.Host {
		return false
	}
	if p.To != "*" && p.To != t.Name(r.Seg.Dst.Addr()) {
		return false
	}
	return p.Flags.IsZero() || p.Flags.Match(r.Seg.Flags)
}

// Outcome is the result of checking one expectation.
type Outcome struct {
	Exp *Expectation
	// OK tells whether the expectation held.
	OK bool
	// Got is the count (or counter value) found.
	Got int64
	// Message says what was expected and what was found.
	Message string
	// Rows are the timeline rows that show why, at most a few.
	Rows []*tap.Row
}

// maxOutcomeRows bounds the rows an outcome quotes.
const maxOutcomeRows = 6

// Check returns the outcome of every expectation of the run's lab, in
// order, and last, when it failed, the implicit expectation that no
// connection is stuck (unless the lab has stall expectations of its own). The expectations are
// checked as the run's rows are released (Run.Go), so a run need not keep
// its rows.
func Check(run *Run) []Outcome {
	return run.check.outcomes()
}

// Failed counts the outcomes that did not hold.
func Failed(outs []Outcome) int {
	n := 0
	for _, o := range outs {
		if !o.OK {
			n++
		}
	}
	return n
}

// checker evaluates a lab's expectations over the rows of a run as the tap
// releases them (in order of time), keeping for each no more than a count
// and the few rows a report quotes. It implements tap.Sink.
type checker struct {
	run   *Run
	exps  []*expState
	stall *expState // the implicit "no stuck connection", or nil
	now   time.Duration
}

// expState is one expectation being checked.
type expState struct {
	e *Expectation
	// lo and hi bound the rows counted once known; a pattern bound is
	// known from its first matching segment.
	lo, hi       time.Duration
	loOK, hiOK   bool
	count        int64
	pending      []*tap.Row // matches at the current instant, before lo is known
	pendingCount int64
	matched      []*tap.Row // the first matches, for the report
	near         []*tap.Row // the first rows worth showing when too few match
	// snapshot: each connection's last state at e.At, by local and remote
	// endpoint, and the last state rows seen.
	states map[[2]netip.AddrPort]event.State
	last   []*tap.Row
}

var _ tap.Sink = (*checker)(nil)

func newChecker(run *Run) *checker {
	c := &checker{run: run}
	stalls := false
	for i := range run.Lab.Expect {
		e := &run.Lab.Expect[i]
		es := &expState{e: e}
		if !e.After.Set {
			es.loOK = true
		} else if e.After.Pattern == nil {
			es.lo, es.loOK = e.After.Time, true
		}
		if e.Before.Set && e.Before.Pattern == nil {
			es.hi, es.hiOK = e.Before.Time, true
		}
		if e.HasAt {
			es.states = map[[2]netip.AddrPort]event.State{}
		}
		if e.Kind == ExpectStall {
			stalls = true
		}
		c.exps = append(c.exps, es)
	}
	if !stalls {
		c.stall = &expState{e: &Expectation{Kind: ExpectStall, Text: "*", Where: run.Lab.File, Max: 0,
			Why: "a connection left with unacknowledged data and no timer to send it again never recovers: tcplab or netstack lost track of it"}, loOK: true}
	}
	return c
}

// Row implements tap.Sink.
func (c *checker) Row(r *tap.Row) error {
	if r.At != c.now {
		c.now = r.At
		for _, es := range c.exps {
			es.pending, es.pendingCount = es.pending[:0], 0
		}
	}
	for _, es := range c.exps {
		c.see(es, r)
	}
	if c.stall != nil {
		c.see(c.stall, r)
	}
	return nil
}

// see checks one row against one expectation.
func (c *checker) see(es *expState, r *tap.Row) {
	e, t := es.e, c.run.Tap
	if e.After.Pattern != nil && !es.loOK && e.After.Pattern.Match(t, r) {
		es.lo, es.loOK = r.At, true
		// Matches earlier at this instant count: the bound is r.At.
		es.count += es.pendingCount
		es.keep(es.pending...)
		es.pending, es.pendingCount = nil, 0
	}
	beforeHi := !e.Before.Set || !es.hiOK || r.At <= es.hi
	if e.Before.Pattern != nil && !es.hiOK && e.Before.Pattern.Match(t, r) {
		es.hi, es.hiOK = r.At, true
	}
	if e.HasAt {
		if r.At <= e.At && r.Kind == tap.KindState && e.hostPort(r) {
			es.states[[2]netip.AddrPort{r.Local, r.Remote}] = r.ToState
			es.last = append(es.last, r)
			if len(es.last) > maxOutcomeRows {
				es.last = es.last[1:]
			}
		}
		return
	}
	if !beforeHi || es.loOK && r.At < es.lo {
		return
	}
	match, near := e.matches(t, r)
	switch {
	case match && es.loOK:
		es.count++
		es.keep(r)
	case match:
		es.pending = append(es.pending, r)
		es.pendingCount++
	case near && len(es.near) < maxOutcomeRows && es.loOK:
		es.near = append(es.near, r)
	}
}

// keep remembers the first matching rows, for the report.
func (es *expState) keep(rows ...*tap.Row) {
	for _, r := range rows {
		if len(es.matched) < maxOutcomeRows {
			es.matched = append(es.matched, r)
		}
	}
}

// matches reports whether row r counts for e, and whether it is worth
// showing when too few rows count.
func (e *Expectation) matches(t *tap.Tap, r *tap.Row) (match, near bool) {
	match, near = e.matchKind(t, r)
	if match && e.Note != "" && !r.HasNote(e.Note) {
		match = false
	}
	return match, near
}

// matchKind is matches but for the note.
func (e *Expectation) matchKind(t *tap.Tap, r *tap.Row) (match, near bool) {
	switch e.Kind {
	case ExpectSegment:
		loose := Pattern{From: e.Pattern.From, To: e.Pattern.To}
		return e.Pattern.Match(t, r) && e.Segment.Match(r), loose.Match(t, r)
	case ExpectState:
		if r.Kind != tap.KindState || !e.hostPort(r) {
			return false, false
		}
		return r.ToState.String() == e.Text, true
	case ExpectError, ExpectResult:
		if r.Kind != tap.KindApp || (e.Host != "" && r.Host != e.Host) {
			return false, false
		}
		if e.Step != "" && !stepMatches(t, r, e.Step) {
			return false, true
		}
		a := r.App
		if e.Kind == ExpectError {
			return !a.Err.IsZero() && strings.Contains(a.Err.Text(i18n.EN, t.Names), e.Text), true
		}
		return strings.Contains(a.Result.Text(i18n.EN, t.Names), e.Text), true
	case ExpectStall:
		if r.Kind != tap.KindStall {
			return false, false
		}
		return e.Host == "" || r.Host == e.Host, true
	case ExpectStep:
		if r.Kind != tap.KindApp || (e.Host != "" && r.Host != e.Host) {
			return false, false
		}
		return stepMatches(t, r, e.Step), true
	case ExpectNote:
		if (e.Host != "" && r.Host != e.Host) || !rowPort(r, e.Port) {
			return false, false
		}
		// The note itself is checked by matches.
		return true, nearNote(r, e.Note)
	}
	return false, false
}

// outcomes evaluates every expectation at the end of the run.
func (c *checker) outcomes() []Outcome {
	out := make([]Outcome, 0, len(c.exps)+1)
	for _, es := range c.exps {
		out = append(out, c.outcome(es))
	}
	if c.stall != nil {
		if o := c.outcome(c.stall); !o.OK {
			out = append(out, o)
		}
	}
	return out
}

func (c *checker) outcome(es *expState) Outcome {
	e, run := es.e, c.run
	o := Outcome{Exp: e}
	switch {
	case e.Kind == ExpectCounter:
		v := run.Counters[e.Host][e.Text]
		o.Got = int64(v)
		o.OK = e.holds(o.Got)
		o.Message = fmt.Sprintf("counter %s on %s is %d; expected %s", e.Text, e.Host, v, e.bounds())
		return o
	case e.HasAt:
		for _, st := range es.states {
			if st.String() == e.Text {
				o.Got++
			}
		}
		o.Rows = es.last
		o.OK = e.holds(o.Got)
		o.Message = fmt.Sprintf("connections in %s%s at %v: found %d, expected %s", e.Text, e.on(), e.At, o.Got, e.bounds())
		return o
	case e.After.Set && !es.loOK:
		o.Message = fmt.Sprintf("no segment matches %q (the expectation's after bound)", e.After.Pattern)
		return o
	case e.Before.Set && !es.hiOK:
		o.Message = fmt.Sprintf("no segment matches %q (the expectation's before bound)", e.Before.Pattern)
		return o
	}
	lo, hi := es.lo, run.Result.End
	if e.Before.Set {
		hi = es.hi
	}
	o.Got = es.count
	o.OK = e.holds(o.Got)
	o.Message = fmt.Sprintf("%s%s: found %d, expected %s", e.what(), window(e, lo, hi), o.Got, e.bounds())
	o.Rows = es.matched
	if len(o.Rows) == 0 {
		o.Rows = es.near
	}
	return o
}

// what names what an expectation counts.
func (e *Expectation) what() string {
	switch e.Kind {
	case ExpectSegment:
		return "segments " + e.Pattern.String() + e.narrowing()
	case ExpectState:
		return "transitions to " + e.Text + e.on() + e.narrowing()
	case ExpectError:
		return fmt.Sprintf("application errors %q%s%s", e.Text, e.on(), e.narrowing())
	case ExpectResult:
		return fmt.Sprintf("application results %q%s%s", e.Text, e.on(), e.narrowing())
	case ExpectStall:
		return "stuck connections" + e.on() + e.narrowing()
	case ExpectStep:
		return fmt.Sprintf("application steps %q%s%s", e.Text, e.on(), e.narrowing())
	case ExpectNote:
		return fmt.Sprintf("rows with note %s%s", e.Text, e.on())
	}
	return e.Kind.String()
}

func (e *Expectation) hostPort(r *tap.Row) bool {
	if e.Host != "" && r.Host != e.Host {
		return false
	}
	return e.Port == 0 || r.Local.Port() == e.Port || r.Remote.Port() == e.Port
}

func (e *Expectation) holds(n int64) bool {
	return n >= e.Min && (e.Max < 0 || n <= e.Max)
}

// on names the host and port an expectation looks at: " on server port 80".
func (e *Expectation) on() string {
	s := ""
	if e.Host != "" {
		s += " on " + e.Host
	}
	if e.Port != 0 {
		s += fmt.Sprintf(" port %d", e.Port)
	}
	return s
}

// bounds words the expected count: "at least 1", "exactly 0", "1 to 3".
func (e *Expectation) bounds() string {
	switch {
	case e.Max < 0:
		return fmt.Sprintf("at least %d", e.Min)
	case e.Min == e.Max:
		return fmt.Sprintf("exactly %d", e.Min)
	case e.Min == 0:
		return fmt.Sprintf("at most %d", e.Max)
	}
	return fmt.Sprintf("%d to %d", e.Min, e.Max)
}

func window(e *Expectation, lo, hi time.Duration) string {
	if !e.After.Set && !e.Before.Set {
		return ""
	}
	return fmt.Sprintf(" between %v and %v", lo, hi)
}

// String describes the expectation in one line, as a report shows it:
// `segment "server > client RST" (at least 1)`.
func (e *Expectation) String() string {
	s := fmt.Sprintf("%s %q", e.Kind, e.Text)
	if e.Kind == ExpectSegment {
		s = fmt.Sprintf("segment %q", e.Pattern.String())
	}
	s += e.on() + e.narrowing()
	if e.HasAt {
		s += fmt.Sprintf(" at %v", e.At)
	}
	if e.After.Set {
		s += " after " + e.After.String()
	}
	if e.Before.Set {
		s += " before " + e.Before.String()
	}
	return s + " (" + e.bounds() + ")"
}
