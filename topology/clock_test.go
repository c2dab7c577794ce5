package topology

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// fakeNode is a Node for tests. Packets it should send are queued in out
// (Drain hands them to the switch with their causes); work queued in work
// runs in RunPending.
type fakeNode struct {
	net *Network

	out       []outgoing
	work      []func()
	delivered []delivery
	settles   int
	drains    int
	pendings  int // RunPending calls that ran work
}

// outgoing is a packet a fakeNode sends, with what made it send it.
type outgoing struct {
	pkt   []byte
	cause event.Cause
}

// delivery is one packet a fakeNode received: the virtual time, the bytes,
// the segment the switch parsed and the reference it gave the packet.
type delivery struct {
	at  time.Duration
	pkt []byte
	seg *segment.Segment
	ref event.Ref
}

var _ Node = (*fakeNode)(nil)

// Deliver implements Node.
func (f *fakeNode) Deliver(pkt []byte, seg *segment.Segment, ref event.Ref) {
	f.delivered = append(f.delivered, delivery{at: f.net.Now(), pkt: pkt, seg: seg, ref: ref})
}

// Settle implements Node.
func (f *fakeNode) Settle() { f.settles++ }

// Drain implements Node.
func (f *fakeNode) Drain(emit func(pkt []byte, cause event.Cause, sender *event.SenderState, seg *segment.Segment)) {
	f.drains++
	out := f.out
	f.out = nil
	for _, o := range out {
		emit(o.pkt, o.cause, nil, nil)
	}
}

// queue makes the node send pkts, for cause, at its next Drain.
func (f *fakeNode) queue(cause event.Cause, pkts ...[]byte) {
	for _, p := range pkts {
		f.out = append(f.out, outgoing{pkt: p, cause: cause})
	}
}

// RunPending implements Node.
func (f *fakeNode) RunPending() bool {
	work := f.work
	f.work = nil
	for _, fn := range work {
		fn()
	}
	if len(work) > 0 {
		f.pendings++
	}
	return len(work) > 0
}

// attachFake attaches a fakeNode named name with the given addresses and link
// to n and returns it with its index and clock.
func attachFake(t *testing.T, n *Network, name string, link Link, addrs ...string) (*fakeNode, int, tcpip.Clock) {
	t.Helper()
	var as []netip.Addr
	for _, a := range addrs {
		as = append(as, netip.MustParseAddr(a))
	}
	node := &fakeNode{net: n}
	var clock tcpip.Clock
	idx, err := n.Attach(name, as, link, func(index int, c tcpip.Clock) (Node, error) {
		clock = c
		return node, nil
	})
	if err != nil {
		t.Fatalf("Attach(%q, %v) = %v, want nil error", name, as, err)
	}
	return node, idx, clock
}

// run runs n until limit with a background context and fails on error.
func run(t *testing.T, n *Network, limit time.Duration) Result {
	t.Helper()
	res, err := n.Run(context.Background(), limit)
	if err != nil {
		t.Fatalf("Run(ctx, %v) error = %v, want nil", limit, err)
	}
	return res
}

// trace records what ran, and when, in order.
type trace struct {
	n   *Network
	got []string
}

// mark returns a function that records name with the current virtual time.
func (tr *trace) mark(name string) func() {
	return func() { tr.add(name) }
}

func (tr *trace) add(name string) {
	tr.got = append(tr.got, fmt.Sprintf("%v %s", tr.n.Now(), name))
}

func (tr *trace) check(t *testing.T, call string, want ...string) {
	t.Helper()
	if !slices.Equal(tr.got, want) {
		t.Errorf("%s ran %q, want %q", call, tr.got, want)
	}
}

func TestSchedulerOrder(t *testing.T) {
	tests := []struct {
		name   string
		events []struct {
			at   time.Duration
			name string
		}
		want []string
	}{
		{
			name: "by time",
			events: []struct {
				at   time.Duration
				name string
			}{{30 * time.Millisecond, "c"}, {10 * time.Millisecond, "a"}, {20 * time.Millisecond, "b"}},
			want: []string{"10ms a", "20ms b", "30ms c"},
		},
		{
			name: "same instant in insertion order",
			events: []struct {
				at   time.Duration
				name string
			}{{5 * time.Millisecond, "x"}, {5 * time.Millisecond, "y"}, {1 * time.Millisecond, "w"}, {5 * time.Millisecond, "z"}},
			want: []string{"1ms w", "5ms x", "5ms y", "5ms z"},
		},
		{
			name: "time zero",
			events: []struct {
				at   time.Duration
				name string
			}{{0, "first"}, {0, "second"}},
			want: []string{"0s first", "0s second"},
		},
		{
			name: "negative time runs now",
			events: []struct {
				at   time.Duration
				name string
			}{{time.Millisecond, "later"}, {-time.Second, "past"}},
			want: []string{"0s past", "1ms later"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(1, nil, nil)
			tr := &trace{n: n}
			for _, e := range tt.events {
				n.Schedule(e.at, -1, tr.mark(e.name))
			}
			res := run(t, n, time.Hour)
			tr.check(t, "Run", tt.want...)
			if res.Reason != Idle || res.Events != len(tt.events) {
				t.Errorf("Run() = %+v, want Reason idle and Events %d", res, len(tt.events))
			}
		})
	}
}

