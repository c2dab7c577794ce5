package main

import (
	"bytes"
	"context"
	"github.com/tcplab/tcplab/tap"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// withProgress runs a command line in-process as tcplab does, with the
// terminals and progress timing of e, and returns stdout and stderr.
func withProgress(t *testing.T, e env, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e.stdout, e.stderr = &out, &errb
	code = execute(context.Background(), args, e)
	return code, out.String(), errb.String()
}

// progressLines returns the progress lines drawn on stderr: the texts
// between carriage returns that are not blank.
func progressLines(stderr string) []string {
	var out []string
	for _, s := range strings.Split(stderr, "\r") {
		if strings.TrimSpace(s) != "" && !strings.Contains(s, "\n") {
			out = append(out, s)
		}
	}
	return out
}

var testProgress = regexp.MustCompile(`^labs (\d+)/(\d+), runs (\d+)/(\d+), (\S+) virtual +(\d+)% \|[█ ]+\| +\[\d+s\] $`)

// TestProgressTest runs tcplab test on two labs under three seeds each,
// with stderr a terminal and progress shown at once and at every step:
// stderr shows a line per finished run but the last (whose bar is full
// and cleared), with labs and runs done of their totals, nondecreasing,
// the bar at the runs' share,
// and the virtual time covered; the line is cleared at the end; stdout is
// the report alone, as without a terminal.
func TestProgressTest(t *testing.T) {
	args := []string{"test", "handshake", "close", "--seeds", "3", "--jobs", "1"}
	code, stdout, stderr := withProgress(t, env{stderrTerminal: true}, args...)
	if code != exitOK {
		t.Fatalf("tcplab %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	lines := progressLines(stderr)
	runs := map[int]bool{}
	lastLabs, lastRuns := 0, 0
	for _, l := range lines {
		m := testProgress.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("progress line %q is not \"labs L/2, runs R/6, T virtual N%% |bar| [Ts]\"", l)
		}
		labsDone, _ := strconv.Atoi(m[1])
		runsDone, _ := strconv.Atoi(m[3])
		if pct, _ := strconv.Atoi(m[6]); pct != 100*runsDone/6 {
			t.Errorf("progress line %q: the bar says %d%%, the text %d of 6 runs", l, pct, runsDone)
		}
		if m[2] != "2" || m[4] != "6" {
			t.Errorf("progress line %q: totals %s labs, %s runs; want 2 and 6", l, m[2], m[4])
		}
		if labsDone < lastLabs || runsDone < lastRuns {
			t.Errorf("progress went back: %q after labs %d, runs %d", l, lastLabs, lastRuns)
		}
		if _, err := time.ParseDuration(m[5]); err != nil || runsDone > 0 && m[5] == "0s" {
			t.Errorf("progress line %q: virtual time %q, want the time covered so far", l, m[5])
		}
		lastLabs, lastRuns = labsDone, runsDone
		runs[runsDone] = true
	}
	for k := 1; k <= 5; k++ {
		if !runs[k] {
			t.Errorf("no progress line says runs %d/6:\n%q", k, stderr)
		}
	}
	if lastLabs != 1 {
		t.Errorf("last progress line says %d labs done, want 1 (the second finishes with the last run)", lastLabs)
	}
	if !regexp.MustCompile(`\r +\r$`).MatchString(stderr) {
		t.Errorf("stderr does not end by clearing the progress line: %q", stderr[max(0, len(stderr)-40):])
	}
	_, plain, plainErr := withProgress(t, env{}, args...)
	if plainErr != "" {
		t.Errorf("without a terminal, stderr = %q, want nothing", plainErr)
	}
	if strings.Contains(stdout, "\r") || len(strings.Split(stdout, "\n")) != len(strings.Split(plain, "\n")) {
		t.Errorf("stdout with progress:\n%s\nwithout:\n%s\nwant the same report", stdout, plain)
	}
}

var runProgressLine = regexp.MustCompile(`^close: (\S+) virtual, (\d+) frames? +(\d+)% \|[█ ]+\| +\[\d+s\] $`)

// TestProgressRun runs the close lab with progress shown at once and at
// every row: when stderr is a terminal and stdout is not, or with
// --quiet or a form held to the end, stderr shows the virtual time and
// frames so far, growing, cleared before the end line; when stdout is the
// terminal the text rows stream to, or stderr is not a terminal, or the run
// ends before progress is due, nothing.
func TestProgressRun(t *testing.T) {
	soon := progressTiming{}
	late := progressTiming{after: time.Hour}
	tests := []struct {
		name string
		e    env
		args []string
		want bool
	}{
		{"stderr terminal", env{stderrTerminal: true, progress: soon}, nil, true},
		{"both terminals, quiet", env{terminal: true, stderrTerminal: true, progress: soon}, []string{"--quiet"}, true},
		{"both terminals, mermaid", env{terminal: true, stderrTerminal: true, progress: soon}, []string{"--format", "mermaid"}, true},
		{"both terminals, text streams", env{terminal: true, stderrTerminal: true, progress: soon}, nil, false},
		{"both terminals, json streams", env{terminal: true, stderrTerminal: true, progress: soon}, []string{"--format", "json"}, false},
		{"no terminal", env{progress: soon}, []string{"--quiet"}, false},
		{"over before a second", env{stderrTerminal: true, progress: late}, []string{"--quiet"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "close"}, tt.args...)
			code, stdout, stderr := withProgress(t, tt.e, args...)
			if code != exitOK {
				t.Fatalf("tcplab %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
			}
			if strings.Contains(stdout, "\r") {
				t.Errorf("stdout has a carriage return")
			}
			lines := progressLines(stderr)
			if !tt.want {
				if strings.Contains(stderr, "\r") {
					t.Errorf("stderr has progress, want none: %q", stderr)
				}
				return
			}
			if len(lines) < 2 {
				t.Fatalf("%d progress lines, want one per row: %q", len(lines), stderr)
			}
			lastAt, lastFrames := time.Duration(0), 0
			for _, l := range lines {
				m := runProgressLine.FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("progress line %q is not \"close: T virtual, N frames P%% |bar| [Ts]\"", l)
				}
				at, err := time.ParseDuration(m[1])
				frames, _ := strconv.Atoi(m[2])
				if err != nil || at < lastAt || frames < lastFrames {
					t.Errorf("progress line %q after %s and %d frames: want virtual time and frames growing", l, lastAt, lastFrames)
				}
				lastAt, lastFrames = at, frames
			}
			// The last row is TIME_WAIT's end, after every frame.
			sum := regexp.MustCompile(`tcplab: close: 60\.161000 s of virtual time in .* \(\d+ events, (\d+) frames\)`).FindStringSubmatch(stderr)
			if sum == nil {
				t.Fatalf("no summary on stderr: %q", stderr)
			}
			if frames, _ := strconv.Atoi(sum[1]); lastAt != 60161*time.Millisecond || lastFrames != frames {
				t.Errorf("last progress line at %s with %d frames, want 1m0.161s and %d (the summary's)", lastAt, lastFrames, frames)
			}
			before, after, ok := strings.Cut(stderr, "end of run at")
			if !ok && !strings.Contains(stdout, "end of run at") {
				t.Fatalf("no end line")
			}
			if ok && (!regexp.MustCompile(`\r +\r$`).MatchString(before) || strings.Contains(after, "\r")) {
				t.Errorf("the progress line is not cleared before the end line: %q", stderr)
			}
		})
	}
}

