package labs

import (
	"regexp"
	"strings"
)

// A value of the wrong type does not stop validation: the decoder leaves
// it zero and lists its key path as broken, and validation skips only the
// problems that depend on it, so that a file with a type error and a
// semantic error reports both at once. A problem depends on a broken value
// when it is at that value or inside it, when it is about the table that
// holds it as a whole (a table-level problem such as "listen needs a
// port", which a broken port would cause), or, for a core type's problem,
// when one of the fields it names is broken. An unknown key counts as a
// broken value of its table: it may be a required key misspelt. A host name that could not be
// decoded suppresses "names host ..., which is not defined".

// hostNamePath matches the key path of a host's name.
var hostNamePath = regexp.MustCompile(`^hosts\.[0-9]+\.name$`)

// markBroken records that the value at path could not be decoded.
func (v *validator) markBroken(path string) {
	v.broken[path] = true
	if hostNamePath.MatchString(path) {
		v.hostNameBroken = true
	}
}

// dependsOnBroken reports whether a problem at path depends on a value
// that could not be decoded: path is that value or inside it, or, for a
// problem of a table (table), the table holds it.
func (v *validator) dependsOnBroken(path string, table bool) bool {
	if len(v.broken) == 0 {
		return false
	}
	for p := path; ; p = parent(p) {
		if v.broken[p] {
			return true
		}
		if p == "" {
			break
		}
	}
	if table {
		for b := range v.broken {
			if parent(b) == path {
				return true
			}
		}
	}
	return false
}

// fieldBroken reports whether a core type's problem at path, which names
// a field of the file, depends on a broken value: the field or a table
// around it.
func (v *validator) fieldBroken(path string) bool {
	return v.dependsOnBroken(path, false) || hasBrokenUnder(v.broken, path)
}

// hasBrokenUnder reports whether a value inside path is broken.
func hasBrokenUnder(broken map[string]bool, path string) bool {
	for b := range broken {
		if strings.HasPrefix(b, path+".") {
			return true
		}
	}
	return false
}

// undefinedf reports, like valuef, that a host name is not defined, unless
// a host's name could not be decoded (it may be the one meant).
func (v *validator) undefinedf(path string, format string, args ...any) {
	if v.hostNameBroken {
		return
	}
	v.valuef(path, format, args...)
}
