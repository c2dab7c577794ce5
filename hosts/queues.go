package hosts

import (
	"reflect"
	"slices"
	"sync"
	"unsafe"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

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

// watchedCounter is one counter and its last value.
type watchedCounter struct {
	name string
	c    *tcpip.StatCounter
	last uint64
}

// watchCounters finds the host's watched counters, and two more that only
// help decide what the stack did with an arriving packet (DroppedPackets,
// ResetsSent), which are not reported.
func (h *Host) watchCounters() {
	stats := reflect.ValueOf(h.stack.Stats().TCP)
	for _, name := range watchedCounters {
		c, ok := stats.FieldByName(name).Interface().(*tcpip.StatCounter)
		if ok && c != nil {
			h.counters = append(h.counters, watchedCounter{name: name, c: c, last: c.Value()})
		}
	}
	all := h.stack.Stats()
	for _, c := range []struct {
		name string
		c    *tcpip.StatCounter
	}{{"DroppedPackets", all.DroppedPackets}, {"ResetsSent", all.TCP.ResetsSent}} {
		if c.c != nil {
			h.counters = append(h.counters, watchedCounter{name: c.name, c: c.c, last: c.c.Value()})
		}
	}
}

// movedCounters returns the counters that moved since the last call.
func (h *Host) movedCounters() []event.CounterMove {
	var moved []event.CounterMove
	for i := range h.counters {
		w := &h.counters[i]
		v := w.c.Value()
		if v == w.last {
			continue
		}
		moved = append(moved, event.CounterMove{Name: w.name, Delta: v - w.last, Total: v})
		w.last = v
	}
	return moved
}

// reported keeps the moves of the counters that are reported.
func reported(moved []event.CounterMove) []event.CounterMove {
	var out []event.CounterMove
	for _, m := range moved {
		if slices.Contains(watchedCounters, m.Name) {
			out = append(out, m)
		}
	}
	return out
}

// verdict says what the stack did with the packet that arrived, from the
// counters that moved while it processed it and the endpoint it was for.
func (h *Host) verdict(a *arrival, moved []event.CounterMove) event.Verdict {
	did := func(name string) bool {
		return slices.ContainsFunc(moved, func(m event.CounterMove) bool { return m.Name == name })
	}
	switch {
	case a.seg == nil:
		return event.NotTCP
	case did("ChecksumErrors"):
		return event.BadChecksum
	case a.toEP == nil:
		return event.NoSocket
	case did("ListenOverflowSynDrop"):
		return event.SynQueueOverflow
	case did("ListenOverflowAckDrop"):
		return event.AckQueueOverflow
	case did("ListenOverflowSynCookieRcvd"):
		return event.CookieAccepted
	case a.before == event.Listen && did("ResetsSent"):
		return event.Refused
	case did("ListenOverflowInvalidSynCookieRcvd"):
		return event.CookieInvalid
	case did("DroppedPackets"):
		if a.before == event.SynRcvd && a.seg.Flags&(segment.SYN|segment.RST|segment.ACK) == segment.ACK &&
			linuxState(tcp.EndpointState(a.toEP.State())) == event.SynRcvd && h.listenerFull(a.seg.Dst.Port()) {
			return event.AckQueueOverflow
		}
		return event.Discarded
	}
	return event.Processed
}

// listenerFull reports whether the listener on port has a full accept
// queue.
func (h *Host) listenerFull(port uint16) bool {
	for _, t := range h.tracked {
		if t.state == event.Listen && t.local.Port() == port {
			waiting, capacity, _, ok := acceptQueue(t.ep)
			return ok && waiting >= capacity
		}
	}
	return false
}

// checkQueue reports a listener's queues if they changed since last time.
func (h *Host) checkQueue(t *trackedEP) {
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
	h.obs.Queue(&event.Queue{At: h.now(), Host: h.name, Listener: t.local, Waiting: waiting, Capacity: capacity, HalfOpen: halfOpen})
}

// acceptQueue reads a listening endpoint's accept queue: the connections
// waiting for accept(), its capacity, and the handshakes in progress.
// netstack exports none of these, so they are read from the endpoint's
// fields (the loop calls this between barriers, when no processor runs).
// ok is false if the endpoint is not a netstack TCP endpoint or netstack's
// layout changed.
func acceptQueue(ep tcpip.Endpoint) (waiting, capacity, halfOpen int, ok bool) {
	e, isTCP := ep.(*tcp.Endpoint)
	l := acceptQueueLayout()
	if !isTCP || e == nil || !l.ok {
		return 0, 0, 0, false
	}
	q := unsafe.Add(unsafe.Pointer(e), l.queue)
	waiting = *(*int)(unsafe.Add(q, l.len))
	capacity = *(*int)(unsafe.Add(q, l.capacity))
	halfOpen = reflect.NewAt(l.pendingType, unsafe.Add(q, l.pending)).Elem().Len()
	return waiting, capacity, halfOpen, true
}

// aqLayout locates a listener's accept queue in netstack's Endpoint:
// acceptQueue.endpoints.len, acceptQueue.capacity and the map
// acceptQueue.pendingEndpoints, found once by reflection and then read at
// their offsets (a listener's queues are read after every event that may
// change them).
type aqLayout struct {
	ok                            bool
	queue, len, capacity, pending uintptr
	pendingType                   reflect.Type
}

var (
	aqOnce sync.Once
	aq     aqLayout
)

func acceptQueueLayout() *aqLayout {
	aqOnce.Do(func() {
		q, found := reflect.TypeFor[tcp.Endpoint]().FieldByName("acceptQueue")
		if !found || q.Type.Kind() != reflect.Struct {
			return
		}
		list, ok1 := q.Type.FieldByName("endpoints")
		pending, ok2 := q.Type.FieldByName("pendingEndpoints")
		size, ok3 := q.Type.FieldByName("capacity")
		if !ok1 || !ok2 || !ok3 || list.Type.Kind() != reflect.Struct || pending.Type.Kind() != reflect.Map || size.Type.Kind() != reflect.Int {
			return
		}
		n, ok4 := list.Type.FieldByName("len")
		if !ok4 || n.Type.Kind() != reflect.Int {
			return
		}
		aq = aqLayout{ok: true, queue: q.Offset, len: list.Offset + n.Offset, capacity: size.Offset, pending: pending.Offset, pendingType: pending.Type}
	})
	return &aq
}
