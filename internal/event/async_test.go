package event

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// recorder is an Observer that records what it was given, and on which
// goroutine's side of Close.
type recorder struct {
	Nop
	got []string
}

func (r *recorder) Sent(e *Sent)               { r.got = append(r.got, "sent") }
func (r *recorder) Fate(e *Fate)               { r.got = append(r.got, "fate "+e.Kind.String()) }
func (r *recorder) Receipt(e *Receipt)         { r.got = append(r.got, "receipt "+e.Host) }
func (r *recorder) StateChange(e *StateChange) { r.got = append(r.got, "state "+e.To.String()) }
func (r *recorder) Timer(e *Timer)             { r.got = append(r.got, "timer "+e.Kind.String()) }
func (r *recorder) App(e *App)                 { r.got = append(r.got, "app "+e.Op) }
func (r *recorder) Queue(e *Queue)             { r.got = append(r.got, "queue") }
func (r *recorder) Counter(e *Counter)         { r.got = append(r.got, "counter") }
func (r *recorder) Stall(e *Stall)             { r.got = append(r.got, "stall") }
func (r *recorder) World(e *World)             { r.got = append(r.got, "world "+e.Kind.String()) }

// TestAsyncKeepsOrder passes more events than the queue holds through an
// Async and checks that the observer had every one, in order, once Close
// returned; before Start and after Close events go straight through.
func TestAsyncKeepsOrder(t *testing.T) {
	r := &recorder{}
	a := NewAsync(r)
	a.World(&World{Kind: HostCrashed})
	if len(r.got) != 1 {
		t.Fatalf("before Start: observer has %d events, want 1 (passed on directly)", len(r.got))
	}
	a.Start()
	var want []string
	want = append(want, "world host_crashed")
	// One call of each kind, and what the recorder writes for it.
	calls := []struct {
		observe func()
		want    string
	}{
		{func() { a.Sent(&Sent{}) }, "sent"},
		{func() { a.Fate(&Fate{Kind: Dropped}) }, "fate dropped"},
		{func() { a.Receipt(&Receipt{Host: "h"}) }, "receipt h"},
		{func() { a.StateChange(&StateChange{To: Established}) }, "state " + Established.String()},
		{func() { a.Timer(&Timer{Kind: TimerRTO}) }, "timer " + TimerRTO.String()},
		{func() { a.App(&App{Op: "send"}) }, "app send"},
		{func() { a.Queue(&Queue{}) }, "queue"},
		{func() { a.Counter(&Counter{}) }, "counter"},
		{func() { a.Stall(&Stall{}) }, "stall"},
		{func() { a.World(&World{Kind: HostRebooted}) }, "world host_rebooted"},
	}
	n := asyncBatch*asyncQueue*3 + 7 // more than fit in the queue: the loop must wait
	for i := range n {
		c := calls[i%len(calls)]
		c.observe()
		want = append(want, c.want)
	}
	a.Close()
	a.Sent(&Sent{})
	want = append(want, "sent")
	if len(r.got) != len(want) {
		t.Fatalf("observer has %d events, want %d", len(r.got), len(want))
	}
	for i := range want {
		if r.got[i] != want[i] {
			t.Fatalf("event %d = %q, want %q", i, r.got[i], want[i])
		}
	}
}

// errBroke is what panicker panics with.
var errBroke = errors.New("observer broke")

// panicker panics on its first Sent.
type panicker struct{ Nop }

func (panicker) Sent(*Sent) { panic(errBroke) }

// TestAsyncPanicStopsTheLoop checks that an observer's panic does not block
// the loop and is raised on it soon after, at the next event it observes
// once the observer has failed (not only at Close), as an *ObserverPanic
// that keeps the value and the observer's stack; Close does not raise it a
// second time.
func TestAsyncPanicStopsTheLoop(t *testing.T) {
	a := NewAsync(panicker{})
	a.Start()
	total := asyncBatch * asyncQueue * 4
	added := 0
	done := make(chan any)
	go func() {
		defer func() { done <- recover() }()
		for range total {
			a.Sent(&Sent{})
			added++
		}
		a.Close()
	}()
	var p any
	select {
	case p = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the loop is blocked by an observer that panicked")
	}
	op, ok := p.(*ObserverPanic)
	if !ok {
		t.Fatalf("the loop panicked with %T %v, want an *ObserverPanic", p, p)
	}
	if !errors.Is(op, errBroke) || !strings.Contains(op.Error(), "observer broke") || !strings.Contains(string(op.Stack), "panicker") {
		t.Errorf("ObserverPanic = %v, want the observer's error and its stack", op)
	}
	// The queue holds asyncQueue batches: the loop cannot get past them
	// (and one being filled, one being delivered) without the observer
	// having failed, and then the next event raises it.
	if limit := (asyncQueue + 2) * asyncBatch; added > limit {
		t.Errorf("the loop observed %d events after the observer failed on the first, want at most %d", added, limit)
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("Close raised the observer's panic again: %v", p)
			}
		}()
		a.Close()
	}()
}
