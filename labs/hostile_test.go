package labs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// hostileLabs are the classes of malformed and extreme lab files that a
// hostile user tried (issue 17), each generated here rather than committed.
// Every one must be refused with a positioned error, quickly and in bounded
// memory; BenchmarkLoadHostile measures how quickly.
var hostileLabs = []struct {
	name string
	src  func() string
	want string // the whole first error: file:line:col: message
}{
	{
		name: "table header with 100,000 keys",
		src:  func() string { return "[" + strings.Repeat("a.", 99999) + "a]\n" },
		want: "x.toml:1:2: this table header nests 100000 levels deep; a lab file nests at most 24",
	},
	{
		name: "array of tables with 100,000 keys",
		src:  func() string { return withA("[[hosts." + strings.Repeat("a.", 99999) + "a]]") },
		want: "x.toml:4:3: this table header nests 100001 levels deep; a lab file nests at most 24",
	},
	{
		name: "dotted key with 100,000 parts",
		src:  func() string { return strings.Repeat("a.", 99999) + "a = 1\n" },
		want: "x.toml:1:1: this key nests 100000 levels deep; a lab file nests at most 24",
	},
	{
		name: "dotted key below a deep header",
		src:  func() string { return "[" + strings.Repeat("a.", 19) + "a]\n" + strings.Repeat("b.", 9) + "b = 1\n" },
		want: "x.toml:2:1: this key nests 30 levels deep; a lab file nests at most 24",
	},
	{
		name: "arrays nested 9,000 deep",
		src:  func() string { return "x = " + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "\n" },
		want: "x.toml:1:28: this value nests 25 levels deep; a lab file nests at most 24",
	},
	{
		name: "arrays nested past the parser's limit",
		src:  func() string { return "x = " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n" },
		want: "x.toml:1:10005: arrays and inline tables are nested more than the maximum of 10000 levels deep",
	},
	{
		name: "inline tables nested 9,000 deep",
		src:  func() string { return "x = " + strings.Repeat("{a=", 9000) + "1" + strings.Repeat("}", 9000) + "\n" },
		want: "x.toml:1:",
	},
	{
		name: "file over 1 MiB",
		src:  func() string { return withA(`description = """`, strings.Repeat("x", MaxFileSize), `"""`) },
		want: fmt.Sprintf("x.toml:1:1: the file holds %d bytes; a lab file may hold at most 1048576 (1 MiB)", MaxFileSize+len(withA(`description = """`, ``, `"""`))),
	},
	{
		name: "a million unknown keys' worth of one long key",
		src:  func() string { return strings.Repeat("k", 900000) + " = 1\n" + lines(hostA...) },
		want: `x.toml:1:1: unknown key "` + strings.Repeat("k", 60) + `…"`,
	},
	{
		name: "5,001 hosts",
		src: func() string {
			var b strings.Builder
			for i := range MaxHosts + 1 {
				fmt.Fprintf(&b, "[[hosts]]\nname = \"h%d\"\nipv4 = \"10.%d.%d.1\"\n", i, i/256, i%256)
			}
			return b.String()
		},
		want: "x.toml:15001:1: a lab has 5001 hosts; it may have at most 5000",
	},
	{
		name: "a billion copies",
		src: func() string {
			return withA(`[[hosts.apps]]`, `copies = 1000000000`, `steps = [{do = "sleep", for = "1s"}]`)
		},
		want: "x.toml:5:10: copies 1000000000 is more than a lab may ask for (at most 10000)",
	},
	{
		name: "too many copies on one host",
		src: func() string {
			return withA(`[[hosts.apps]]`, `copies = 6000`, `steps = [{do = "sleep", for = "1s"}]`,
				`[[hosts.apps]]`, `copies = 6000`, `steps = [{do = "sleep", for = "1s"}]`)
		},
		want: `x.toml:4:1: host "a" runs 12000 applications (copies included); a host may run at most 10000`,
	},
	{
		name: "an injection of 2^31 segments",
		src: func() string {
			return withA(`[[inject]]`, `via = "a"`, `from = "10.0.0.9:1"`, `to = "10.0.0.1:80"`, `flags = "SYN"`, `count = 2147483648`)
		},
		want: "x.toml:9:9: count 2147483648 is more than a lab may ask for (at most 100000)",
	},
	{
		name: "a holder of a billion connections",
		src: func() string {
			return withA(`[[hosts.apps]]`, `model = "holder"`, `to = "10.0.0.2:80"`, `count = 1000000000`)
		},
		want: "x.toml:7:9: count 1000000000 is more than a lab may ask for (at most 100000)",
	},
	{
		name: "max_events past the limit",
		src:  func() string { return topA(`max_events = 9223372036854775807`) },
		want: "x.toml:1:14: max_events must be at most 1099511627776",
	},
	{
		name: "no hosts",
		src:  func() string { return lines(`name = "empty"`) },
		want: "x.toml:1:1: a lab needs at least one [[hosts]] table",
	},
	{
		name: "broadcast address",
		src:  func() string { return lines(`[[hosts]]`, `name = "a"`, `ipv4 = "255.255.255.255"`) },
		want: "x.toml:3:8: 255.255.255.255 is the broadcast address, not a host address",
	},
	{
		name: "IPv4 loopback",
		src:  func() string { return lines(`[[hosts]]`, `name = "a"`, `ipv4 = "127.0.0.1"`) },
		want: `x.toml:3:8: 127.0.0.1 is a loopback address: it never leaves its host, so nothing on the switch can reach it; use an address such as "10.0.0.1"`,
	},
	{
		name: "IPv6 loopback",
		src:  func() string { return lines(`[[hosts]]`, `name = "a"`, `ipv6 = "::1"`) },
		want: `x.toml:3:8: ::1 is a loopback address: it never leaves its host, so nothing on the switch can reach it; use an address such as "fd00::1"`,
	},
	{
		name: "IPv6 address with a zone",
		src:  func() string { return lines(`[[hosts]]`, `name = "a"`, `ipv6 = "fe80::1%eth0"`) },
		want: `x.toml:3:8: "fe80::1%eth0" has a zone (%eth0); a lab's host has one interface, so write the address without it`,
	},
	{
		name: "window-title sequence in the title",
		src:  func() string { return topA(`title = "\u001b]0;owned\u0007"`) },
		want: "x.toml:1:9: title holds the control character U+001B; tcplab prints it on terminals, where it would act instead of show (only tab and line breaks may appear)",
	},
	{
		name: "clear-screen sequence in the description",
		src:  func() string { return topA(`description = """`, `line\u001b[2J`, `"""`) },
		want: "x.toml:1:15: description holds the control character U+001B",
	},
	{
		name: "C1 control in an expectation's why",
		src:  func() string { return withA(`[[expect]]`, `state = "LISTEN"`, `host = "a"`, `why = "\u009b2J"`) },
		want: "x.toml:7:7: why holds the control character U+009B",
	},
	{
		name: "bidirectional override in the name",
		src:  func() string { return topA(`name = "abc\u202edcba"`) },
		want: "x.toml:1:8: name holds the control character U+202E",
	},
	{
		name: "NUL bytes",
		src:  func() string { return strings.Repeat("\x00", 1000) },
		want: "x.toml:1:1: ",
	},
	{
		name: "invalid UTF-8",
		src:  func() string { return withA(`title = "` + "\xff\xfe" + `"`) },
		want: "x.toml:4:",
	},
	{
		name: "byte-order mark in the middle",
		src:  func() string { return withA("\xef\xbb\xbftitle = \"x\"") },
		want: "x.toml:4:1: ",
	},
}

func TestLoadHostile(t *testing.T) {
	for _, tc := range hostileLabs {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src()
			list := loadErrors(t, src)
			for _, e := range list {
				if !e.Pos.IsValid() || e.File != "x.toml" {
					t.Errorf("Load: error %q has no file:line:col", e)
				}
			}
			if got := list[0].Error(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("Load(%s) first error = %q, want %q", tc.name, truncateText(got, 300), tc.want)
			}
		})
	}
}