// TestSchedulerAtPast checks that an event scheduled in the past, from inside
// an event, runs at the current instant after the events already queued for
// that instant.
func TestSchedulerAtPast(t *testing.T) {
	n := New(1, nil, nil)
	tr := &trace{n: n}
	n.Schedule(10*time.Millisecond, -1, func() {
		tr.add("first")
		n.Schedule(5*time.Millisecond, -1, tr.mark("past"))
	})
	n.Schedule(10*time.Millisecond, -1, tr.mark("queued"))
	run(t, n, time.Hour)
	tr.check(t, "Run", "10ms first", "10ms queued", "10ms past")
}

func TestAfterFuncNonPositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		t.Run(d.String(), func(t *testing.T) {
			n := New(1, nil, nil)
			_, _, clock := attachFake(t, n, "a", Link{}, "10.0.0.1")
			tr := &trace{n: n}
			n.Schedule(7*time.Millisecond, -1, func() {
				tr.add("arm")
				clock.AfterFunc(d, tr.mark("timer"))
			})
			n.Schedule(7*time.Millisecond, -1, tr.mark("queued"))
			n.Schedule(8*time.Millisecond, -1, tr.mark("next"))
			run(t, n, time.Hour)
			tr.check(t, fmt.Sprintf("AfterFunc(%v)", d), "7ms arm", "7ms queued", "7ms timer", "8ms next")
		})
	}
}

func TestTimerStop(t *testing.T) {
	tests := []struct {
		name     string
		stopAt   time.Duration // when to call Stop
		wantStop bool
		want     []string
	}{
		{name: "pending", stopAt: 5 * time.Millisecond, wantStop: true, want: nil},
		{name: "after firing", stopAt: 15 * time.Millisecond, wantStop: false, want: []string{"10ms timer"}},
		{name: "before arming instant passes", stopAt: 0, wantStop: true, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(1, nil, nil)
			_, _, clock := attachFake(t, n, "a", Link{}, "10.0.0.1")
			tr := &trace{n: n}
			var tm tcpip.Timer
			n.Schedule(0, -1, func() { tm = clock.AfterFunc(10*time.Millisecond, tr.mark("timer")) })
			var got []bool
			n.Schedule(tt.stopAt, -1, func() { got = append(got, tm.Stop()) })
			// A second Stop never finds anything to stop.
			n.Schedule(tt.stopAt, -1, func() { got = append(got, tm.Stop()) })
			run(t, n, time.Hour)
			if want := []bool{tt.wantStop, false}; !slices.Equal(got, want) {
				t.Errorf("Stop() at %v, twice = %v, want %v", tt.stopAt, got, want)
			}
			tr.check(t, "Run", tt.want...)
		})
	}
}

func TestTimerStopInOwnCallback(t *testing.T) {
	n := New(1, nil, nil)
	_, _, clock := attachFake(t, n, "a", Link{}, "10.0.0.1")
	var tm tcpip.Timer
	got := true
	n.Schedule(0, -1, func() {
		tm = clock.AfterFunc(time.Millisecond, func() { got = tm.Stop() })
	})
	run(t, n, time.Hour)
	if got {
		t.Errorf("Stop() inside the timer's own callback = true, want false")
	}
}

