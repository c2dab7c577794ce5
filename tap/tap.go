package tap

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

// Sink receives the timeline's rows as they are released: in timeline
// order, each complete. A sink may keep a row; nobody changes it after.
type Sink interface {
	Row(r *Row) error
}

// ArrivalSink is a Sink that also wants every packet as it reached its
// receiver, in the order packets arrived: the capture of what was
// received. a.Verdict and the row's notes are final.
type ArrivalSink interface {
	Sink
	Arrival(r *Row, a *Arrival) error
}

// host is one host known to the tap.
type host struct {
	name  string
	addrs []netip.Addr
}

// Tap records a lab run from its ground-truth events (it implements
// event.Observer), explains every row, and releases the rows to its sinks
// as soon as they are complete, in timeline order. It keeps what it needs
// to explain what comes next (per connection and per endpoint, and the
// rows still waiting for their segment's fate), not the rows themselves.
// It is used from the loop goroutine only.
type Tap struct {
	hosts  []host
	byAddr map[netip.Addr]string
	sinks  []Sink
	// memo is the last row's notes as a sink rendered them (notesFor).
	memo noteMemo

	queue []*Row             // rows not yet released, in timeline order
	open  map[event.Ref]*Row // rows whose packet is on its way
	// copies are the rows of copies made and not yet arrived or dropped;
	// they join the queue when that happens.
	copies map[event.Ref]*Row

	sent   *analyzer // Wireshark's view of the capture of what was sent
	recv   *analyzer // and of what was received
	recvNo int       // frames in the capture of what was received
	conns  map[connKey]*conn
	ends   map[endKey]*endState
	// endCache is endOf's (conn.go).
	endCache endCache
	timer    *Row // a timer row waiting to see whether its timer did anything
	frames   int  // frames seen
	release  int  // rows released
	sweepAt  int  // the number of connections at which to forget old ones (evict.go)
	// endpoints caches the names of endpoints: "client:40000".
	endpoints map[netip.AddrPort]string
	// crashed and rebooted are when each host last crashed and rebooted
	// (world.go).
	crashed, rebooted map[string]time.Duration

	err   error         // the first error a sink returned
	errAt time.Duration // the time of the row it failed on
}

var _ event.Observer = (*Tap)(nil)

// New returns an empty tap.
func New() *Tap {
	return &Tap{
		byAddr: map[netip.Addr]string{},
		open:   map[event.Ref]*Row{},
		copies: map[event.Ref]*Row{},
		sent:   newAnalyzer(),
		recv:   newAnalyzer(),
		conns:  map[connKey]*conn{},
		ends:   map[endKey]*endState{},

		endpoints: map[netip.AddrPort]string{},
	}
}

// AddHost registers a host, in the order hosts were attached to the network.
func (t *Tap) AddHost(name string, addrs []netip.Addr) {
	t.hosts = append(t.hosts, host{name: name, addrs: addrs})
	for _, a := range addrs {
		t.byAddr[a] = name
	}
}

// AddSink adds a sink for the rows released from now on.
func (t *Tap) AddSink(s Sink) { t.sinks = append(t.sinks, s) }

// Err returns the first error a sink returned. Rows are still recorded
// after one fails, but no longer passed to any sink.
func (t *Tap) Err() error { return t.err }

// Failed returns the first error a sink returned and the virtual time of
// the row it failed on: the output ends there.
func (t *Tap) Failed() (at time.Duration, err error) { return t.errAt, t.err }

// Hosts returns the hosts' names and addresses, in order.
func (t *Tap) Hosts() (names []string, addrs [][]netip.Addr) {
	for _, h := range t.hosts {
		names = append(names, h.name)
		addrs = append(addrs, h.addrs)
	}
	return names, addrs
}

// Name returns the host name of addr, or its text form (an IPv6 address
// in brackets, so that "[fd00::1]:80" reads as address and port).
func (t *Tap) Name(addr netip.Addr) string {
	if n, ok := t.byAddr[addr]; ok {
		return n
	}
	if addr.Is6() && !addr.Is4In6() {
		return "[" + addr.String() + "]"
	}
	return addr.String()
}

// Names is the i18n.Namer of the tap's hosts.
func (t *Tap) Names(a netip.Addr) string { return t.byAddr[a] }

