package hosts

import (
	"io"
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Delayed ACK, as Linux does it.
//
// netstack has no delayed-ACK timer: it acknowledges every segment at
// once. Linux (tcp_input.c __tcp_ack_snd_check, tcp_output.c
// tcp_send_delayed_ack, tcp_timer.c tcp_delack_timer_handler) acknowledges
// at once only
//   - in quick-ack mode: the first segments of a connection (up to 16
//     ACKs, fewer with a small receive window), unless the connection has become interactive (its "ping-pong"
//     mode: it sent data within the ACK timeout of receiving some, or a
//     FIN reached it in ESTABLISHED);
//   - when more than one full-sized segment (rcv_mss, measured from what
//     arrives: tcp_measure_rcv_mss) is waiting to be acknowledged;
//   - when data arrives out of order, again, beyond the receive window (a
//     zero-window probe), or fills a hole;
//   - when the socket asked with TCP_QUICKACK, and when a FIN reaches a
//     closing side.
//
// Otherwise it schedules the ACK: a later segment of the connection (data,
// a FIN, another ACK) carries it, the application's read sends it when the
// read empties a receive queue that a small segment filled
// (tcp_cleanup_rbuf), or the delayed-ACK timer sends it after the ACK
// timeout, ato: 40 ms at first, adapted to how far apart data arrives
// (tcp_event_data_recv), doubled each time the timer fires outside
// ping-pong mode, bounded by the RTT and by 200 ms.
//
// Under the linux profile the host follows these rules for every arrival,
// and holds netstack's ACK back when Linux would have scheduled it: the
// ACK never leaves, and the host has netstack send a fresh one (with the
// window and timestamp of that moment; tcp.Endpoint.SendAck, a patch)
// when the timer fires or the read asks for it, unless a segment the host
// sent carried the acknowledgement first. Those rows say so
// (EmuDelayedAck). Not emulated: Linux's SACK compression (after three
// duplicate ACKs for one hole it sends the next ones up to 1 ms apart), its
// window check (an ACK for more than a full segment still waits when the
// window would not move), the quick ACKs tcp_grow_window adds while the
// receive window grows, and TCP_QUICKACK as a one-off switch
// (it is read on every arrival here). delayed_ack = false in [hosts.tcp]
// models a socket that always acknowledges at once.

const (
	// delackMin is TCP_ATO_MIN and TCP_DELACK_MIN: 40 ms.
	delackMin = 40 * time.Millisecond
	// delackMax is TCP_DELACK_MAX (and icsk_delack_max's default).
	delackMax = 200 * time.Millisecond
	// maxQuickAcks is TCP_MAX_QUICKACKS.
	maxQuickAcks = 16
	// initRcvMSS is TCP_MSS_DEFAULT, where a connection's estimate of
	// the segments it receives starts (tcp_initialize_rcv_mss).
	initRcvMSS = 536
)

// delack is Linux's delayed-ACK state of one connection, as the host
// follows it.
type delack struct {
	ato      time.Duration // icsk_ack.ato; 0 until data arrives
	quick    int           // quick ACKs left
	pingpong bool          // interactive: ACKs wait for data
	lrcv     time.Duration // when data last arrived
	unacked  int           // bytes received since the last ACK sent
	rcvMSS   int           // icsk_ack.rcv_mss
	lastSeg  int           // icsk_ack.last_seg_size
	// pushed and pushed2 are ICSK_ACK_PUSHED and ICSK_ACK_PUSHED2: a
	// small segment (two in a row) arrived since the last ACK.
	pushed, pushed2 bool
	// pending is set when an arrival asks for an ACK: delay is Linux's
	// decision for it.
	pending bool
	delay   bool
	// pendingRef is the arrival the decision is for: only the ACK
	// netstack sends for it may be held.
	pendingRef event.Ref
	// dup says the arrival was data the host had already acknowledged,
	// which Linux reports with a D-SACK block.
	dup bool
	// ack is the last acknowledgement number the host sent; rcvNxt the
	// last one netstack made (held or sent), its next expected byte;
	// high the end of the highest data received.
	ack, rcvNxt, high seqnum.Value
	hasAck, hasRcv    bool
	// held says netstack's ACK is held back (Linux scheduled it), since
	// heldAt; deadline is when the delayed-ACK timer sends it.
	held             bool
	heldAt, deadline time.Duration
	// timer is the delayed-ACK timer, armed for armedAt when armed; it is
	// lazy: it fires at the deadline it was armed for and, when the
	// deadline has moved later, is armed again.
	timer   tcpip.Timer
	armed   bool
	armedAt time.Duration
	ep      *tcp.Endpoint // the connection's endpoint, once data arrived
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
		if d := h.delackOf(connKey{s.Dst, s.Src}); d != nil {
			d.held = false // the connection is over: no ACK is owed
		}
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
		if d != nil {
			d.held = false // the old connection's ACK is not owed any more
		}
		d = &delack{rcvMSS: initRcvMSS, last: now}
		h.linux.acks[k] = d
		h.linux.lastKey, h.linux.lastAck = k, d
		h.linuxSweep()
	}
	d.last = now
	if s.Flags&segment.SYN != 0 {
		if fresh || d.peerMSS == 0 {
			d.peerMSS = s.Opts.MSS // not a SYN that reaches an open connection
		}
		return
	}
	if s.Len == 0 && s.Flags&segment.FIN == 0 {
		return
	}
	ep, _ := a.toEP.(*tcp.Endpoint)
	if ep != nil {
		d.ep = ep
	}
	quickAck := ep != nil && ep.SocketOptions().GetQuickAck()
	d.pending, d.delay, d.pendingRef = true, false, a.ref
	d.dup = s.Len > 0 && d.hasAck && s.End().LessThanEq(d.ack)
	again := d.hasRcv && s.End().LessThanEq(d.rcvNxt)
	ahead := d.hasRcv && d.rcvNxt.LessThan(s.Seq)
	hole := d.hasRcv && d.rcvNxt.LessThan(d.high)
	beyond := false // beyond the window: a zero-window probe
	if ep != nil && s.Len > 0 {
		if nxt, wnd, ok := receiveWindow(ep); ok && !s.Seq.LessThan(nxt.Add(wnd)) {
			beyond = true
		}
	}
	if s.Len > 0 {
		d.unacked += s.Len
		if !beyond && d.high.LessThan(s.End()) {
			d.high = s.End()
		}
		if !beyond && !again && !ahead {
			d.dataRecv(s, now)
		}
	}
	if !h.settings.Linux.DelayedAck {
		return
	}
	if s.Flags&segment.FIN != 0 && a.before == event.Established && !again && !ahead && !hole {
		d.pingpong = true // tcp_fin: inet_csk_enter_pingpong_mode
	}
	switch {
	case again, beyond:
		// A retransmit, or data beyond the window: tcp_data_queue
		// forces an immediate ACK and enters quick-ack mode.
		d.quick = max(d.quick, d.quickAcks())
		d.pingpong, d.ato = false, delackMin
	case ahead, hole:
		// Out of order (a duplicate ACK at once), or in order while data
		// waits beyond a hole (it fills it: ICSK_ACK_NOW).
	case s.Flags&segment.FIN != 0 && a.before != event.Established:
		// A closing side acknowledges a FIN at once (tcp_fin).
	case quickAck || d.unacked > d.rcvMSS:
	default:
		d.delay = d.quick == 0 || d.pingpong
	}
}