var explainProgressLine = regexp.MustCompile(`^synthetic\.pcap: 0 MB, (\d+) packets? +(\d+)% \|[█ ]+\| +\[\d+s\] $`)

// TestProgressExplain explains a capture with stderr a terminal and
// progress at every packet: the line counts packets up and its bar is the
// share of the file read; without a terminal there is none.
func TestProgressExplain(t *testing.T) {
	args := []string{"explain", "../../capture/testdata/synthetic.pcap"}
	code, _, stderr := withProgress(t, env{stderrTerminal: true}, args...)
	if code != exitOK {
		t.Fatalf("tcplab %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	lines := progressLines(stderr)
	if len(lines) < 2 {
		t.Fatalf("%d progress lines, want one per packet: %q", len(lines), stderr)
	}
	last, lastPct := 0, 0
	for _, l := range lines {
		m := explainProgressLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("progress line %q is not \"synthetic.pcap: 0 MB, N packets P%% |bar| [Ts]\"", l)
		}
		n, _ := strconv.Atoi(m[1])
		pct, _ := strconv.Atoi(m[2])
		if n <= last || pct < lastPct || pct > 100 {
			t.Errorf("progress line %q after %d packets at %d%%: want packets and share growing", l, last, lastPct)
		}
		last, lastPct = n, pct
	}
	if _, _, plain := withProgress(t, env{}, args...); strings.Contains(plain, "\r") {
		t.Errorf("without a terminal, stderr has progress: %q", plain)
	}
}

// TestProgressLine draws progress lines: the description, the percentage
// in four columns, a bar of 20 cells at that share, the elapsed whole
// seconds; in a narrow terminal the bar narrows, then the description is
// cut, so the line never takes more columns than the terminal has.
func TestProgressLine(t *testing.T) {
	tests := []struct {
		name    string
		desc    string
		value   int64
		total   int64
		elapsed time.Duration
		cols    int
		want    string
	}{
		{"start", "close: 0s virtual, 0 frames", 0, 60161, 0, 0, "close: 0s virtual, 0 frames   0% |                    |  [0s] "},
		{"exact percentage", "labs 0/1, runs 29/100", 29, 100, 1500 * time.Millisecond, 0, "labs 0/1, runs 29/100  29% |█████               |  [1s] "},
		{"almost full", "x", 99, 100, 0, 0, "x  99% |███████████████████ |  [0s] "},
		{"full", "x", 100, 100, 0, 0, "x 100% |████████████████████|  [0s] "},
		{"minutes", "x", 1, 2, 65 * time.Second, 0, "x  50% |██████████          |  [1m5s] "},
		{"wide enough", "x", 1, 2, 0, 36, "x  50% |██████████          |  [0s] "},
		{"narrower bar", "x", 1, 2, 0, 26, "x  50% |█████     |  [0s] "},
		{"no bar", "x", 1, 2, 0, 16, "x  50% ||  [0s] "},
		{"cut description", "close: 0s virtual", 1, 2, 0, 19, "clo…  50% ||  [0s] "},
		{"cut wide runes", "握手握手", 1, 2, 0, 18, "握…  50% ||  [0s] "},
		{"too narrow for any", "close", 1, 2, 0, 5, "  50% ||  [0s] "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := progressLine(tt.desc, tt.value, tt.total, tt.elapsed, tt.cols)
			if got != tt.want {
				t.Errorf("progressLine(%q, %d, %d, %s, %d) = %q, want %q", tt.desc, tt.value, tt.total, tt.elapsed, tt.cols, got, tt.want)
			}
			if tt.cols >= 15 && tap.TextWidth(got) > tt.cols {
				t.Errorf("progressLine(%q, ..., %d) takes %d columns", tt.desc, tt.cols, tap.TextWidth(got))
			}
		})
	}
}