// TestTimerStoppedBySameInstant checks that a timer due at the same instant
// as an earlier event that stops it does not run.
func TestTimerStoppedBySameInstant(t *testing.T) {
	tests := []struct {
		name string
		// setup arms the victim and, before it in the same instant, the
		// killer that stops it.
		setup func(n *Network, clock tcpip.Clock, tr *trace) *bool
	}{
		{
			name: "by a plain event",
			setup: func(n *Network, clock tcpip.Clock, tr *trace) *bool {
				stopped := new(bool)
				n.Schedule(0, -1, func() {
					var victim tcpip.Timer
					n.Schedule(10*time.Millisecond, -1, func() { tr.add("killer"); *stopped = victim.Stop() })
					victim = clock.AfterFunc(10*time.Millisecond, tr.mark("victim"))
				})
				return stopped
			},
		},
		{
			name: "by another timer",
			setup: func(n *Network, clock tcpip.Clock, tr *trace) *bool {
				stopped := new(bool)
				n.Schedule(0, -1, func() {
					var victim tcpip.Timer
					clock.AfterFunc(10*time.Millisecond, func() { tr.add("killer"); *stopped = victim.Stop() })
					victim = clock.AfterFunc(10*time.Millisecond, tr.mark("victim"))
				})
				return stopped
			},
		},
		{
			name: "by a timer armed with zero delay at that instant",
			setup: func(n *Network, clock tcpip.Clock, tr *trace) *bool {
				stopped := new(bool)
				n.Schedule(10*time.Millisecond, -1, func() {
					var victim tcpip.Timer
					clock.AfterFunc(0, func() { tr.add("killer"); *stopped = victim.Stop() })
					victim = clock.AfterFunc(0, tr.mark("victim"))
				})
				return stopped
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(1, nil, nil)
			_, _, clock := attachFake(t, n, "a", Link{}, "10.0.0.1")
			tr := &trace{n: n}
			stopped := tt.setup(n, clock, tr)
			run(t, n, time.Hour)
			if !*stopped {
				t.Errorf("victim.Stop() in an earlier event of the same instant = false, want true")
			}
			tr.check(t, "Run", "10ms killer")
		})
	}
}

// TestTimerStopAfterPop checks that once the loop has popped a timer's
// event (it runs at once), Stop reports false, as tcpip.Timer specifies for
// a timer whose function has started.
func TestTimerStopAfterPop(t *testing.T) {
	s := &Scheduler{}
	ran := false
	tm := s.Clock(-1).AfterFunc(time.Millisecond, func() { ran = true })
	e := s.pop()
	if e == nil {
		t.Fatalf("pop() = nil, want the timer's event")
	}
	if tm.Stop() {
		t.Errorf("Stop() on a popped timer = true, want false")
	}
	e.run()
	if !ran {
		t.Errorf("popped timer did not run")
	}
	if s.pop() != nil {
		t.Errorf("pop() after the only event = non-nil, want nil")
	}
}

func TestTimerReset(t *testing.T) {
	tests := []struct {
		name    string
		resetAt time.Duration
		to      time.Duration
		want    []string
	}{
		{name: "earlier", resetAt: 5 * time.Millisecond, to: 10 * time.Millisecond, want: []string{"15ms timer"}},
		{name: "later", resetAt: 5 * time.Millisecond, to: 100 * time.Millisecond, want: []string{"105ms timer"}},
		{name: "zero", resetAt: 5 * time.Millisecond, to: 0, want: []string{"5ms timer"}},
		{name: "negative", resetAt: 5 * time.Millisecond, to: -time.Second, want: []string{"5ms timer"}},
		{name: "after firing re-arms", resetAt: 60 * time.Millisecond, to: 10 * time.Millisecond, want: []string{"50ms timer", "70ms timer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(1, nil, nil)
			_, _, clock := attachFake(t, n, "a", Link{}, "10.0.0.1")
			tr := &trace{n: n}
			var tm tcpip.Timer
			n.Schedule(0, -1, func() { tm = clock.AfterFunc(50*time.Millisecond, tr.mark("timer")) })
			n.Schedule(tt.resetAt, -1, func() { tm.Reset(tt.to) })
			run(t, n, time.Hour)
			tr.check(t, fmt.Sprintf("Reset(%v) at %v", tt.to, tt.resetAt), tt.want...)
		})
	}
}

func TestTimerResetInOwnCallback(t *testing.T) {
	n := New(1, nil, nil)
	_, _, clock := attachFake(t, n, "a", Link{}, "10.0.0.1")
	tr := &trace{n: n}
	var tm tcpip.Timer
	fired := 0
	n.Schedule(0, -1, func() {
		tm = clock.AfterFunc(10*time.Millisecond, func() {
			tr.add("tick")
			if fired++; fired < 3 {
				tm.Reset(10 * time.Millisecond)
			}
		})
	})
	run(t, n, time.Hour)
	tr.check(t, "periodic Reset", "10ms tick", "20ms tick", "30ms tick")
}

