package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/internal/mermaidjs"
	"github.com/tcplab/tcplab/labs"
)

// mermaidSample is a Mermaid sample in a Markdown file: the command that
// makes it, on a line of its own ("`tcplab run handshake --format
// mermaid`:"), then a blank line and its output in fenced mermaid blocks,
// lines [start, end) of the file, indented as the command is.
type mermaidSample struct {
	file       string
	args       []string
	indent     string
	start, end int
}

var sampleCommand = regexp.MustCompile("^( *)`tcplab (run [^`]*--format mermaid[^`]*)`:$")

// mermaidSamples finds the Mermaid samples of a Markdown file's lines.
func mermaidSamples(t *testing.T, file string, lines []string) []mermaidSample {
	t.Helper()
	var out []mermaidSample
	for i, l := range lines {
		m := sampleCommand.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := mermaidSample{file: file, args: strings.Fields(m[2]), indent: m[1], start: i + 2}
		j := s.start
		for j+1 < len(lines) && lines[j-1] == "" && lines[j] == s.indent+"```mermaid" {
			j++
			for j < len(lines) && lines[j] != s.indent+"```" {
				j++
			}
			j += 2 // past the fence and the blank line after it
		}
		s.end = j - 1
		if s.end <= s.start {
			t.Errorf("%s:%d: `tcplab %s`: no ```mermaid block after it and a blank line", file, i+1, m[2])
			continue
		}
		out = append(out, s)
	}
	return out
}

// fenced returns the Mermaid form as Markdown lines, indented: as it is
// when it is already Markdown, else in one fenced block.
func fenced(out, indent string) []string {
	if !strings.HasPrefix(out, "```") {
		out = "```mermaid\n" + out + "```\n"
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l != "" {
			l = indent + l
		}
		lines = append(lines, l)
	}
	return lines
}

// TestMermaidSamples runs the command of every Mermaid sample in
// README.md and docs/OUTPUT.md and checks that the sample is what it
// prints today (go test ./cmd/tcplab -run TestMermaidSamples -update
// rewrites them). There are two: a one-group diagram in the README and a
// two-group one in docs/OUTPUT.md.
func TestMermaidSamples(t *testing.T) {
	groups := map[int]int{}
	for _, file := range []string{"../../README.md", "../../docs/OUTPUT.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		samples := mermaidSamples(t, file, lines)
		if len(samples) == 0 {
			t.Errorf("%s: no Mermaid sample (a line \"`tcplab run LAB --format mermaid`:\", a blank line, a ```mermaid block)", file)
		}
		// From the last, so that a rewrite keeps the earlier lines' numbers.
		for _, s := range slices.Backward(samples) {
			r := tcplab(t, s.args...)
			if r.code != exitOK {
				t.Errorf("%s: tcplab %s: exit %d\n%s", file, strings.Join(s.args, " "), r.code, r.stderr)
				continue
			}
			groups[len(mermaidjs.Diagrams(r.stdout))]++
			want := fenced(r.stdout, s.indent)
			got := lines[s.start:s.end]
			if slices.Equal(got, want) {
				continue
			}
			if *updateExplain {
				lines = slices.Concat(lines[:s.start], want, lines[s.end:])
				continue
			}
			t.Errorf("%s:%d: the sample of `tcplab %s` is not what it prints (go test ./cmd/tcplab -run TestMermaidSamples -update rewrites it):\n%s",
				file, s.start+1, strings.Join(s.args, " "), lineDiff(got, want))
		}
		if *updateExplain {
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if groups[1] == 0 || groups[2] == 0 {
		t.Errorf("samples by diagrams = %v, want a sample of one diagram and one of two", groups)
	}
}

// lineDiff shows the first lines where got and want differ.
func lineDiff(got, want []string) string {
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(got), len(want)) && shown < 8; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			fmt.Fprintf(&b, "line %d:\n  doc     %s\n  program %s\n", i+1, g, w)
			shown++
		}
	}
	return b.String()
}

