package labs

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// The lab decoder. go-toml parses the file into generic values (which also
// rejects syntax errors and duplicate keys); this file then fills the spec
// structs of format.go itself, so that every unknown key and every value of
// the wrong type in a file is reported together, each at its position, in
// the lab's own terms.

// rawValue is implemented by spec types that accept more than one TOML type
// (a size is 1500 or "64KB"). decodeRaw returns a message on error.
type rawValue interface {
	decodeRaw(v any) string
}

// decoder fills spec structs from generic TOML values.
type decoder struct {
	file string
	pos  *positions
	errs ErrorList
	// broken lists the key paths whose values could not be decoded, in
	// the order found; unknown the keys no field takes, which are broken
	// too.
	broken, unknown []string
}

// parse decodes data into spec, reporting every problem it finds, and
// returns the position index of data for validation, the key paths of the
// values it could not decode and those of the unknown keys (broken.go).
func parse(file string, data []byte, spec *fileSpec) (*positions, ErrorList, []string, []string) {
	pos, ierr := indexPositions(data)
	var perr *posError
	if errors.As(ierr, &perr) && perr.tooDeep {
		// Stop before go-toml decodes a structure this deep.
		return nil, ErrorList{{File: file, Pos: perr.Pos, Msg: perr.Msg}}, nil, nil
	}
	var raw map[string]any
	if err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil {
		e := syntaxError(file, err)
		if !e.Pos.IsValid() && perr != nil {
			e.Pos = perr.Pos
		}
		if !e.Pos.IsValid() {
			e.Pos = Pos{1, 1}
		}
		return nil, ErrorList{e}, nil, nil
	}
	if pos == nil { // cannot happen: go-toml accepted the file
		e := &Error{File: file, Pos: Pos{1, 1}, Msg: "the file could not be indexed: " + ierr.Error()}
		if perr != nil && perr.Pos.IsValid() {
			e.Pos, e.Msg = perr.Pos, "the file could not be indexed: "+perr.Msg
		}
		return nil, ErrorList{e}, nil, nil
	}
	d := &decoder{file: file, pos: pos}
	d.value(reflect.ValueOf(spec).Elem(), raw, "", "")
	return pos, d.errs, d.broken, d.unknown
}

// syntaxError converts go-toml's parse error.
func syntaxError(file string, err error) *Error {
	if de, ok := err.(*toml.DecodeError); ok {
		line, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		return &Error{File: file, Pos: Pos{line, col}, Msg: msg}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

// bad records a problem with the value at path, which validation then
// treats as broken: it skips the checks that depend on it.
func (d *decoder) bad(path string, format string, args ...any) {
	d.broken = append(d.broken, path)
	d.errorf(d.pos.value(path), format, args...)
}

func (d *decoder) errorf(pos Pos, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Pos: orStart(pos), Msg: fmt.Sprintf(format, args...)})
}

// join extends a key path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var (
	textType     = reflect.TypeFor[encoding.TextUnmarshaler]()
	rawValueType = reflect.TypeFor[rawValue]()
)

// value stores raw into v. path locates the value in the file; name is the
// key as the user wrote it, for messages.
func (d *decoder) value(v reflect.Value, raw any, path, name string) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if v.CanAddr() {
		if rv, ok := v.Addr().Interface().(rawValue); ok {
			if msg := rv.decodeRaw(raw); msg != "" {
				d.bad(path, "%s", msg)
			}
			return
		}
		if tu, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
			s, isString := raw.(string)
			if !isString {
				d.bad(path, "%s must be %s, not %s", name, describeType(v.Type()), describeValue(raw))
				return
			}
			if err := tu.UnmarshalText([]byte(s)); err != nil {
				d.bad(path, "%s", err.Error())
			}
			return
		}
	}
	switch v.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			d.bad(path, "%s must be a table, not %s", name, describeValue(raw))
			return
		}
		d.table(v, m, path)
	case reflect.Slice:
		list, ok := raw.([]any)
		if !ok {
			if maps, ok2 := raw.([]map[string]any); ok2 {
				for _, m := range maps {
					list = append(list, m)
				}
			} else {
				d.bad(path, "%s must be %s, not %s", name, describeType(v.Type()), describeValue(raw))
				return
			}
		}
		out := reflect.MakeSlice(v.Type(), len(list), len(list))
		for i, item := range list {
			d.value(out.Index(i), item, join(path, strconv.Itoa(i)), name+" element")
		}
		v.Set(out)
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			d.bad(path, "%s must be a string, not %s", name, describeValue(raw))
			return
		}
		if r, bad := unprintable(s); bad && !payloadKeys[name] {
			d.bad(path, "%s holds the control character %U; tcplab prints it on terminals, where it would act instead of show (only tab and line breaks may appear)", name, r)
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			d.bad(path, "%s must be true or false, not %s", name, describeValue(raw))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, ok := raw.(int64)
		if !ok {
			d.bad(path, "%s must be an integer, not %s", name, describeValue(raw))
			return
		}
		v.SetInt(n)
	case reflect.Float64:
		switch n := raw.(type) {
		case float64:
			v.SetFloat(n)
		case int64:
			v.SetFloat(float64(n))
		default:
			d.bad(path, "%s must be a number, not %s", name, describeValue(raw))
		}
	default:
		panic(fmt.Sprintf("labs: spec field of kind %v", v.Kind()))
	}
}

