package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/tcplab/tcplab/tap"
)

// progressTiming says when progress appears and how often it is redrawn.
type progressTiming struct {
	// after is the wall time from which progress shows: a command that
	// ends sooner shows none.
	after time.Duration
	// every is the shortest time between two redraws.
	every time.Duration
}

// defaultProgress is the timing of the real command: after a second, ten
// redraws a second at most.
var defaultProgress = progressTiming{after: time.Second, every: 100 * time.Millisecond}

// barWidth is the number of cells of the bar between its two '|'.
const barWidth = 20

// meter shows progress on standard error when it is a terminal, as one
// line redrawn in place: a description, the percentage, a bar and the
// elapsed wall time,
//
//	labs 3/20, runs 45/200, 2h5m virtual  22% |████                |  [3s]
//
// It shows nothing until timing.after has passed, and nothing at all when
// standard error is not a terminal, so pipes, files and golden outputs
// never see it. The line is cut to the terminal's width, so that it never
// wraps, and taken off the screen (overwritten with spaces) when the work
// is done or something else is to be written. Its methods may be called
// from any goroutine.
type meter struct {
	w       io.Writer
	columns func() int // the terminal's width now; 0 when unknown
	timing  progressTiming
	max     int64
	start   time.Time

	mu sync.Mutex
	// +checklocks:mu
	on bool // false when not a terminal, and once the work is done
	// +checklocks:mu
	shown bool // the line has been drawn: timing.after has passed
	// +checklocks:mu
	drawn time.Time // when the line was last drawn
	// +checklocks:mu
	width int // the columns of the line on the screen; 0 when none is
}

// stderrLine is standard error's last line, which the meters draw on and
// the notice of an interruption takes for good (announceInterrupt): once
// the user pressed Ctrl-C no meter draws over the notice or after it.
var stderrLine struct {
	mu sync.Mutex
	// +checklocks:mu
	taken bool
}

// announceInterrupt writes the notice of an interruption to w (standard
// error) and stops every meter from drawing again.
func announceInterrupt(w io.Writer, terminal bool) {
	stderrLine.mu.Lock()
	defer stderrLine.mu.Unlock()
	stderrLine.taken = true
	_, _ = io.WriteString(w, interruptNotice(terminal))
}

// newMeter returns a meter over [0, max] on e's standard error.
func newMeter(e env, max int64) *meter {
	columns := e.stderrWidth
	if columns == nil {
		columns = func() int { return 0 }
	}
	return &meter{w: e.stderr, columns: columns, on: e.stderrTerminal && max > 0, timing: e.progress, max: max, start: time.Now()} // wall time: stderr only
}

// update sets how far the work is and what the line says. The line is
// redrawn at most every timing.every; when value reaches max it is taken
// off the screen and drawn no more.
func (m *meter) update(value int64, desc string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	stderrLine.mu.Lock()
	defer stderrLine.mu.Unlock()
	if !m.on || stderrLine.taken { // taken: the notice cleared the line and follows it
		return
	}
	value = min(max(value, 0), m.max)
	if value == m.max {
		m.erase()
		m.on = false
		return
	}
	now := time.Now() // wall time: stderr only
	if !m.shown && now.Sub(m.start) < m.timing.after || m.shown && now.Sub(m.drawn) < m.timing.every {
		return
	}
	line := progressLine(desc, value, m.max, now.Sub(m.start), m.columns())
	var b strings.Builder
	if m.width > 0 {
		b.WriteString(blankLine(m.width))
	}
	b.WriteString("\r")
	b.WriteString(line)
	_, _ = io.WriteString(m.w, b.String())
	m.shown, m.drawn, m.width = true, now, tap.TextWidth(line)
}

// clear takes the line off the screen, before something else is written
// to the terminal; the next update draws it again.
func (m *meter) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	stderrLine.mu.Lock()
	defer stderrLine.mu.Unlock()
	m.erase()
}

// done takes the line off the screen for good: no update draws it again.
func (m *meter) done() {
	m.mu.Lock()
	defer m.mu.Unlock()
	stderrLine.mu.Lock()
	defer stderrLine.mu.Unlock()
	m.erase()
	m.on = false
}

// erase overwrites the line on the screen, if there is one and the notice
// of an interruption has not taken its place, with spaces and puts the
// cursor back at the start of the line.
//
// +checklocks:m.mu
// +checklocks:stderrLine.mu
func (m *meter) erase() {
	if stderrLine.taken {
		m.width = 0
	}
	if m.width > 0 {
		_, _ = io.WriteString(m.w, blankLine(m.width))
		m.width = 0
	}
}

// blankLine is what overwrites a line of n columns: a carriage return, n
// spaces and a carriage return.
func blankLine(n int) string {
	return "\r" + strings.Repeat(" ", n) + "\r"
}

// progressLine is the progress line for value of total with the description
// desc, elapsed wall time since the work began: desc, the percentage
// right-aligned in four columns, a bar of barWidth cells and the elapsed
// whole seconds, with a space at the end,
//
//	close: 5s virtual, 12 frames   8% |█                   |  [2s]
//
// as github.com/schollz/progressbar/v3 drew it before tcplab drew its own
// (the two spaces before the time held that library's empty statistics).
// When cols, the terminal's width, is not 0 and the line would not fit,
// the bar is narrowed, and if that is not enough, the description is cut
// with "…": a line that wraps could not be redrawn in place.
func progressLine(desc string, value, total int64, elapsed time.Duration, cols int) string {
	pct := int(100 * value / total)
	elapsedText := elapsed.Truncate(time.Second).String()
	// The line without the bar's cells and without the description.
	rest := fmt.Sprintf("%4d%% || ", pct) + " [" + elapsedText + "] "
	width := barWidth
	if cols > 0 {
		if over := tap.TextWidth(desc) + len(rest) + width - cols; over > 0 {
			width = max(0, width-over)
		}
		if over := tap.TextWidth(desc) + len(rest) - cols; width == 0 && over > 0 {
			desc = cutColumns(desc, tap.TextWidth(desc)-over)
		}
	}
	filled := pct * width / 100
	return fmt.Sprintf("%s%4d%% |%s%s|  [%s] ", desc, pct, strings.Repeat("█", filled), strings.Repeat(" ", width-filled), elapsedText)
}

// cutColumns returns s if it takes at most n terminal columns, else as
// much of its start as fits in n columns with "…" at the end.
func cutColumns(s string, n int) string {
	if tap.TextWidth(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	used := 1 // the "…"
	for i, r := range s {
		if used+tap.RuneWidth(r) > n {
			return s[:i] + "…"
		}
		used += tap.RuneWidth(r)
	}
	return s
}

// runMeter is the progress of one tcplab run: virtual time against the
// lab's time limit, and frames so far. It is a tap sink: rows come in
// virtual time order.
type runMeter struct {
	m      *meter
	name   string
	frames int
	rows   int
}

var _ tap.Sink = (*runMeter)(nil)

// Row implements tap.Sink.
func (rm *runMeter) Row(r *tap.Row) error {
	if r.Kind == tap.KindSegment || r.Kind == tap.KindPacket {
		rm.frames++
	}
	rm.rows++
	// Reading the clock for every row of a big transfer costs; one row
	// in 64 is often enough.
	if rm.rows%64 == 0 || rm.m.timing.every == 0 {
		rm.m.update(int64(r.At/time.Millisecond), fmt.Sprintf("%s: %s virtual, %s", rm.name, fmtCovered(r.At), plural(rm.frames, "frame")))
	}
	return nil
}
