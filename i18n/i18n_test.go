package i18n

import (
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// argVerbs maps a 1-based argument index to the verb that formats it.
type argVerbs map[int]rune

// knownVerbs are the verbs a catalogue text may use; parseVerbs rejects any
// other, so that fmt's "%!z(...)" cannot reach a reader.
const knownVerbs = "vtbcdoOqxXUeEfFgGs"

// maxArgIndex bounds explicit argument indexes; no text needs more.
const maxArgIndex = 99

// parseVerbs returns the arguments format consumes, as fmt.Sprintf consumes
// them: each verb takes the next argument, an explicit index %[n] right
// before the verb repositions that, and %% takes none. Flags, width and
// precision are skipped. A '*' width or precision, an index anywhere else,
// an unknown verb or a format that ends inside a verb is an error, and so is
// an argument formatted with two different verbs.
func parseVerbs(format string) (argVerbs, error) {
	got := argVerbs{}
	next := 0 // 0-based index of the argument the next verb takes
	for i := 0; i < len(format); {
		if format[i] != '%' {
			i++
			continue
		}
		start := i
		i++
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			i++
		}
		number := func() error {
			if i < len(format) && format[i] == '*' {
				return fmt.Errorf("offset %d: '*' width or precision is not supported", start)
			}
			j := i
			for j < len(format) && '0' <= format[j] && format[j] <= '9' {
				j++
			}
			if j-i > 6 {
				return fmt.Errorf("offset %d: width or precision too large", start)
			}
			i = j
			return nil
		}
		if err := number(); err != nil {
			return nil, err
		}
		if i < len(format) && format[i] == '.' {
			i++
			if err := number(); err != nil {
				return nil, err
			}
		}
		// An index stands right before the verb: fmt rejects "%[2]6d".
		indexed := i < len(format) && format[i] == '['
		if indexed {
			end := strings.IndexByte(format[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("offset %d: unclosed argument index", start)
			}
			n, err := strconv.Atoi(format[i+1 : i+end])
			if err != nil || n < 1 || n > maxArgIndex {
				return nil, fmt.Errorf("offset %d: bad argument index %q", start, format[i:i+end+1])
			}
			next, i = n-1, i+end+1
		}
		if i >= len(format) {
			return nil, fmt.Errorf("offset %d: format ends inside a verb", start)
		}
		verb, size := utf8.DecodeRuneInString(format[i:])
		i += size
		if verb == '%' {
			if indexed {
				return nil, fmt.Errorf("offset %d: %%%% with an argument index", start)
			}
			continue
		}
		if !strings.ContainsRune(knownVerbs, verb) {
			return nil, fmt.Errorf("offset %d: unknown verb %q", start, verb)
		}
		n := next + 1
		if prev, ok := got[n]; ok && prev != verb {
			return nil, fmt.Errorf("offset %d: argument %d formatted as %%%c and %%%c", start, n, prev, verb)
		}
		got[n] = verb
		next++
	}
	return got, nil
}

// String renders v as "1:%d 2:%s".
func (v argVerbs) String() string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(v)) {
		parts = append(parts, fmt.Sprintf("%d:%%%c", n, v[n]))
	}
	return strings.Join(parts, " ")
}

// sameArgs reports whether two formats consume the same arguments with the
// same verbs, and how they differ when they do not.
func sameArgs(en, zh string) error {
	a, err := parseVerbs(en)
	if err != nil {
		return fmt.Errorf("en: %v", err)
	}
	b, err := parseVerbs(zh)
	if err != nil {
		return fmt.Errorf("zh: %v", err)
	}
	if !maps.Equal(a, b) {
		return fmt.Errorf("arguments differ: en takes %v, zh takes %v", a, b)
	}
	return nil
}

// dummyArgs returns arguments for a format that takes v: each a distinct
// value of a type its verb formats, so that each can be found in the text.
func dummyArgs(v argVerbs) []any {
	n := 0
	for i := range v {
		n = max(n, i)
	}
	args := make([]any, n)
	for i := range args {
		switch v[i+1] {
		case 's', 'v', 'q', 0:
			args[i] = fmt.Sprintf("‹arg%d›", i+1)
		case 't':
			args[i] = true
		case 'e', 'E', 'f', 'F', 'g', 'G':
			args[i] = 1.5
		default:
			args[i] = 7001 + i
		}
	}
	return args
}