// TestLoadHostileMemory loads the worst of the hostile files and checks
// that loading allocates little more than the file's size: the old loader
// built a path string per level of a deep table header and needed about
// 10 GB for the 200 KB header of 100,000 keys.
func TestLoadHostileMemory(t *testing.T) {
	for _, tc := range hostileLabs[:3] {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.src())
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			if _, err := Load("x.toml", src); err == nil {
				t.Fatalf("Load(%s) succeeded, want an error", tc.name)
			}
			runtime.ReadMemStats(&after)
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(200*len(src)); got > limit {
				t.Errorf("Load(%s) of %d bytes allocated %d bytes, want at most %d", tc.name, len(src), got, limit)
			}
		})
	}
}

func BenchmarkLoadHostile(b *testing.B) {
	for _, tc := range hostileLabs {
		src := []byte(tc.src())
		b.Run(strings.ReplaceAll(tc.name, " ", "_"), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := Load("x.toml", src); err == nil {
					b.Fatal("Load succeeded, want an error")
				}
			}
		})
	}
}

func TestLoadByteOrderMark(t *testing.T) {
	src := "\xef\xbb\xbf" + minimal
	lab, err := Load("x.toml", []byte(src))
	if err != nil {
		t.Fatalf("Load(BOM + minimal lab) = %v, want nil error", err)
	}
	if len(lab.Hosts) == 0 {
		t.Errorf("Load(BOM + minimal lab) has no hosts")
	}
	// Positions count from the character after the mark.
	list := loadErrors(t, "\xef\xbb\xbf"+withA(`bogus = 1`))
	if got, want := list[0].Pos, (Pos{4, 1}); got != want {
		t.Errorf("Load(BOM + unknown key) at %v, want %v", got, want)
	}
}

