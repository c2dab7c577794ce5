package tap

import (
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/internal/event"
)

// Forgetting connections that are over, so that the tap's memory follows
// the live connections, not the traffic.
//
// The tap keeps, per port pair, what the explainer knows (conn), what each
// endpoint's state rows said (endState) and Wireshark's analysis of each
// capture (a conversation per direction). A connection is forgotten once no
// host has an endpoint of it in any state but CLOSED (TIME_WAIT counts as
// live) and nothing was sent on it for evictAfter: a spoofed SYN answered
// with a cookie, a connection after its TIME_WAIT. What comes later on the
// same port pair is then a new connection, as it is to the stacks. Of
// Wireshark's analysis only each direction's base sequence number stays,
// which is all it needs to flag reused ports.
//
// Sweeps are amortised: one runs when the number of connections known has
// doubled since the last one.

// evictAfter is how long a connection with no live endpoint is kept after
// its last segment: long enough for late duplicates and copies of its last
// segments to be explained with it.
const evictAfter = 2 * time.Second

// sweep forgets the connections that are over at time now.
func (t *Tap) sweep(now time.Duration) {
	for k, c := range t.conns {
		if now-c.last < evictAfter || t.liveEnd(k.a, k.b) || t.liveEnd(k.b, k.a) {
			continue
		}
		delete(t.conns, k)
		for _, h := range [2]netip.AddrPort{k.a, k.b} {
			o := k.b
			if h == k.b {
				o = k.a
			}
			delete(t.ends, endKey{t.Name(h.Addr()), h, o})
		}
		t.sent.forget(k.a, k.b)
		t.recv.forget(k.a, k.b)
	}
	t.endCache = endCache{}
	t.sweepAt = 2*len(t.conns) + sweepMin
}

// sweepMin is the number of connections below which the tap never sweeps.
const sweepMin = 256

// liveEnd reports whether the host that owns local has an endpoint
// local–remote in a state other than CLOSED. A host of a capture that no
// name was given for is known by its address (Name).
func (t *Tap) liveEnd(local, remote netip.AddrPort) bool {
	e := t.ends[endKey{t.Name(local.Addr()), local, remote}]
	return e != nil && e.state != event.Closed
}

// forget drops the analysis of the conversation between a and b, keeping
// each direction's base sequence number.
func (t *analyzer) forget(a, b netip.AddrPort) {
	for _, k := range [2]flowKey{{a, b}, {b, a}} {
		if f := t.flows[k]; f != nil {
			if f.baseSet {
				t.bases[k] = f.baseSeq
			}
			delete(t.flows, k)
		}
	}
}
