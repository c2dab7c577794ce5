package event

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
)

// Async passes events to an Observer on a goroutine of its own, in the order
// they were observed, so that a run's simulation (its loop goroutine) and
// its explanation and output (the observer, usually the tap and its
// writers) use two cores. The observer sees exactly the calls it would have
// seen directly, one at a time: the output does not change, only when it is
// written. Events are handed over in batches through a bounded queue; when
// the observer falls behind, the loop waits for it, so memory stays bounded.
//
// An event and everything it points to must not change once observed (the
// event types' producers already promise that: the observer may keep them).
//
// Async is used from one goroutine (the loop's). Until Start and after
// Close it passes each event on directly; Close waits until the observer
// has had every event: call it before reading anything the observer built.
type Async struct {
	obs   Observer
	batch []any
	full  chan []any // batches for the observer's goroutine
	free  chan []any // emptied batches, for reuse
	done  chan struct{}
	// failed is the observer's panic (set by its goroutine); the loop
	// raises it again at the next event it observes, or at Close, once
	// (raised).
	failed  atomic.Pointer[ObserverPanic]
	raised  bool
	running bool
}

// ObserverPanic is what an Async's loop goroutine panics with when its
// observer panicked: the observer's value and its goroutine's stack.
type ObserverPanic struct {
	Value any
	Stack []byte
}

// Error returns the observer's panic value and where it was.
func (p *ObserverPanic) Error() string {
	return fmt.Sprintf("observer panicked: %v\n\nobserver goroutine:\n%s", p.Value, p.Stack)
}

// Unwrap returns the observer's panic value when it is an error.
func (p *ObserverPanic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// raise panics with the observer's panic on the loop goroutine, once.
func (a *Async) raise() {
	if f := a.failed.Load(); f != nil && !a.raised {
		a.raised = true
		panic(f)
	}
}

// Batches of asyncBatch events, at most asyncQueue of them waiting: a few
// thousand events (a few MB of packets) in flight at most.
const (
	asyncBatch = 1024
	asyncQueue = 4
)

var _ Observer = (*Async)(nil)

// NewAsync returns an Async over obs that passes events on directly until
// Start.
func NewAsync(obs Observer) *Async {
	return &Async{obs: obs}
}

// Start starts the goroutine that passes the events observed from now on
// to the observer.
func (a *Async) Start() {
	if a.running {
		return
	}
	a.running = true
	a.failed.Store(nil)
	a.raised = false
	a.batch = make([]any, 0, asyncBatch)
	a.full = make(chan []any, asyncQueue)
	a.free = make(chan []any, asyncQueue+2)
	a.done = make(chan struct{})
	go a.run(a.full, a.free, a.done)
}

// run is the observer's goroutine.
func (a *Async) run(full <-chan []any, free chan<- []any, done chan<- struct{}) {
	defer close(done)
	for b := range full {
		if a.failed.Load() == nil {
			a.deliver(b)
		}
		clear(b)
		select {
		case free <- b[:0]:
		default:
		}
	}
}

// deliver passes one batch to the observer; a panic is kept for the loop
// to raise, and the events after it are dropped (the loop must not wait
// for an observer that has stopped).
func (a *Async) deliver(b []any) {
	defer func() {
		if p := recover(); p != nil {
			a.failed.Store(&ObserverPanic{Value: p, Stack: debug.Stack()})
		}
	}()
	for _, e := range b {
		dispatch(a.obs, e)
	}
}

// dispatch passes one event to obs.
func dispatch(obs Observer, e any) {
	switch e := e.(type) {
	case *Sent:
		obs.Sent(e)
	case *Fate:
		obs.Fate(e)
	case *Receipt:
		obs.Receipt(e)
	case *StateChange:
		obs.StateChange(e)
	case *Timer:
		obs.Timer(e)
	case *App:
		obs.App(e)
	case *Queue:
		obs.Queue(e)
	case *Counter:
		obs.Counter(e)
	case *Stall:
		obs.Stall(e)
	case *World:
		obs.World(e)
	}
}

// add queues one event, handing the batch over when it is full.
func (a *Async) add(e any) {
	if !a.running {
		dispatch(a.obs, e)
		return
	}
	a.raise() // an observer that panicked stops the run at once
	a.batch = append(a.batch, e)
	if len(a.batch) == cap(a.batch) {
		a.flush()
	}
}

// flush hands the current batch to the observer's goroutine.
func (a *Async) flush() {
	if len(a.batch) == 0 {
		return
	}
	a.full <- a.batch
	select {
	case a.batch = <-a.free:
	default:
		a.batch = make([]any, 0, asyncBatch)
	}
}

// Close hands over what is left and waits until the observer has had every
// event; events observed after it are passed on directly. If the observer
// panicked and the loop has not raised it yet, Close panics with an
// *ObserverPanic.
func (a *Async) Close() {
	if !a.running {
		return
	}
	a.running = false
	a.flush()
	close(a.full)
	<-a.done
	a.raise()
}

// Sent implements Observer.
func (a *Async) Sent(e *Sent) { a.add(e) }

// Fate implements Observer.
func (a *Async) Fate(e *Fate) { a.add(e) }

// Receipt implements Observer.
func (a *Async) Receipt(e *Receipt) { a.add(e) }

// StateChange implements Observer.
func (a *Async) StateChange(e *StateChange) { a.add(e) }

// Timer implements Observer.
func (a *Async) Timer(e *Timer) { a.add(e) }

// App implements Observer.
func (a *Async) App(e *App) { a.add(e) }

// Queue implements Observer.
func (a *Async) Queue(e *Queue) { a.add(e) }

// Counter implements Observer.
func (a *Async) Counter(e *Counter) { a.add(e) }

// Stall implements Observer.
func (a *Async) Stall(e *Stall) { a.add(e) }

// World implements Observer.
func (a *Async) World(e *World) { a.add(e) }
