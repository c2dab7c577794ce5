package topology

import (
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Epoch is the wall-clock instant that virtual time zero stands for. Every
// timestamp a lab produces (timeline, pcapng) is Epoch plus virtual time, so
// output never depends on when the lab ran.
var Epoch = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// entry is one entry of the scheduler's heap: something to run at a virtual
// instant. Events due at the same instant run in insertion order.
type entry struct {
	at    time.Duration
	seq   uint64
	owner int // index of the node the event touches, or -1
	index int // position in the heap, -1 when not queued
	// What to run: fn; or, for a packet reaching the end of a pipe (the
	// most frequent event, scheduled without a closure), arrive(pkt); or
	// timer t's function.
	fn     func()
	pkt    *packet
	arrive func(*packet)
	t      *timer
}

// run runs the event.
func (e *entry) run() {
	switch {
	case e.pkt != nil:
		e.arrive(e.pkt)
	case e.t != nil:
		t := e.t
		t.s.mu.Lock()
		if t.ev == e {
			t.ev = nil
		}
		t.s.mu.Unlock()
		t.f()
	default:
		e.fn()
	}
}

// eventHeap is a binary min-heap of entries ordered by (at, seq), written
// out for *entry rather than through container/heap's interface: the loop
// pushes and pops one or two entries per packet.
type eventHeap []*entry

// before reports whether a runs before b.
func before(a, b *entry) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// push adds e.
func (h *eventHeap) push(e *entry) {
	e.index = len(*h)
	*h = append(*h, e)
	h.up(e.index)
}

// pop removes and returns the earliest entry; the heap must not be empty.
func (h *eventHeap) pop() *entry {
	return h.remove(0)
}

// remove removes and returns the entry at index i.
func (h *eventHeap) remove(i int) *entry {
	old := *h
	n := len(old) - 1
	e := old[i]
	old[i] = old[n] // the last entry fills the hole
	old[i].index = i
	old[n] = nil
	*h = old[:n]
	if i != n && !h.down(i) {
		h.up(i)
	}
	e.index = -1
	return e
}

// up moves the entry at i up to its place.
func (h eventHeap) up(i int) {
	e := h[i]
	for i > 0 {
		parent := (i - 1) / 2
		if !before(e, h[parent]) {
			break
		}
		h[i] = h[parent]
		h[i].index = i
		i = parent
	}
	h[i] = e
	e.index = i
}

// down moves the entry at i down to its place and reports whether it moved.
func (h eventHeap) down(i0 int) bool {
	n := len(h)
	i := i0
	e := h[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && before(h[r], h[c]) {
			c = r
		}
		if !before(h[c], e) {
			break
		}
		h[i] = h[c]
		h[i].index = i
		i = c
	}
	h[i] = e
	e.index = i
	return i > i0
}

// Scheduler is the virtual clock: one heap of events ordered by (virtual
// time, insertion number). It never runs anything by itself; the Network's
// loop pops events and runs them on one goroutine.
//
// The heap is guarded by mu for a Node whose stack arms timers from
// goroutines of its own while the loop waits at a barrier. tcplab's hosts
// arm them on the loop goroutine (their stacks run no processor goroutine),
// so insertion numbers are deterministic.
type Scheduler struct {
	mu sync.Mutex
	// now is the virtual time, written by the loop (pop) and read without
	// the lock: every stack reads the clock many times per segment.
	now    atomic.Int64
	seq    uint64
	events eventHeap
	// free holds packet entries to reuse (recycle).
	free []*entry
	// next is a packet entry due now that runs before everything in the
	// heap (atPacket), or nil.
	next *entry
}

// Now returns the current virtual time.
func (s *Scheduler) Now() time.Duration { return time.Duration(s.now.Load()) }

// At schedules fn to run at virtual time at (not before now) on behalf of the
// node with index owner (-1 for none).
func (s *Scheduler) At(at time.Duration, owner int, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushLocked(&entry{at: max(at, s.Now()), fn: fn, owner: owner})
}

// atPacket schedules arrive(p) at virtual time at on behalf of owner: a
// packet reaching the end of a pipe.
func (s *Scheduler) atPacket(at time.Duration, owner int, p *packet, arrive func(*packet)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var e *entry
	if n := len(s.free); n > 0 {
		e, s.free = s.free[n-1], s.free[:n-1]
	} else {
		e = &entry{}
	}
	*e = entry{at: max(at, s.Now()), owner: owner, pkt: p, arrive: arrive}
	s.pushLocked(e)
}

// recycle takes back a packet's entry once the loop has run it: nothing
// else refers to it (a timer's entry is kept by its timer, and not taken).
func (s *Scheduler) recycle(e *entry) {
	if e.pkt == nil {
		return
	}
	*e = entry{}
	s.mu.Lock()
	s.free = append(s.free, e)
	s.mu.Unlock()
}

// pushLocked queues e with the next insertion number. A packet due now (a
// link with no delay) when nothing else is due now runs next whatever is
// queued after it (which gets a later number): it waits in next, not in the
// heap. A timer's entry always goes in the heap, where Stop finds it.
func (s *Scheduler) pushLocked(e *entry) {
	s.seq++
	e.seq = s.seq
	if now := s.Now(); e.pkt != nil && e.at == now && s.next == nil && (len(s.events) == 0 || s.events[0].at > now) {
		e.index = -1
		s.next = e
		return
	}
	s.events.push(e)
}

// pop removes the earliest pending event, advances virtual time to it and
// returns it, or returns nil when nothing is pending. The loop runs the event
// at once, so a timer can no longer be stopped once it is popped.
//
// Events run one per barrier, even when several are due at the same
// instant: two segments that arrive together are processed one after the
// other, each with its replies, so that every intermediate state (such as
// FIN_WAIT_2 between an ACK and a FIN sent back to back) is observed. A real
// NIC might hand both to the stack in one batch and let it coalesce the ACKs.
func (s *Scheduler) pop() *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.next; e != nil {
		s.next = nil
		return e // due now, before anything in the heap (atPacket)
	}
	if len(s.events) == 0 {
		return nil
	}
	e := s.events.pop()
	s.now.Store(int64(e.at))
	return e
}