func TestParseVerbs(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		want    argVerbs
		wantErr string
	}{
		{name: "no verbs", format: "both queues empty", want: argVerbs{}},
		{name: "sequential", format: "%d bytes from %s", want: argVerbs{1: 'd', 2: 's'}},
		{name: "percent", format: "100%% of %d%%", want: argVerbs{1: 'd'}},
		{name: "percent after flags", format: "%-5% %s", want: argVerbs{1: 's'}},
		{name: "indexed", format: "%[2]s then %[1]d", want: argVerbs{1: 'd', 2: 's'}},
		{name: "sequential continues after an index", format: "%[3]s %d %[1]s", want: argVerbs{1: 's', 3: 's', 4: 'd'}},
		{name: "as seg.syn.retrans", format: "%d %[3]s %[2]s", want: argVerbs{1: 'd', 2: 's', 3: 's'}},
		{name: "repeated index", format: "%[1]s and %[1]s", want: argVerbs{1: 's'}},
		{name: "flags width precision", format: "%-8.3f|%+d|%#x|% 05d", want: argVerbs{1: 'f', 2: 'd', 3: 'x', 4: 'd'}},
		{name: "index after width", format: "%6[2]d %[1]s", want: argVerbs{1: 's', 2: 'd'}},
		{name: "index after precision", format: "%6.2[2]f %.[1]d", want: argVerbs{1: 'd', 2: 'f'}},
		{name: "non-ASCII text", format: "第 %[2]d 帧：%[1]s；", want: argVerbs{1: 's', 2: 'd'}},
		{name: "trailing percent", format: "50%", wantErr: "ends inside a verb"},
		{name: "trailing flags", format: "%-", wantErr: "ends inside a verb"},
		{name: "unknown verb", format: "%z", wantErr: "unknown verb"},
		{name: "non-ASCII verb", format: "%的", wantErr: "unknown verb"},
		{name: "zero index", format: "%[0]d", wantErr: "bad argument index"},
		{name: "non-numeric index", format: "%[a]d", wantErr: "bad argument index"},
		{name: "unclosed index", format: "%[2d", wantErr: "unclosed"},
		{name: "huge index", format: "%[1000]d", wantErr: "bad argument index"},
		{name: "star width", format: "%*d", wantErr: "not supported"},
		{name: "two indexes", format: "%[1][2]d", wantErr: "unknown verb"},
		{name: "index before width", format: "%[2]6d", wantErr: "unknown verb"},
		{name: "index before precision", format: "%[2].3f", wantErr: "unknown verb"},
		{name: "conflicting verbs", format: "%[1]d %[1]s", wantErr: "formatted as %d and %s"},
		{name: "conflict by position", format: "%s %[1]d", wantErr: "formatted as %s and %d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVerbs(tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseVerbs(%q) = %v, %v; want error containing %q", tt.format, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !maps.Equal(got, tt.want) {
				t.Fatalf("parseVerbs(%q) = %v, %v; want %v", tt.format, got, err, tt.want)
			}
		})
	}
}

func TestSameArgs(t *testing.T) {
	tests := []struct {
		name   string
		en, zh string
		ok     bool
	}{
		{name: "identical", en: "%d of %s", zh: "%d 的 %s", ok: true},
		{name: "reordered", en: "%d bytes from %s", zh: "%[2]s 发送 %[1]d 字节", ok: true},
		{name: "explicit both", en: "%[2]s %[1]d", zh: "%d %s", ok: true},
		{name: "missing argument", en: "%s to %s", zh: "到 %s", ok: false},
		{name: "extra argument", en: "%s", zh: "%s %s", ok: false},
		{name: "verb changed", en: "window %d", zh: "窗口 %s", ok: false},
		{name: "verbs swapped by reordering", en: "%d %s", zh: "%[2]d %[1]s", ok: false},
		{name: "gap", en: "%s %s %s", zh: "%[1]s %[3]s", ok: false},
		{name: "bad zh", en: "%s", zh: "%s%", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sameArgs(tt.en, tt.zh)
			if (err == nil) != tt.ok {
				t.Errorf("sameArgs(%q, %q) = %v, want ok=%v", tt.en, tt.zh, err, tt.ok)
			}
		})
	}
}

