package report

import (
	"cmp"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/tap"
)

// The ladder's geometry, in pixels.
const (
	ladderLeft   = 96  // room for the time axis
	ladderTop    = 56  // below the lifelines' names
	slot         = 17  // one row
	tickPad      = 3   // above and below a tick's rows
	gapPerMs     = 2.4 // a pause between two instants, per millisecond
	gapMax       = 110 // the longest pause drawn to scale
	breakAt      = time.Second
	breakHeight  = 40 // a pause of breakAt or more, drawn as a break
	elideHeight  = 64 // the marker of rows not drawn
	laneWidth    = 7  // one state band
	maxLanes     = 8  // bands beside one lifeline
	minPartSpace = 170
	maxPartSpace = 330
)

// tick is one instant the ladder shows: rows happen at it, segments arrive
// or are dropped at it. part is 0 for the ladder's head and 1 for its tail
// when rows in between are not drawn, so that each half keeps its order.
type tick struct {
	part int
	t    time.Duration
}

func (a tick) cmp(b tick) int {
	if a.part != b.part {
		return a.part - b.part
	}
	return cmp.Compare(a.t, b.t)
}

// ladder lays out and draws the kept rows.
type ladder struct {
	w      *Writer
	rows   []*tap.Row
	cut    int // first tail row
	ticks  []tick
	top    []float64 // y of each tick
	used   []int     // rows placed at each tick so far
	height float64
	elideY float64 // y of the marker of rows not drawn, when any
	partX  []float64
	width  float64
	rowY   []float64    // y of each row
	breaks [][2]float64 // long pauses: y, length
	b      strings.Builder
	det    []detail
}

// tickOf returns the index of tick k.
func (l *ladder) tickOf(k tick) int {
	i, _ := slices.BinarySearchFunc(l.ticks, k, tick.cmp)
	return min(i, len(l.ticks)-1)
}

// yAt returns the y of time t in part: the top of its tick, or of the next
// tick when t is not one.
func (l *ladder) yAt(part int, t time.Duration) float64 {
	if len(l.ticks) == 0 {
		return ladderTop
	}
	return l.top[l.tickOf(tick{part, t})]
}

// partOf returns the half of the ladder row i is in.
func (l *ladder) partOf(i int) int {
	if i >= l.cut {
		return 1
	}
	return 0
}

// layout finds every instant and gives each a height: its rows, and the
// pause before the next one, to scale up to gapMax and as a break from
// breakAt on.
func (l *ladder) layout() {
	add := func(part int, t time.Duration) { l.ticks = append(l.ticks, tick{part, t}) }
	for i, r := range l.rows {
		p := l.partOf(i)
		add(p, r.At)
		if r.Kind == tap.KindSegment || r.Kind == tap.KindPacket {
			switch {
			case r.Dropped != nil:
				add(p, r.Dropped.At)
			case r.Arrival != nil:
				add(p, r.Arrival.At)
			}
		}
	}
	add(0, 0)
	slices.SortFunc(l.ticks, tick.cmp)
	l.ticks = slices.Compact(l.ticks)
	count := make([]int, len(l.ticks))
	for i, r := range l.rows {
		count[l.tickOf(tick{l.partOf(i), r.At})]++
	}
	l.top = make([]float64, len(l.ticks))
	l.used = make([]int, len(l.ticks))
	y := float64(ladderTop)
	var breaks [][2]float64 // y and pause
	for i, k := range l.ticks {
		if i > 0 {
			prev := l.ticks[i-1]
			switch {
			case prev.part != k.part:
				l.elideY = y
				y += elideHeight
			case k.t-prev.t >= breakAt:
				breaks = append(breaks, [2]float64{y, float64(k.t - prev.t)})
				y += breakHeight
			default:
				y += min(gapMax, gapPerMs*ms(k.t-prev.t))
			}
		}
		l.top[i] = y
		y += 2*tickPad + float64(count[i])*slot
	}
	l.height = y + 30
	n := len(l.w.parts)
	space := float64(maxPartSpace)
	if n > 1 {
		space = max(minPartSpace, min(maxPartSpace, 660/float64(n-1)))
	}
	for i := range n {
		l.partX = append(l.partX, ladderLeft+150+float64(i)*space)
	}
	l.width = l.partX[n-1] + 270
	l.rowY = make([]float64, len(l.rows))
	for i, r := range l.rows {
		k := l.tickOf(tick{l.partOf(i), r.At})
		l.rowY[i] = l.top[k] + tickPad + (float64(l.used[k])+0.5)*slot
		l.used[k]++
	}
	l.breaks = breaks
}

