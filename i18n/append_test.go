package i18n

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// refText is Text as it was before the fmt-free path: every argument
// through arg, the text through fmt.Sprintf.
func refText(m Msg, lang Lang, names Namer) string {
	if m.Key == "" {
		return ""
	}
	format, ok := catalogue(lang)[m.Key]
	if !ok {
		if format, ok = en[m.Key]; !ok {
			return "!" + m.Key + fmt.Sprint(m.Args)
		}
	}
	if len(m.Args) == 0 {
		return format
	}
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		args[i] = refArg(a, lang, names)
	}
	return fmt.Sprintf(format, args...)
}

func refArg(a any, lang Lang, names Namer) any {
	switch v := a.(type) {
	case Msg:
		return refText(v, lang, names)
	case []Msg:
		parts := make([]string, len(v))
		for i, m := range v {
			parts[i] = refText(m, lang, names)
		}
		return strings.Join(parts, sep(lang))
	case List:
		parts := make([]string, len(v))
		for i, m := range v {
			parts[i] = refText(m, lang, names)
		}
		if lang == ZH {
			return strings.Join(parts, "、")
		}
		return strings.Join(parts, ", ")
	}
	return arg(a, lang, names)
}

type named int

// TestAppendTextAgreesWithFmt renders every catalogue text in both
// languages with arguments of every kind (the right ones, wrong types,
// too few, too many) and checks Text, AppendText and Join give fmt's bytes.
func TestAppendTextAgreesWithFmt(t *testing.T) {
	names := func(a netip.Addr) string {
		if a == netip.MustParseAddr("10.0.0.1") {
			return "client"
		}
		return ""
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range en {
			if !yield(k) {
				return
			}
		}
	})
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(depth int) any {
		switch rng.IntN(16) {
		case 0:
			return rng.IntN(100000) - 50
		case 1:
			return uint32(rng.Uint32())
		case 2:
			return int64(rng.Int64())
		case 3:
			return fmt.Sprintf("s%d", rng.IntN(99))
		case 4:
			return time.Duration(rng.Int64N(int64(3 * time.Hour)))
		case 5:
			return 1500 * time.Millisecond
		case 6:
			return netip.MustParseAddr("10.0.0.1")
		case 7:
			return netip.MustParseAddrPort("10.0.0.2:80")
		case 8:
			return netip.MustParseAddrPort("10.0.0.1:443")
		case 9:
			if depth > 0 {
				return 7
			}
			return M(keys[rng.IntN(len(keys))], 3, "x")
		case 10:
			return List{M("seg.nottcp", "e"), M(keys[rng.IntN(len(keys))])}
		case 11:
			return []Msg{M("seg.nottcp", "e"), M(keys[rng.IntN(len(keys))], 1)}
		case 12:
			return named(4)
		case 13:
			return 2.5
		case 14:
			return nil
		}
		return uint8(rng.IntN(256))
	}
	n, fast := 0, 0
	for _, lang := range []Lang{EN, ZH} {
		for _, k := range keys {
			format := catalogue(lang)[k]
			want := strings.Count(format, "%") - 2*strings.Count(format, "%%")
			for trial := range 12 {
				nargs := want
				if trial >= 8 {
					nargs = rng.IntN(7)
				}
				args := make([]any, nargs)
				for i := range args {
					args[i] = pick(0)
				}
				if trial < 4 {
					// The types the text asks for, so the fast path runs.
					c := parse(format)
					for _, p := range c.pieces {
						if p.arg >= 0 && p.arg < len(args) {
							if p.verb == 'd' {
								args[p.arg] = rng.IntN(1 << 20)
							} else {
								args[p.arg] = fmt.Sprint("v", rng.IntN(9))
							}
						}
					}
				}
				m := M(k, args...)
				ref := refText(m, lang, names)
				if got := m.Text(lang, names); got != ref {
					t.Fatalf("%s %v %#v:\n got %q\nwant %q", lang, k, args, got, ref)
				}
				if got := string(m.AppendText([]byte("p"), lang, names)); got != "p"+ref {
					t.Fatalf("AppendText %s %v: got %q want %q", lang, k, got, "p"+ref)
				}
				two := []Msg{m, M("seg.nottcp", "z")}
				if got, want := Join(two, lang, names), refText(m, lang, names)+sep(lang)+refText(two[1], lang, names); got != want {
					t.Fatalf("Join %s %v: got %q want %q", lang, k, got, want)
				}
				n++
				if parse(format).fits(args) {
					fast++
				}
			}
		}
	}
	if fast < n/4 || fast == n {
		t.Fatalf("%d of %d renderings took the fmt-free path: the test should exercise both", fast, n)
	}
	for _, m := range []Msg{{}, M("no.such.key", 1, "a"), M("seg.nottcp")} {
		if got, want := m.Text(EN, nil), refText(m, EN, nil); got != want {
			t.Fatalf("%#v: got %q want %q", m, got, want)
		}
	}
}

// TestParseFormats checks the split of a few texts fmt reads in a
// particular way.
func TestParseFormats(t *testing.T) {
	for _, tc := range []struct {
		format string
		ok     bool
		args   []any
	}{
		{"a %s b %d", true, []any{"x", 3}},
		{"%[2]s %s %[1]d", true, []any{1, "y", "z"}},
		{"100%% of %d", true, []any{5}},
		{"%q", false, []any{"x"}},
		{"%5d", false, []any{5}},
		{"%[0]d", false, []any{5}},
		{"%[1000]d", false, []any{5}},
		{"trailing %", false, nil},
		{"%[2", false, []any{1, 2}},
	} {
		c := parse(tc.format)
		if c.ok != tc.ok {
			t.Errorf("parse(%q).ok = %v, want %v", tc.format, c.ok, tc.ok)
		}
		en["test.parse"] = tc.format
		forgetTexts()
		m := M("test.parse", tc.args...)
		if got, want := m.Text(EN, nil), refText(m, EN, nil); got != want {
			t.Errorf("%q: got %q want %q", tc.format, got, want)
		}
		delete(en, "test.parse")
		forgetTexts()
	}
}

// TestAppendTextZeroAddr checks that the fast path renders a zero
// netip.Addr as fmt does ("invalid IP"), not as nothing as AppendTo does.
func TestAppendTextZeroAddr(t *testing.T) {
	m := M("seg.nottcp", netip.Addr{})
	if got, want := string(m.AppendText(nil, EN, nil)), refText(m, EN, nil); got != want {
		t.Fatalf("AppendText = %q, want %q", got, want)
	}
}
