// Package i18n holds every annotation tcplab prints, in each language it
// speaks. Code that explains something builds a Msg (a key and its
// arguments) instead of a string; the timeline renders it in the reader's
// language at the end. The English texts live in en.go, the Chinese ones in
// zh.go, and nowhere else.
package i18n

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Lang is an output language.
type Lang int

// Languages.
const (
	// EN is English, the default.
	EN Lang = iota
	// ZH is simplified Chinese.
	ZH
)

// Langs lists the language codes ParseLang accepts, in order.
var Langs = []string{"en", "zh"}

// ParseLang returns the language with code s ("en" or "zh").
func ParseLang(s string) (Lang, error) {
	switch strings.ToLower(s) {
	case "en", "":
		return EN, nil
	case "zh", "zh-cn", "cn":
		return ZH, nil
	}
	return EN, fmt.Errorf("unknown language %q (want en or zh)", s)
}

// String returns the language code.
func (l Lang) String() string { return Langs[l] }

// Msg is one annotation: a catalogue key and the arguments its text needs.
// An argument may itself be a Msg or a []Msg (rendered in the same
// language), a time.Duration (rendered compactly), a netip.Addr or
// netip.AddrPort (rendered with host names), or any value fmt prints.
type Msg struct {
	Key  string
	Args []any
}

// List is a message argument rendered as an enumeration: "MSS 1460, SACK"
// in English, "MSS 1460、SACK" in Chinese.
type List []Msg

// M returns the message key with args.
func M(key string, args ...any) Msg { return Msg{Key: key, Args: args} }

// IsZero reports whether m is the zero Msg (no message).
func (m Msg) IsZero() bool { return m.Key == "" }

// Namer gives a host's name for an address; it returns "" for an address no
// host owns.
type Namer func(netip.Addr) string

// Text renders m in lang. names may be nil.
func (m Msg) Text(lang Lang, names Namer) string {
	if m.Key == "" {
		return ""
	}
	if len(m.Args) == 0 {
		if format, ok := catalogue(lang)[m.Key]; ok {
			return format // no copy
		}
	}
	return string(m.AppendText(nil, lang, names))
}

// Join renders msgs in lang, separated as the language separates clauses.
func Join(msgs []Msg, lang Lang, names Namer) string {
	switch len(msgs) {
	case 0:
		return ""
	case 1:
		return msgs[0].Text(lang, names)
	}
	return string(AppendJoin(nil, msgs, lang, names))
}

func sep(lang Lang) string {
	if lang == ZH {
		return "；"
	}
	return "; "
}

// arg renders one message argument as Text does.
func arg(a any, lang Lang, names Namer) any {
	switch v := a.(type) {
	case Msg:
		return v.Text(lang, names)
	case []Msg:
		return Join(v, lang, names)
	case List:
		parts := make([]string, len(v))
		for i, m := range v {
			parts[i] = m.Text(lang, names)
		}
		if lang == ZH {
			return strings.Join(parts, "、")
		}
		return strings.Join(parts, ", ")
	case time.Duration:
		return Dur(v, lang)
	case netip.AddrPort:
		return addrPort(v, names)
	case netip.Addr:
		if names != nil {
			if n := names(v); n != "" {
				return n
			}
		}
		return v.String()
	}
	return a
}

// addrPort renders an address and port as "host:port" when names knows the
// address.
func addrPort(ap netip.AddrPort, names Namer) string {
	if names != nil {
		if n := names(ap.Addr()); n != "" {
			return fmt.Sprintf("%s:%d", n, ap.Port())
		}
	}
	return ap.String()
}

// Dur renders a duration compactly, as Go does but in whole seconds up to
// an hour and without zero units: "60s", "1.5ms", "2h", "1h30m". It is the
// same in every language.
func Dur(d time.Duration, _ Lang) string {
	if d%time.Second == 0 && d < time.Hour {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	if d >= time.Second {
		d = d.Round(time.Millisecond)
	} else {
		d = d.Round(time.Microsecond)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// catalogue returns the texts of lang.
func catalogue(lang Lang) map[string]string {
	if lang == ZH {
		return zh
	}
	return en
}

// Keys returns every key of the English catalogue, for tests.
func Keys() []string {
	keys := make([]string, 0, len(en))
	for k := range en {
		keys = append(keys, k)
	}
	return keys
}

// Has reports whether lang has a text for key.
func Has(lang Lang, key string) bool {
	_, ok := catalogue(lang)[key]
	return ok
}

// Format returns lang's raw text for key, for tests.
func Format(lang Lang, key string) string { return catalogue(lang)[key] }
