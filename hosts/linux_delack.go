package hosts

import (
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Delayed ACK: where Linux would have waited.
//
// netstack has no delayed-ACK timer: it acknowledges every segment at
// once. Linux (tcp_input.c __tcp_ack_snd_check, tcp_output.c
// tcp_send_delayed_ack) acknowledges at once only in quick-ack mode (the
// first segments of a connection, up to 16 ACKs, unless the connection has
// become interactive: it sent data within 40 ms of receiving some, its
// "ping-pong" mode), when more than one full-sized segment is waiting to
// be acknowledged, when data arrives out of order or again, when the
// socket asked with TCP_QUICKACK, and when a FIN reaches a closing side;
// otherwise it waits up to 40 ms for data to carry the ACK. A FIN that
// reaches an ESTABLISHED connection turns ping-pong mode on, so its ACK
// waits: the application usually closes at once, and the FIN-ACK carries
// it.
//
// tcplab does not (yet) hold netstack's ACKs back. Under the linux profile
// the host follows Linux's rules and marks each ACK that Linux would have
// delayed, so that its row says so (diff.delack); delayed_ack = false in
// [hosts.tcp] models a socket that always acknowledges at once.

// delackMin is TCP_ATO_MIN and TCP_DELACK_MIN: 40 ms.
const delackMin = 40 * time.Millisecond

// maxQuickAcks is TCP_MAX_QUICKACKS.
const maxQuickAcks = 16

// delack is Linux's delayed-ACK state of one connection, as the host
// follows it.
type delack struct {
	started  bool          // data has arrived (Linux's icsk_ack.ato is set)
	quick    int           // quick ACKs left
	pingpong bool          // interactive: ACKs wait for data
	lrcv     time.Duration // when data last arrived
	unacked  int           // bytes received since the last ACK sent
	mss      int
	// pending is set when an arrival asks for an ACK: delay is Linux's
	// decision for it.
	pending bool
	delay   bool
	// dup says the arrival was data the host had already acknowledged,
	// which Linux reports with a D-SACK block.
	dup bool
	// ack is the last acknowledgement number the host sent.
	ack    seqnum.Value
	hasAck bool
	// peerMSS is the MSS the peer's SYN offered; sizeNoted is set once a
	// full-sized segment has said how Linux would fill it.
	peerMSS   int
	sizeNoted bool
	// last is when a segment of the connection last arrived
	// (linuxSweep).
	last time.Duration
}

// connKey names a connection by the host's and the peer's address.
type connKey struct{ local, remote netip.AddrPort }

// delackOf returns the delayed-ACK state of connection k, or nil.
func (h *Host) delackOf(k connKey) *delack {
	if h.linux.lastAck != nil && h.linux.lastKey == k {
		return h.linux.lastAck
	}
	d := h.linux.acks[k]
	if d != nil {
		h.linux.lastKey, h.linux.lastAck = k, d
	}
	return d
}

// linuxArrived follows an arriving segment: data and FINs on an
// established connection, which Linux acknowledges at once or later.
func (h *Host) linuxArrived(a *arrival) {
	s := a.seg
	if s.Flags&segment.RST != 0 {
		return
	}
	if h.linux.acks == nil {
		h.linux.acks = map[connKey]*delack{}
	}
	k := connKey{s.Dst, s.Src}
	d := h.delackOf(k)
	now := h.now()
	// A SYN that opens a new connection on the port pair (to a listener,
	// or one that reuses TIME_WAIT's or a closed endpoint's pair) starts
	// from nothing: the old connection's state is not the new one's.
	fresh := s.Flags&(segment.SYN|segment.ACK) == segment.SYN && mayRegister(a)
	if d == nil || fresh {
		d = &delack{mss: 1460, last: now}
		h.linux.acks[k] = d
		h.linux.lastKey, h.linux.lastAck = k, d
		h.linuxSweep()
	}
	d.last = now
	if s.Flags&segment.SYN != 0 {
		d.peerMSS = s.Opts.MSS
		return
	}
	if s.Len == 0 && s.Flags&segment.FIN == 0 {
		return
	}
	quickAck := false
	if ep, ok := a.toEP.(*tcp.Endpoint); ok {
		quickAck = ep.SocketOptions().GetQuickAck()
	}
	d.pending, d.delay = true, false
	d.dup = s.Len > 0 && d.hasAck && s.End().LessThanEq(d.ack)
	if s.Len > 0 {
		if !d.started {
			d.started, d.quick = true, maxQuickAcks
		}
		d.lrcv = now
		d.unacked += s.Len
		if s.Len > d.mss {
			d.mss = s.Len
		}
	}
	if !h.settings.Linux.DelayedAck {
		return
	}
	switch {
	case s.Flags&segment.FIN != 0 && a.before != event.Established:
		// A closing side acknowledges a FIN at once (tcp_fin).
	case s.Flags&segment.FIN != 0:
		d.pingpong = true // tcp_fin: inet_csk_enter_pingpong_mode
		d.delay = d.unacked <= d.mss && !quickAck
	case quickAck || d.unacked > d.mss || d.quick > 0 && !d.pingpong:
	default:
		d.delay = true
	}
}

// linuxSent follows what the host sends on a connection and marks a pure
// ACK that Linux would have delayed.
func (h *Host) linuxSent(p *outbound, s *segment.Segment) {
	d := h.delackOf(connKey{s.Src, s.Dst})
	if d == nil {
		return
	}
	if s.Len > 0 && d.started && h.now()-d.lrcv < delackMin {
		d.pingpong = true // data sent within the ATO of data received
	}
	if s.Len > 0 && !d.sizeNoted && d.peerMSS > 0 && s.Len == d.peerMSS-40 && s.Opts.HasTS {
		d.sizeNoted = true // the first full-sized segment says so; the rest are alike
		p.cause.Diff = event.DiffSegmentSize
	}
	if s.Flags&segment.ACK == 0 || s.Flags&(segment.SYN|segment.RST) != 0 {
		return
	}
	pureAck := s.Len == 0 && s.Flags&segment.FIN == 0
	switch {
	case pureAck && d.pending && d.delay && p.cause.Kind == event.ByArrival:
		p.cause.Diff = event.DiffDelayedAck
	case pureAck && d.pending && d.dup && h.settings.Linux.DSACK && p.cause.Kind == event.ByArrival:
		p.cause.Diff = event.DiffDSACK
	}
	d.ack, d.hasAck = s.Ack, true
	d.pending, d.delay, d.unacked = false, false, 0
	if d.quick > 0 {
		d.quick--
	}
}
