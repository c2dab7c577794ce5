package labs

import (
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// posWant is one expectation of TestIndexPositions: the key and value
// positions that path must resolve to (the zero Pos for "not found").
type posWant struct {
	path       string
	key, value Pos
}

// positionCases are the documents of TestIndexPositions, also used as the
// seed corpus of FuzzIndexPositions.
var positionCases = []struct {
	name string
	doc  string
	want []posWant
}{
	{
		name: "top-level keys",
		doc: `name = "basic"
seed = 42
  time_limit = "10s"
`,
		want: []posWant{
			{"name", Pos{1, 1}, Pos{1, 8}},
			{"seed", Pos{2, 1}, Pos{2, 8}},
			{"time_limit", Pos{3, 3}, Pos{3, 16}},
		},
	},
	{
		name: "hosts with nested steps",
		doc: `seed = 1

[[hosts]]
name = "client"

[[hosts.steps]]
do = "connect"

[[hosts.steps]]
do = "send"

[[hosts]]
name = "server"

  [[ hosts.steps ]]
  do = "listen"
`,
		want: []posWant{
			{"seed", Pos{1, 1}, Pos{1, 8}},
			{"hosts", Pos{3, 1}, Pos{3, 1}},
			{"hosts.0", Pos{3, 1}, Pos{3, 1}},
			{"hosts.0.name", Pos{4, 1}, Pos{4, 8}},
			{"hosts.0.steps", Pos{6, 1}, Pos{6, 1}},
			{"hosts.0.steps.0", Pos{6, 1}, Pos{6, 1}},
			{"hosts.0.steps.0.do", Pos{7, 1}, Pos{7, 6}},
			{"hosts.0.steps.1", Pos{9, 1}, Pos{9, 1}},
			{"hosts.0.steps.1.do", Pos{10, 1}, Pos{10, 6}},
			{"hosts.1", Pos{12, 1}, Pos{12, 1}},
			{"hosts.1.name", Pos{13, 1}, Pos{13, 8}},
			{"hosts.1.steps", Pos{15, 3}, Pos{15, 3}},
			{"hosts.1.steps.0", Pos{15, 3}, Pos{15, 3}},
			{"hosts.1.steps.0.do", Pos{16, 3}, Pos{16, 8}},
		},
	},
	{
		name: "links with out and in subtables",
		doc: `[[links]]
host = "client"
rate = "10Mbit/s"

[links.out]
loss = 0.1
delay = "5ms"

[links.in]
loss = 0.2

[[links]]
host = "server"

[links.out]
loss = 0.3
`,
		want: []posWant{
			{"links.0", Pos{1, 1}, Pos{1, 1}},
			{"links.0.rate", Pos{3, 1}, Pos{3, 8}},
			{"links.0.out", Pos{5, 1}, Pos{5, 1}},
			{"links.0.out.loss", Pos{6, 1}, Pos{6, 8}},
			{"links.0.out.delay", Pos{7, 1}, Pos{7, 9}},
			{"links.0.in", Pos{9, 1}, Pos{9, 1}},
			{"links.0.in.loss", Pos{10, 1}, Pos{10, 8}},
			{"links.1", Pos{12, 1}, Pos{12, 1}},
			{"links.1.host", Pos{13, 1}, Pos{13, 8}},
			{"links.1.out", Pos{15, 1}, Pos{15, 1}},
			{"links.1.out.loss", Pos{16, 1}, Pos{16, 8}},
		},
	},
	{
		name: "inline tables",
		doc: `[[links]]
host = "a"
out = { loss = 0.5, delay = "1ms" }
in = {}
`,
		want: []posWant{
			{"links.0.out", Pos{3, 1}, Pos{3, 7}},
			{"links.0.out.loss", Pos{3, 9}, Pos{3, 16}},
			{"links.0.out.delay", Pos{3, 21}, Pos{3, 29}},
			{"links.0.in", Pos{4, 1}, Pos{4, 6}},
		},
	},
	{
		name: "array of inline tables",
		doc: `[[hosts]]
name = "server"
steps = [{do="listen", port=80}, {do = "accept"}]
`,
		want: []posWant{
			{"hosts.0.steps", Pos{3, 1}, Pos{3, 9}},
			{"hosts.0.steps.0", Pos{3, 10}, Pos{3, 10}},
			{"hosts.0.steps.0.do", Pos{3, 11}, Pos{3, 14}},
			{"hosts.0.steps.0.port", Pos{3, 24}, Pos{3, 29}},
			{"hosts.0.steps.1", Pos{3, 34}, Pos{3, 34}},
			{"hosts.0.steps.1.do", Pos{3, 35}, Pos{3, 40}},
		},
	},
	{
		name: "multi-line nested arrays with comments",
		doc: `matrix = [
  [1, 2], # first
  # a comment with ] and , inside
  [ [3], "x]" ],
]
after = true
`,
		want: []posWant{
			{"matrix", Pos{1, 1}, Pos{1, 10}},
			{"matrix.0", Pos{2, 3}, Pos{2, 3}},
			{"matrix.0.1", Pos{2, 7}, Pos{2, 7}},
			{"matrix.1", Pos{4, 3}, Pos{4, 3}},
			{"matrix.1.0", Pos{4, 5}, Pos{4, 5}},
			{"matrix.1.0.0", Pos{4, 6}, Pos{4, 6}},
			{"matrix.1.1", Pos{4, 10}, Pos{4, 10}},
			{"after", Pos{6, 1}, Pos{6, 9}},
		},
	},
	{
		name: "dotted keys",
		doc: `a.b.c = 1
[[links]]
out.loss = 0.1
out . delay = "2ms"
`,
		want: []posWant{
			{"a", Pos{1, 1}, Pos{1, 1}},
			{"a.b", Pos{1, 3}, Pos{1, 3}},
			{"a.b.c", Pos{1, 1}, Pos{1, 9}},
			{"links.0.out", Pos{3, 1}, Pos{3, 1}},
			{"links.0.out.loss", Pos{3, 1}, Pos{3, 12}},
			{"links.0.out.delay", Pos{4, 1}, Pos{4, 15}},
		},
	},
	{
		name: "dotted table header",
		doc: `seed = 1
[x.y]
z = 2
[x]
w = 3
`,
		want: []posWant{
			{"x.y", Pos{2, 1}, Pos{2, 1}},
			{"x.y.z", Pos{3, 1}, Pos{3, 5}},
			{"x", Pos{4, 1}, Pos{4, 1}}, // the explicit [x] wins over the x in [x.y]
			{"x.w", Pos{5, 1}, Pos{5, 5}},
		},
	},
	{
		name: "quoted keys",
		doc: `"name" = "q"
'time_limit' = "1s"
"se\u0065d" = 7
[[ "hosts" ]]
"ipv4" = "10.0.0.1"
[[hosts.'steps']]
"do" = "listen"
`,
		want: []posWant{
			{"name", Pos{1, 1}, Pos{1, 10}},
			{"time_limit", Pos{2, 1}, Pos{2, 16}},
			{"seed", Pos{3, 1}, Pos{3, 15}},
			{"hosts.0", Pos{4, 1}, Pos{4, 1}},
			{"hosts.0.ipv4", Pos{5, 1}, Pos{5, 10}},
			{"hosts.0.steps.0", Pos{6, 1}, Pos{6, 1}},
			{"hosts.0.steps.0.do", Pos{7, 1}, Pos{7, 8}},
		},
	},
	{
		name: "fallback to ancestor",
		doc: `[[hosts]]
name = "a"
[[hosts.steps]]
do = "listen"
[[hosts]]
name = "b"
opts = { nodelay = true }
`,
		want: []posWant{
			{"hosts.0.steps.0.port", Pos{3, 1}, Pos{3, 1}},
			{"hosts.0.steps.7.do", Pos{3, 1}, Pos{3, 1}},
			{"hosts.9.name", Pos{1, 1}, Pos{1, 1}},
			{"hosts.1.name.extra", Pos{6, 1}, Pos{6, 8}},
			{"hosts.1.opts.mss", Pos{7, 1}, Pos{7, 8}},
			{"nothing.here", Pos{}, Pos{}},
			{"", Pos{}, Pos{}},
		},
	},
	{
		name: "multi-line strings before a key",
		doc: `description = """
first line
second "line" with [brackets] and key = "value"
"""
seed = 3
notes = '''
x = 1
[[hosts]]
'''
[[hosts]]
name = "h"
`,
		want: []posWant{
			{"description", Pos{1, 1}, Pos{1, 15}},
			{"seed", Pos{5, 1}, Pos{5, 8}},
			{"notes", Pos{6, 1}, Pos{6, 9}},
			{"x", Pos{}, Pos{}},
			{"hosts.0", Pos{10, 1}, Pos{10, 1}},
			{"hosts.0.name", Pos{11, 1}, Pos{11, 8}},
			{"hosts.1", Pos{10, 1}, Pos{10, 1}}, // falls back to hosts
		},
	},
	{
		name: "CRLF line endings",
		doc:  "a = 1\r\nb = \"\"\"\r\nx\r\n\"\"\"\r\nc = [\r\n  2,\r\n]\r\n",
		want: []posWant{
			{"a", Pos{1, 1}, Pos{1, 5}},
			{"b", Pos{2, 1}, Pos{2, 5}},
			{"c", Pos{5, 1}, Pos{5, 5}},
			{"c.0", Pos{6, 3}, Pos{6, 3}},
		},
	},
	{
		name: "columns count bytes",
		doc:  "t = {a = \"\u00e9\u00e9\", b = 1}\n\tu = 2\n",
		want: []posWant{
			{"t.a", Pos{1, 6}, Pos{1, 10}},
			{"t.b", Pos{1, 18}, Pos{1, 22}}, // 16 and 20 in runes
			{"u", Pos{2, 2}, Pos{2, 6}},     // a tab is one column
		},
	},
}

func TestIndexPositions(t *testing.T) {
	for _, tc := range positionCases {
		t.Run(tc.name, func(t *testing.T) {
			var decoded map[string]any
			if err := toml.Unmarshal([]byte(tc.doc), &decoded); err != nil {
				t.Fatalf("test document is not valid TOML: %v", err)
			}
			p, err := indexPositions([]byte(tc.doc))
			if err != nil {
				t.Fatalf("indexPositions: %v", err)
			}
			for _, w := range tc.want {
				if got := p.key(w.path); got != w.key {
					t.Errorf("key(%q) = %v, want %v", w.path, got, w.key)
				}
				if got := p.value(w.path); got != w.value {
					t.Errorf("value(%q) = %v, want %v", w.path, got, w.value)
				}
			}
		})
	}
}

func TestIndexPositionsError(t *testing.T) {
	tests := []struct {
		name, doc, prefix string
	}{
		{"missing value", "seed = 1\nname = \n", "2:8: "},
		{"unclosed header", "[[hosts]\n", "1:8: "},
		{"unterminated string", "a = \"x", "1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := indexPositions([]byte(tc.doc))
			if err == nil {
				t.Fatalf("indexPositions(%q) succeeded, want an error", tc.doc)
			}
			if !strings.HasPrefix(err.Error(), tc.prefix) {
				t.Errorf("indexPositions(%q) error = %q, want prefix %q", tc.doc, err, tc.prefix)
			}
			if got := p.key("a"); got.IsValid() {
				t.Errorf("key(%q) on failed index = %v, want invalid", "a", got)
			}
		})
	}
}