func FuzzParseVerbs(f *testing.F) {
	for _, k := range Keys() {
		f.Add(en[k])
		f.Add(zh[k])
	}
	for _, s := range []string{"%", "%%", "%[", "%[1", "%[1]", "%-[2]5.[1]3d", "%.d", "%!", "%[99]s", "%1234567d", "%\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, format string) {
		v, err := parseVerbs(format)
		if err != nil || strings.Contains(format, "!") {
			return // with no '!' in the format, "%!" in the output is fmt's error
		}
		if s := fmt.Sprintf(format, dummyArgs(v)...); strings.Contains(s, "%!") {
			t.Errorf("parseVerbs(%q) = %v, but fmt.Sprintf renders %q", format, v, s)
		}
	})
}

func TestCatalogueKeys(t *testing.T) {
	for _, k := range slices.Sorted(maps.Keys(en)) {
		if _, ok := zh[k]; !ok {
			t.Errorf("key %q is in en but not in zh", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(zh)) {
		if _, ok := en[k]; !ok {
			t.Errorf("key %q is in zh but not in en", k)
		}
	}
}

func TestCatalogueArgs(t *testing.T) {
	for _, k := range slices.Sorted(maps.Keys(en)) {
		t.Run(k, func(t *testing.T) {
			if _, err := parseVerbs(en[k]); err != nil {
				t.Fatalf("en[%q] = %q: %v", k, en[k], err)
			}
			z, ok := zh[k]
			if !ok {
				t.Skip("no zh text") // TestCatalogueKeys reports it
			}
			if err := sameArgs(en[k], z); err != nil {
				t.Errorf("%s:\n  en: %q\n  zh: %q\n  %v", k, en[k], z, err)
			}
			// Text prints a text without arguments as it is, so %% would show.
			if v, _ := parseVerbs(en[k]); len(v) == 0 && (strings.Contains(en[k], "%") || strings.Contains(z, "%")) {
				t.Errorf("%s takes no arguments, so its texts must not contain %%:\n  en: %q\n  zh: %q", k, en[k], z)
			}
		})
	}
}

// TestCatalogueRender renders every text in every language with dummy
// arguments: no fmt error may show, and every argument must appear.
func TestCatalogueRender(t *testing.T) {
	for _, k := range slices.Sorted(maps.Keys(en)) {
		v, err := parseVerbs(en[k])
		if err != nil {
			continue // TestCatalogueArgs reports it
		}
		args := dummyArgs(v)
		for _, lang := range []Lang{EN, ZH} {
			t.Run(k+"/"+lang.String(), func(t *testing.T) {
				got := M(k, args...).Text(lang, nil)
				if strings.Contains(got, "%!") || strings.HasPrefix(got, "!") {
					t.Errorf("M(%q, %v).Text(%v) = %q, want no formatting error", k, args, lang, got)
				}
				for _, a := range args {
					if s := fmt.Sprint(a); !strings.Contains(got, s) {
						t.Errorf("M(%q, %v).Text(%v) = %q, want argument %q in it", k, args, lang, got, s)
					}
				}
			})
		}
	}
}

// TestCatalogueStyle checks typography the other tests do not: Chinese texts
// use full-width punctuation and no English lead-ins.
func TestCatalogueStyle(t *testing.T) {
	ascii := regexp.MustCompile(`\p{Han}[,;:]|[,;:] ?\p{Han}|\p{Han} ?\(|\)\p{Han}`)
	for _, k := range slices.Sorted(maps.Keys(zh)) {
		if m := ascii.FindString(zh[k]); m != "" {
			t.Errorf("zh[%q] = %q: %q: Chinese sentences take full-width ，；：（）, and a space after code such as close()", k, zh[k], m)
		}
	}
}

// sourceDirs are the packages, relative to this one, that build messages.
var sourceDirs = []string{"../tap", "../topology", "../hosts", "../labs", "../cmd", "../capture"}

var (
	// literalKey matches i18n.M("key" and r.note("key" (the tap's rows
	// add a note with their note method), and captures the key.
	literalKey = regexp.MustCompile(`(?:\bi18n\.M|\.note)\(\s*"((?:[^"\\]|\\.)*)"`)
	// tableKey matches a key written in a table (timer, verdict and drop
	// messages are looked up by kind).
	tableKey = regexp.MustCompile(`"((?:timer|verdict|drop)\.[a-z0-9_.]+)"`)
	// keyHelper matches a local helper that passes its key to i18n.M, as
	// tap's add := func(key string, args ...any) { ... i18n.M(key, args...) ... }.
	keyHelper = regexp.MustCompile(`(\w+)\s*:=\s*func\(\s*key string,\s*args \.\.\.any\s*\)\s*\{[^}]*\bi18n\.M\(key, args\.\.\.\)`)
)

// usedKeys returns every literal message key in the Go sources under dirs
// (tests excluded), with the place of its first use.
func usedKeys(t *testing.T, dirs []string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			text := string(src)
			res := []*regexp.Regexp{literalKey, tableKey}
			for _, m := range keyHelper.FindAllStringSubmatch(text, -1) {
				res = append(res, regexp.MustCompile(`\b`+m[1]+`\(\s*"((?:[^"\\]|\\.)*)"`))
			}
			for _, re := range res {
				for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
					key, err := strconv.Unquote(text[m[2]-1 : m[3]+1])
					if err != nil {
						return fmt.Errorf("%s: %v", path, err)
					}
					if _, ok := keys[key]; !ok {
						keys[key] = fmt.Sprintf("%s:%d", path, 1+strings.Count(text[:m[0]], "\n"))
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("scanning %s: %v", dir, err)
		}
	}
	return keys
}

func TestUsedKeysExist(t *testing.T) {
	used := usedKeys(t, sourceDirs)
	// The scan must see calls in each form, or a broken pattern would pass.
	for _, k := range []string{"seg.hs1", "st.listen", "st.closed.timewait", "cause.recv", "sw.dropped", "sw.loss", "q.full"} {
		if _, ok := used[k]; !ok {
			t.Errorf("usedKeys found no use of %q; is the scan broken?", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(used)) {
		if _, ok := en[k]; !ok {
			t.Errorf("%s: message key %q is not in the catalogue", used[k], k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(en)) {
		if _, ok := used[k]; !ok && !strings.HasPrefix(k, "ctr.") {
			t.Logf("key %q is not used literally in %v", k, sourceDirs)
		}
	}
}

func TestUsedKeysScan(t *testing.T) {
	dir := t.TempDir()
	src := `package p
func f() {
	i18n.M("a.one", 1)
	i18n.M(
		"a.two")
	x := i18n.M(key)
	note := func(key string, args ...any) { notes = append(notes, i18n.M(key, args...)) }
	note("a.three", x)
	add("not.a.key")
}
`
	for name, text := range map[string]string{"p.go": src, "p_test.go": `i18n.M("in.a.test")`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := slices.Sorted(maps.Keys(usedKeys(t, []string{dir})))
	if want := []string{"a.one", "a.three", "a.two"}; !slices.Equal(got, want) {
		t.Errorf("usedKeys = %q, want %q", got, want)
	}
}

// withTexts adds texts to the catalogues for the length of the test.
func withTexts(t *testing.T, lang Lang, texts map[string]string) {
	t.Helper()
	cat := catalogue(lang)
	for k, v := range texts {
		if _, ok := cat[k]; ok {
			t.Fatalf("withTexts: key %q already exists", k)
		}
		cat[k] = v
	}
	forgetTexts()
	t.Cleanup(func() {
		for k := range texts {
			delete(cat, k)
		}
		forgetTexts()
	})
}

// forgetTexts empties the cache of compiled texts, for tests that change
// the catalogues.
func forgetTexts() {
	for i := range texts {
		texts[i].Lock()
		texts[i].m = nil
		texts[i].Unlock()
	}
}

func TestText(t *testing.T) {
	withTexts(t, EN, map[string]string{
		"t.plain":  "plain",
		"t.two":    "%d bytes from %s",
		"t.wrap":   "outer(%s)",
		"t.list":   "offers %s",
		"t.dur":    "after %s",
		"t.addr":   "to %s",
		"t.enonly": "only English %d",
	})
	withTexts(t, ZH, map[string]string{
		"t.plain": "纯文本",
		"t.two":   "%[2]s 发送 %[1]d 字节",
		"t.wrap":  "外层（%s）",
		"t.list":  "携带 %s",
		"t.dur":   "%s 之后",
		"t.addr":  "发往 %s",
	})
	server := netip.MustParseAddr("10.0.0.2")
	names := func(a netip.Addr) string {
		if a == server {
			return "server"
		}
		return ""
	}
	tests := []struct {
		name   string
		m      Msg
		names  Namer
		en, zh string
	}{
		{name: "zero", m: Msg{}, en: "", zh: ""},
		{name: "no args", m: M("t.plain"), en: "plain", zh: "纯文本"},
		{name: "reordered", m: M("t.two", 5, "client"), en: "5 bytes from client", zh: "client 发送 5 字节"},
		{name: "nested", m: M("t.wrap", M("t.plain")), en: "outer(plain)", zh: "外层（纯文本）"},
		{name: "nested list of messages", m: M("t.wrap", []Msg{M("t.plain"), M("t.two", 1, "a")}),
			en: "outer(plain; 1 bytes from a)", zh: "外层（纯文本；a 发送 1 字节）"},
		{name: "enumeration", m: M("t.list", List{M("t.plain"), M("t.plain"), M("t.plain")}),
			en: "offers plain, plain, plain", zh: "携带 纯文本、纯文本、纯文本"},
		{name: "duration", m: M("t.dur", 90*time.Second), en: "after 90s", zh: "90s 之后"},
		{name: "named address", m: M("t.addr", server), names: names, en: "to server", zh: "发往 server"},
		{name: "unnamed address", m: M("t.addr", netip.MustParseAddr("10.9.0.7")), names: names, en: "to 10.9.0.7", zh: "发往 10.9.0.7"},
		{name: "address without namer", m: M("t.addr", server), en: "to 10.0.0.2", zh: "发往 10.0.0.2"},
		{name: "named address and port", m: M("t.addr", netip.AddrPortFrom(server, 80)), names: names, en: "to server:80", zh: "发往 server:80"},
		{name: "unnamed address and port", m: M("t.addr", netip.MustParseAddrPort("10.9.0.7:4000")), names: names, en: "to 10.9.0.7:4000", zh: "发往 10.9.0.7:4000"},
		{name: "falls back to English", m: M("t.enonly", 3), en: "only English 3", zh: "only English 3"},
		{name: "unknown key", m: M("t.nosuchkey", 1, "x"), en: "!t.nosuchkey[1 x]", zh: "!t.nosuchkey[1 x]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Text(EN, tt.names); got != tt.en {
				t.Errorf("%v.Text(EN) = %q, want %q", tt.m, got, tt.en)
			}
			if got := tt.m.Text(ZH, tt.names); got != tt.zh {
				t.Errorf("%v.Text(ZH) = %q, want %q", tt.m, got, tt.zh)
			}
		})
	}
}

func TestJoin(t *testing.T) {
	withTexts(t, EN, map[string]string{"t.a": "a", "t.b": "b %d"})
	withTexts(t, ZH, map[string]string{"t.a": "甲", "t.b": "乙 %d"})
	tests := []struct {
		name   string
		msgs   []Msg
		en, zh string
	}{
		{name: "none", msgs: nil, en: "", zh: ""},
		{name: "one", msgs: []Msg{M("t.a")}, en: "a", zh: "甲"},
		{name: "three", msgs: []Msg{M("t.a"), M("t.b", 2), M("t.a")}, en: "a; b 2; a", zh: "甲；乙 2；甲"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Join(tt.msgs, EN, nil); got != tt.en {
				t.Errorf("Join(%v, EN) = %q, want %q", tt.msgs, got, tt.en)
			}
			if got := Join(tt.msgs, ZH, nil); got != tt.zh {
				t.Errorf("Join(%v, ZH) = %q, want %q", tt.msgs, got, tt.zh)
			}
		})
	}
}

func TestList(t *testing.T) {
	withTexts(t, EN, map[string]string{"t.a": "MSS %d", "t.b": "SACK"})
	withTexts(t, ZH, map[string]string{"t.a": "MSS %d", "t.b": "SACK"})
	tests := []struct {
		name   string
		l      List
		en, zh string
	}{
		{name: "empty", l: List{}, en: "", zh: ""},
		{name: "one", l: List{M("t.b")}, en: "SACK", zh: "SACK"},
		{name: "two", l: List{M("t.a", 1460), M("t.b")}, en: "MSS 1460, SACK", zh: "MSS 1460、SACK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := arg(tt.l, EN, nil); got != tt.en {
				t.Errorf("arg(%v, EN) = %q, want %q", tt.l, got, tt.en)
			}
			if got := arg(tt.l, ZH, nil); got != tt.zh {
				t.Errorf("arg(%v, ZH) = %q, want %q", tt.l, got, tt.zh)
			}
		})
	}
}

func TestDur(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{time.Second, "1s"},
		{60 * time.Second, "60s"},
		{59*time.Minute + 59*time.Second, "3599s"},
		{1500 * time.Microsecond, "1.5ms"},
		{500 * time.Millisecond, "500ms"},
		{3980 * time.Millisecond, "3.98s"},
		{time.Hour, "1h"},
		{2 * time.Hour, "2h"},
		{90 * time.Minute, "1h30m"},
		{2*time.Hour + 5*time.Second, "2h0m5s"},
		{time.Hour + 500*time.Millisecond, "1h0m0.5s"},
	}
	for _, tt := range tests {
		for _, lang := range []Lang{EN, ZH} {
			if got := Dur(tt.d, lang); got != tt.want {
				t.Errorf("Dur(%v, %v) = %q, want %q", time.Duration(tt.d), lang, got, tt.want)
			}
		}
	}
}

func TestParseLang(t *testing.T) {
	tests := []struct {
		in      string
		want    Lang
		wantErr bool
	}{
		{in: "", want: EN},
		{in: "en", want: EN},
		{in: "EN", want: EN},
		{in: "zh", want: ZH},
		{in: "ZH", want: ZH},
		{in: "zh-CN", want: ZH},
		{in: "cn", want: ZH},
		{in: "fr", want: EN, wantErr: true},
		{in: "zh_TW", want: EN, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseLang(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseLang(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	for i, code := range Langs {
		l, err := ParseLang(code)
		if err != nil || int(l) != i || l.String() != code {
			t.Errorf("ParseLang(%q) = %v (%d), %v; want language %d named %q", code, l, l, err, i, code)
		}
	}
}

func TestIsZero(t *testing.T) {
	if !(Msg{}).IsZero() {
		t.Errorf("Msg{}.IsZero() = false, want true")
	}
	if M("seg.ack").IsZero() {
		t.Errorf("M(%q).IsZero() = true, want false", "seg.ack")
	}
}

func ExampleMsg_Text() {
	client := netip.MustParseAddrPort("10.0.0.1:40000")
	names := func(a netip.Addr) string {
		if a == client.Addr() {
			return "client"
		}
		return ""
	}
	m := M("cause.recv", "FIN-ACK", client, 8)
	fmt.Println(m.Text(EN, names))
	fmt.Println(m.Text(ZH, names))
	// Output:
	// received FIN-ACK from client:40000, frame 8
	// 收到 client:40000 发来的 FIN-ACK，第 8 帧
}