func TestOpenHostile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte(strings.Repeat("# comment\n", MaxFileSize/10+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref, want string
	}{
		{"endless device", "/dev/zero", "/dev/zero:1:1: the file holds more than 1048576 bytes; a lab file may hold at most 1048576 (1 MiB)"},
		{"large file", big, big + ":1:1: the file holds more than 1048576 bytes"},
		{"directory", dir, dir + " is a directory, not a lab file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.ref); err != nil {
				t.Skipf("%s: %v", tc.ref, err)
			}
			lab, err := Open(tc.ref)
			if err == nil {
				t.Fatalf("Open(%q) = %v, nil, want an error", tc.ref, lab.Name)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Open(%q) = %q, want %q", tc.ref, err, tc.want)
			}
			var list ErrorList
			if tc.name != "directory" && !errors.As(err, &list) {
				t.Errorf("Open(%q) error is %T, want ErrorList", tc.ref, err)
			}
		})
	}
}

// largeSize is the size of the largeLabs files: just under MaxFileSize, a
// quarter of it with -short (every case still meets its limit).
func largeSize() int {
	if testing.Short() {
		return MaxFileSize / 4
	}
	return MaxFileSize
}

// largeLabs are files just under MaxFileSize of the shapes that cost the
// loader most per byte; they must load (or fail with positioned errors) in
// time and memory linear in their size.
var largeLabs = []struct {
	name string
	src  func() string
	want string // prefix of the first error; "" when the lab loads
}{
	{"100,000 distinct tables", func() string {
		var b strings.Builder
		b.WriteString(lines(hostA...))
		for i := 0; b.Len() < largeSize()-20; i++ {
			fmt.Fprintf(&b, "[t%d]\n", i)
		}
		return b.String()
	}, "x.toml:11585:2: too many distinct keys (11585 by here)"},
	{"30,000 steps", func() string {
		var b strings.Builder
		b.WriteString(lines(hostA...))
		for b.Len() < largeSize()-60 {
			b.WriteString("[[hosts.steps]]\ndo = \"sleep\"\nfor = \"1s\"\n")
		}
		return b.String()
	}, ""},
	{"20,000 expectations", func() string {
		var b strings.Builder
		b.WriteString(lines(hostA...))
		for b.Len() < largeSize()-60 {
			b.WriteString("[[expect]]\nsegment = \"a > a SYN\"\nmin = 1\n")
		}
		return b.String()
	}, ""},
	{"one inline table of 100,000 keys", func() string {
		var b strings.Builder
		b.WriteString("x = {")
		for i := 0; b.Len() < largeSize()-40; i++ {
			fmt.Fprintf(&b, "k%d=1,", i)
		}
		b.WriteString("z=1}\n")
		return b.String()
	}, "x.toml:1:1: too many distinct keys"},
	{"50,000 inline tables in an array", func() string {
		var b strings.Builder
		b.WriteString("x = [")
		for i := 0; b.Len() < largeSize()-40; i++ {
			fmt.Fprintf(&b, "{k%d=1},", i)
		}
		b.WriteString("{}]\n")
		return b.String()
	}, "x.toml:1:1: too many distinct keys"},
	{"arrays of tables after many keys", func() string {
		var b strings.Builder
		for i := range 20000 {
			fmt.Fprintf(&b, "k%d = 1\n", i)
		}
		for b.Len() < largeSize()-10 {
			b.WriteString("[[a]]\n")
		}
		return b.String()
	}, "x.toml:11585:1: too many distinct keys"},
	{"50,000 bad values", func() string {
		var b strings.Builder
		b.WriteString(lines(hostA...))
		for b.Len() < largeSize()-60 {
			b.WriteString("[[links]]\nhost = 5\nloss = \"high\"\n")
		}
		return b.String()
	}, "x.toml:5:8: host must be a string, not the integer 5"},
}