func TestPosIsValid(t *testing.T) {
	tests := []struct {
		name string
		pos  Pos
		want bool
	}{
		{"zero", Pos{}, false},
		{"no column", Pos{Line: 1}, false},
		{"no line", Pos{Col: 1}, false},
		{"start", Pos{1, 1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.pos.IsValid(); got != tc.want {
				t.Errorf("%#v.IsValid() = %v, want %v", tc.pos, got, tc.want)
			}
		})
	}
}

// TestLineIndexMatchesShape checks that lineIndex.pos computes the same line
// and column as unstable.Parser.Shape for every offset of a document with
// CRLF, tabs and multi-byte runes.
func TestLineIndexMatchesShape(t *testing.T) {
	data := []byte("a = 1\r\n\tb = \"\u00e9\u4e16\"\n\n  c = [\n 1,\n]\n")
	var p unstable.Parser
	p.Reset(data)
	lines := newLineIndex(data)
	for off := 0; off <= len(data); off++ {
		start := p.Shape(unstable.Range{Offset: uint32(off)}).Start
		want := Pos{Line: start.Line, Col: start.Column}
		if got := lines.pos(off); got != want {
			t.Errorf("pos(%d) = %v, want %v", off, got, want)
		}
	}
}

func FuzzIndexPositions(f *testing.F) {
	for _, tc := range positionCases {
		f.Add([]byte(tc.doc))
	}
	for _, doc := range []string{
		"",
		"[[a]]\n[a.b]\n[[a.b.c]]\nx = [[{y = [1, {z = 2}]}]]\n",
		"t = {\n  a = 1, # comment\n  b = [ ],\n}\n",
		"[a]\n[[a]]\n[[a.b]]\n[a]\n",
		"a = [\n",
		"= 1\n",
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := indexPositions(data)
		if err != nil {
			return
		}
		for path := range p.entries {
			p.key(path + ".0.x")
			p.value(path)
		}
	})
}