// dataRecv follows Linux's tcp_event_data_recv and
// tcp_measure_rcv_mss for in-order data: the ACK timeout adapts to how far
// apart data arrives, quick-ack mode starts with the first data and again
// after a silence longer than the RTO, and the estimate of a full segment
// follows the segments that arrive.
func (d *delack) dataRecv(s *segment.Segment, now time.Duration) {
	switch m := now - d.lrcv; {
	case d.ato == 0:
		d.quick, d.ato = max(d.quick, d.quickAcks()), delackMin
	case m <= delackMin/2:
		d.ato = d.ato/2 + delackMin/2
	case m < d.ato:
		d.ato = d.ato/2 + m
		if rto := d.rto(); rto > 0 && d.ato > rto {
			d.ato = rto
		}
	case m > d.rto():
		d.quick = max(d.quick, d.quickAcks())
	}
	d.lrcv = now
	// tcp_measure_rcv_mss.
	lss := d.lastSeg
	d.lastSeg = 0
	if s.Len >= d.rcvMSS {
		d.rcvMSS = s.Len // no larger than the MSS announced: netstack sends no more
		if s.Flags&segment.PSH != 0 {
			d.pushed = true
		}
		return
	}
	if l := s.Len + s.PayloadOffset - s.TCPOffset; l >= initRcvMSS+20 || l >= 88+20 && s.Flags&(segment.FIN|segment.URG|segment.SYN|segment.PSH) == 0 {
		// Less the connection's fixed header (tcp_header_len: with
		// timestamps, 32 bytes), not this segment's: SACK blocks count.
		fixed := 20
		if s.Opts.HasTS {
			fixed += 12
		}
		l -= fixed
		d.lastSeg = l
		if l == lss {
			d.rcvMSS = l
			return
		}
	}
	if d.pushed {
		d.pushed2 = true
	}
	d.pushed = true
}

