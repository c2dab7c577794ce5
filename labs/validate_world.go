package labs

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tcplab/tcplab/hosts"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
)

// fault converts one [[faults]] rule.
func (v *validator) fault(p string, i int, f *faultSpec, names []string) (topology.Fault, bool) {
	before := len(v.errs)
	out := topology.Fault{Name: fmt.Sprintf("faults[%d]", i+1)}
	if f.Name != "" {
		out.Name = f.Name
	}
	act, err := topology.ParseFaultAction(f.Action)
	switch {
	case f.Action == "":
		v.missingf(p, []string{"action"}, "a fault needs an action: action = \"drop\" (or delay, duplicate, hold)")
	case err != nil:
		v.valuef(p+".action", "%v", err)
	}
	out.Action = act
	for _, h := range []struct{ key, name string }{{"from", f.From}, {"to", f.To}} {
		if h.name != "" {
			v.knownHost(p+"."+h.key, "fault", h.name, names)
		}
	}
	out.From, out.To = f.From, f.To
	if f.Flags != nil {
		m, err := segment.ParseFlagMatch(*f.Flags)
		if err != nil {
			v.valuef(p+".flags", "%v", err)
		}
		out.Flags = m
	}
	if f.Port != nil {
		out.Port = v.port(p+".port", *f.Port)
	}
	if f.Connection != nil {
		out.Connection = v.unsetZero(p+".connection", *f.Connection)
	}
	if f.Nth != nil {
		out.Nth = v.unsetZero(p+".nth", *f.Nth)
	}
	if f.Count != nil {
		out.Count = v.unsetZero(p+".count", *f.Count)
	}
	for _, d := range []struct {
		src *Duration
		dst *time.Duration
	}{{f.After, &out.After}, {f.Before, &out.Before}, {f.Delay, &out.Delay}, {f.Until, &out.Until}} {
		if d.src != nil {
			*d.dst = d.src.D()
		}
	}
	v.fieldErrors(p, out.Validate(), nil)
	return out, len(v.errs) == before
}

// injection converts one [[inject]] table.
func (v *validator) injection(p string, i int, in *injectSpec, all []hosts.Config) (topology.Injection, bool) {
	before := len(v.errs)
	out := topology.Injection{Name: fmt.Sprintf("inject[%d]", i+1), Count: 1}
	if in.Name != "" {
		out.Name = in.Name
	}
	if in.Via == "" {
		v.missingf(p, []string{"via"}, "an injection needs via = \"attacker\": the host whose link the segments enter the switch from")
	} else {
		v.knownHost(p+".via", "injection", in.Via, hostNames(all))
	}
	out.Via = in.Via
	if in.At != nil {
		out.At = in.At.D()
	}
	if in.Count != nil {
		out.Count = v.countAtMost(p+".count", *in.Count, 1, MaxCount)
	}
	if in.Interval != nil {
		out.Interval = in.Interval.D()
	}
	if in.To == "" {
		v.missingf(p, []string{"to"}, "an injection needs to = \"server:80\"")
	} else {
		out.Dst = v.target(p+".to", in.To, all)
	}
	switch {
	case in.From == "":
		v.missingf(p, []string{"from"}, "an injection needs from = \"10.0.0.66:40000\" (a spoofed source; port 0 = a new port per segment) or a prefix \"10.9.0.0/24\"")
	case strings.Contains(in.From, "/"):
		pre, err := netip.ParsePrefix(in.From)
		if err != nil {
			v.valuef(p+".from", "%q is not an address prefix such as \"10.9.0.0/24\"", in.From)
		}
		out.SrcPrefix = pre.Masked()
	default:
		if ap, err := netip.ParseAddrPort(in.From); err == nil {
			out.Src = ap
		} else {
			out.Src = v.target(p+".from", in.From, all)
		}
	}
	if in.Flags == nil {
		v.missingf(p, []string{"flags"}, "an injection needs flags = \"SYN\" (or \"RST\", \"RST,ACK\" ...)")
	} else {
		m, err := segment.ParseFlagMatch(*in.Flags)
		switch {
		case err != nil:
			v.valuef(p+".flags", "%v", err)
		case m.Clear != 0:
			v.valuef(p+".flags", "injected flags cannot use '!': list the flags the segment carries")
		}
		out.Flags = m.Set
	}
	if in.Seq != nil {
		switch in.Seq.mode {
		case "next":
			out.Seq = topology.SeqNext
		case "isn":
			out.Seq = topology.SeqISN
		default:
			out.Seq, out.SeqValue = topology.SeqAbsolute, uint32(in.Seq.n)
		}
	}
	if in.SeqOffset != nil {
		out.SeqOffset = *in.SeqOffset
	}
	if in.Ack != nil {
		switch in.Ack.mode {
		case "next":
			out.AckNext = true
		case "isn":
			v.valuef(p+".ack", "ack takes an integer or \"next\"")
		default:
			out.Ack = uint32(in.Ack.n)
		}
	}
	if in.Window != nil {
		if *in.Window < 0 || *in.Window > 65535 {
			v.valuef(p+".window", "window %d is outside 0–65535", *in.Window)
		}
		out.Window = uint16(*in.Window)
	}
	if in.Data != nil {
		out.Payload = []byte(*in.Data)
	}
	v.fieldErrors(p, out.Validate(), nil)
	return out, len(v.errs) == before
}

// expectKinds are the keys of which an expectation needs one.
var expectKinds = []string{"segment", "state", "error", "result", "counter", "stall", "step", "note"}

