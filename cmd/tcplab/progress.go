package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
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

// meter shows progress on standard error when it is a terminal, as one
// line that a progress bar library (github.com/schollz/progressbar/v3)
// redraws in place: a description, a bar and the elapsed wall time. It
// shows nothing until timing.after has passed, and nothing at all when
// standard error is not a terminal, so pipes, files and golden outputs
// never see it. Its methods may be called from any goroutine.
type meter struct {
	w      io.Writer
	timing progressTiming
	max    int64
	start  time.Time

	mu sync.Mutex
	// +checklocks:mu
	on bool // false when not a terminal, and after done
	// +checklocks:mu
	bar *progressbar.ProgressBar // nil until shown
}

// newMeter returns a meter over [0, max] on e's standard error.
func newMeter(e env, max int64) *meter {
	return &meter{w: e.stderr, on: e.stderrTerminal && max > 0, timing: e.progress, max: max, start: time.Now()} // wall time: stderr only
}

// update sets how far the work is and what the line says.
func (m *meter) update(value int64, desc string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.on {
		return
	}
	value = min(max(value, 0), m.max)
	if m.bar == nil {
		if time.Since(m.start) < m.timing.after {
			return
		}
		m.bar = progressbar.NewOptions64(m.max,
			progressbar.OptionSetWriter(m.w),
			progressbar.OptionSetWidth(20),
			progressbar.OptionThrottle(m.timing.every),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription(desc),
		)
		_ = m.bar.Set64(value)
		return
	}
	// The new description goes in without a redraw (an Option is a
	// setter), so that whichever of Set64 and Describe redraws the line
	// draws both new; a bar that reaches its end is cleared and drawn no
	// more.
	progressbar.OptionSetDescription(desc)(m.bar)
	_ = m.bar.Set64(value)
	m.bar.Describe(desc)
}

// clear takes the line off the screen, before something else is written
// to the terminal; the next update draws it again.
func (m *meter) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.on && m.bar != nil {
		_ = m.bar.Clear()
	}
}

// done takes the line off the screen for good: no update draws it again.
func (m *meter) done() {
	m.clear()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.on = false
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
