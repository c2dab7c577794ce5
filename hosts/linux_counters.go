package hosts

import (
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// linuxEdge is what the linux profile's emulation keeps per host.
type linuxEdge struct {
	// lastData is the last segment with data or a FIN that arrived, for
	// the bare RST that may answer it.
	lastData       segment.Segment
	lastDataClosed bool // its endpoint was closed by its application
	// restore puts back what linuxDeliver changed for one arrival.
	restore func()
	// synAcks are the last SYN-ACK sent on each connection (a copy, and
	// when), and lastSyn the last SYN that arrived, for Linux's answer to
	// a repeated SYN (linux_edge.go).
	synAcks    map[connKey]sentSynAck
	lastSyn    segment.Segment
	lastSynRef event.Ref
	// acks follows Linux's delayed ACK per connection (linux_delack.go);
	// lastAck is the entry of lastKey, the last connection looked up
	// (a transfer looks up the same one twice per segment).
	acks    map[connKey]*delack
	lastKey connKey
	lastAck *delack
	// sweepAt is the size of synAcks and acks together at which the next
	// sweep runs (linux_forget.go).
	sweepAt int
	// quiet stops linuxStateChange from counting while tcplab itself
	// resets a half-open connection (abortOnOverflow).
	quiet bool
}

// Counters as Linux keeps them. netstack's counters differ from Linux's
// MIBs in places; under the linux profile the host moves them as Linux
// would:
//
//   - a connect that goes from SYN_SENT straight to CLOSED (refused,
//     reset, timed out) counts as FailedConnectionAttempts, as Linux's
//     TcpAttemptFails does; netstack counts only a connect that fails at
//     once. (A half-open connection that a listener forgets is a request
//     socket in Linux, which counts nothing: measured on 6.18.)
//   - a SYN or SYN-ACK retransmission counts in Retransmits (Linux:
//     TcpRetransSegs) and Timeouts (TcpExtTCPTimeouts);
//   - a final ACK dropped on a full accept queue counts in
//     ListenOverflowAckDrop (Linux: ListenOverflows), which netstack moves
//     only on its cookie path.

// synRetransmitted counts a SYN or SYN-ACK retransmission.
func (h *Host) synRetransmitted() {
	tcp := h.stack.Stats().TCP
	tcp.Retransmits.Increment()
	tcp.Timeouts.Increment()
}

// linuxStateChange counts a state change of t to st as Linux would, and
// returns the cause to report it with: the host's, marked where Linux
// would differ. The host calls it for every state change it reports.
func (h *Host) linuxStateChange(t *trackedEP, to event.State) event.Cause {
	c := h.cause
	if !h.settings.emulates() || to != event.Closed || h.linux.quiet {
		return c
	}
	if t.state == event.SynSent {
		h.stack.Stats().TCP.FailedConnectionAttempts.Increment()
	}
	if c.Kind == event.ByTimer && c.Timer == event.TimerRTO && t.state != event.SynSent && t.state != event.SynRcvd {
		var ut tcpip.TCPUserTimeoutOption
		if t.ep.GetSockOpt(&ut) == nil && ut == 0 {
			c.Diff = event.DiffRetries2 // netstack counts retransmissions, Linux time
		}
	}
	return c
}

// linuxFinWait2 reports t's passage through FIN_WAIT_2 when it goes from
// FIN_WAIT_1 to TIME_WAIT on one segment (EmuFinWait2): Linux passes
// through FIN_WAIT_2 (tcp_rcv_state_process, then tcp_fin), netstack does
// not. t's state is then FIN_WAIT_2, which the change to TIME_WAIT starts
// from.
func (h *Host) linuxFinWait2(t *trackedEP, to event.State) {
	if t.state != event.FinWait1 || to != event.TimeWait || !h.settings.emulates() {
		return
	}
	c := h.cause
	c.Emu = event.EmuFinWait2
	h.obs.StateChange(&event.StateChange{At: h.now(), Host: h.name, Local: t.local, Remote: t.remote, From: t.state, To: event.FinWait2, Cause: c})
	t.state = event.FinWait2
}

// linuxAckDropped counts a final ACK netstack dropped on a full accept
// queue without counting it.
func (h *Host) linuxAckDropped() {
	if h.settings.emulates() {
		h.stack.Stats().TCP.ListenOverflowAckDrop.Increment()
	}
}
