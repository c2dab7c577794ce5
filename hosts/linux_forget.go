package hosts

import (
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Forgetting the linux profile's per-connection state, so that a host's
// memory follows its live connections, not the connections it ever had.
//
// The emulation keeps two things per connection: the last SYN-ACK sent
// (for Linux's answer to a repeated SYN, which only a half-open connection
// gives) and the delayed-ACK state (linux_delack.go). A connection's
// SYN-ACK is forgotten when its endpoint leaves SYN_RCVD, and both are
// forgotten when its endpoint is (CLOSED and released by its application),
// unless a new connection holds the port pair by then; a SYN that opens a
// connection starts its delayed-ACK state afresh (linuxArrived), as a new
// socket does in Linux. What no tracked endpoint ever held (a SYN answered
// with a cookie whose handshake never completes, a segment to a closed
// port) is swept once it has been quiet for linuxForgetAfter; sweeps are
// amortised, one when the state kept has doubled since the last one.

// linuxForgetAfter is how long the state of a connection that no endpoint
// holds is kept after its last segment: longer than a cookie handshake's
// final ACK or a late segment takes to come.
const linuxForgetAfter = time.Minute

// linuxSweepMin is the size of the state below which a host never sweeps.
const linuxSweepMin = 256

// sentSynAck is a SYN-ACK the host sent and when.
type sentSynAck struct {
	data []byte
	at   time.Duration
}

// linuxForget forgets what the emulation keeps of t's connection as t
// goes from state from to to, forgotten when gone.
func (h *Host) linuxForget(t *trackedEP, from, to event.State, gone bool) {
	if h.linux.synAcks == nil && h.linux.acks == nil {
		return
	}
	k := connKey{t.local, t.remote}
	_, hasSynAck := h.linux.synAcks[k]
	dropSynAck := hasSynAck && (gone || from == event.SynRcvd && to != event.SynRcvd)
	_, hasAcks := h.linux.acks[k]
	dropAcks := hasAcks && gone
	if !dropSynAck && !dropAcks || h.successorOf(t) {
		return // nothing to forget, or it is the new connection's now
	}
	if dropSynAck {
		delete(h.linux.synAcks, k)
	}
	if dropAcks {
		delete(h.linux.acks, k)
		h.linux.lastAck = nil
	}
}

// successorOf reports whether another connection already holds t's port
// pair: a SYN reused it while t was in TIME_WAIT, or while t was closed but
// not yet released by its application.
func (h *Host) successorOf(t *trackedEP) bool {
	if !t.local.IsValid() || !t.remote.IsValid() {
		return false
	}
	proto, id := endpointID(t.local, t.remote)
	ep, _ := h.stack.FindTransportEndpoint(proto, tcp.ProtocolNumber, id, nicID).(*tcp.Endpoint)
	return ep != nil && tcpip.Endpoint(ep) != t.ep && ep.EndpointState() != tcp.StateListen
}

// linuxSweep forgets, once the state kept has doubled since the last
// sweep, the connections no live endpoint holds that have been quiet for
// linuxForgetAfter.
func (h *Host) linuxSweep() {
	if len(h.linux.synAcks)+len(h.linux.acks) < max(h.linux.sweepAt, linuxSweepMin) {
		return
	}
	live := make(map[connKey]bool, len(h.known))
	for _, t := range h.known {
		live[connKey{t.local, t.remote}] = true
	}
	now := h.now()
	quiet := func(k connKey, at time.Duration) bool {
		return !live[k] && now-at >= linuxForgetAfter
	}
	for k, s := range h.linux.synAcks {
		if quiet(k, s.at) {
			delete(h.linux.synAcks, k)
		}
	}
	for k, d := range h.linux.acks {
		if quiet(k, d.last) {
			delete(h.linux.acks, k)
		}
	}
	h.linux.lastAck = nil
	h.linux.sweepAt = 2 * (len(h.linux.synAcks) + len(h.linux.acks))
}
