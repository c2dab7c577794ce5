package report

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/tap"
)

// Meta is what the report says about the lab above its pictures.
type Meta struct {
	// Name, Title and Description are the lab's, as written.
	Name, Title, Description string
	// Seed is the seed the run used.
	Seed uint64
	// Lang is the language the report opens in; the reader can switch.
	Lang i18n.Lang
}

// Outcome is one of the lab's expectations and whether it held.
type Outcome struct {
	// Where is the expectation's place in the lab file ("lab.toml:12:1").
	Where string
	// Check is what it checks, as tcplab prints it.
	Check string
	// Why is the lab's reason for it, "" if none.
	Why string
	// Found says what was found when it failed.
	Found string
	// OK says it held.
	OK bool
}

// Result is how the run ended, known only once it has.
type Result struct {
	// End is the virtual time the run covered, and Stop why it stopped
	// (an out.stop.* message).
	End  time.Duration
	Stop i18n.Msg
	// Checked says the expectations were checked (the lab has some and the
	// run was not interrupted); Outcomes are their results, in order.
	Checked  bool
	Outcomes []Outcome
}

// Options bound what a report keeps.
type Options struct {
	// MaxRows is how many rows the ladder draws: the first two thirds and
	// the last third of them when a run has more, with a marker for the
	// rows in between (the graphs still cover every segment). 0 means
	// DefaultMaxRows.
	MaxRows int
	// MaxPoints bounds each line of a graph: beyond it, points merge into
	// buckets that keep each span's lowest and highest value. 0 means
	// DefaultMaxPoints.
	MaxPoints int
}

// Defaults of Options.
const (
	DefaultMaxRows   = 1500
	DefaultMaxPoints = 800
	// maxStates bounds the state changes kept for the state bands.
	maxStates = 20000
	// maxConns bounds the connections that get graphs of their own.
	maxConns = 64
)

// Writer builds the HTML report of a run from the rows a tap releases. It
// implements tap.Sink: rows are reduced as they come into bounded state
// (the ladder's first and last rows, every state change up to a bound,
// and each graph's decimated lines), and WriteHTML writes the page once the
// run has ended.
type Writer struct {
	t    *tap.Tap
	meta Meta
	opts Options

	parts  []string       // lifelines, in order: hosts, then other addresses as they appear
	partOf map[string]int // by name

	head    []*tap.Row // the ladder's first rows
	tail    []*tap.Row // a ring of the last rows
	tailAt  int        // next slot of the ring
	elided  int        // rows between head and tail
	elSegs  int        // segments among them
	elFrom  time.Duration
	elTo    time.Duration
	states  []*tap.Row // every state change (up to maxStates)
	rows    int
	segs    int
	lastAt  time.Duration
	conns   []*conn
	connOf  map[string]*conn
	listens []*listener
	listOf  map[string]*listener
}

var _ tap.Sink = (*Writer)(nil)

// New returns a report writer for the rows of t. Add it to t as a sink
// before the run, and call WriteHTML after it.
func New(t *tap.Tap, meta Meta, opts Options) *Writer {
	opts.MaxRows = cmp.Or(opts.MaxRows, DefaultMaxRows)
	opts.MaxPoints = cmp.Or(opts.MaxPoints, DefaultMaxPoints)
	w := &Writer{t: t, meta: meta, opts: opts, partOf: map[string]int{}, connOf: map[string]*conn{}, listOf: map[string]*listener{}}
	names, _ := t.Hosts()
	for _, n := range names {
		w.part(n)
	}
	return w
}

// part returns the lifeline of name, adding it if new.
func (w *Writer) part(name string) int {
	if i, ok := w.partOf[name]; ok {
		return i
	}
	w.parts = append(w.parts, name)
	w.partOf[name] = len(w.parts) - 1
	return len(w.parts) - 1
}

// headRows and tailRows split MaxRows.
func (w *Writer) headRows() int { return w.opts.MaxRows * 2 / 3 }
func (w *Writer) tailRows() int { return w.opts.MaxRows - w.headRows() }

