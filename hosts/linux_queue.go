package hosts

import (
	"github.com/tcplab/tcplab/internal/segment"
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
	if v == event.AckQueueOverflow && h.settings.Linux.AbortOnOverflow && a.seg != nil {
		h.abortOnOverflow(a.seg)
		moved = append(moved, h.movedCounters()...)
	}
	return moved
}

// abortOnOverflow does what Linux does with tcp_abort_on_overflow = 1 when
// a handshake's final ACK finds the accept queue full (tcp_check_req's
// embryonic reset): it answers the ACK with a bare RST (seq = the ACK's
// acknowledgement number) and forgets the half-open connection. netstack
// dropped the ACK and keeps its SYN_RCVD endpoint, so the host sends the
// RST and resets that endpoint with a RST of the peer's, delivered to its
// own stack only.
func (h *Host) abortOnOverflow(s *segment.Segment) {
	c := h.cause
	c.Emu = event.EmuAbortOnOverflow
	h.setCause(c)
	child := h.lookup(s) // found before the RST unregisters it
	h.nic.send(rstPacket(s.Dst, s.Src, uint32(s.Ack), nil, 0), c)
	h.nic.deliver(rstPacket(s.Src, s.Dst, uint32(s.Seq), nil, 0))
	h.process()
	if child != nil {
		h.touch(child) // the state tracker reads only what an event touched
	}
	h.linux.quiet = true // Linux counts no failed attempt for it
	h.checkStates()
	h.linux.quiet = false
}
