package labs

import (
	"fmt"
	"regexp"
	"strings"
)

// A value of the wrong type does not stop validation: the decoder leaves
// it zero and lists its key path as broken, and validation skips only the
// problems that depend on it, so that a file with a type error and a
// semantic error reports both at once. A problem depends on a broken value
// when it is at that value or inside it, when it is one of labs' own
// problems about the table that holds it as a whole (errorf), or, for a
// core type's problem, when one of the fields it names is broken. A
// missing key (a core type's problem about a field the file does not
// write, or labs' missingf) depends only on that key and on the unknown
// keys of its table, one of which may be it misspelt: "sleep needs a
// duration" is reported beside socket = 5 but not beside fro = "1s". An
// unknown key counts as a broken value of its table. A host name that
// could not be decoded suppresses "names host ..., which is not defined".

// hostNamePath matches the key path of a host's name.
var hostNamePath = regexp.MustCompile(`^hosts\.[0-9]+\.name$`)

// markBroken records that the value at path could not be decoded.
func (v *validator) markBroken(path string) {
	v.broken[path] = true
	if hostNamePath.MatchString(path) {
		v.hostNameBroken = true
	}
}

// markUnknown records that the file writes key path, which no field takes.
func (v *validator) markUnknown(path string) {
	v.markBroken(path)
	v.unknownIn[parent(path)] = true
}

// missingf records a problem at table p, which lacks the keys keys (one of
// them, or all of them), unless one of those keys is broken or the table
// has an unknown key.
func (v *validator) missingf(p string, keys []string, format string, args ...any) {
	if v.unknownIn[p] {
		return
	}
	for _, k := range keys {
		if v.dependsOnBroken(join(p, k), false) {
			return
		}
	}
	// The missing keys are reported: a core type's problem with the same
	// unwritten field would say it again in other words.
	v.reported[p] = true
	for _, k := range keys {
		v.reported[join(p, k)] = true
	}
	v.errs = append(v.errs, &Error{File: v.file, Pos: orStart(v.pos.key(p)), Msg: fmt.Sprintf(format, args...)})
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
// around it, or, for a field the file does not write, an unknown key
// beside it.
func (v *validator) fieldBroken(path string) bool {
	if !v.pos.known(path) && v.unknownIn[parent(path)] {
		return true
	}
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
// a host's name could not be decoded (it may be the one meant); the value
// at path counts as reported either way, so that a core type does not
// report it in other words.
func (v *validator) undefinedf(path string, format string, args ...any) {
	if v.hostNameBroken {
		v.reported[path] = true
		return
	}
	v.valuef(path, format, args...)
}