func TestClockNow(t *testing.T) {
	n := New(1, nil, nil)
	_, _, clock := attachFake(t, n, "a", Link{}, "10.0.0.1")
	if got := clock.Now(); !got.Equal(Epoch) {
		t.Errorf("Now() before running = %v, want %v", got, Epoch)
	}
	start := clock.NowMonotonic()
	for _, at := range []time.Duration{0, time.Nanosecond, 1500 * time.Millisecond, 3 * time.Hour} {
		n.Schedule(at, -1, func() {
			if got, want := clock.Now(), Epoch.Add(at); !got.Equal(want) {
				t.Errorf("Now() at %v = %v, want %v", at, got, want)
			}
			if got := clock.NowMonotonic().Sub(start); got != at {
				t.Errorf("NowMonotonic().Sub(start) at %v = %v, want %v", at, got, at)
			}
			// Never the zero value, which netstack takes for "never".
			if got, want := clock.NowMonotonic(), (tcpip.MonotonicTime{}).Add(monoEpoch+at); got != want || got == (tcpip.MonotonicTime{}) {
				t.Errorf("NowMonotonic() at %v = %v, want %v (not zero)", at, got, want)
			}
			if got := n.Now(); got != at {
				t.Errorf("Network.Now() at %v = %v, want %v", at, got, at)
			}
		})
	}
	run(t, n, 4*time.Hour)
}

// TestSettleRunPending checks that application work (RunPending returning
// true) is run before the next event, that the node is settled and drained
// again after it, and that chained work runs to completion at one instant.
func TestSettleRunPending(t *testing.T) {
	n := New(1, nil, nil)
	a, _, _ := attachFake(t, n, "a", Link{}, "10.0.0.1")
	b, _, _ := attachFake(t, n, "b", Link{}, "10.0.0.2")
	tr := &trace{n: n}
	// Work queued before Run: the initial settle runs it. Each piece queues
	// the next and the last one sends a packet.
	a.work = append(a.work, func() {
		tr.add("work 1")
		a.work = append(a.work, func() {
			tr.add("work 2")
			a.queue(event.AppCause("send"), ipv4Packet(1, "10.0.0.1", "10.0.0.2", 20))
		})
	})
	n.Schedule(0, -1, tr.mark("event"))
	res := run(t, n, time.Hour)
	tr.check(t, "Run", "0s work 1", "0s work 2", "0s event")
	if len(b.delivered) != 1 || b.delivered[0].at != 0 {
		t.Errorf("b received %v, want one packet at 0s", b.delivered)
	}
	// Run pending twice with work, then once without in the same settle;
	// each time work ran the node is settled and drained again.
	if a.pendings != 2 {
		t.Errorf("a.RunPending ran work %d times, want 2", a.pendings)
	}
	if a.settles < 2 || a.drains < 2 {
		t.Errorf("a settled %d and drained %d times, want at least 2 each (once per RunPending that ran work)", a.settles, a.drains)
	}
	if res.Reason != Idle {
		t.Errorf("Run() reason = %v, want idle", res.Reason)
	}
}

// TestSettleTouched checks that only nodes an event touched are settled.
func TestSettleTouched(t *testing.T) {
	n := New(1, nil, nil)
	a, ia, _ := attachFake(t, n, "a", Link{}, "10.0.0.1")
	b, _, _ := attachFake(t, n, "b", Link{}, "10.0.0.2")
	n.Schedule(time.Millisecond, ia, func() {})
	n.Schedule(2*time.Millisecond, ia, func() {})
	n.Schedule(3*time.Millisecond, -1, func() {})
	run(t, n, time.Hour)
	if a.settles != 2 || b.settles != 0 {
		t.Errorf("settles (a, b) = (%d, %d), want (2, 0)", a.settles, b.settles)
	}
}