// endpoint renders an address and port with the host's name.
func (t *Tap) endpoint(ap netip.AddrPort) string {
	if s, ok := t.endpoints[ap]; ok {
		return s
	}
	s := t.Name(ap.Addr()) + ":" + strconv.Itoa(int(ap.Port()))
	if len(t.endpoints) >= 4096 {
		clear(t.endpoints) // a cache of the live connections' endpoints
	}
	t.endpoints[ap] = s
	return s
}

// add appends a row to the timeline; it is released when it and every row
// before it are done.
func (t *Tap) add(r *Row) {
	t.settleTimer(r)
	t.queue = append(t.queue, r)
	t.flush()
	// A segment that stays on its way (held by a fault, or behind a long
	// latency) would keep every later row in memory: past maxQueue rows
	// the oldest open ones are written as they are, and their fate, when
	// it comes, gets a row of its own.
	for len(t.queue) > maxQueue && !t.queue[0].done {
		h := t.queue[0]
		h.note("seg.fate.later", maxQueue)
		h.done, h.early = true, true
		t.flush()
	}
}

// maxQueue is how many rows may wait behind one whose fate is not known.
const maxQueue = 10000

// complete marks a row's notes final and releases what can be.
func (t *Tap) complete(r *Row) {
	r.done = true
	t.flush()
}

// flush releases the done rows at the head of the queue.
func (t *Tap) flush() {
	n := 0
	for n < len(t.queue) && t.queue[n].done {
		t.emit(t.queue[n])
		n++
	}
	if n == 0 {
		return
	}
	clear(t.queue[:n])
	t.queue = t.queue[n:]
	if len(t.queue) == 0 {
		t.queue = nil // let the backing array go
	}
}

// emit passes a row to every sink. Once a sink has failed, no row is
// passed on (failed).
func (t *Tap) emit(r *Row) {
	if t.err != nil {
		return
	}
	t.release++
	for _, s := range t.sinks {
		if err := s.Row(r); err != nil {
			t.failed(err, r.At)
		}
	}
}

// failed records a sink's error with the time of the row it came with, if
// it is the first. From then on no row reaches any sink: the output ends at
// that row, wherever the run's loop (which the failure stops) has got to by
// the time it notices, so what was written does not depend on timing.
func (t *Tap) failed(err error, at time.Duration) {
	if t.err == nil {
		t.err, t.errAt = err, at
	}
}

// Finish ends the recording at virtual time end: segments still on their
// way are released as they are ("still in flight"), and every row is
// passed to the sinks. It returns the first sink error.
func (t *Tap) Finish(end time.Duration) error {
	t.settleTimer(nil)
	// Copies still on their way join the timeline at the end, in frame
	// order.
	refs := slices.SortedFunc(maps.Keys(t.copies), func(a, b event.Ref) int {
		return cmp.Or(cmp.Compare(a.Frame, b.Frame), cmp.Compare(a.Copy, b.Copy))
	})
	for _, ref := range refs {
		c := t.copies[ref]
		c.At = end
		t.queue = append(t.queue, c)
		delete(t.copies, ref)
	}
	for _, r := range t.queue {
		if !r.done {
			r.note("seg.inflight.end", end)
			r.done = true
		}
	}
	t.flush()
	return t.err
}

// Released returns the number of rows released so far.
func (t *Tap) Released() int { return t.release }

// Sent implements event.Observer.
func (t *Tap) Sent(e *event.Sent) {
	t.frames++
	sr := &segRow{}
	r := &sr.Row
	*r = Row{At: e.At, No: e.Frame, Host: e.From, Data: e.Data, Cause: e.Cause, Injected: e.Injected, Sender: e.Sender, Box: e.Box,
		Notes: sr.notes[:0], spare: &sr.arrival}
	if e.Seg == nil {
		r.Kind = KindPacket
		r.note("seg.nottcp", e.ParseErr.Error())
	} else {
		r.Kind = KindSegment
		r.Seg = e.Seg
		r.From, r.To = t.endpoint(e.Seg.Src), t.endpoint(e.Seg.Dst)
		r.Analysis, r.DupAckNum, r.DupAckOf = t.sent.analyze(r.No, r.At, r.Seg)
		t.explainSent(r)
		if len(t.conns) >= max(t.sweepAt, sweepMin) {
			t.sweep(e.At)
		}
	}
	if e.Injected != nil {
		t.explainInjected(r, e.Injected)
	}
	t.open[e.Ref] = r
	t.add(r)
}

