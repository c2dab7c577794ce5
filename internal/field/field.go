// Package field holds the field-tagged errors configuration types return
// from Validate: each problem names the field it is about, so that the
// package that read the configuration (labs, from a TOML file) can point at
// the place where that field was written.
package field

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is one problem of a configuration value.
type Error struct {
	// Field is the dotted path of the field the problem is about, relative
	// to the value validated, spelled as a lab file writes it ("latency",
	// "down.1.to"); "" is the value as a whole.
	Field string
	// Whole marks a problem of the value at Field as a whole, such as a
	// link direction whose jitter exceeds its latency.
	Whole bool
	// Fields lists the fields the problem involves besides Field: for a
	// Whole problem ("jitter", "latency"), so that a reader can point at
	// the table that writes them; otherwise the fields to point at when
	// Field itself is not written (rto_max's problem at rto_min).
	Fields []string
	// Key reports that the problem is the field's presence, not its value
	// ("only hold faults take until"): a reader points at the key.
	Key bool
	// Msg is the problem, lowercase, with no position.
	Msg string
}

// Error implements error: "field: message", or the message alone for a
// problem of the whole value.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// List is every problem found in one value, in the order found.
type List []*Error

// Error implements error: the problems joined with "; ", each after the
// part of the value it is in ("out: latency -1ms is negative"); the
// message names the field itself.
func (l List) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Msg
		if dot := strings.LastIndexByte(e.Field, '.'); dot > 0 {
			parts[i] = e.Field[:dot] + ": " + e.Msg
		}
	}
	return strings.Join(parts, "; ")
}

// Err returns l as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Add records a problem with the value of field f.
func (l *List) Add(f, format string, args ...any) {
	*l = append(*l, &Error{Field: f, Msg: fmt.Sprintf(format, args...)})
}

// AddKey records a problem with the presence of field f.
func (l *List) AddKey(f, format string, args ...any) {
	*l = append(*l, &Error{Field: f, Key: true, Msg: fmt.Sprintf(format, args...)})
}

// AddWhole records a problem of the value as a whole that involves fields.
func (l *List) AddWhole(fields []string, format string, args ...any) {
	*l = append(*l, &Error{Whole: true, Fields: fields, Msg: fmt.Sprintf(format, args...)})
}

// AddEither records a problem with the value of field f that involves the
// fields others too, to be pointed at when f itself is not written.
func (l *List) AddEither(f string, others []string, format string, args ...any) {
	*l = append(*l, &Error{Field: f, Fields: others, Msg: fmt.Sprintf(format, args...)})
}

// Append adds the problems of sub, a part of the value at field prefix
// (such as "down.2"), with their fields made relative to the value.
func (l *List) Append(prefix string, sub List) {
	for _, e := range sub {
		c := *e
		c.Field = Join(prefix, e.Field)
		c.Fields = nil
		for _, f := range e.Fields {
			c.Fields = append(c.Fields, Join(prefix, f))
		}
		*l = append(*l, &c)
	}
}

// Join extends a dotted path.
func Join(prefix, f string) string {
	switch {
	case prefix == "":
		return f
	case f == "":
		return prefix
	}
	return prefix + "." + f
}

// Index returns the path of element i of the list at field f ("down.2").
func Index(f string, i int) string { return Join(f, strconv.Itoa(i)) }
