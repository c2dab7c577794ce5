package labs

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/tcplab/tcplab/internal/field"
)

// The core types (topology.Link, topology.Fault, topology.Injection,
// hosts.Settings, the models) own their rules: their Validate methods
// return a field.List naming each problem's field as a lab file writes it.
// This file only maps those fields to the places where they were written.

// fieldErrors reports the problems err holds, a field.List returned by the
// Validate of a value written at key path base. resolve, when not nil, maps
// a field path to the key path where it was written (a link's "out.loss"
// may be written as "links.0.loss"); by default a field is written under
// base. A problem at a path where the lab has already reported one (the
// value could not be converted) is not reported again.
func (v *validator) fieldErrors(base string, err error, resolve func(f string) string) {
	var list field.List
	if !errors.As(err, &list) {
		if err != nil {
			v.errorf(base, "%v", err)
		}
		return
	}
	if resolve == nil {
		resolve = func(f string) string { return join(base, f) }
	}
	for _, e := range list {
		if v.involvesBroken(e, resolve) {
			continue
		}
		path := resolve(e.Field)
		switch {
		case e.Whole:
			// At the innermost table that writes one of its fields.
			best := ""
			for _, f := range e.Fields {
				if p := resolve(f); v.pos.known(p) && len(parent(p)) > len(best) {
					best = parent(p)
				}
			}
			if best != "" {
				path = best
			}
		case !v.pos.known(path):
			// At the first of its other fields that is written.
			for _, f := range e.Fields {
				if p := resolve(f); v.pos.known(p) {
					path = p
					break
				}
			}
		}
		if v.seen[path+"\x00"+e.Msg] {
			continue // the same problem reached through two parts (a link's shared keys)
		}
		v.seen[path+"\x00"+e.Msg] = true
		if v.reported[path] {
			continue
		}
		at := v.written(path)
		v.reported[path], v.reported[at] = true, true
		switch {
		case at != path || e.Whole || e.Field == "" || e.Key:
			// At the key, or at the table that lacks the field.
			v.errs = append(v.errs, &Error{File: v.file, Pos: orStart(v.pos.key(at)), Msg: e.Msg})
		default:
			v.errs = append(v.errs, &Error{File: v.file, Pos: orStart(v.pos.value(path)), Msg: e.Msg})
		}
	}
}

// involvesBroken reports whether problem e of a core type involves a
// field whose value could not be decoded (broken.go).
func (v *validator) involvesBroken(e *field.Error, resolve func(string) string) bool {
	if len(v.broken) == 0 {
		return false
	}
	if !e.Whole && v.fieldBroken(resolve(e.Field)) {
		return true
	}
	for _, f := range e.Fields {
		if v.fieldBroken(resolve(f)) {
			return true
		}
	}
	return false
}

// written returns path if the file writes it, or else its nearest ancestor
// that the file writes ("" for the file itself).
func (v *validator) written(path string) string {
	at, _ := v.pos.nearest(path)
	return at
}

// parent returns the key path of the table holding path.
func parent(path string) string {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return ""
	}
	return path[:i]
}

// known reports whether the file writes the key path itself.
func (p *positions) known(path string) bool {
	if p == nil {
		return false
	}
	_, ok := p.entries[path]
	return ok
}

// linkField maps a field of topology.Link to where link l, at key path p,
// writes it: "out.loss" is written in [links.out] when that table sets it,
// or else at the top of the link; "down.K.to" is in the [[links.down]]
// that became window K.
func linkField(p string, l *linkSpec, downIndex []int, f string) string {
	dir, rest, _ := strings.Cut(f, ".")
	switch dir {
	case "out", "in":
		own := l.Out
		if dir == "in" {
			own = l.In
		}
		if own != nil && (rest == "" || specSets(reflect.ValueOf(own).Elem(), rest)) {
			return join(join(p, dir), rest)
		}
		return join(p, rest)
	case "down":
		k, tail, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(k); err == nil && i >= 0 && i < len(downIndex) {
			return join(fmt.Sprintf("%s.down.%d", p, downIndex[i]), tail)
		}
	}
	return join(p, f)
}

// specSets reports whether spec struct v sets key (its field is not nil).
func specSets(v reflect.Value, key string) bool {
	f, ok := fieldByTag(v, key)
	return ok && !f.IsZero()
}
