package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
)

// The graphs' geometry, in pixels.
const (
	graphW     = 880
	graphH     = 240
	plotLeft   = 78
	plotRight  = 16
	plotTop    = 34
	plotBottom = 40
)

// How a line is drawn.
type lineKind int

const (
	stepLine lineKind = iota // a value that holds until the next
	ranges                   // a vertical bar per value range (seq ranges, as tcptrace draws them)
	crosses                  // a cross per value (drops)
)

// line is one line of a graph.
type line struct {
	s     *series
	class string
	label string // message key of the legend
	kind  lineKind
	// free lines do not set the scale: they are clipped to it (the
	// window's right edge, far above the data on a fast link).
	free bool
}

// chart draws one graph: lines over virtual time, with axes and a legend.
type chart struct {
	names    i18n.Namer
	id       string // what it shows: tseq, cwnd, inflight, rtt, rwnd, queue
	serial   int    // its number on the page
	conn     int
	title    i18n.Msg
	from, to time.Duration
	lines    []line
}

// svg renders the chart, or "" when none of its lines has a value.
func (c *chart) svg() string {
	lo, hi, any := 0.0, 0.0, false
	from, to := c.from, c.to
	for _, l := range c.lines {
		a, b, ok := l.s.bounds()
		if !ok || l.free {
			continue
		}
		if !any {
			lo, hi, any = a, b, true
		}
		lo, hi = min(lo, a), max(hi, b)
		if f, t, ok := l.s.span(); ok {
			from, to = min(from, f), max(to, t)
		}
	}
	if !any {
		return ""
	}
	lo = min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	hi += (hi - lo) * 0.06 // room above the highest value
	if to <= from {
		to = from + time.Millisecond
	}
	yt := niceTicks(lo, hi, 5)
	lo, hi = min(lo, yt[0]), max(hi, yt[len(yt)-1])
	pw, ph := float64(graphW-plotLeft-plotRight), float64(graphH-plotTop-plotBottom)
	x := func(t time.Duration) float64 { return plotLeft + pw*float64(t-from)/float64(to-from) }
	y := func(v float64) float64 { return plotTop + ph*(1-(v-lo)/(hi-lo)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="graph" data-c="%d" data-g="%s"><svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`, c.conn, c.id, graphW, graphH, graphW, graphH)
	for i, lang := range langs {
		fmt.Fprintf(&b, `<text class="gtitle l-%s" x="%d" y="16">%s</text>`, lang, plotLeft, esc(c.title.Text(lang, c.names)))
		_ = i
	}
	fmt.Fprintf(&b, `<clipPath id="clip-%s-%d"><rect x="%d" y="%d" width="%.0f" height="%.0f"/></clipPath>`, c.id, c.serial, plotLeft, plotTop, pw, ph)
	fmt.Fprintf(&b, `<rect class="plot" x="%d" y="%d" width="%.0f" height="%.0f"/>`, plotLeft, plotTop, pw, ph)
	for _, v := range yt {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%.0f" y1="%.1f" y2="%.1f"/><text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`,
			plotLeft, plotLeft+pw, y(v), y(v), plotLeft-6, y(v)+4, num(v))
	}
	for _, s := range niceTicks(sec(from), sec(to), 8) {
		t := time.Duration(s * float64(time.Second))
		if t < from || t > to {
			continue
		}
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%d" y2="%.0f"/><text class="tick" x="%.1f" y="%.0f" text-anchor="middle">%s</text>`,
			x(t), x(t), plotTop, plotTop+ph, x(t), plotTop+ph+16, num(s))
	}
	for i, lang := range langs {
		fmt.Fprintf(&b, `<text class="axis l-%s" x="%.0f" y="%d" text-anchor="middle">%s</text>`, lang, plotLeft+pw/2, graphH-6, esc(i18n.M("out.report.x").Text(lang, nil)))
		_ = i
	}
	for _, l := range c.lines {
		if len(l.s.pts) == 0 {
			continue
		}
		fmt.Fprintf(&b, `<path class="ln %s" clip-path="url(#clip-%s-%d)" d="%s"/>`, l.class, c.id, c.serial, path(l, x, y, to))
	}
	lx := float64(graphW - plotRight)
	for i := len(c.lines) - 1; i >= 0; i-- {
		l := c.lines[i]
		if len(l.s.pts) == 0 {
			continue
		}
		var widest float64
		for _, lang := range langs {
			widest = max(widest, textPx(i18n.M(l.label).Text(lang, nil)))
		}
		lx -= widest + 26
		fmt.Fprintf(&b, `<g class="legend"><rect class="sw %s" x="%.0f" y="24" width="12" height="4"/>`, l.class, lx)
		for _, lang := range langs {
			fmt.Fprintf(&b, `<text class="l-%s" x="%.0f" y="30">%s</text>`, lang, lx+16, esc(i18n.M(l.label).Text(lang, nil)))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg></figure>`)
	return b.String()
}

// path draws a line's buckets.
func path(l line, x func(time.Duration) float64, y func(float64) float64, to time.Duration) string {
	var b strings.Builder
	switch l.kind {
	case ranges:
		for _, p := range l.s.pts {
			y1, y2 := y(p.lo), y(max(p.hi2, p.lo+1e-9))
			if y1-y2 < 1.5 {
				y2 = y1 - 1.5
			}
			fmt.Fprintf(&b, "M%.1f,%.1fV%.1f", x(p.t), y1, y2)
		}
	case crosses:
		for _, p := range l.s.pts {
			fmt.Fprintf(&b, "M%.1f,%.1fl6,6m0,-6l-6,6", x(p.t)-3, y(p.lo)-3)
		}
	default:
		for i, p := range l.s.pts {
			if i == 0 {
				fmt.Fprintf(&b, "M%.1f,%.1f", x(p.t), y(p.first))
			} else {
				fmt.Fprintf(&b, "H%.1fV%.1f", x(p.t), y(p.first))
			}
			if p.lo != p.hi {
				fmt.Fprintf(&b, "V%.1fV%.1f", y(p.lo), y(p.hi))
			}
			fmt.Fprintf(&b, "V%.1f", y(p.last))
		}
		fmt.Fprintf(&b, "H%.1f", x(to))
	}
	return b.String()
}

// graphs draws every connection's graphs, in the order the connections
// appeared.
func (w *Writer) graphs() string {
	var b strings.Builder
	serial := 0
	for _, c := range w.conns {
		if c.id > maxConns {
			break
		}
		var charts []*chart
		mk := func(id string, title i18n.Msg, lines ...line) {
			charts = append(charts, &chart{names: w.t.Names, id: id, conn: c.id, title: title, from: c.first, to: c.last, lines: lines})
		}
		for _, f := range c.flows {
			if f == nil || !f.sent {
				continue
			}
			if f.bytes > 0 {
				mk("tseq", i18n.M("out.report.tseq", f.from, f.to),
					line{f.wnd, "wnd", "out.report.l.wnd", stepLine, true},
					line{f.ack, "ackl", "out.report.l.ack", stepLine, false},
					line{f.data, "data", "out.report.l.data", ranges, false},
					line{f.resent, "resent", "out.report.l.resent", ranges, false},
					line{f.drops, "drop", "out.report.l.drop", crosses, false})
			}
		}
		for _, f := range c.flows {
			if f == nil || f.cwnd.n == 0 {
				continue
			}
			mk("cwnd", i18n.M("out.report.cwnd", f.from), line{f.cwnd, "cwnd", "out.report.l.cwnd", stepLine, false}, line{f.ssthresh, "ssthresh", "out.report.l.ssthresh", stepLine, false})
			mk("inflight", i18n.M("out.report.inflight", f.from), line{f.inflight, "inflight", "out.report.l.inflight", stepLine, false})
			mk("rtt", i18n.M("out.report.rtt", f.from), line{f.srtt, "srtt", "out.report.l.srtt", stepLine, false}, line{f.rttvar, "rttvar", "out.report.l.rttvar", stepLine, false}, line{f.rto, "rto", "out.report.l.rto", stepLine, false})
			mk("rwnd", i18n.M("out.report.rwnd", f.from), line{f.rcvwnd, "rcvwnd", "out.report.l.rcvwnd", stepLine, false}, line{f.win, "win", "out.report.l.win", stepLine, false})
		}
		for _, l := range w.listens {
			if l.c == c {
				// A listener's graph covers its queue rows only.
				from, _, _ := l.waiting.span()
				mk = func(id string, title i18n.Msg, lines ...line) {
					charts = append(charts, &chart{names: w.t.Names, id: id, conn: c.id, title: title, from: from, to: from, lines: lines})
				}
				mk("queue", i18n.M("out.report.queue", l.addr, l.host), line{l.capacity, "qcapl", "out.report.l.cap", stepLine, false},
					line{l.waiting, "qwaitl", "out.report.l.waiting", stepLine, false}, line{l.half, "qhalfl", "out.report.l.half", stepLine, false})
			}
		}
		fmt.Fprintf(&b, `<section class="conn" data-c="%d"><h3>%s</h3>`, c.id, esc(c.label))
		drawn := 0
		for _, ch := range charts {
			serial++
			ch.serial = serial
			if s := ch.svg(); s != "" {
				b.WriteString(s)
				drawn++
			}
		}
		if drawn == 0 {
			b.WriteString(textBoth("p", "nodata", i18n.M("out.report.nodata"), nil))
		}
		b.WriteString(`</section>`)
	}
	return b.String()
}

// niceTicks returns about n round values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Floor(lo/step) * step; v <= hi+step/2; v += step {
		out = append(out, v)
		if len(out) > 4*n {
			break
		}
	}
	return out
}

// num renders a tick value compactly: 1500, 1.5k, 2.5M, 0.25.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}

func sec(d time.Duration) float64 { return d.Seconds() }

// textPx estimates the width of a legend text: CJK runes are wider.
func textPx(s string) float64 {
	px := 0.0
	for _, r := range s {
		if r >= 0x2e80 {
			px += 12
		} else {
			px += 6.6
		}
	}
	return px
}
