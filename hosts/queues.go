package hosts

import (
	"net/netip"
	"reflect"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// QueueObserver is implemented by observers that also want a listening
// socket's queues and the stack counters that moved. The lab runner's tap
// implements it.
type QueueObserver interface {
	// Queue reports a listening socket's queues after they changed:
	// connections waiting for accept(), the accept queue's capacity in
	// netstack, and handshakes in progress (half-open, SYN_RCVD).
	Queue(at time.Duration, host string, listener netip.AddrPort, waiting, capacity, halfOpen int)
	// Counter reports that a stack counter moved by delta to total.
	// Counters that move at the same instant on one host are reported one
	// after the other.
	Counter(at time.Duration, host, name string, delta, total uint64)
}

// watchedCounters are the counters reported as they move: the ones that
// explain queue overflows, cookies, resets and timeouts. Per-segment
// counters (SegmentsSent, ValidSegmentsReceived ...) would only repeat the
// timeline.
var watchedCounters = []string{
	"ListenOverflowSynDrop",
	"ListenOverflowAckDrop",
	"ListenOverflowSynCookieSent",
	"ListenOverflowSynCookieRcvd",
	"ListenOverflowInvalidSynCookieRcvd",
	"FailedConnectionAttempts",
	"EstablishedResets",
	"EstablishedTimedout",
	"Timeouts",
	"FastRetransmit",
	"SpuriousRecovery",
	"ChecksumErrors",
}

// watchedCounter is one counter of watchedCounters and its last value.
type watchedCounter struct {
	name string
	c    *tcpip.StatCounter
	last uint64
}

// watchCounters finds the host's watched counters.
func (h *Host) watchCounters() {
	stats := reflect.ValueOf(h.stack.Stats().TCP)
	for _, name := range watchedCounters {
		c, ok := stats.FieldByName(name).Interface().(*tcpip.StatCounter)
		if ok && c != nil {
			h.counters = append(h.counters, watchedCounter{name: name, c: c, last: c.Value()})
		}
	}
}

// checkCounters reports the watched counters that moved.
func (h *Host) checkCounters() {
	qo, ok := h.obs.(QueueObserver)
	for i := range h.counters {
		w := &h.counters[i]
		v := w.c.Value()
		if v == w.last {
			continue
		}
		if ok {
			qo.Counter(h.now(), h.name, w.name, v-w.last, v)
		}
		w.last = v
	}
}

// checkQueue reports a listener's queues if they changed since last time.
func (h *Host) checkQueue(t *trackedEP) {
	qo, ok := h.obs.(QueueObserver)
	if !ok {
		return
	}
	waiting, capacity, halfOpen, ok := acceptQueue(t.ep)
	if !ok {
		return
	}
	q := [3]int{waiting, capacity, halfOpen}
	first := t.queue == [3]int{}
	if t.queue == q {
		return
	}
	t.queue = q
	if first && waiting == 0 && halfOpen == 0 {
		return // a new, empty listener: the listen step's row says as much
	}
	qo.Queue(h.now(), h.name, t.local, waiting, capacity, halfOpen)
}

// acceptQueue reads a listening endpoint's accept queue: the connections
// waiting for accept(), its capacity, and the handshakes in progress.
// netstack exports none of these, so they are read from the endpoint's
// fields (the loop calls this between barriers, when no processor runs).
// ok is false if the endpoint is not a netstack TCP endpoint or netstack's
// layout changed.
func acceptQueue(ep tcpip.Endpoint) (waiting, capacity, halfOpen int, ok bool) {
	e, isTCP := ep.(*tcp.Endpoint)
	if !isTCP || e == nil {
		return 0, 0, 0, false
	}
	q := reflect.ValueOf(e).Elem().FieldByName("acceptQueue")
	if !q.IsValid() {
		return 0, 0, 0, false
	}
	list, pending, size := q.FieldByName("endpoints"), q.FieldByName("pendingEndpoints"), q.FieldByName("capacity")
	if !list.IsValid() || !pending.IsValid() || !size.IsValid() {
		return 0, 0, 0, false
	}
	n := list.FieldByName("len")
	if !n.IsValid() || n.Kind() != reflect.Int || pending.Kind() != reflect.Map || size.Kind() != reflect.Int {
		return 0, 0, 0, false
	}
	return int(n.Int()), int(size.Int()), pending.Len(), true
}
