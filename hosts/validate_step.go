package hosts

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tcplab/tcplab/internal/field"
)

// The rules of a script's steps. Fields are named as a lab file writes a
// step's keys ("port", "bytes", "each.1.for"), so that labs can point at
// the place.

// actionKeys lists the keys each action takes besides do, at, socket and
// on_error, which every action takes.
var actionKeys = map[Action][]string{
	Listen:  {"port", "backlog"},
	Accept:  {"from", "each"},
	Connect: {"to", "port", "timeout"},
	Send:    {"data", "bytes"},
	Recv:    {"bytes", "timeout"},
	Sleep:   {"for"},
	Wait:    {"until", "timeout"},
	Set:     optionKeys,
}

// optionKeys are the socket options a Set step takes, as a lab writes
// them, in the order Options.String lists them.
var optionKeys = []string{"nodelay", "keepalive", "keepalive_idle", "keepalive_interval", "keepalive_count", "send_buffer", "recv_buffer", "mss", "user_timeout", "quickack"}

// Keys lists the keys the action takes besides do, at, socket and
// on_error, as a lab file writes them.
func (a Action) Keys() []string { return slices.Clone(actionKeys[a]) }

// Takes reports whether the action takes key (one of Keys, or do, at,
// socket or on_error).
func (a Action) Takes(key string) bool {
	switch key {
	case "do", "at", "socket", "on_error":
		return true
	}
	return slices.Contains(actionKeys[a], key)
}

// takesTimeout reports whether a Timeout bounds the action.
func (a Action) takesTimeout() bool { return a.Takes("timeout") }

// OptionKeys lists the socket options a Set step takes, as a lab file
// writes them.
func OptionKeys() []string { return slices.Clone(optionKeys) }

// set lists the keys whose fields the step sets (non-zero), in the order
// of actionKeys' lists.
func (s *Step) set() []string {
	var out []string
	add := func(k string, set bool) {
		if set {
			out = append(out, k)
		}
	}
	add("from", s.From != "")
	add("port", s.Port != 0)
	add("backlog", s.Backlog != 0)
	add("to", s.Target != "" || s.Addr.IsValid())
	add("data", s.Data != nil)
	add("bytes", s.Bytes != 0)
	add("for", s.For != 0)
	add("until", s.Until != 0)
	add("timeout", s.Timeout != 0)
	add("each", s.Each != nil)
	for _, o := range s.Options.set() {
		out = append(out, o.key)
	}
	return out
}

// Validate reports every problem of the step, and of the steps of its
// Each, as a field.List with fields named as a lab file writes a step's
// keys ("port", "timeout", "each.2.bytes"), or nil. A field the action
// does not take is a problem when it is set (not zero). A Sleep without
// For and a Wait without Until are not: they wait until At (a lab file
// must still write for, or at or until, which labs checks).
func (s *Step) Validate() error {
	var l field.List
	if _, ok := actionNames[s.Action]; !ok {
		l.Add("do", "unknown action %v (want one of %s)", s.Action, strings.Join(ActionNames(), ", "))
		return l.Err()
	}
	if s.OnError != Stop && s.OnError != Continue {
		l.Add("on_error", "unknown on_error %v (want %s)", s.OnError, strings.Join(OnErrorNames(), " or "))
	}
	if s.At < 0 {
		l.Add("at", "at %v is negative", s.At)
	}
	for _, k := range s.set() {
		if !s.Action.Takes(k) {
			l.AddKey(k, "action %q does not take %q", s.Action, k)
		}
	}
	if s.Timeout < 0 && s.Action.takesTimeout() {
		l.Add("timeout", "timeout %v is negative", s.Timeout)
	}
	switch s.Action {
	case Listen:
		if s.Port == 0 {
			l.Add("port", "listen needs a port: port = 80")
		}
		if s.Backlog < 0 {
			l.Add("backlog", "backlog %d is negative", s.Backlog)
		}
	case Accept:
		if s.Each != nil && len(s.Each) == 0 {
			l.AddKey("each", "each needs at least one step")
		}
		l.Append("each", ValidateSteps(s.Each))
	case Connect:
		switch {
		case !s.Addr.IsValid():
			l.Add("to", "connect needs a target: to = \"server:80\"")
		case s.Addr.Port() == 0:
			l.Add("to", "target %s has port 0; connect needs a port from 1 to 65535", s.Addr)
		}
	case Send:
		switch {
		case s.Data != nil && s.Bytes != 0:
			l.AddKey("bytes", "send takes data or bytes, not both")
		case s.Data == nil && s.Bytes == 0:
			l.AddEither("data", []string{"bytes"}, "send needs data = \"...\" or bytes = N")
		}
		if s.Bytes < 0 {
			l.Add("bytes", "bytes must be positive")
		}
	case Recv:
		if s.Bytes < 0 {
			l.Add("bytes", "bytes must be positive")
		}
	case Sleep:
		if s.For < 0 {
			l.Add("for", "for %v is negative", s.For)
		}
	case Wait:
		if _, ok := eventNames[s.Until]; !ok && s.Until != 0 {
			l.Add("until", "unknown event %v (want one of %s)", s.Until, strings.Join(EventNames(), ", "))
		}
	case Set:
		if len(s.Options.set()) == 0 {
			l.AddWhole(OptionKeys(), "set needs at least one option (%s)", strings.Join(optionKeys, ", "))
		}
		if errs, ok := s.Options.Validate().(field.List); ok {
			l.Append("", errs)
		}
	}
	return l.Err()
}

// ValidateSteps reports every problem of a script, as a field.List with
// fields named by the step's index and its key ("0.port", "3.each.1.for"),
// or nil.
func ValidateSteps(steps []Step) field.List {
	var l field.List
	for i := range steps {
		if errs, ok := steps[i].Validate().(field.List); ok {
			l.Append(fmt.Sprint(i), errs)
		}
	}
	return l
}
