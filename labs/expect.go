package labs

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tcplab/tcplab/tap"
	"github.com/tcplab/tcplab/topology"
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
)

var expectKeys = map[ExpectKind]string{
	ExpectSegment: "segment", ExpectState: "state", ExpectError: "error", ExpectResult: "result", ExpectCounter: "counter",
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
// names or "*"; Flags as in topology.ParseFlagMatch. The sender matches
// the host owning the source address, or the host whose port the segment
// entered the switch from (an injected, spoofed segment).
type Pattern struct {
	From, To string
	Flags    topology.FlagMatch
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
			return Pattern{}, fmt.Errorf("segment pattern %q names host %q, which is not defined", s, name)
		}
	}
	if len(fields) > 1 {
		m, err := topology.ParseFlagMatch(strings.Join(fields[1:], ""))
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

// Check checks every expectation of the run's lab, in order.
func Check(run *Run) []Outcome {
	out := make([]Outcome, 0, len(run.Lab.Expect))
	for i := range run.Lab.Expect {
		out = append(out, check(run, &run.Lab.Expect[i]))
	}
	return out
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

func check(run *Run, e *Expectation) Outcome {
	o := Outcome{Exp: e}
	t := run.Tap
	rows := t.Rows()
	lo, hi := time.Duration(0), run.Result.End
	if e.After.Set {
		at, ok := resolve(t, e.After)
		if !ok {
			o.Message = fmt.Sprintf("no segment matches %q (the expectation's after bound)", e.After.Pattern)
			return o
		}
		lo = at
	}
	if e.Before.Set {
		at, ok := resolve(t, e.Before)
		if !ok {
			o.Message = fmt.Sprintf("no segment matches %q (the expectation's before bound)", e.Before.Pattern)
			return o
		}
		hi = at
	}
	inWindow := func(r *tap.Row) bool { return r.At >= lo && r.At <= hi }
	var match func(r *tap.Row) bool
	var context func(r *tap.Row) bool // rows worth showing when too few matched
	what := ""
	switch e.Kind {
	case ExpectSegment:
		match = func(r *tap.Row) bool { return e.Pattern.Match(t, r) }
		loose := Pattern{From: e.Pattern.From, To: e.Pattern.To}
		context = func(r *tap.Row) bool { return loose.Match(t, r) }
		what = "segments " + e.Pattern.String()
	case ExpectState:
		if e.HasAt {
			return snapshot(run, e)
		}
		match = func(r *tap.Row) bool {
			return r.Kind == tap.KindState && r.ToState == e.Text && e.hostPort(r)
		}
		context = func(r *tap.Row) bool { return r.Kind == tap.KindState && e.hostPort(r) }
		what = "transitions to " + e.Text + e.on()
	case ExpectError, ExpectResult:
		match = func(r *tap.Row) bool {
			if r.Kind != tap.KindApp || (e.Host != "" && r.Host != e.Host) {
				return false
			}
			if e.Kind == ExpectError {
				return r.Err != "" && strings.Contains(r.Err, e.Text)
			}
			return strings.Contains(r.Result, e.Text)
		}
		context = func(r *tap.Row) bool { return r.Kind == tap.KindApp && (e.Host == "" || r.Host == e.Host) }
		if e.Kind == ExpectError {
			what = fmt.Sprintf("application errors %q%s", e.Text, e.on())
		} else {
			what = fmt.Sprintf("application results %q%s", e.Text, e.on())
		}
	case ExpectCounter:
		v := run.Counters[e.Host][e.Text]
		o.Got = int64(v)
		o.OK = e.holds(o.Got)
		o.Message = fmt.Sprintf("counter %s on %s is %d; expected %s", e.Text, e.Host, v, e.bounds())
		return o
	}
	var matched, near []*tap.Row
	for _, r := range rows {
		if !inWindow(r) {
			continue
		}
		if match(r) {
			matched = append(matched, r)
		} else if context(r) {
			near = append(near, r)
		}
	}
	o.Got = int64(len(matched))
	o.OK = e.holds(o.Got)
	o.Message = fmt.Sprintf("%s%s: found %d, expected %s", what, window(e, lo, hi), o.Got, e.bounds())
	if len(matched) > 0 {
		o.Rows = matched
	} else {
		o.Rows = near
	}
	if len(o.Rows) > maxOutcomeRows {
		o.Rows = o.Rows[:maxOutcomeRows]
	}
	return o
}

// snapshot counts the host's connections in a state at e.At.
func snapshot(run *Run, e *Expectation) Outcome {
	o := Outcome{Exp: e}
	type key struct{ local, remote string }
	last := map[key]*tap.Row{}
	var order []key
	for _, r := range run.Tap.Rows() {
		if r.At > e.At {
			break
		}
		if r.Kind != tap.KindState || !e.hostPort(r) {
			continue
		}
		k := key{r.Local.String(), r.Remote.String()}
		if _, seen := last[k]; !seen {
			order = append(order, k)
		}
		last[k] = r
	}
	for _, k := range order {
		r := last[k]
		if r.ToState == e.Text {
			o.Got++
		}
		o.Rows = append(o.Rows, r)
	}
	if len(o.Rows) > maxOutcomeRows {
		o.Rows = o.Rows[len(o.Rows)-maxOutcomeRows:]
	}
	o.OK = e.holds(o.Got)
	o.Message = fmt.Sprintf("connections in %s%s at %v: found %d, expected %s", e.Text, e.on(), e.At, o.Got, e.bounds())
	return o
}

// resolve returns the time a bound stands for.
func resolve(t *tap.Tap, b Bound) (time.Duration, bool) {
	if b.Pattern == nil {
		return b.Time, true
	}
	for _, r := range t.Rows() {
		if b.Pattern.Match(t, r) {
			return r.At, true
		}
	}
	return 0, false
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
	s += e.on()
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