func TestLoadLarge(t *testing.T) {
	for _, tc := range largeLabs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("x.toml", []byte(tc.src()))
			var list ErrorList
			if err != nil && !errors.As(err, &list) {
				t.Fatalf("Load(%s) error is %T, want ErrorList", tc.name, err)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Load(%s) = %v, want no error", tc.name, truncateText(err.Error(), 300))
			case tc.want != "" && (err == nil || !strings.HasPrefix(list[0].Error(), tc.want)):
				t.Errorf("Load(%s) = %v, want an error starting %q", tc.name, err, tc.want)
			}
			for _, e := range list {
				if !e.Pos.IsValid() {
					t.Fatalf("Load(%s): error %q has no position", tc.name, e)
				}
			}
		})
	}
}

// TestDecodeWorkOfRealLabs keeps maxDecodeWork far above what real labs
// need: every built-in and test lab costs less than a thousandth of it.
func TestDecodeWorkOfRealLabs(t *testing.T) {
	files, err := filepath.Glob("*.toml")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob("testdata/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	truth, err := filepath.Glob("testdata/truth/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(append(files, more...), truth...)
	if len(files) < 20 {
		t.Fatalf("found %d lab files, want the catalogue and the test labs", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, work, err := indexPositionsCost(data)
		if err != nil {
			t.Errorf("indexPositionsCost(%s) = %v", f, err)
		}
		if work > maxDecodeWork/1000 {
			t.Errorf("indexPositionsCost(%s) = %d, want at most %d", f, work, maxDecodeWork/1000)
		}
	}
}

func BenchmarkLoadLarge(b *testing.B) {
	for _, tc := range largeLabs {
		src := []byte(tc.src())
		b.Run(strings.ReplaceAll(tc.name, " ", "_"), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				Load("x.toml", src)
			}
		})
	}
}

func TestLoadPayloadControlCharacters(t *testing.T) {
	src := withA(`steps = [{do = "listen", port = 80}]`, `[[hosts]]`, `name = "b"`, `ipv4 = "10.0.0.2"`,
		`steps = [{do = "connect", to = "a:80"}, {do = "send", data = "\u001b[2J\u0000"}]`)
	if _, err := Load("x.toml", []byte(src)); err != nil {
		t.Errorf("Load(send data with control characters) = %v, want nil: payloads may hold any bytes", err)
	}
}

func TestOpenSuggests(t *testing.T) {
	tests := []struct{ ref, want string }{
		{"handshak", `no built-in lab "handshak" and no such file (did you mean "handshake"? tcplab list shows the built-in labs)`},
		{"Close", `no built-in lab "Close" and no such file (did you mean "close"? tcplab list shows the built-in labs)`},
		{"keepalive-mis", `no built-in lab "keepalive-mis" and no such file (did you mean "keepalive-mismatch"? tcplab list shows the built-in labs)`},
		{"zzzzzz", `no built-in lab "zzzzzz" and no such file (tcplab list shows the built-in labs)`},
	}
	for _, tc := range tests {
		if _, err := Open(tc.ref); err == nil || err.Error() != tc.want {
			t.Errorf("Open(%q) = %v, want %q", tc.ref, err, tc.want)
		}
	}
}
