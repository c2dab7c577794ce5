package i18n

import (
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Rendering without fmt. Every segment of a run has notes, and a capture
// renders them all into its packet comments even when no timeline is
// printed, so Text is on the hot path of a bulk transfer. The catalogue's
// texts use almost only %s and %d (plain or with an explicit argument index
// such as %[2]s); a text is split once into literals and verbs, and a
// message whose verbs and arguments all fit those forms is appended piece
// by piece. Anything else — another verb, a flag or width, an argument of
// another type, a missing or extra argument — goes through fmt as before,
// so the bytes are always fmt's (TestAppendTextAgreesWithFmt).

// piece is a literal (arg < 0) or one %s / %d of a compiled text.
type piece struct {
	lit  string
	arg  int  // argument index, or -1 for a literal
	verb byte // 's' or 'd'
}

// compiled is a catalogue text split into pieces; ok is false when the
// text uses anything beyond %s, %d, %[n]s, %[n]d and %%.
type compiled struct {
	format string
	pieces []piece
	// nargs is how many arguments the text consumes when it uses no
	// explicit index; reordered says it uses one (then fmt reports no
	// extra arguments).
	nargs     int
	reordered bool
	ok        bool
}

// texts caches each language's compiled texts by key (the catalogues do
// not change while the program runs).
var texts [2]struct {
	sync.RWMutex
	m map[string]*compiled
}

// text returns the compiled text of key in lang (English when lang has
// none), or nil when no catalogue has key.
func text(lang Lang, key string) *compiled {
	i := 0
	if lang == ZH {
		i = 1
	}
	t := &texts[i]
	t.RLock()
	c, ok := t.m[key]
	t.RUnlock()
	if ok {
		return c
	}
	format, ok := catalogue(lang)[key]
	if !ok {
		if format, ok = en[key]; !ok {
			return nil
		}
	}
	c = parse(format)
	t.Lock()
	if t.m == nil {
		t.m = map[string]*compiled{}
	}
	t.m[key] = c
	t.Unlock()
	return c
}

// parse splits format as fmt.Sprintf reads it, for the forms listed on
// compiled.
func parse(format string) *compiled {
	c := &compiled{format: format, ok: true}
	argNum := 0
	lit := 0
	flushLit := func(end int) {
		if end > lit {
			c.pieces = append(c.pieces, piece{lit: format[lit:end], arg: -1})
		}
	}
	for i := 0; i < len(format); {
		if format[i] != '%' {
			i++
			continue
		}
		flushLit(i)
		j := i + 1
		if j >= len(format) {
			return &compiled{format: format}
		}
		if format[j] == '%' {
			c.pieces = append(c.pieces, piece{lit: "%", arg: -1})
			i = j + 1
			lit = i
			continue
		}
		if format[j] == '[' {
			k := j + 1
			n := 0
			for k < len(format) && format[k] >= '0' && format[k] <= '9' && k-j < 4 {
				n = n*10 + int(format[k]-'0')
				k++
			}
			if k == j+1 || k >= len(format) || format[k] != ']' || n < 1 {
				return &compiled{format: format}
			}
			argNum = n - 1
			c.reordered = true
			j = k + 1
			if j >= len(format) {
				return &compiled{format: format}
			}
		}
		switch format[j] {
		case 's', 'd':
		default:
			return &compiled{format: format}
		}
		c.pieces = append(c.pieces, piece{arg: argNum, verb: format[j]})
		argNum++
		c.nargs = max(c.nargs, argNum)
		i = j + 1
		lit = i
	}
	flushLit(len(format))
	return c
}

// fits reports whether args can be appended by c without fmt: every verb's
// argument exists and has a type the verb prints plainly, and no argument
// is left over.
func (c *compiled) fits(args []any) bool {
	if !c.ok || (!c.reordered && c.nargs != len(args)) {
		return false
	}
	for _, p := range c.pieces {
		if p.arg < 0 {
			continue
		}
		if p.arg >= len(args) {
			return false
		}
		switch args[p.arg].(type) {
		case string, Msg, []Msg, List, time.Duration, netip.AddrPort, netip.Addr:
			if p.verb != 's' {
				return false
			}
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
			if p.verb != 'd' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// AppendText appends m rendered in lang to b, byte for byte what Text
// returns. names may be nil.
func (m Msg) AppendText(b []byte, lang Lang, names Namer) []byte {
	if m.Key == "" {
		return b
	}
	c := text(lang, m.Key)
	if c == nil {
		return append(append(append(b, '!'), m.Key...), fmt.Sprint(m.Args)...)
	}
	if len(m.Args) == 0 {
		return append(b, c.format...)
	}
	if !c.fits(m.Args) {
		args := make([]any, len(m.Args))
		for i, a := range m.Args {
			args[i] = arg(a, lang, names)
		}
		return fmt.Appendf(b, c.format, args...)
	}
	for _, p := range c.pieces {
		if p.arg < 0 {
			b = append(b, p.lit...)
			continue
		}
		b = appendArg(b, m.Args[p.arg], lang, names)
	}
	return b
}

// appendArg appends one argument that fits its verb, as arg and fmt
// together would render it.
func appendArg(b []byte, a any, lang Lang, names Namer) []byte {
	switch v := a.(type) {
	case string:
		return append(b, v...)
	case Msg:
		return v.AppendText(b, lang, names)
	case []Msg:
		return AppendJoin(b, v, lang, names)
	case List:
		for i, m := range v {
			if i > 0 {
				if lang == ZH {
					b = append(b, "、"...)
				} else {
					b = append(b, ", "...)
				}
			}
			b = m.AppendText(b, lang, names)
		}
		return b
	case time.Duration:
		return append(b, Dur(v, lang)...)
	case netip.AddrPort:
		return append(b, addrPort(v, names)...)
	case netip.Addr:
		if names != nil {
			if n := names(v); n != "" {
				return append(b, n...)
			}
		}
		if !v.IsValid() {
			return append(b, v.String()...) // "invalid IP", where AppendTo appends nothing
		}
		return v.AppendTo(b)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int8:
		return strconv.AppendInt(b, int64(v), 10)
	case int16:
		return strconv.AppendInt(b, int64(v), 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case uint:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	}
	panic(fmt.Sprintf("i18n: appendArg of %T", a)) // fits admits no other type
}

// AppendJoin appends msgs rendered in lang to b, separated as Join
// separates them.
func AppendJoin(b []byte, msgs []Msg, lang Lang, names Namer) []byte {
	for i, m := range msgs {
		if i > 0 {
			b = append(b, sep(lang)...)
		}
		b = m.AppendText(b, lang, names)
	}
	return b
}