// Row implements tap.Sink.
func (w *Writer) Row(r *tap.Row) error {
	w.rows++
	w.lastAt = max(w.lastAt, r.At)
	if r.Kind == tap.KindSegment {
		w.segs++
		w.part(r.Host)
		w.part(w.t.Name(r.Seg.Dst.Addr()))
	}
	switch {
	case len(w.head) < w.headRows():
		w.head = append(w.head, r)
	case len(w.tail) < w.tailRows():
		w.tail = append(w.tail, r)
	default:
		old := w.tail[w.tailAt]
		if w.elided == 0 {
			w.elFrom = old.At
		}
		w.elided++
		w.elTo = old.At
		if old.Kind == tap.KindSegment {
			w.elSegs++
		}
		w.tail[w.tailAt] = r
		w.tailAt = (w.tailAt + 1) % len(w.tail)
	}
	if key, label, listen, ok := w.keyOf(r); ok {
		w.connFor(key, label, listen, r.At)
	}
	if r.Kind == tap.KindState && len(w.states) < maxStates {
		w.states = append(w.states, r)
	}
	switch r.Kind {
	case tap.KindSegment:
		w.segment(r)
	case tap.KindQueue:
		w.queue(r)
	}
	return nil
}

// kept returns the rows the ladder draws, in order, and the index of the
// first tail row (len when nothing was elided).
func (w *Writer) kept() (rows []*tap.Row, cut int) {
	rows = append(rows, w.head...)
	cut = len(rows)
	rows = append(rows, w.tail[w.tailAt:]...)
	rows = append(rows, w.tail[:w.tailAt]...)
	if w.elided == 0 {
		cut = len(rows)
	}
	return rows, cut
}

// endpoint renders an address and port as the tap does: "client:59433",
// or "*:80" for a listener bound to every address.
func (w *Writer) endpoint(ap netip.AddrPort) string {
	if !ap.Addr().IsValid() || ap.Addr().IsUnspecified() {
		return "*:" + strconv.Itoa(int(ap.Port()))
	}
	return w.t.Name(ap.Addr()) + ":" + strconv.Itoa(int(ap.Port()))
}

// connKey is the key of the connection between endpoints a and b, the
// same in both directions.
func connKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + " ↔ " + b
}

// keyOf returns the connection group a row belongs to (its key and
// label, and whether it is a listener's), or ok false for rows of a host
// as a whole (application steps, counters, frames that are not TCP).
func (w *Writer) keyOf(r *tap.Row) (key, label string, listen, ok bool) {
	switch r.Kind {
	case tap.KindSegment, tap.KindCopy, tap.KindDrop:
		if r.From == "" {
			return "", "", false, false
		}
		return connKey(r.From, r.To), r.From + " ↔ " + r.To, false, true
	case tap.KindState, tap.KindTimer, tap.KindStall, tap.KindQueue:
		local := w.endpoint(r.Local)
		if r.Kind == tap.KindQueue || !r.Remote.Addr().IsValid() || r.Remote.Addr().IsUnspecified() {
			return "listen " + r.Host + " " + local, r.Host + " " + local, true, true
		}
		remote := w.endpoint(r.Remote)
		return connKey(local, remote), local + " ↔ " + remote, false, true
	}
	return "", "", false, false
}

// groupOf returns the connection group of a row, or nil.
func (w *Writer) groupOf(r *tap.Row) *conn {
	key, _, _, ok := w.keyOf(r)
	if !ok {
		return nil
	}
	return w.connOf[key]
}

// conn is one connection (or a listener) and its graphs.
type conn struct {
	id     int
	key    string
	label  string
	listen bool
	flows  [2]*flow // by direction: [0] from the endpoint that sent first
	first  time.Duration
	last   time.Duration
	segs   int
}

// flow is one direction of a connection: what one endpoint sent, and what
// reached it from the other.
type flow struct {
	from, to string
	sent     bool
	bytes    int // payload sent, retransmissions included
	maxEnd   float64
	data     *series // seq ranges at send time: first seq, last = end; marked when resent
	resent   *series // retransmitted ranges
	drops    *series // ranges the network or the receiver dropped
	ack      *series // the peer's ACK of this flow, as it reached this sender
	wnd      *series // the peer's ACK + window: the right edge this sender may fill
	inflight *series
	cwnd     *series // bytes
	ssthresh *series // bytes
	srtt     *series // ms
	rto      *series // ms
	rttvar   *series // ms
	rcvwnd   *series // the window this endpoint offers, bytes
	win      *series // the window its segments advertise, bytes
}

func (w *Writer) newFlow(from, to string) *flow {
	n := w.opts.MaxPoints
	return &flow{from: from, to: to, data: newSeries(n), resent: newSeries(n / 2), drops: newSeries(n / 2), ack: newSeries(n), wnd: newSeries(n),
		inflight: newSeries(n), cwnd: newSeries(n), ssthresh: newSeries(n), srtt: newSeries(n), rto: newSeries(n), rttvar: newSeries(n),
		rcvwnd: newSeries(n), win: newSeries(n)}
}

