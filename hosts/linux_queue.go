package hosts

import (
	"slices"

	"github.com/tcplab/tcplab/internal/event"
)

// The listen queues as Linux keeps them.
//
// A final ACK that finds the accept queue full is dropped by netstack
// (counted only in DroppedPackets unless it came back with a cookie);
// Linux counts it in ListenOverflows, and with tcp_abort_on_overflow = 1
// answers it with a RST and forgets the half-open connection.

// linuxReceipt completes what the stack did with an arrival under the
// linux profile: counters Linux moves and netstack does not, and Linux's
// answers netstack does not give. It returns the counters moved.
func (h *Host) linuxReceipt(a *arrival, v event.Verdict, moved []event.CounterMove) []event.CounterMove {
	if !h.settings.emulates() {
		return moved
	}
	if v == event.AckQueueOverflow && !slices.ContainsFunc(moved, func(m event.CounterMove) bool { return m.Name == "ListenOverflowAckDrop" }) {
		h.linuxAckDropped()
		moved = append(moved, h.movedCounters()...)
	}
	return moved
}
