package labs

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/tcplab/tcplab/hosts"
	"github.com/tcplab/tcplab/topology"
)

// direction converts one direction of a link, starting from base; the
// link's Validate checks it (fields.go).
func (v *validator) direction(path string, d directionSpec, base topology.Direction) topology.Direction {
	out := base
	if d.Latency != nil {
		out.Latency = d.Latency.D()
	}
	if d.Jitter != nil {
		out.Jitter = d.Jitter.D()
	}
	for _, p := range []struct {
		src *float64
		dst *float64
	}{{d.Loss, &out.Loss}, {d.Duplicate, &out.Duplicate}, {d.Reorder, &out.Reorder}, {d.Corrupt, &out.Corrupt}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	if d.ReorderDelay != nil {
		out.ReorderDelay = d.ReorderDelay.D()
	}
	if d.Rate != nil {
		out.Rate = d.Rate.BitsPerSecond()
	}
	if d.QueueLimit != nil {
		out.QueueLimit = v.integer(join(path, "queue_limit"), *d.QueueLimit)
	}
	return out
}

// integer converts an integer a core type checks, reporting only one too
// large for an int32 (negative ones are the core type's to report).
func (v *validator) integer(path string, n int64) int {
	if n > 1<<31 || n < -1<<31 {
		v.valuef(path, "%s %d is too large", path[strings.LastIndexByte(path, '.')+1:], n)
		return int(max(min(n, 1<<31), -1<<31))
	}
	return int(n)
}

// count checks a non-negative integer at least lo.
func (v *validator) count(path string, n int64, lo int64) int {
	name := path[strings.LastIndexByte(path, '.')+1:]
	switch {
	case n < 0 && lo == 0:
		v.valuef(path, "%s %d is negative", name, n)
	case n < lo:
		v.valuef(path, "%s must be at least %d", name, lo)
	case n > 1<<31:
		v.valuef(path, "%s %d is too large", name, n)
	}
	return int(max(min(n, 1<<31), 0))
}

// unsetZero converts an integer whose 0 the core type reads as "unset"
// (a fault's nth, count and connection, somaxconn): a 0 written in the
// file is reported here, since the core type cannot tell it from the key
// left out, and 0 is not what the file means by writing it; a negative
// one is the core type's to report.
func (v *validator) unsetZero(path string, n int64) int {
	if n == 0 {
		v.valuef(path, "%s must be at least 1", path[strings.LastIndexByte(path, '.')+1:])
	}
	return v.integer(path, n)
}

// countAtMost checks a count like count does, and that it is at most hi, a
// limit of limits.go.
func (v *validator) countAtMost(path string, n, lo int64, hi int) int {
	if n > int64(hi) {
		name := path[strings.LastIndexByte(path, '.')+1:]
		v.valuef(path, "%s %d is more than a lab may ask for (at most %d)", name, n, hi)
		return hi
	}
	return v.count(path, n, lo)
}

// outages converts a link's down windows, leaving out those without a
// start. It returns, for each window, the index of its [[links.down]].
func (v *validator) outages(p string, ws []windowSpec) ([]topology.Window, []int) {
	var out []topology.Window
	var index []int
	for i, w := range ws {
		if w.From == nil {
			v.errorf(fmt.Sprintf("%s.down.%d", p, i), "an outage needs from = \"10s\" (and usually to = \"20s\")")
			continue
		}
		win := topology.Window{From: w.From.D()}
		if w.To != nil {
			win.To = w.To.D()
		}
		out = append(out, win)
		index = append(index, i)
	}
	return out, index
}

// mtu converts a link's mtu, checked for its host's address families.
func (v *validator) mtu(p string, n *int64, h hosts.Config) int {
	if n == nil {
		return 0
	}
	if *n <= 0 {
		v.valuef(p+".mtu", "mtu must be positive")
		return 0
	}
	m := int(min(*n, 1<<20))
	if err := topology.ValidateMTU(m, h.IPv6.IsValid()); err != nil {
		v.valuef(p+".mtu", "%v", err)
		return 0
	}
	return m
}

// settings converts a host's profile and [hosts.tcp] table; Settings'
// Validate checks the result (fields.go).
func (v *validator) settings(p string, h *hostSpec) *hosts.Settings {
	prof := hosts.Linux
	if h.Profile != "" {
		var ok bool
		if prof, ok = hosts.ParseProfile(h.Profile); !ok {
			v.valuef(p+".profile", "unknown profile %q (want linux or netstack)", h.Profile)
		}
	}
	s := hosts.DefaultSettings(prof)
	t := h.TCP
	if t == nil {
		return &s
	}
	tp := p + ".tcp"
	dur := func(d *Duration, dst *time.Duration) {
		if d != nil {
			*dst = d.D()
		}
	}
	integer := func(k string, n *int64, dst *int) {
		if n != nil {
			*dst = v.integer(join(tp, k), *n)
		}
	}
	size := func(n *Size, dst *int) {
		if n != nil {
			*dst = int(max(min(n.Bytes(), 1<<40), -1))
		}
	}
	flag := func(b *bool, dst *bool) {
		if b != nil {
			*dst = *b
		}
	}
	v.linuxSettings(tp, t, &s) // first: a kernel version sets defaults the other keys override
	if t.Somaxconn != nil {
		s.Somaxconn = v.unsetZero(tp+".somaxconn", *t.Somaxconn) // 0 would mean no cap
	}
	integer("syncookies", t.SynCookies, &s.SynCookies)
	dur(t.FinTimeout, &s.FinTimeout)
	dur(t.TimeWait, &s.TimeWait)
	flag(t.Keepalive, &s.Keepalive)
	dur(t.KeepaliveTime, &s.KeepaliveTime)
	dur(t.KeepaliveIntvl, &s.KeepaliveInterval)
	integer("keepalive_probes", t.KeepaliveProbes, &s.KeepaliveProbes)
	if t.MSS != nil {
		s.MSS = v.integer(tp+".mss", *t.MSS)
		if s.MSS == 0 { // Settings' 0 is the default: a written 0 is labs' to report
			v.valuef(tp+".mss", "mss 0 is outside %d–%d (leave mss out for the default)", hosts.MinMSS, hosts.MaxMSS)
		}
	}
	size(t.SendBuffer, &s.SendBuffer)
	size(t.RecvBuffer, &s.RecvBuffer)
	flag(t.SACK, &s.SACK)
	if t.Congestion != nil {
		s.Congestion = *t.Congestion
	}
	dur(t.RTOMin, &s.RTOMin)
	dur(t.RTOMax, &s.RTOMax)
	integer("retries2", t.Retries2, &s.Retries2)
	dur(t.UserTimeout, &s.UserTimeout)
	flag(t.Nagle, &s.Nagle)
	if t.RTOGuard != nil {
		s.NoRTOGuard = !*t.RTOGuard
	}
	v.fieldErrors(tp, s.Validate(), nil)
	return &s
}

// steps converts a step list, one hosts.Step for each table (a step that
// could not be converted is the zero Step), so that the problems
// hosts.ValidateSteps finds at "2.bytes" are at the third table.
func (v *validator) steps(p string, specs []stepSpec, all []hosts.Config) []hosts.Step {
	var out []hosts.Step
	for j := range specs {
		out = append(out, v.step(fmt.Sprintf("%s.%d", p, j), &specs[j], all))
	}
	return out
}

// step converts one application step; hosts.Step's Validate checks it
// (through hosts.ValidateSteps or App.Validate). Labs keeps the rules of
// what the file writes: the names (do, on_error, until, to), the keys an
// action does not take and the keys a step needs even where the step's
// zero value has a meaning (for, at or until), and an explicit 0 where the
// step's 0 means "none" (timeout, bytes).
func (v *validator) step(p string, s *stepSpec, all []hosts.Config) hosts.Step {
	act, ok := hosts.ParseAction(s.Do)
	if !ok {
		if s.Do == "" {
			v.missingf(p, []string{"do"}, "step has no action: do = %q", strings.Join(hosts.ActionNames(), "|"))
		} else {
			if near := nearest(s.Do, hosts.ActionNames()); near != "" {
				v.valuef(p+".do", "unknown action %q (did you mean %q? the actions are %s)", s.Do, near, strings.Join(hosts.ActionNames(), ", "))
			} else {
				v.valuef(p+".do", "unknown action %q (want one of %s)", s.Do, strings.Join(hosts.ActionNames(), ", "))
			}
		}
		v.reported[p+".do"] = true // the zero Step's "unknown action"
		return hosts.Step{}
	}
	st := hosts.Step{Action: act, Socket: s.Socket, From: s.From}
	st.OnError = v.onError(p, s.OnError)
	if s.At != nil {
		st.At = s.At.D()
	}
	for _, k := range s.present() {
		if !act.Takes(k) {
			// Also a key written as 0, which the step would not show.
			v.errorf(p+"."+k, "action %q does not take %q", s.Do, k)
		}
	}
	positive := func(k string, n *Size) int {
		if n.Bytes() == 0 {
			v.valuef(p+"."+k, "%s must be positive", k) // 0 would mean none
		}
		return int(max(min(n.Bytes(), 1<<40), -1))
	}
	if s.Timeout != nil && act.Takes("timeout") {
		st.Timeout = s.Timeout.D()
		if st.Timeout == 0 {
			v.valuef(p+".timeout", "timeout must be positive") // 0 would mean none
		}
	}
	switch act {
	case hosts.Listen:
		if s.Port != nil {
			st.Port = v.port(p+".port", *s.Port)
		}
		st.Backlog = hosts.DefaultBacklog
		if s.Backlog != nil {
			st.Backlog = v.integer(p+".backlog", *s.Backlog)
		}
	case hosts.Accept:
		if s.Each != nil {
			st.Each = append([]hosts.Step{}, v.steps(p+".each", s.Each, all)...)
		}
	case hosts.Connect:
		if s.To != "" {
			st.Target = s.To
			st.Addr = v.target(p+".to", s.To, all)
		}
		if s.Port != nil {
			st.Port = v.port(p+".port", *s.Port)
		}
	case hosts.Send:
		if s.Data != nil {
			st.Data = []byte(*s.Data)
		}
		if s.Bytes != nil {
			st.Bytes = positive("bytes", s.Bytes)
		}
	case hosts.Recv:
		if s.Bytes != nil {
			st.Bytes = positive("bytes", s.Bytes)
		}
	case hosts.Sleep:
		if s.For == nil {
			v.missingf(p, []string{"for"}, "sleep needs a duration: for = \"1s\"")
		} else {
			st.For = s.For.D()
		}
	case hosts.Wait:
		if s.Until == nil {
			if s.At == nil {
				v.missingf(p, []string{"at", "until"}, "wait needs a time (at = \"10s\") or an event (until = %q)", strings.Join(hosts.EventNames(), "|"))
			}
			break
		}
		ev, ok := hosts.ParseEvent(*s.Until)
		if !ok {
			v.valuef(p+".until", "unknown event %q (want one of %s)", *s.Until, strings.Join(hosts.EventNames(), ", "))
		}
		st.Until = ev
	case hosts.Set:
		st.Options = v.options(p, s)
	}
	return st
}

// onError converts a step's on_error ("stop", the default, or "continue").
func (v *validator) onError(p string, s *string) hosts.OnError {
	if s == nil {
		return hosts.Stop
	}
	o, ok := hosts.ParseOnError(*s)
	if !ok {
		v.valuef(p+".on_error", "unknown on_error %q (want %s)", *s, strings.Join(hosts.OnErrorNames(), " or "))
	}
	return o
}

func (v *validator) port(path string, n int64) uint16 {
	if n < 1 || n > 65535 {
		v.valuef(path, "port %d is outside 1–65535", n)
		return 0
	}
	return uint16(n)
}

// target resolves "server:80", "10.0.0.2:80" or "[fd00::2]:80".
func (v *validator) target(path, s string, all []hosts.Config) netip.AddrPort {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		v.port(path, int64(ap.Port()))
		return ap
	}
	host, portText, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(portText, 10, 64)
	if !ok || err != nil {
		v.valuef(path, "target %q must be host:port, such as \"server:80\"", s)
		return netip.AddrPort{}
	}
	port := v.port(path, n)
	for _, h := range all {
		if h.Name == host {
			a := h.IPv4
			if !a.IsValid() {
				a = h.IPv6
			}
			return netip.AddrPortFrom(a, port)
		}
	}
	v.undefinedf(path, "%s", undefinedHost(fmt.Sprintf("target %q", s), host, hostNames(all)))
	return netip.AddrPort{}
}