// TestMeter drives a meter by hand: nothing before timing.after, a line
// drawn at the first update after it, no redraw within timing.every, a
// redraw that first blanks the longer line before it, clear and a
// redraw, and at the end, the line blanked and drawn no more.
func TestMeter(t *testing.T) {
	var w bytes.Buffer
	m := newMeter(env{stderr: &w, stderrTerminal: true, progress: progressTiming{after: time.Hour}, stderrWidth: func() int { return 80 }}, 10)
	m.update(1, "one")
	if w.Len() != 0 {
		t.Fatalf("update before timing.after wrote %q, want nothing", w.String())
	}
	m.start = m.start.Add(-time.Hour) // as if an hour had passed
	m.timing.every = time.Hour
	m.update(1, "a long description")
	m.update(2, "two") // too soon
	first := "\ra long description  10% |██                  |  [1h0m0s] "
	if w.String() != first {
		t.Fatalf("after the first updates, the terminal has %q, want %q", w.String(), first)
	}
	blank := func(line string) string { return "\r" + strings.Repeat(" ", tap.TextWidth(line)-1) + "\r" }
	m.drawn = m.drawn.Add(-time.Hour)
	m.update(3, "three")
	third := "\rthree  30% |██████              |  [1h0m0s] "
	want := first + blank(first) + third
	if w.String() != want {
		t.Fatalf("after a redraw, the terminal has %q, want %q", w.String(), want)
	}
	m.clear()
	if got := strings.TrimPrefix(w.String(), want); got != blank(third) {
		t.Errorf("clear wrote %q, want %q", got, blank(third))
	}
	w.Reset()
	m.clear()
	if w.Len() != 0 {
		t.Errorf("clear with no line on the screen wrote %q, want nothing", w.String())
	}
	m.drawn = m.drawn.Add(-time.Hour)
	m.update(4, "four")
	if !strings.HasPrefix(w.String(), "\rfour  40%") {
		t.Errorf("update after clear wrote %q, want the line drawn anew", w.String())
	}
	fourth := w.String()
	w.Reset()
	m.update(10, "ten")
	m.drawn = m.drawn.Add(-time.Hour)
	m.update(5, "five")
	m.done()
	if w.String() != blank(fourth) {
		t.Errorf("at the end, the terminal has %q, want the line blanked once: %q", w.String(), blank(fourth))
	}
}

// TestInterruptTakesTheLine: the notice of a Ctrl-C clears the progress
// line and gets a line of its own, and no meter (this one or another)
// draws after it, over it or blanks it.
func TestInterruptTakesTheLine(t *testing.T) {
	t.Cleanup(func() {
		stderrLine.mu.Lock()
		stderrLine.taken = false
		stderrLine.mu.Unlock()
	})
	var w bytes.Buffer
	m := newMeter(env{stderr: &w, stderrTerminal: true, progress: progressTiming{}, stderrWidth: func() int { return 80 }}, 10)
	m.update(1, "one")
	if !strings.HasPrefix(w.String(), "\rone  10%") {
		t.Fatalf("the first update wrote %q, want the line", w.String())
	}
	w.Reset()
	announceInterrupt(&w, true)
	notice := interruptNotice(true)
	m.update(2, "two")
	m.clear()
	m.done()
	other := newMeter(env{stderr: &w, stderrTerminal: true, progress: progressTiming{}, stderrWidth: func() int { return 80 }}, 10)
	other.update(3, "three")
	if w.String() != notice {
		t.Errorf("after the notice, the terminal has %q, want only the notice %q", w.String(), notice)
	}
}