// quickAcks returns how many quick ACKs Linux grants
// (tcp_incr_quickack): half the receive window in segments, at least 2,
// at most 16.
func (d *delack) quickAcks() int {
	if d.ep == nil {
		return maxQuickAcks
	}
	_, wnd, ok := receiveWindow(d.ep)
	if !ok {
		return maxQuickAcks
	}
	q := int(wnd) / (2 * d.rcvMSS)
	if q == 0 {
		q = 2
	}
	return min(q, maxQuickAcks)
}

// rto returns the connection's retransmission timeout, which bounds the
// ACK timeout.
func (d *delack) rto() time.Duration {
	if d.ep == nil {
		return 0
	}
	return senderRTO(d.ep)
}

// timeout returns how long Linux waits for a scheduled ACK
// (tcp_send_delayed_ack): the ACK timeout, bounded by the smoothed RTT (at
// least 40 ms) and by icsk_delack_max, 200 ms. (Linux first bounds it by
// 500 ms, or 200 ms in ping-pong mode or after a pushed segment; the 200 ms
// bound that follows makes those moot unless icsk_delack_max is raised,
// which tcplab does not offer.)
func (d *delack) timeout() time.Duration {
	ato := d.ato
	if ato > delackMin && d.ep != nil {
		if srtt := senderSRTT(d.ep); srtt > 0 {
			ato = min(ato, max(srtt, delackMin))
		}
	}
	return min(ato, delackMax)
}

// linuxSent follows what the host sends on a connection. It reports
// whether to hold the packet back: netstack's ACK for an arrival that
// Linux would have delayed.
func (h *Host) linuxSent(p *outbound, s *segment.Segment) (hold bool) {
	k := connKey{s.Src, s.Dst}
	d := h.delackOf(k)
	if d == nil {
		return false
	}
	now := h.now()
	if s.Len > 0 && d.ato > 0 && now-d.lrcv < d.ato {
		d.pingpong = true // data sent within the ACK timeout of data received
	}
	if s.Len > 0 && !d.sizeNoted && d.peerMSS > 0 && s.Len == d.peerMSS-40 && s.Opts.HasTS {
		d.sizeNoted = true // the first full-sized segment says so; the rest are alike
		p.cause.Diff = event.DiffSegmentSize
	}
	if s.Flags&segment.RST != 0 {
		d.held = false // the connection is over: no ACK is owed
		return false
	}
	if s.Flags&segment.ACK == 0 {
		return false
	}
	if !d.hasRcv || d.high.LessThan(s.Ack) {
		d.high = s.Ack // nothing received beyond what is acknowledged
	}
	d.rcvNxt, d.hasRcv = s.Ack, true
	if s.Flags&segment.SYN != 0 {
		return false
	}
	pureAck := s.Len == 0 && s.Flags&segment.FIN == 0
	if pureAck && d.pending && d.delay && p.cause.Kind == event.ByArrival && p.cause.Ref == d.pendingRef {
		if h.delackSchedule(k, d, now) {
			return true
		}
	}
	if pureAck && d.pending && d.dup && h.settings.Linux.DSACK && p.cause.Kind == event.ByArrival {
		p.cause.Diff = event.DiffDSACK
	}
	// tcp_event_ack_sent: whatever carries the acknowledgement ends the
	// wait for it.
	if d.held {
		d.held = false
		if !pureAck {
			p.cause.Emu, p.cause.Delay = event.EmuDelayedAck, now-d.heldAt
		}
	}
	if d.pending && d.quick > 0 {
		// tcp_dec_quickack_mode: leaving quick-ack mode deflates the
		// ACK timeout.
		if d.quick--; d.quick == 0 {
			d.ato = delackMin
		}
	}
	d.ack, d.hasAck = s.Ack, true
	d.pending, d.delay, d.unacked = false, false, 0
	d.pushed, d.pushed2 = false, false
	return false
}