// options converts the socket options of a set step; Options' Validate
// checks them.
func (v *validator) options(p string, s *stepSpec) hosts.Options {
	o := v.keepalive(p, s.optionSpec)
	buffer := func(n *Size) *int {
		if n == nil {
			return nil
		}
		b := int(max(min(n.Bytes(), 1<<40), -1))
		return &b
	}
	o.SendBuffer = buffer(s.SendBuffer)
	o.RecvBuffer = buffer(s.RecvBuffer)
	if s.MSS != nil {
		m := v.integer(p+".mss", *s.MSS)
		o.MSS = &m
	}
	o.QuickAck = s.QuickAck
	return o
}

// keepalive converts the options a set step and an app's options table
// share.
func (v *validator) keepalive(p string, s optionSpec) hosts.Options {
	o := hosts.Options{NoDelay: s.NoDelay, KeepAlive: s.KeepAlive}
	dur := func(d *Duration) *time.Duration {
		if d == nil {
			return nil
		}
		t := d.D()
		return &t
	}
	o.KeepIdle = dur(s.KeepAliveIdle)
	o.KeepInterval = dur(s.KeepAliveInterval)
	if s.KeepAliveCount != nil {
		n := v.integer(p+".keepalive_count", *s.KeepAliveCount)
		o.KeepCount = &n
	}
	o.UserTimeout = dur(s.UserTimeout)
	return o
}

// stepKeys are the keys of a step table.
var stepKeys = tags(reflect.TypeFor[stepSpec]())

// present lists the keys a step writes (do, at and socket included), in
// the order of stepSpec.
func (s *stepSpec) present() []string {
	v := reflect.ValueOf(s).Elem()
	var out []string
	for _, k := range stepKeys {
		if f, _ := fieldByTag(v, k); !f.IsZero() {
			out = append(out, k)
		}
	}
	return out
}
