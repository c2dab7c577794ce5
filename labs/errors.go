package labs

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a lab file, at a position when one is known.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

// Error implements error: "labs/x.toml:14:3: message".
func (e *Error) Error() string {
	switch {
	case e.Pos.IsValid():
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	}
	return e.Msg
}

// ErrorList is every problem found in one or more lab files, sorted by file
// and position.
type ErrorList []*Error

// maxShown is how many errors ErrorList.Error prints before summarising.
const maxShown = 10

// Error implements error: one problem per line, at most maxShown, then
// "(and N more errors)".
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i == maxShown {
			fmt.Fprintf(&b, "\n(and %d more errors)", len(l)-maxShown)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// sort orders the list by file, line and column, keeping the order of
// errors at the same place.
func (l ErrorList) sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
}

// err returns the list as an error, or nil when it is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}