// draw writes the ladder's SVG and collects each row's details.
func (l *ladder) draw() string {
	l.layout()
	b := &l.b
	fmt.Fprintf(b, `<svg id="ladder" xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`, l.width, l.height, l.width, l.height)
	b.WriteString(`<defs><marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker></defs>`)
	l.drawBreaks()
	for i, name := range l.w.parts {
		x := l.partX[i]
		fmt.Fprintf(b, `<g class="part"><line class="life" x1="%.1f" y1="%d" x2="%.1f" y2="%.0f"/><rect x="%.1f" y="8" width="120" height="26" rx="4"/><text x="%.1f" y="26" text-anchor="middle">%s</text></g>`,
			x, ladderTop-10, x, l.height-10, x-60, x, esc(name))
	}
	l.drawBands()
	l.drawTimes()
	for i, r := range l.rows {
		l.drawRow(i, r)
	}
	if l.w.elided > 0 {
		w := l.w
		y := l.elideY
		fmt.Fprintf(b, `<g class="elided"><rect x="4" y="%.1f" width="%.0f" height="%d"/>%s</g>`, y+6, l.width-8, elideHeight-12,
			l.text(l.width/2, y+elideHeight/2+4, "middle", i18n.M("out.report.elided", w.elided, w.elSegs, fmtTime(w.elFrom), fmtTime(w.elTo))))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// drawBreaks draws each long pause as a zigzag across the ladder with its
// length.
func (l *ladder) drawBreaks() {
	for _, br := range l.breaks {
		y := br[0] + breakHeight/2
		var d strings.Builder
		fmt.Fprintf(&d, "M4,%.1f", y)
		for x, up := 14.0, true; x < l.width-4; x, up = x+10, !up {
			dy := 4.0
			if up {
				dy = -4
			}
			fmt.Fprintf(&d, "L%.0f,%.1f", x, y+dy)
		}
		fmt.Fprintf(&l.b, `<g class="break"><rect x="0" y="%.1f" width="%.0f" height="%d"/><path d="%s"/>%s</g>`,
			br[0]+4, l.width, breakHeight-8, d.String(), l.text(8, y-7, "start", i18n.M("out.report.gap", time.Duration(br[1]))))
	}
}

// drawTimes labels the time axis at the rows, where there is room.
func (l *ladder) drawTimes() {
	last, lastT := -100.0, time.Duration(-1)
	for i, r := range l.rows {
		y := l.rowY[i]
		if y-last < 15 || r.At == lastT {
			continue
		}
		last, lastT = y, r.At
		fmt.Fprintf(&l.b, `<text class="time" x="%d" y="%.1f" text-anchor="end">%s</text>`, ladderLeft-8, y+4, fmtTime(r.At))
	}
}

// endKey names one endpoint: its host and addresses.
func endKey(r *tap.Row) string { return r.Host + " " + r.Local.String() + " " + r.Remote.String() }

// drawBands draws a band beside each host's lifeline for every state an
// endpoint was in (CLOSED excepted), from the state change into it to the
// next one or the end, in a lane of its own while it lasts.
func (l *ladder) drawBands() {
	w := l.w
	rowOf := map[*tap.Row]int{}
	for i, r := range l.rows {
		if r.Kind == tap.KindState {
			rowOf[r] = i
		}
	}
	y := func(r *tap.Row) float64 {
		if i, ok := rowOf[r]; ok {
			return l.rowY[i]
		}
		if w.elided > 0 && r.At >= w.elFrom && r.At <= w.elTo {
			return l.elideY + elideHeight/2
		}
		part := 0
		if w.elided > 0 && r.At > w.elTo {
			part = 1
		}
		return l.yAt(part, r.At)
	}
	type open struct {
		r    *tap.Row
		lane int
	}
	opened := map[string]open{}
	lanes := map[string][]bool{} // by host: lanes in use
	end := l.height - 20
	emit := func(o open, to float64) {
		r := o.r
		x := l.partX[w.partOf[r.Host]] + 4 + float64(o.lane%maxLanes)*laneWidth
		from := y(r)
		c := w.groupOf(r)
		fmt.Fprintf(&l.b, `<rect class="band s-%s" data-state="%s" data-c="%d" x="%.1f" y="%.1f" width="%d" height="%.1f"><title>%s %s</title></rect>`,
			strings.ToLower(r.ToState.String()), r.ToState, connID(c), x, from, laneWidth-1, max(2, to-from), esc(r.ToState.String()), esc(w.endpoint(r.Local)))
	}
	for _, r := range w.states {
		k := endKey(r)
		if o, ok := opened[k]; ok {
			emit(o, y(r))
			delete(opened, k)
			lanes[r.Host][o.lane] = false
		}
		if r.ToState == event.Closed {
			continue
		}
		ls := lanes[r.Host]
		lane := slices.Index(ls, false)
		if lane < 0 {
			lane = len(ls)
			ls = append(ls, false)
		}
		ls[lane] = true
		lanes[r.Host] = ls
		opened[k] = open{r, lane}
	}
	// Bands still open at the end, in the order they opened.
	var rest []open
	for _, o := range opened {
		rest = append(rest, o)
	}
	slices.SortFunc(rest, func(a, b open) int { return slices.Index(w.states, a.r) - slices.Index(w.states, b.r) })
	for _, o := range rest {
		emit(o, end)
	}
}

// connID is a connection group's number, 0 for none.
func connID(c *conn) int {
	if c == nil {
		return 0
	}
	return c.id
}

// flagClass is the colour class of a segment's arrow.
func flagClass(r *tap.Row) string {
	f := r.Seg.Flags
	switch {
	case f&segment.RST != 0:
		return "rst"
	case f&segment.SYN != 0:
		return "syn"
	case f&segment.FIN != 0:
		return "fin"
	case r.Seg.Len > 0:
		return "data"
	}
	return "ack"
}

// drawRow draws one row and records its details.
func (l *ladder) drawRow(i int, r *tap.Row) {
	w := l.w
	b := &l.b
	y := l.rowY[i]
	c := connID(w.groupOf(r))
	d := w.details(r)
	idx := len(l.det)
	l.det = append(l.det, d)
	hostX := l.partX[w.partOf[r.Host]]
	if r.Box != nil && r.Seg != nil {
		// A middlebox's RST starts at the host it claims to come from.
		if p, ok := w.partOf[w.t.Name(r.Seg.Src.Addr())]; ok {
			hostX = l.partX[p]
		}
	}
	switch r.Kind {
	case tap.KindSegment, tap.KindPacket:
		to := r.Host
		label := ""
		cls := "pkt"
		if r.Seg != nil {
			to = w.t.Name(r.Seg.Dst.Addr())
			cls = flagClass(r)
			label = segLabel(r)
		}
		x1, x2 := hostX, l.partX[w.partOf[to]]
		y2 := l.height - 20
		var cross string
		switch {
		case r.Dropped != nil:
			frac := map[event.Dir]float64{event.Out: 0.3, event.Switch: 0.5, event.In: 0.75}[r.Dropped.Place.Dir]
			x2 = x1 + (x2-x1)*frac
			y2 = l.yAt(l.partOf(i), r.Dropped.At)
			cross = crossAt(x2, y2)
		case r.Arrival != nil:
			y2 = l.yAt(l.partOf(i), r.Arrival.At)
			if stackDrop(r.Arrival.Verdict) {
				cross = crossAt(x2, y2)
			}
		default:
			cls += " inflight"
		}
		extra := ""
		if r.Analysis&tap.Retransmission != 0 {
			extra = " retrans"
		}
		if cross != "" {
			extra += " dropped"
		}
		marker := ` marker-end="url(#ah)"`
		if cross != "" {
			marker = ""
		}
		anchor, lx := "start", x1+8
		if x2 < x1 {
			anchor, lx = "end", x1-8
		}
		fmt.Fprintf(b, `<g class="seg %s%s" data-i="%d" data-c="%d"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"%s/>%s<text x="%.1f" y="%.1f" text-anchor="%s">%s</text></g>`,
			cls, extra, idx, c, x1, y, x2, y2, marker, cross, lx, y-3, anchor, esc(label))
	case tap.KindState:
		fmt.Fprintf(b, `<g class="st" data-i="%d" data-c="%d"><circle cx="%.1f" cy="%.1f" r="3.5"/><text x="%.1f" y="%.1f">%s</text></g>`,
			idx, c, hostX, y, hostX+4+maxLanes*laneWidth+4, y+4, esc(r.FromState.String()+" → "+r.ToState.String()))
	case tap.KindApp:
		cls := "app"
		if !r.App.Err.IsZero() {
			cls += " err"
		}
		step := r.App.Step
		fmt.Fprintf(b, `<g class="%s" data-i="%d" data-c="0"><path d="M%.1f,%.1fl6,6l-6,6l-6,-6z"/>%s</g>`,
			cls, idx, hostX, y-6, l.text(hostX-12, y+4, "end", i18n.M("out.mmd.app", step)))
	case tap.KindQueue:
		cp := max(r.Capacity, 1)
		wa := 44 * float64(min(r.Waiting, cp)) / float64(cp)
		hw := 44 * float64(min(r.HalfOpen, cp)) / float64(cp)
		fmt.Fprintf(b, `<g class="q" data-i="%d" data-c="%d"><rect class="qcap" x="%.1f" y="%.1f" width="44" height="10"/><rect class="qwait" x="%.1f" y="%.1f" width="%.1f" height="5"/><rect class="qhalf" x="%.1f" y="%.1f" width="%.1f" height="5"/><text x="%.1f" y="%.1f" text-anchor="end">%d/%d · %d</text></g>`,
			idx, c, hostX-52, y-5, hostX-52, y-5, wa, hostX-52, y, hw, hostX-56, y+4, r.Waiting, r.Capacity, r.HalfOpen)
	default:
		sym := map[tap.Kind]string{tap.KindCounter: "#", tap.KindCopy: "⧉", tap.KindDrop: "×", tap.KindTimer: "⏱", tap.KindStall: "!", tap.KindWorld: "⚡"}[r.Kind]
		fmt.Fprintf(b, `<g class="ev k-%s" data-i="%d" data-c="%d"><circle cx="%.1f" cy="%.1f" r="6"/><text x="%.1f" y="%.1f" text-anchor="middle">%s</text></g>`,
			r.Kind, idx, c, hostX, y, hostX, y+3.5, sym)
	}
}

// crossAt draws a cross where a segment was dropped.
func crossAt(x, y float64) string {
	return fmt.Sprintf(`<path class="x" d="M%.1f,%.1fl10,10m0,-10l-10,10"/>`, x-5, y-5)
}

// segLabel is an arrow's label: "[12] SYN, ACK seq=0 ack=1 len=0".
func segLabel(r *tap.Row) string {
	s := "[" + strconv.Itoa(r.No) + "] " + r.Seg.Flags.String() + " seq=" + strconv.FormatUint(uint64(r.RelSeq), 10)
	if r.HasAck {
		s += " ack=" + strconv.FormatUint(uint64(r.RelAck), 10)
	}
	if r.Seg.Len > 0 {
		s += " len=" + strconv.Itoa(r.Seg.Len)
	}
	if r.Seg.Flags&segment.SYN != 0 || r.Window == 0 {
		s += " win=" + strconv.Itoa(r.Window)
	}
	return s
}

// text is an SVG text in each language; the page shows one.
func (l *ladder) text(x, y float64, anchor string, m i18n.Msg) string {
	var b strings.Builder
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		fmt.Fprintf(&b, `<text class="l-%s" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, lang, x, y, anchor, esc(m.Text(lang, l.w.t.Names)))
	}
	return b.String()
}

// esc escapes text for HTML and SVG.
func esc(s string) string { return html.EscapeString(s) }