// table fills struct v from m: every key of m must be a field (by its toml
// tag, exactly); embedded structs share their parent's keys.
func (d *decoder) table(v reflect.Value, m map[string]any, path string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f, ok := fieldByTag(v, k)
		p := join(path, k)
		if !ok {
			if rest, ok := restField(v); ok {
				// Keys validation decodes (a model's parameters).
				if rest.IsNil() {
					rest.Set(reflect.MakeMap(rest.Type()))
				}
				rest.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(m[k]))
				continue
			}
			d.errorf(d.pos.key(p), "%s", unknownKey(v.Type(), k, p))
			d.unknown = append(d.unknown, p) // perhaps a key of the table misspelt
			continue
		}
		d.value(f, m[k], p, k)
	}
}

// payloadKeys are the string keys that hold bytes an application sends,
// which may be anything: they are always printed quoted.
var payloadKeys = map[string]bool{"data": true, "response": true, "request": true}

// unprintable returns the first rune of s that would act on a terminal
// rather than show: C0 controls other than tab, CR and LF, DEL, C1 controls
// and the bidirectional overrides and isolates.
func unprintable(s string) (rune, bool) {
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20 || r >= 0x7f && r < 0xa0,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return r, true
		}
	}
	return 0, false
}

// restField returns the field of struct v tagged ",rest", a map[string]any
// that takes the keys no other field does, if it has one.
func restField(v reflect.Value) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("toml") == ",rest" {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// fieldByTag finds the field of struct v tagged key, looking into embedded
// structs.
func fieldByTag(v reflect.Value, key string) (reflect.Value, bool) {
	if strings.HasPrefix(key, ",") {
		return reflect.Value{}, false // not a key: ",rest"
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			if fv, ok := fieldByTag(v.Field(i), key); ok {
				return fv, true
			}
			continue
		}
		if f.Tag.Get("toml") == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// tags lists the keys of struct type t, embedded structs included.
func tags(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, tags(f.Type)...)
		} else if tag := f.Tag.Get("toml"); tag != "" && !strings.HasPrefix(tag, ",") {
			out = append(out, tag)
		}
	}
	return out
}

// unknownKey words the error for key k in a table of type t, suggesting
// the key that was probably meant.
func unknownKey(t reflect.Type, k, path string) string {
	return unknownKeyIn(tags(t), k, path)
}

// unknownKeyIn words the error for key k at path, suggesting the key of
// known that was probably meant.
func unknownKeyIn(known []string, k, path string) string {
	var parts []string
	for _, part := range strings.Split(path, ".") {
		if _, err := strconv.Atoi(part); err != nil {
			parts = append(parts, part)
		}
	}
	msg := fmt.Sprintf("unknown key %q", truncateText(strings.Join(parts, "."), 60))
	lower := strings.ToLower(k)
	for _, kk := range known {
		if kk == lower {
			return msg + fmt.Sprintf(" (keys are case-sensitive: %q)", kk)
		}
	}
	return msg + didYouMean(k, known)
}

// editDistance is the optimal string alignment distance of a and b: the
// Levenshtein distance (insertions, deletions, substitutions) in which
// swapping two adjacent letters counts as one edit, as it is one slip of
// the fingers ("prot" is one edit from "port", two from "from").
func editDistance(a, b string) int {
	// rows i-2, i-1 and i of the table.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// describeType says what a value of type t is written as.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[Duration]():
		return `a duration string such as "200ms"`
	case reflect.TypeFor[Rate]():
		return `a rate string such as "100Mbit/s"`
	}
	if t.Kind() == reflect.Slice {
		e := t.Elem()
		for e.Kind() == reflect.Pointer {
			e = e.Elem()
		}
		if e.Kind() == reflect.Struct && !reflect.PointerTo(e).Implements(textType) && !reflect.PointerTo(e).Implements(rawValueType) {
			return "an array of tables"
		}
		return "an array"
	}
	return "a " + t.Kind().String()
}

// describeValue names the TOML type of a generic value, with the value when
// it is short: "the integer 5", "a string", "a table".
func describeValue(raw any) string {
	switch x := raw.(type) {
	case string:
		return fmt.Sprintf("the string %q", truncateText(x, 20))
	case int64:
		return "the integer " + strconv.FormatInt(x, 10)
	case float64:
		return "the float " + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return "the boolean " + strconv.FormatBool(x)
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	case time.Time, toml.LocalDate, toml.LocalTime, toml.LocalDateTime:
		return "a date or time"
	}
	return fmt.Sprintf("a %T", raw)
}

// truncateText shortens s to at most n bytes and an ellipsis, cutting at a
// rune boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// abs returns the absolute value of n.
func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