// pending reports whether any event is queued, and the earliest one's time.
func (s *Scheduler) pending() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next != nil {
		return s.next.at, true
	}
	if len(s.events) == 0 {
		return 0, false
	}
	return s.events[0].at, true
}

// Clock returns a tcpip.Clock over the scheduler whose timers are owned by the
// node with the given index, so that firing one marks that node for settling.
func (s *Scheduler) Clock(owner int) tcpip.Clock {
	return &nodeClock{s: s, owner: owner}
}

// nodeClock is one node's view of the scheduler.
type nodeClock struct {
	s     *Scheduler
	owner int
}

var _ tcpip.Clock = (*nodeClock)(nil)

// Now implements tcpip.Clock.Now.
func (c *nodeClock) Now() time.Time { return Epoch.Add(c.s.Now()) }

// monoEpoch is what the monotonic clock the stacks read shows at virtual
// time 0. netstack takes tcpip.MonotonicTime's zero value for "never"
// (RACK's time of the most recently delivered segment, among others), a
// value a real monotonic clock does not show; at zero, a segment sent at
// virtual time 0 would look sent at the same instant as "nothing
// delivered yet". One nanosecond keeps every millisecond-granular value
// (TCP timestamps) and every difference as they were.
const monoEpoch = time.Nanosecond

// NowMonotonic implements tcpip.Clock.NowMonotonic: virtual time since the
// start of the run, plus monoEpoch.
func (c *nodeClock) NowMonotonic() tcpip.MonotonicTime {
	return tcpip.MonotonicTime{}.Add(monoEpoch + c.s.Now())
}

// AfterFunc implements tcpip.Clock.AfterFunc. The function runs on the
// loop goroutine when virtual time reaches now+d.
func (c *nodeClock) AfterFunc(d time.Duration, f func()) tcpip.Timer {
	t := &timer{s: c.s, owner: c.owner, f: f}
	t.Reset(d)
	return t
}

// timer implements tcpip.Timer over the scheduler's heap.
type timer struct {
	s     *Scheduler
	owner int
	f     func()
	ev    *entry // guarded by s.mu; nil when not armed
}

var _ tcpip.Timer = (*timer)(nil)

// Stop implements tcpip.Timer.Stop.
func (t *timer) Stop() bool {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	return t.stopLocked()
}

func (t *timer) stopLocked() bool {
	ev := t.ev
	if ev == nil {
		return false
	}
	t.ev = nil
	if ev.index < 0 {
		return false // already popped: it is running or has run
	}
	t.s.events.remove(ev.index)
	return true
}

// Reset implements tcpip.Timer.Reset.
func (t *timer) Reset(d time.Duration) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	t.stopLocked()
	ev := &entry{at: t.s.Now() + max(d, 0), owner: t.owner, t: t}
	t.ev = ev
	t.s.pushLocked(ev)
}