// connFor returns the connection group of key, creating it (up to
// maxConns graphs' worth; later ones are still selectable).
func (w *Writer) connFor(key, label string, listen bool, at time.Duration) *conn {
	c := w.connOf[key]
	if c == nil {
		c = &conn{id: len(w.conns) + 1, key: key, label: label, listen: listen, first: at}
		w.conns = append(w.conns, c)
		w.connOf[key] = c
	}
	c.last = max(c.last, at)
	return c
}

// segment adds a segment to its connection's graphs.
func (w *Writer) segment(r *tap.Row) {
	c := w.connOf[connKey(r.From, r.To)]
	c.segs++
	if c.flows[0] == nil {
		c.flows[0], c.flows[1] = w.newFlow(r.From, r.To), w.newFlow(r.To, r.From)
	}
	if c.id > maxConns {
		return
	}
	f, back := c.flows[0], c.flows[1]
	if r.From != f.from {
		f, back = back, f
	}
	f.sent = true
	f.bytes += r.Seg.Len
	at := r.At
	flags := r.Seg.Flags
	space := r.Seg.Len
	if flags&segment.SYN != 0 {
		space++
	}
	if flags&segment.FIN != 0 {
		space++
	}
	if space > 0 {
		lo, hi := float64(r.RelSeq), float64(r.RelSeq)+float64(space)
		resent := hi <= f.maxEnd && f.maxEnd > 0
		f.data.add2(at, lo, hi, resent)
		if resent {
			f.resent.add2(at, lo, hi, true)
		}
		if dropped(r) {
			f.drops.add2(dropAt(r), lo, hi, true)
		}
		f.maxEnd = max(f.maxEnd, hi)
	}
	f.inflight.add(at, float64(r.InFlight))
	f.win.add(at, float64(r.Window))
	if s := r.Sender; s != nil {
		f.cwnd.add(at, float64(s.Cwnd*s.MSS))
		if s.Ssthresh < 1<<31 {
			f.ssthresh.add(at, float64(s.Ssthresh*s.MSS))
		}
		if s.RTTValid {
			f.srtt.add(at, ms(s.SRTT))
			f.rttvar.add(at, ms(s.RTTVar))
		}
		f.rto.add(at, ms(s.RTO))
		f.rcvwnd.add(at, float64(s.RcvWnd))
	}
	// This segment's ACK is the back flow's ACK line, as it reached the
	// back flow's sender (this segment's receiver).
	if r.HasAck && r.Arrival != nil && !dropped(r) {
		back.ack.add(r.Arrival.At, float64(r.RelAck))
		back.wnd.add(r.Arrival.At, float64(r.RelAck)+float64(r.Window))
	}
}

// queue adds a listener's queues to its graph.
func (w *Writer) queue(r *tap.Row) {
	key, _, _, _ := w.keyOf(r)
	c := w.connOf[key]
	l := w.listOf[key]
	if l == nil {
		n := w.opts.MaxPoints
		l = &listener{host: r.Host, addr: w.endpoint(r.Local), c: c, waiting: newSeries(n), half: newSeries(n), capacity: newSeries(n)}
		w.listOf[key] = l
		w.listens = append(w.listens, l)
	}
	l.waiting.add(r.At, float64(r.Waiting))
	l.half.add(r.At, float64(r.HalfOpen))
	l.capacity.add(r.At, float64(r.Capacity))
}

// listener is a listening socket's queues over time.
type listener struct {
	host, addr              string
	c                       *conn
	waiting, half, capacity *series
}

// dropped reports whether the network or the receiving stack dropped the
// segment.
func dropped(r *tap.Row) bool {
	return r.Dropped != nil || r.Arrival != nil && stackDrop(r.Arrival.Verdict)
}

// stackDrop reports whether a verdict means the receiving stack dropped
// the packet (as the tap's listing marks it).
func stackDrop(v event.Verdict) bool {
	switch v {
	case event.BadChecksum, event.SynQueueOverflow, event.AckQueueOverflow, event.CookieInvalid, event.Discarded:
		return true
	}
	return false
}

// dropAt is when a dropped segment was dropped.
func dropAt(r *tap.Row) time.Duration {
	if r.Dropped != nil {
		return r.Dropped.At
	}
	if r.Arrival != nil {
		return r.Arrival.At
	}
	return r.At
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fmtTime renders virtual time as the listing does: "0.010000".
func fmtTime(d time.Duration) string {
	us := d / time.Microsecond
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

// WriteHTML writes the report: one self-contained HTML page.
func (w *Writer) WriteHTML(out io.Writer, res Result) error {
	p := w.page(res)
	return p.write(out)
}