// delackSchedule holds the ACK Linux would schedule now
// (tcp_send_delayed_ack), and arms the timer. It reports false when Linux
// sends it after all: a scheduled ACK whose timer is about to fire goes at
// once.
func (h *Host) delackSchedule(k connKey, d *delack, now time.Duration) bool {
	ato := d.timeout()
	if ato == 0 {
		// No data has arrived (a bare FIN): no ACK timeout yet, and
		// Linux's timer fires at the next tick. tcplab takes that as at
		// once.
		return false
	}
	deadline := now + ato
	if d.held {
		if d.deadline <= now+ato/4 {
			return false
		}
		deadline = min(deadline, d.deadline)
	} else {
		d.held, d.heldAt = true, now
	}
	d.deadline = deadline
	if d.armed && d.armedAt <= deadline {
		return true // it fires first, and is armed again then
	}
	if d.timer == nil {
		// The network's clock, not the stack's (hostClock): this timer
		// is the host's own.
		d.timer = h.clock.(*hostClock).Clock.AfterFunc(deadline-now, func() { h.delackFired(k, d) })
	} else {
		d.timer.Reset(deadline - now)
	}
	d.armed, d.armedAt = true, deadline
	return true
}

// delackFired runs the delayed-ACK timer of connection k
// (tcp_delack_timer_handler): it sends the held ACK if it is due, and
// adapts the ACK timeout, which grows each time the timer has to send an
// ACK outside ping-pong mode; in ping-pong mode the connection leaves it.
func (h *Host) delackFired(k connKey, d *delack) {
	d.armed = false
	if h.linux.acks[k] != d || !d.held || d.ep == nil {
		return // sent meanwhile, or the connection is forgotten
	}
	now := h.now()
	if now < d.deadline {
		d.timer.Reset(d.deadline - now)
		d.armed, d.armedAt = true, d.deadline
		return
	}
	c := event.TimerCause(event.TimerDelayedAck)
	h.setCause(c)
	h.touch(d.ep)
	state := linuxState(tcp.EndpointState(d.ep.State()))
	if !h.delackSend(d, c) {
		return // the connection is over
	}
	// Reported before the ACK it sent, which waits in the NIC queue.
	h.obs.Timer(&event.Timer{At: now, Host: h.name, Local: k.local, Remote: k.remote, Kind: event.TimerDelayedAck, State: state})
	if d.pingpong {
		d.pingpong, d.ato = false, delackMin
	} else if rto := d.rto(); rto > 0 {
		d.ato = min(2*d.ato, rto)
	} else {
		d.ato *= 2
	}
}

// delackSend has netstack send the held ACK now, with cause c. It reports
// false when the connection is no longer one that acknowledges.
func (h *Host) delackSend(d *delack, c event.Cause) bool {
	held := h.now() - d.heldAt
	d.held = false
	c.Emu, c.Delay = event.EmuDelayedAck, held
	prev := h.cause
	h.setCause(c)
	sent := d.ep.SendAck()
	h.setCause(prev)
	return sent
}

// linuxRead follows the application's read of n bytes from ep
// (tcp_cleanup_rbuf); queued says netstack queued a segment during the
// read (a window update), which carries the ACK. When an ACK is held and
// no such segment carries it, the read sends it if more than a full
// segment waits to be acknowledged, or if it emptied the receive queue
// that a small segment filled (two in ping-pong mode).
func (h *Host) linuxRead(ep tcpip.Endpoint, n int, queued bool) {
	if n <= 0 || queued || len(h.linux.acks) == 0 {
		return
	}
	t := h.known[ep]
	if t == nil {
		return
	}
	d := h.delackOf(connKey{t.local, t.remote})
	if d == nil || !d.held || d.ep == nil {
		return
	}
	now := d.unacked > d.rcvMSS
	if !now && (d.pushed2 || d.pushed && !d.pingpong) {
		queued, err := ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
		now = err == nil && queued == 0
	}
	if now {
		h.delackSend(d, h.cause)
	}
}

// read reads from ep into dst as the application's read does,
// and lets the linux profile see what it read.
func (h *Host) read(ep tcpip.Endpoint, dst io.Writer) (tcpip.ReadResult, tcpip.Error) {
	if !h.settings.emulates() {
		return ep.Read(dst, tcpip.ReadOptions{})
	}
	before := h.nic.queued()
	res, err := ep.Read(dst, tcpip.ReadOptions{})
	// A window update netstack sent for the read carries the ACK itself.
	h.linuxRead(ep, res.Count, h.nic.queued() > before)
	return res, err
}