// Fate implements event.Observer.
func (t *Tap) Fate(f *event.Fate) {
	r := t.open[f.Ref]
	if r == nil {
		if r = t.copies[f.Ref]; r == nil {
			return
		}
	}
	switch f.Kind {
	case event.Dropped:
		r.Dropped = f
		if r.Kind == KindCopy {
			r.At = f.At
			delete(t.copies, f.Ref)
			r.note("copy.dropped", r.Copy, r.No, t.dropReason(f))
			t.add(r)
		} else {
			r.note("sw.dropped", t.dropReason(f))
			t.dropped(r, f)
			if r.early {
				// Written before its fate: the drop gets a row.
				late := &Row{Kind: KindDrop, At: f.At, No: r.No, Host: r.Host, Seg: r.Seg, From: r.From, To: r.To, Dropped: f, Cause: r.Cause, done: true}
				late.note("drop.late", r.No, t.dropReason(f))
				t.add(late)
			}
		}
		delete(t.open, f.Ref)
		t.complete(r)
	case event.Duplicated:
		c := &Row{Kind: KindCopy, No: r.No, Copy: f.Copy, Host: r.Host, Seg: r.Seg, From: r.From, To: r.To, RelSeq: r.RelSeq, RelAck: r.RelAck, HasAck: r.HasAck, Window: r.Window, Injected: r.Injected, sackBase: r.sackBase, probe: r.probe}
		t.copies[event.Ref{Frame: f.Ref.Frame, Copy: f.Copy}] = c
		t.open[event.Ref{Frame: f.Ref.Frame, Copy: f.Copy}] = c
		r.Notes = append(r.Notes, t.fateNote(f))
	case event.Unseen:
		t.unseen(r, f)
		delete(t.open, f.Ref)
		t.complete(r)
	case event.Arrived:
		a := r.spare
		if a == nil {
			a = &Arrival{}
		}
		r.spare = nil
		*a = Arrival{Ref: f.Ref, At: f.At, Host: f.To, Data: f.Data}
		r.Arrival = a
		if r.Kind == KindCopy {
			r.At = f.At
			delete(t.copies, f.Ref)
			r.Host = f.To
			t.add(r)
		}
	default:
		r.Notes = append(r.Notes, t.fateNote(f))
	}
}

// Receipt implements event.Observer.
func (t *Tap) Receipt(e *event.Receipt) {
	r := t.open[e.Ref]
	if r == nil || r.Arrival == nil {
		return
	}
	a := r.Arrival
	a.Verdict = e.Verdict
	t.recvNo++
	a.No = t.recvNo
	if r.Seg != nil {
		a.Analysis, a.DupAckNum, a.DupAckOf = t.recv.analyze(a.No, a.At, delivered(r, a))
		t.received(r, e)
	}
	if len(e.Counters) > 0 && !isDrop(e.Verdict) {
		t.counters(&Row{Kind: KindCounter, At: e.At, Host: e.Host, Cause: event.Arrival(e.Ref), Counters: e.Counters})
	}
	delete(t.open, e.Ref)
	t.complete(r)
	for _, s := range t.sinks {
		if t.err != nil {
			break
		}
		if as, ok := s.(ArrivalSink); ok {
			if err := as.Arrival(r, a); err != nil {
				t.failed(err, a.At)
			}
		}
	}
}

// delivered returns the segment the receiver's capture holds for arrival
// a of row r: the segment sent, or, when a link corrupted it, the segment
// its bytes now say, as Wireshark reads it from the received capture (a
// flipped bit in the ACK field acknowledges something else).
func delivered(r *Row, a *Arrival) *segment.Segment {
	if a.Data == nil || bytes.Equal(a.Data, r.Data) {
		return r.Seg
	}
	s, err := segment.Parse(a.Data)
	if err != nil {
		return r.Seg
	}
	return &s
}

// isDrop reports whether a verdict means the stack dropped the packet.
func isDrop(v event.Verdict) bool {
	switch v {
	case event.BadChecksum, event.SynQueueOverflow, event.AckQueueOverflow, event.CookieInvalid, event.Discarded, event.HalfOpenOverflow:
		return true
	}
	return false
}

// StateChange implements event.Observer.
func (t *Tap) StateChange(e *event.StateChange) {
	r := &Row{Kind: KindState, At: e.At, Host: e.Host, Local: e.Local, Remote: e.Remote, FromState: e.From, ToState: e.To, Cause: e.Cause}
	t.explainState(r)
	r.done = true
	t.add(r)
}