// expectation converts one [[expect]] table.
func (v *validator) expectation(p string, s *expectSpec, names []string) (Expectation, bool) {
	before := len(v.errs)
	e := Expectation{Where: fmt.Sprintf("%s:%s", v.file, v.pos.key(p)), Host: s.Host, Why: s.Why, Min: 1, Max: -1}
	var kinds []string
	set := func(k ExpectKind, val *string) {
		if val != nil {
			kinds = append(kinds, k.String())
			e.Kind, e.Text = k, *val
		}
	}
	set(ExpectSegment, s.Segment)
	set(ExpectState, s.State)
	set(ExpectError, s.Error)
	set(ExpectResult, s.Result)
	set(ExpectCounter, s.Counter)
	set(ExpectStall, s.Stall)
	switch len(kinds) {
	case 0:
		if !standsAlone(&e, s) {
			v.missingf(p, expectKinds, "an expectation needs one of segment, state, error, result, counter, stall, step or note")
			return e, false
		}
	case 1:
	default:
		v.errorf(p, "an expectation checks one thing; this one has %s", strings.Join(kinds, " and "))
		return e, false
	}
	if s.Host != "" {
		v.knownHost(p+".host", "expectation", s.Host, names)
	}
	key := p + "." + e.Kind.String()
	switch e.Kind {
	case ExpectSegment:
		pat, err := ParsePattern(e.Text, names)
		if err != nil {
			v.valuef(key, "%v", err)
		}
		e.Pattern = pat
		if s.Host != "" || s.Port != nil {
			v.errorf(p, "a segment expectation names its hosts in the pattern (\"server > client RST\"), not with host or port")
		}
	case ExpectState:
		if !slices.Contains(StateNames, e.Text) {
			v.valuef(key, "%s", unknownState(e.Text))
		}
		if s.Host == "" {
			v.missingf(p, []string{"host"}, "a state expectation needs host = \"...\"")
		}
	case ExpectCounter:
		if !slices.Contains(hosts.CounterNames(), e.Text) {
			v.valuef(key, "%s", unknownCounter(e.Text))
		}
		if s.Host == "" {
			v.missingf(p, []string{"host"}, "a counter expectation needs host = \"...\"")
		}
	case ExpectError, ExpectResult:
		if e.Text == "" {
			v.valuef(key, "%s must not be empty", e.Kind)
		}
	case ExpectStall:
		switch {
		case e.Text != "*" && !slices.Contains(names, e.Text):
			v.undefinedf(key, "%s (or \"*\" for any host)", undefinedHost("stall", e.Text, names))
		case s.Host != "":
			v.errorf(p, "a stall expectation names its host as its value (stall = \"client\"), not with host")
		case e.Text != "*":
			e.Host = e.Text
		}
	}
	if s.Port != nil {
		e.Port = v.port(p+".port", *s.Port)
	}
	if s.At != nil {
		if e.Kind != ExpectState {
			v.errorf(p+".at", "only a state expectation takes at (the state at that time)")
		}
		e.At, e.HasAt = s.At.D(), true
		if s.After != nil || s.Before != nil {
			v.errorf(p+".at", "a state expectation takes at, or after/before, not both")
		}
	}
	v.narrowing(p, s, &e)
	if e.Kind == ExpectCounter && (s.After != nil || s.Before != nil) {
		v.errorf(p, "a counter expectation is checked at the end of the run; it takes no after or before")
	}
	bound := func(k string, t *timeValue) Bound {
		if t == nil {
			return Bound{}
		}
		if t.pattern == "" {
			if t.d < 0 {
				v.valuef(p+"."+k, "%s %v is negative", k, t.d)
			}
			return Bound{Set: true, Time: t.d}
		}
		pat, err := ParsePattern(t.pattern, names)
		if err != nil {
			v.valuef(p+"."+k, "%s must be a duration such as \"80s\" or a segment pattern: %v", k, err)
		}
		return Bound{Set: true, Pattern: &pat}
	}
	e.After = bound("after", s.After)
	e.Before = bound("before", s.Before)
	if e.After.Set && e.Before.Set && e.After.Pattern == nil && e.Before.Pattern == nil && e.Before.Time < e.After.Time {
		v.valuef(p+".before", "impossible time window: before %v is earlier than after %v", e.Before.Time, e.After.Time)
	}
	switch {
	case s.Count != nil && (s.Min != nil || s.Max != nil):
		v.errorf(p+".count", "an expectation takes count, or min and max, not both")
	case s.Count != nil:
		e.Min, e.Max = *s.Count, *s.Count
		if *s.Count < 0 {
			v.valuef(p+".count", "count %d is negative", *s.Count)
		}
	default:
		if s.Max != nil {
			e.Min, e.Max = 0, *s.Max
			if *s.Max < 0 {
				v.valuef(p+".max", "max %d is negative", *s.Max)
			}
		}
		if s.Min != nil {
			e.Min = *s.Min
			if *s.Min < 0 {
				v.valuef(p+".min", "min %d is negative", *s.Min)
			}
		}
		if s.Min != nil && s.Max != nil && *s.Max < *s.Min {
			v.valuef(p+".max", "impossible bounds: max %d is less than min %d", *s.Max, *s.Min)
		}
	}
	return e, len(v.errs) == before
}

// StateNames are the TCP states (Linux names) a state expectation can name.
var StateNames = []string{"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
	"CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"}
