package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tcplab/tcplab/labs"
)

// termWidth is the number of terminal columns a line takes: escapes none,
// CJK and full-width characters two.
func termWidth(s string) int {
	s = ansi.ReplaceAllString(s, "")
	n := 0
	for _, r := range s {
		switch {
		case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0x303e, r >= 0x3041 && r <= 0x33ff,
			r >= 0x3400 && r <= 0x4dbf, r >= 0x4e00 && r <= 0x9fff, r >= 0xac00 && r <= 0xd7a3,
			r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f, r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6:
			n += 2
		default:
			n++
		}
	}
	return n
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// runEnv runs a command line with the environment variables in vars.
func runEnv(t *testing.T, vars map[string]string, args ...string) cliRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), args, env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }})
	if code != exitOK {
		t.Fatalf("tcplab %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return cliRun{args: args, code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// TestWidthCatalogue runs every built-in lab at --width 80, in English and
// in Chinese, in colour and without: no line is wider than 80 columns, and
// the coloured listing without its escapes is the plain one.
func TestWidthCatalogue(t *testing.T) {
	entries, err := labs.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		for _, lang := range []string{"en", "zh"} {
			plain := runEnv(t, nil, "run", e.Name, "--width", "80", "--lang", lang)
			for i, l := range lines(plain.stdout) {
				if w := termWidth(l); w > 80 {
					t.Errorf("%s --lang %s --width 80: line %d is %d columns: %q", e.Name, lang, i+1, w, l)
				}
			}
			color := runEnv(t, nil, "run", e.Name, "--width", "80", "--lang", lang, "--color")
			if got := ansi.ReplaceAllString(color.stdout, ""); got != plain.stdout {
				t.Errorf("%s --lang %s --width 80 --color: without its escapes the listing differs from the plain one", e.Name, lang)
			}
		}
	}
}

// TestWidthDefault checks where the width comes from: --width, else
// COLUMNS, else 100 when standard output is not a terminal; --width 0
// keeps one line per row.
func TestWidthDefault(t *testing.T) {
	widest := func(out string) int {
		n := 0
		for _, l := range lines(out) {
			n = max(n, termWidth(l))
		}
		return n
	}
	cases := []struct {
		name string
		vars map[string]string
		args []string
		max  int
	}{
		{"no terminal, no COLUMNS", nil, nil, 100},
		{"COLUMNS=60", map[string]string{"COLUMNS": "60"}, nil, 60},
		{"--width 120 over COLUMNS", map[string]string{"COLUMNS": "60"}, []string{"--width", "120"}, 120},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runEnv(t, c.vars, append([]string{"run", "backlog-overflow"}, c.args...)...)
			if w := widest(r.stdout); w > c.max || w < c.max-10 {
				t.Errorf("widest line = %d columns, want at most %d and close to it", w, c.max)
			}
		})
	}
	r := runEnv(t, nil, "run", "handshake", "--width", "0")
	if w := widest(r.stdout); w <= 200 {
		t.Errorf("--width 0: widest line = %d columns, want the rows whole (over 200)", w)
	}
	if n := len(regexp.MustCompile(`(?m)^\s+(\d+|·)\s+\d+\.\d{6}\s`).FindAllString(r.stdout, -1)); n != 13 {
		t.Errorf("--width 0: %d row lines, want 13 (14 rows, the last two queue rows at 0.031 merged)", n)
	}
}

// TestCompact checks --compact: one line per row within the width, cut
// with "…".
func TestCompact(t *testing.T) {
	r := runEnv(t, nil, "run", "loss-recovery", "--compact", "--width", "80")
	listing := false
	cut := 0
	for _, l := range lines(r.stdout) {
		if strings.HasPrefix(l, "No.") {
			listing = true
			continue
		}
		if !listing || l == "" {
			listing = listing && l != ""
			continue
		}
		if !regexp.MustCompile(`^\s*(\d+|·)\s+\d+\.\d{6}\s`).MatchString(l) {
			t.Errorf("--compact: %q is not a row of its own", l)
		}
		if termWidth(l) > 80 {
			t.Errorf("--compact --width 80: %q is %d columns", l, termWidth(l))
		}
		if strings.HasSuffix(l, "…") {
			cut++
		}
		if !utf8.ValidString(l) {
			t.Errorf("--compact cut a character: %q", l)
		}
	}
	if cut == 0 {
		t.Error("--compact: no row was cut")
	}
}

// TestFold checks the folding of the text presentation: a listener's
// queue rows at one instant become one row with the steps between them,
// and a counter row joins the segment its cause sent.
func TestFold(t *testing.T) {
	r := runEnv(t, nil, "run", "backlog-overflow", "--width", "0")
	if !strings.Contains(r.stdout, "queues of *:80: accept queue 2 → 1 → 0 (of 3), half-open 0") {
		t.Errorf("backlog-overflow: no merged queue row for the accepts at 5 s:\n%s", r.stdout)
	}
	r = runEnv(t, nil, "run", "loss-recovery", "--width", "0")
	if regexp.MustCompile(`(?m)^\s+·\s+\S+\s+client\s+counters: Timeouts`).MatchString(r.stdout) {
		t.Error("loss-recovery: a Timeouts counter row stands alone; want it folded into the retransmission")
	}
	if !regexp.MustCompile(`(?m)^\s+39\s.*retransmission #1 .*; counters: Timeouts \+1 = 1$`).MatchString(r.stdout) {
		t.Errorf("loss-recovery: frame 39 does not end with its counter:\n%s", r.stdout)
	}
}