func TestRunStops(t *testing.T) {
	tests := []struct {
		name      string
		maxEvents int
		limit     time.Duration
		cancel    bool
		setup     func(n *Network, cancel func())
		want      Result
	}{
		{
			name:  "idle with nothing to do",
			limit: time.Hour,
			setup: func(*Network, func()) {},
			want:  Result{Reason: Idle},
		},
		{
			name:  "idle",
			limit: time.Hour,
			setup: func(n *Network, _ func()) {
				n.Schedule(10*time.Millisecond, -1, func() {})
				n.Schedule(20*time.Millisecond, -1, func() {})
			},
			want: Result{End: 20 * time.Millisecond, Reason: Idle, Events: 2},
		},
		{
			name:  "time limit",
			limit: 25 * time.Millisecond,
			setup: func(n *Network, _ func()) {
				for _, at := range []time.Duration{10, 20, 30, 40} {
					n.Schedule(at*time.Millisecond, -1, func() {})
				}
			},
			// End is the limit: the run covered virtual time up to it.
			want: Result{End: 25 * time.Millisecond, Reason: TimeLimit, Events: 2, Next: 30 * time.Millisecond},
		},
		{
			name:  "event exactly at the limit runs",
			limit: 20 * time.Millisecond,
			setup: func(n *Network, _ func()) {
				n.Schedule(20*time.Millisecond, -1, func() {})
				n.Schedule(21*time.Millisecond, -1, func() {})
			},
			want: Result{End: 20 * time.Millisecond, Reason: TimeLimit, Events: 1, Next: 21 * time.Millisecond},
		},
		{
			name:      "event limit",
			maxEvents: 5,
			limit:     time.Hour,
			setup: func(n *Network, _ func()) {
				var tick func()
				tick = func() { n.Schedule(n.Now()+time.Millisecond, -1, tick) }
				n.Schedule(0, -1, tick)
			},
			want: Result{End: 4 * time.Millisecond, Reason: EventLimit, Events: 5},
		},
		{
			name:   "cancelled before running",
			limit:  time.Hour,
			cancel: true,
			setup: func(n *Network, _ func()) {
				n.Schedule(time.Millisecond, -1, func() {})
			},
			want: Result{Reason: Interrupted},
		},
		{
			// The loop checks the context before every event: the event
			// that cancels is the last.
			name:  "cancelled while running",
			limit: time.Hour,
			setup: func(n *Network, cancel func()) {
				count := 0
				var tick func()
				tick = func() {
					if count++; count == 3 {
						cancel()
					}
					n.Schedule(n.Now()+time.Millisecond, -1, tick)
				}
				n.Schedule(0, -1, tick)
			},
			want: Result{End: 2 * time.Millisecond, Reason: Interrupted, Events: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(1, nil, nil)
			n.MaxEvents = tt.maxEvents
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tt.setup(n, cancel)
			if tt.cancel {
				cancel()
			}
			got, err := n.Run(ctx, tt.limit)
			if err != nil || got != tt.want {
				t.Errorf("Run(ctx, %v) = %+v, %v, want %+v, nil", tt.limit, got, err, tt.want)
			}
		})
	}
}

// TestRunEventLimitExactlySpent checks that a run whose last event is
// exactly the MaxEvents-th one, with nothing left to do, reports Idle rather
// than EventLimit ("probably a runaway"); and that one more pending event
// makes it EventLimit.
func TestRunEventLimitExactlySpent(t *testing.T) {
	n := New(1, nil, nil)
	n.MaxEvents = 3
	for i := range 3 {
		n.Schedule(time.Duration(i)*time.Millisecond, -1, func() {})
	}
	got := run(t, n, time.Hour)
	if want := (Result{End: 2 * time.Millisecond, Reason: Idle, Events: 3}); got != want {
		t.Errorf("Run() with MaxEvents 3 and exactly 3 events = %+v, want %+v", got, want)
	}
	n = New(1, nil, nil)
	n.MaxEvents = 3
	for i := range 4 {
		n.Schedule(time.Duration(i)*time.Millisecond, -1, func() {})
	}
	got = run(t, n, time.Hour)
	if want := (Result{End: 2 * time.Millisecond, Reason: EventLimit, Events: 3}); got != want {
		t.Errorf("Run() with MaxEvents 3 and 4 events = %+v, want %+v", got, want)
	}
}

// TestRunEventLimitOnlyLaterEvents documents an edge of the budget check
// in Run (network.go): when the budget is spent and the only pending events
// lie beyond the time limit, the run would have stopped at the time limit
// anyway, yet it reports EventLimit because the check only asks whether any
// event is pending, not whether one is due by the limit. (QUESTIONABLE; fix:
// compare the earliest pending time with limit and report TimeLimit, with
// Next and End set, when it is later.)
func TestRunEventLimitOnlyLaterEvents(t *testing.T) {
	n := New(1, nil, nil)
	n.MaxEvents = 3
	for _, at := range []time.Duration{0, 1, 2, 100} {
		n.Schedule(at*time.Millisecond, -1, func() {})
	}
	got := run(t, n, 50*time.Millisecond)
	if want := (Result{End: 50 * time.Millisecond, Reason: TimeLimit, Events: 3, Next: 100 * time.Millisecond}); got != want {
		t.Errorf("Run(ctx, 50ms) with MaxEvents 3 and a 4th event at 100ms = %+v, want %+v", got, want)
	}
}