// TestMermaidOracle has Mermaid itself (internal/mermaidjs: the vendored
// Mermaid in headless Chromium) parse the Mermaid form of every built-in
// lab, in both languages, with and without --notes, each connection
// group's diagram on its own, and checks that it reads every line as
// written; it draws the diagrams with --notes, the longest.
func TestMermaidOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	entries, err := labs.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	var names, sources []string
	var draw []bool
	split := 0
	for _, e := range entries {
		for _, lang := range []string{"en", "zh"} {
			for _, notes := range []bool{false, true} {
				args := []string{"run", e.Name, "--format", "mermaid", "--lang", lang}
				if notes {
					args = append(args, "--notes")
				}
				r := tcplab(t, args...)
				if r.code != exitOK {
					t.Fatalf("tcplab %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
				}
				ds := mermaidjs.Diagrams(r.stdout)
				if len(ds) > 1 {
					split++
				}
				for i, d := range ds {
					names = append(names, fmt.Sprintf("%s (diagram %d of %d)", strings.Join(args[1:], " "), i+1, len(ds)))
					sources = append(sources, d)
					draw = append(draw, notes) // the longest texts; drawing all would double the time

				}
			}
		}
	}
	if split == 0 {
		t.Errorf("no built-in lab has several connection groups: the oracle does not see a split diagram")
	}
	for i, got := range mermaidjs.Parse(t, sources, draw) {
		mermaidjs.Check(t, names[i], sources[i], got)
	}
}

// TestRunMermaidGroups runs keepalive-mismatch, whose two client/server
// pairs never meet: two fenced diagrams, one per pair, each with its pair
// only, and the incident's RSTs on a red rect in the first.
func TestRunMermaidGroups(t *testing.T) {
	r := tcplab(t, "run", "keepalive-mismatch", "--format", "mermaid")
	if r.code != exitOK {
		t.Fatalf("tcplab run keepalive-mismatch --format mermaid: exit %d\n%s", r.code, r.stderr)
	}
	ds := mermaidjs.Diagrams(r.stdout)
	if len(ds) != 2 {
		t.Fatalf("%d diagrams, want 2 (one per pair):\n%s", len(ds), r.stdout)
	}
	for i, want := range []struct {
		head  string
		parts []mermaidjs.Actor
		rsts  int
	}{
		{"%% 1 of 2: server, client", []mermaidjs.Actor{{ID: "server", Name: "server"}, {ID: "client", Name: "client"}}, 2},
		{"%% 2 of 2: server-ok, client-ok", []mermaidjs.Actor{{ID: "p1", Name: "server-ok"}, {ID: "p2", Name: "client-ok"}}, 0},
	} {
		if first, _, _ := strings.Cut(ds[i], "\n"); first != want.head {
			t.Errorf("diagram %d starts %q, want %q", i+1, first, want.head)
		}
		_, actors, msgs, err := mermaidjs.Want(ds[i])
		if err != nil {
			t.Fatalf("diagram %d: %v", i+1, err)
		}
		if !slices.Equal(actors, want.parts) {
			t.Errorf("diagram %d participants = %v, want %v", i+1, actors, want.parts)
		}
		rsts := 0
		for j, m := range msgs {
			if m.Type == mermaidjs.RectStart {
				if j+2 >= len(msgs) || !strings.Contains(msgs[j+1].Text, "] RST") || msgs[j+2].Type != mermaidjs.RectEnd {
					t.Errorf("diagram %d: a rect not around a RST arrow alone", i+1)
				}
				rsts++
			}
		}
		if rsts != want.rsts {
			t.Errorf("diagram %d has %d RSTs on a rect, want %d", i+1, rsts, want.rsts)
		}
	}
}

// TestRunMermaidOnError checks that the diagram, like the text timeline,
// says what a script did after a failed step: the connect-timeout lab has
// one step that goes on and one that stops the script.
func TestRunMermaidOnError(t *testing.T) {
	r := tcplab(t, "run", filepath.Join("..", "..", "labs", "testdata", "connect-timeout.toml"), "--format", "mermaid")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	out := strings.ReplaceAll(r.stdout, "<br/>", " ")
	for _, want := range []string{`on_error = "continue": the script goes on`, `the script stops there (on_error = "stop"#59; steps not run: 1)`} {
		if !strings.Contains(out, want) {
			t.Errorf("the diagram does not say %q:\n%s", want, r.stdout)
		}
	}
}