// App implements event.Observer.
func (t *Tap) App(e *event.App) {
	t.add(&Row{Kind: KindApp, At: e.At, Host: e.Host, App: e, done: true})
}

// Queue implements event.Observer.
func (t *Tap) Queue(e *event.Queue) {
	r := &Row{Kind: KindQueue, At: e.At, Host: e.Host, Local: e.Listener, Waiting: e.Waiting, Capacity: e.Capacity, HalfOpen: e.HalfOpen, done: true}
	t.explainQueue(r)
	t.add(r)
}

// Counter implements event.Observer.
func (t *Tap) Counter(e *event.Counter) {
	t.counters(&Row{Kind: KindCounter, At: e.At, Host: e.Host, Cause: e.Cause, Counters: e.Counters})
}

// counters explains and adds a counter row.
func (t *Tap) counters(r *Row) {
	r.CauseMsg = t.causeMsg(r.Cause)
	for _, c := range r.Counters {
		if key := "ctr." + c.Name; i18n.Has(i18n.EN, key) {
			r.note(key, c.Name)
		}
	}
	r.done = true
	t.add(r)
}

// Timer implements event.Observer. The row is kept only if the timer made
// its stack send nothing and change no state: otherwise the rows it caused
// name it.
func (t *Tap) Timer(e *event.Timer) {
	t.settleTimer(nil)
	r := &Row{Kind: KindTimer, At: e.At, Host: e.Host, Local: e.Local, Remote: e.Remote, Timer: e, Cause: event.TimerCause(e.Kind), done: true}
	t.explainTimer(r)
	t.timer = r
}

// settleTimer decides about the waiting timer row, if any, now that row
// next comes (nil: nothing more comes): a row the timer caused (a segment,
// a state change, counters) names it instead; anything else means it did
// nothing visible, and the timer row stays.
func (t *Tap) settleTimer(next *Row) {
	tr := t.timer
	if tr == nil {
		return
	}
	t.timer = nil
	if next != nil && next.Host == tr.Host && next.At == tr.At && next.Cause.Kind == event.ByTimer && next.Cause.Timer == tr.Timer.Kind {
		return
	}
	t.queue = append(t.queue, tr)
}

// Stall implements event.Observer.
func (t *Tap) Stall(e *event.Stall) {
	t.settleTimer(nil)
	r := &Row{Kind: KindStall, At: e.At, Host: e.Host, Local: e.Local, Remote: e.Remote, Stall: e, done: true}
	t.explainStall(r)
	t.add(r)
}

// fmtTime renders virtual time in seconds with microseconds, as Wireshark
// does: "0.010000".
func fmtTime(d time.Duration) string {
	us := d / time.Microsecond
	if us < 0 {
		return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
	}
	// "%d.%06d" without fmt: every row has a time.
	var b [24]byte
	out := strconv.AppendInt(b[:0], int64(us/1_000_000), 10)
	out = append(out, '.')
	frac := int64(us % 1_000_000)
	for p := int64(100_000); p > 0; p /= 10 {
		out = append(out, byte('0'+frac/p%10))
	}
	return string(out)
}

// noteMemo holds a row's notes rendered in a language: the text timeline
// and the capture both render every row's notes, in the same language, one
// after the other. Notes are only ever appended to, so a row whose number
// of notes is unchanged renders the same; the memo's reference keeps the
// row alive, so no other row can have its address meanwhile.
type noteMemo struct {
	r    *Row
	lang i18n.Lang
	n    int
	b    []byte
}

// appendNotes appends r's notes rendered in lang to b, as NoteText renders
// them, through the memo. Sinks call it on the run's goroutine.
func (t *Tap) appendNotes(b []byte, r *Row, lang i18n.Lang) []byte {
	return append(b, t.memoNotes(r, lang)...)
}

// memoNotes returns r's notes rendered in lang, from the memo, rendering
// them into it first unless they are there: bytes the next call may
// overwrite.
func (t *Tap) memoNotes(r *Row, lang i18n.Lang) []byte {
	m := &t.memo
	if m.r != r || m.lang != lang || m.n != len(r.Notes) {
		m.b = i18n.AppendJoin(m.b[:0], r.Notes, lang, t.Names)
		m.r, m.lang, m.n = r, lang, len(r.Notes)
	}
	return m.b
}