func TestStopReasonString(t *testing.T) {
	tests := []struct {
		r    StopReason
		want string
	}{
		{Idle, "idle"}, {TimeLimit, "time limit"}, {EventLimit, "event limit"}, {Interrupted, "interrupted"}, {StopReason(9), "StopReason(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("StopReason(%d).String() = %q, want %q", int(tt.r), got, tt.want)
			}
		})
	}
}

// TestEventHeapOrder pushes entries with colliding times, removes some from
// the middle (stopped timers) and checks that pop returns the rest in
// (time, insertion) order.
func TestEventHeapOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h eventHeap
	var live []*entry
	for seq := uint64(1); seq <= 2000; seq++ {
		e := &entry{at: time.Duration(rng.IntN(50)), seq: seq}
		h.push(e)
		live = append(live, e)
		if rng.IntN(4) == 0 {
			k := rng.IntN(len(live))
			if got := h.remove(live[k].index); got != live[k] {
				t.Fatalf("remove(%d) removed the wrong entry", live[k].index)
			}
			live = append(live[:k], live[k+1:]...)
		}
	}
	slices.SortFunc(live, func(a, b *entry) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq))
	})
	for i, want := range live {
		if got := h.pop(); got != want {
			t.Fatalf("pop %d = (%v, %d), want (%v, %d)", i, got.at, got.seq, want.at, want.seq)
		}
	}
	if len(h) != 0 {
		t.Fatalf("%d entries left after popping all", len(h))
	}
}

// TestSchedulerPacketDueNow checks the scheduler's shortcut for a packet
// due now (it waits outside the heap): events still run in (time,
// insertion) order, whether the packet comes before or after other events
// due at the same instant, and events scheduled while it waits.
func TestSchedulerPacketDueNow(t *testing.T) {
	s := &Scheduler{}
	var got []string
	mark := func(name string) func() { return func() { got = append(got, name) } }
	pkt := func(name string) { s.atPacket(s.Now(), -1, &packet{}, func(*packet) { got = append(got, name) }) }
	s.At(5, -1, func() {
		got = append(got, "t5")
		pkt("p1")              // nothing else due at 5: waits outside the heap
		s.At(5, -1, mark("a")) // after p1
		pkt("p2")              // p1 waits: p2 goes to the heap, after a
		s.At(7, -1, func() {
			got = append(got, "t7")
			s.At(7, -1, mark("b")) // due at 7 before the packet
			pkt("p3")              // so p3 goes to the heap, after b
		})
	})
	for {
		if _, ok := s.pending(); !ok {
			break
		}
		e := s.pop()
		e.run()
		s.recycle(e)
	}
	want := []string{"t5", "p1", "a", "p2", "t7", "b", "p3"}
	if !slices.Equal(got, want) {
		t.Errorf("events ran in the order %v, want %v", got, want)
	}
}

// TestMonotonicTimeArithmetic checks third_party/gvisor's patched
// tcpip.MonotonicTime.Add and Sub (PATCHES.md, patch 4), which the virtual
// clock's readings go through, against the time.Time arithmetic upstream
// does: the same result everywhere, saturated at the extremes.
func TestMonotonicTimeArithmetic(t *testing.T) {
	vals := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 1 << 62, -(1 << 62)}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		vals = append(vals, r.Int64()-r.Int64(), int64(r.Uint64()), r.Int64N(1<<40)-1<<39)
	}
	var zero tcpip.MonotonicTime
	for i, a := range vals {
		mt := zero.Add(time.Duration(a)) // 0 + a never saturates
		if got := mt.Sub(zero); int64(got) != a {
			t.Fatalf("(0 + %d) - 0 = %d", a, got)
		}
		for j := range 40 {
			b := vals[(i*7919+j*104729)%len(vals)]
			want := time.Unix(0, a).Add(time.Duration(b)).Sub(time.Unix(0, 0))
			if got := mt.Add(time.Duration(b)).Sub(zero); got != want {
				t.Fatalf("%d + %d = %d, want %d", a, b, got, want)
			}
			want = time.Unix(0, a).Sub(time.Unix(0, b))
			if got := mt.Sub(zero.Add(time.Duration(b))); got != want {
				t.Fatalf("%d - %d = %d, want %d", a, b, got, want)
			}
		}
	}
}
