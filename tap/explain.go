package tap

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

// segInfo is what explainSent works out about one segment before
// explaining it.
type segInfo struct {
	r        *Row
	c        *conn
	d, o     int    // sending side, receiving side
	from, to string // host names
	segLen   uint32 // sequence space the segment occupies
	// prev holds the earlier transmissions of the range the segment
	// (re)sends; partial says the segment resends only part of it.
	prev    *xmit
	partial bool
	spoofed bool        // the source address is not the sending host's
	forged  bool        // an injection rule made it, not the sender's stack
	state   event.State // the sender's state when it sent the segment
}

// retrans reports whether the segment resends sequence space.
func (in *segInfo) retrans() bool { return in.prev != nil }

// lastTx returns the transmission before this one of the range resent.
func (in *segInfo) lastTx() *tx {
	if in.prev == nil || len(in.prev.txs) == 0 {
		return nil
	}
	return in.prev.txs[len(in.prev.txs)-1]
}

// sends returns how many times the range was sent before (at least 1 for
// a retransmission), and how long ago the last of those was.
func (in *segInfo) sends() (int, time.Duration) {
	last := in.lastTx()
	if last == nil {
		return 1, 0
	}
	return len(in.prev.txs), in.r.At - last.at
}

// explainSent fills in a segment row's relative numbers and notes when the
// segment enters the switch, from what the sender knew then: its state, the
// cause that made it send, what had reached it of its peer.
func (t *Tap) explainSent(r *Row) {
	s := r.Seg
	k := keyOf(s)
	c := t.conns[k]
	// A forged segment is an injection's or a middlebox's, not its
	// sender's stack's.
	forged := r.Injected != nil || r.Box != nil
	spoofed := r.Injected != nil && r.Injected.Spoofed || r.Box != nil
	reused := false
	if c != nil && s.Flags&(segment.SYN|segment.ACK) == segment.SYN && c.over() {
		if d := c.sideOf(s.Src); !(c.synSeen[d] && c.base[d] == s.Seq) {
			c, reused = nil, true
		}
	}
	if c != nil && s.Flags&(segment.SYN|segment.ACK) == segment.SYN|segment.ACK && c.over() && !spoofed {
		if d := c.sideOf(s.Src); !(c.synSeen[d] && c.base[d] == s.Seq) {
			// A SYN-ACK with a new ISN after the connection is over
			// answers an old duplicate SYN: a new incarnation.
			c = c.oldSynIncarnation(s)
			t.conns[k] = c
		}
	}
	if c != nil && c.forgedOnly && !forged {
		if s.Flags&(segment.SYN|segment.ACK) == segment.SYN {
			c = nil // forged segments made up all that was known of it
		} else {
			c.forgedOnly = false // a real answer to them
		}
	}
	if c == nil {
		c = newConn(s)
		c.forgedOnly = forged
		t.conns[k] = c
	}
	in := &segInfo{r: r, c: c, d: c.sideOf(s.Src), from: t.Name(s.Src.Addr()), to: t.Name(s.Dst.Addr()), spoofed: spoofed, forged: forged}
	in.o = 1 - in.d
	in.state = t.stateOf(r.Host, s.Src, s.Dst)
	t.number(in)
	if reused {
		r.note("seg.reuse", s.Src, s.Dst)
	}
	switch {
	case spoofed && s.Flags&(segment.RST|segment.SYN) == 0:
		r.note("seg.forged", s.Flags.String(), in.from)
	case in.forged && s.Flags&(segment.RST|segment.SYN) == 0 && !c.synSeen[0] && !c.synSeen[1]:
		r.note("seg.forged.noconn", s.Flags.String(), in.to)
	case s.Flags&segment.RST != 0:
		t.explainRST(in)
	case s.Flags&segment.SYN != 0:
		t.explainSYN(in)
	default:
		t.explainOther(in)
	}
	c.last = r.At
	if !in.forged {
		c.lastFlags[in.d] = s.Flags
	}
}

// number computes the row's relative numbers, window and bytes in flight,
// and records the transmission.
func (t *Tap) number(in *segInfo) {
	r, c, d, o := in.r, in.c, in.d, in.o
	s := r.Seg
	if s.Flags&segment.SYN != 0 && !c.synSeen[d] && !in.spoofed || !c.hasBase[d] {
		if s.Flags&segment.SYN != 0 && !c.synSeen[d] {
			c.synSeen[d] = true
			c.synOpts[d] = s.Opts.Clone() // not s's: the packet's memory can go
			c.ws[d] = s.Opts.WS
		}
		c.base[d], c.hasBase[d] = s.Seq, true
	}
	r.RelSeq = uint32(s.Seq - c.base[d])
	if s.Flags&segment.ACK != 0 && c.hasBase[o] {
		r.RelAck = uint32(s.Ack - c.base[o])
		r.HasAck = true
	}
	r.Window = int(s.Win)
	if s.Flags&segment.SYN == 0 && c.ws[0] >= 0 && c.ws[1] >= 0 {
		r.Window = int(s.Win) << c.ws[d]
	}
	r.sackBase = c.base[o]
	in.segLen = uint32(s.Span())
	if in.forged {
		return // a forged segment says nothing about the real sender
	}
	x := &tx{frame: r.No, at: r.At, ack: r.RelAck}
	r.tx = x
	if r.HasAck && seqGT(r.RelAck, c.una[o]) {
		c.una[o] = r.RelAck
	}
	if r.HasAck && s.Flags&segment.RST == 0 {
		c.lastAck[d] = x
		// A stack's ACK is its RCV.NXT: what it really has in order,
		// whatever the model of its receive queue guessed.
		var sack []span
		for _, b := range s.Opts.SACK {
			sack = append(sack, span{uint32(b.Start - c.base[o]), uint32(b.End - c.base[o])})
		}
		c.rcv[d].sync(r.RelAck, c.synOpts[0].SACKPerm && c.synOpts[1].SACKPerm, sack)
	}
	if s.Flags&segment.RST == 0 {
		c.win[d], c.hasWin[d] = r.Window, true
	}
	end := r.RelSeq + in.segLen
	if in.segLen > 0 && s.Flags&segment.RST == 0 {
		in.prev, in.partial = c.xmits[d].add(r.RelSeq, end, x)
		if in.prev == nil && seqLT(r.RelSeq, c.high[d]) {
			// Resends what was sent as part of ranges already forgotten.
			in.prev = &xmit{start: r.RelSeq, end: end}
			if s.Flags&segment.SYN != 0 {
				// A SYN-ACK of a simultaneous open whose SYN was
				// acknowledged: its earlier SYNs are remembered.
				in.prev.txs = slices.Clone(c.synTxs[d][synKind(s.Flags)])
			}
		}
	}
	if s.Flags&segment.SYN != 0 && s.Flags&segment.RST == 0 {
		k := synKind(s.Flags)
		c.synTxs[d][k] = append(c.synTxs[d][k], x)
	}
	if seqGT(end, c.high[d]) && r.Analysis&ZeroWindowProbe == 0 {
		c.high[d] = end // a zero-window probe's byte is sent again later, as Wireshark counts it
	}
	r.InFlight = int(c.high[d] - c.una[d])
	if !c.synSeen[d] && c.una[d] == 0 {
		r.InFlight = int(c.high[d] - r.RelSeq)
	}
}

// synKind indexes a side's SYN transmissions: 0 for a SYN, 1 for a
// SYN-ACK.
func synKind(f segment.Flags) int {
	if f&segment.ACK != 0 {
		return 1
	}
	return 0
}

// answers returns what arrived at the sender and made it send this
// segment, when the segment's cause is an arrival at the sender on this
// connection.
func (in *segInfo) answers() (arrivalInfo, bool) {
	a := in.c.arrived[in.d]
	if in.r.Cause.Kind == event.ByArrival && a.ref == in.r.Cause.Ref && a.ref.Frame != 0 {
		return a, true
	}
	return arrivalInfo{}, false
}

// explainSYN explains a SYN or SYN-ACK.
func (t *Tap) explainSYN(in *segInfo) {
	r, c, o := in.r, in.c, in.o
	s := r.Seg
	if s.Flags&segment.ACK == 0 {
		switch {
		case in.spoofed && c.handshake >= 3 && !c.over():
			r.note("seg.syn.forged.conn", in.from, r.RelSeq, in.to)
		case in.spoofed:
			r.note("seg.syn.spoofed", s.Src.Addr(), in.to)
		case in.retrans() && r.Cause.Emu == event.EmuSynSchedule:
			n, wait := in.sends()
			r.note("seg.syn.retrans.linux", n, wait, in.to)
			t.whySYNRetrans(in)
			r.note("diff.synschedule")
		case in.retrans():
			n, wait := in.sends()
			r.note("seg.syn.retrans", n, wait, in.to)
			t.whySYNRetrans(in)
		case c.synSeen[o] && c.handshake == 1 && !c.simOpen:
			c.simOpen = true
			r.note("seg.simopen.syn", in.from, in.to)
		default:
			c.handshake = 1
			r.note("seg.hs1", in.from, in.to, uint32(s.Seq))
			r.note("seg.opts.offer", optList(s.Opts))
		}
		return
	}
	first := !c.synAckSent[in.d]
	c.synAckSent[in.d] = true
	a, isAnswer := in.answers()
	switch {
	case c.simOpen && first:
		r.note("seg.simopen.synack", in.from, in.to, uint32(s.Ack), uint32(s.Ack-1))
	case in.retrans() && isAnswer && a.flags&(segment.SYN|segment.ACK) == segment.SYN:
		r.note("seg.synack.again", in.from, a.ref.Frame, in.to)
		if r.Cause.Emu == event.EmuSynAckAgain {
			r.note("diff.synack.again")
		}
	case in.retrans():
		n, wait := in.sends()
		r.note("seg.synack.retrans", n, wait, in.to)
		t.whySynAckRetrans(in)
	case c.simOpen:
		r.note("seg.simopen.synack", in.from, in.to, uint32(s.Ack), uint32(s.Ack-1))
	case c.oldSyn && first || c.over() || c.handshake >= 3:
		r.note("seg.synack.old", in.from, uint32(s.Ack-1))
	case isAnswer && a.cookie:
		c.cookie = true
		c.handshake = 2
		r.note("seg.synack.cookie", in.from, uint32(s.Seq), in.to)
		r.note("diff.cookie")
	default:
		c.handshake = 2
		r.note("seg.hs2", in.from, in.to, uint32(s.Ack), uint32(s.Ack-1), uint32(s.Seq))
		r.Notes = append(r.Notes, negotiated(c.synOpts[o], s.Opts))
	}
	if !in.spoofed {
		c.synAck = r.tx
	}
}

// whySYNRetrans says why no SYN-ACK reached the client: what became of its
// last SYN, and of the SYN-ACK that answered it.
func (t *Tap) whySYNRetrans(in *segInfo) {
	r, c := in.r, in.c
	last := in.lastTx()
	switch {
	case last == nil:
	case last.arrived && last.verdict == event.SynQueueOverflow:
		r.note("seg.syn.retrans.dropped", in.to)
	case last.delivered() && c.synAck != nil && c.synAck.frame > last.frame:
		r.note("why.synack", in.to, c.synAck.fate(t, in.from))
	case last.delivered() && c.lastRst[in.o] != nil && c.lastRst[in.o].frame > last.frame:
		r.note("why.synrst", in.to, c.lastRst[in.o].fate(t, in.from))
	default:
		r.note("why.prev", last.fate(t, in.to))
	}
}

// whySynAckRetrans says why no final ACK reached the server: what became of
// the client's final ACK, or of the SYN-ACK itself.
func (t *Tap) whySynAckRetrans(in *segInfo) {
	r, c := in.r, in.c
	last := in.lastTx()
	switch {
	case c.finalAck != nil && last != nil && c.finalAck.frame > last.frame:
		r.note("why.finalack", c.finalAck.fate(t, in.from))
	case last != nil:
		r.note("why.prev", last.fate(t, in.to))
	}
}

// explainRST explains a reset: who sent it and why, from its cause.
func (t *Tap) explainRST(in *segInfo) {
	r, c := in.r, in.c
	if r.Box != nil {
		t.explainBoxRST(in)
		return
	}
	if in.forged {
		c.explainForgedRST(in)
		return
	}
	c.reset = true
	prev := t.endOf(r.Host, r.Seg.Src, r.Seg.Dst)
	a, isAnswer := in.answers()
	c.lastRst[in.d] = r.tx
	if r.Cause.Emu == event.EmuBareRST {
		defer r.note("diff.bare.rst")
	}
	switch {
	case r.Cause.Emu == event.EmuAbortOnOverflow:
		r.note("seg.rst.overflow", in.from, in.to)
		r.note("diff.abortoverflow")
	case isAnswer && a.verdict == event.Forgotten:
		r.note("seg.rst.rebooted", in.from, t.rebooted[r.Host], t.crashed[r.Host])
	case isAnswer && a.verdict == event.NoSocket && a.flags&(segment.SYN|segment.ACK) == segment.SYN:
		r.note("seg.rst.refused", in.from, r.Seg.Src.Port(), in.to)
	case c.lastFlags[in.d]&segment.RST != 0:
		// The sender reset this connection already: what it answers now
		// (the peer's FIN, a retransmission) has no connection left.
		r.note("seg.rst.noconn", in.from)
	case r.Cause.Kind == event.ByApp && r.Cause.Op == "abort":
		r.note("seg.rst.abort", in.from)
	case r.Cause.Kind == event.ByApp && r.Cause.Op == "close":
		r.note("seg.rst.unread", in.from)
	case r.Cause.Kind == event.ByTimer:
		r.note("seg.rst.timeout", in.from, in.to)
	case isAnswer && a.flags&(segment.SYN|segment.ACK) == segment.SYN|segment.ACK:
		r.note("seg.rst.synack", in.from)
	case isAnswer && prev != nil && prev.closedByApp && (prev.state != event.Closed || prev.cause.Kind == event.ByArrival && prev.cause.Ref == a.ref):
		was := prev.state
		if was == event.Closed {
			was = prev.was
		}
		if a.end == a.start {
			r.note("seg.rst.closed.ack", in.from, was)
		} else {
			r.note("seg.rst.closed", in.from, was)
		}
	case prev == nil || prev.state == event.Closed || isAnswer && (a.verdict == event.NoSocket || a.verdict == event.Refused):
		r.note("seg.rst.noconn", in.from)
	default:
		r.note("seg.rst", in.from)
	}
}

// explainForgedRST explains a RST whose source address the sender does not
// own, by where its sequence number falls in the receiver's window (RFC
// 5961).
func (c *conn) explainForgedRST(in *segInfo) {
	r, d, o := in.r, in.d, in.o
	next := c.high[d] // what the receiver expects next from the claimed sender
	if c.rcv[o].started {
		next = c.rcv[o].nxt
	}
	rel := r.RelSeq
	win := uint32(max(c.win[o], 0))
	switch {
	case !c.synSeen[0] && !c.synSeen[1] && !c.hasWin[0] && !c.hasWin[1]:
		r.note("seg.rst.forged.noconn", in.from, in.to)
	case rel == next:
		c.reset = true
		r.note("seg.rst.forged.exact", in.from, in.to, rel)
	case c.hasWin[o] && seqGE(rel, next) && seqLT(rel, next+win):
		c.challenge[o] = i18n.M("seg.challenge.rst", rel, next)
		r.note("seg.rst.forged.window", in.from, in.to, rel, next)
	default:
		r.note("seg.rst.forged.outside", in.from, in.to, rel, next, next+win)
	}
}

// explainOther explains a segment without SYN or RST: the handshake's last
// step, data, FIN, or an ACK of some kind.
func (t *Tap) explainOther(in *segInfo) {
	r, c, d, o := in.r, in.c, in.d, in.o
	s := r.Seg
	a := r.Analysis
	got, isAnswer := in.answers()

	// The handshake's third step: the client's ACK of the SYN-ACK that
	// just reached it (or of a repeated one).
	synAck := isAnswer && got.flags&(segment.SYN|segment.ACK) == segment.SYN|segment.ACK
	if s.Flags&segment.ACK != 0 && s.Flags&segment.FIN == 0 && d == 0 && c.synSeen[o] && r.RelAck == 1 && !in.spoofed && s.Len == 0 &&
		(c.handshake == 2 && r.Cause.Kind != event.ByTimer || c.handshake == 3 && c.finalAck != nil && synAck) {
		again := c.finalAck != nil
		c.handshake = 3
		switch {
		case again:
			r.note("seg.hs3.again", in.from, in.to, c.finalAck.fate(t, in.to))
		case c.cookie:
			r.note("seg.hs3.cookie", in.from, in.to, uint32(s.Ack), uint32(s.Ack-1))
		default:
			r.note("seg.hs3", in.from, in.to, uint32(s.Ack), uint32(s.Ack-1))
		}
		c.finalAck = r.tx
		return
	}
	// A server in SYN_RCVD that receives the client's SYN again.
	if in.state == event.SynRcvd && !c.simOpen && s.Len == 0 && s.Flags&segment.FIN == 0 && isAnswer && got.flags&(segment.SYN|segment.ACK) == segment.SYN {
		r.note("seg.synrcvd.ack", in.from, got.ref.Frame, in.to)
		return
	}
	if c.simOpen && c.handshake < 3 && s.Len == 0 && s.Flags&segment.FIN == 0 {
		r.note("seg.simopen.ack", in.from, in.to)
		if d == 1 {
			c.handshake = 3
		}
		return
	}
	if c.synSeen[0] && c.synSeen[1] && c.handshake < 3 {
		c.handshake = 3
	}

	// Close steps: a FIN, and the ACK that covers it.
	acksFin := s.Flags&segment.ACK != 0 && c.finSent[o] && !c.finAcked[o] && seqGE(r.RelAck, c.finSeq[o]+1)
	if acksFin {
		c.finAcked[o] = true
	}

	switch {
	case s.Len > 0:
		t.explainData(in)
	case r.Cause.Kind == event.ByTimer && r.Cause.Timer == event.TimerKeepalive:
		c.keepalives[d]++
		r.probe = keepaliveProbe
		if in.state == event.TimeWait {
			r.note("seg.keepalive.tw", c.keepalives[d], in.from, t.silence(in), r.RelSeq, in.to)
			r.note("diff.keepalive.timewait")
		} else {
			r.note("seg.keepalive", c.keepalives[d], in.from, t.silence(in), r.RelSeq, in.to)
		}
		return
	}

	switch {
	case s.Flags&segment.FIN != 0:
		t.explainFIN(in, acksFin)
	case acksFin && c.simClose:
		r.note("seg.simclose.ack", in.from, in.to)
	case acksFin && o == c.firstFin:
		r.note("seg.close2", in.from, in.to, r.RelAck)
	case acksFin:
		r.note("seg.close4", in.from, in.to)
	case s.Len > 0:
		// explained as data
	case !c.challenge[d].IsZero():
		r.note("seg.challenge", in.from, c.challenge[d], r.RelAck)
		c.challenge[d] = i18n.Msg{}
	case isAnswer && got.flags&(segment.RST|segment.SYN) != 0 && got.ref.Copy == 0 && c.handshake >= 3:
		r.note("seg.challenge", in.from, i18n.M("seg.challenge.got", got.flags.Spoken()), r.RelAck)
	case isAnswer && got.probe == keepaliveProbe:
		r.note("seg.keepalive.ack", in.from, r.RelAck)
	case isAnswer && got.probe == zeroWindowProbe:
		r.note("seg.zwp.ack", in.from, r.Window)
	case s.Win == 0:
		r.note("seg.zerowin", in.from, in.to)
	case c.finAcked[o] && c.finAcked[d] && c.finSent[d] && c.finSent[o]:
		r.note("seg.close4.again", in.from, in.to)
	case isAnswer && got.fit == fitDuplicate:
		t.explainDupData(in, got)
	case isAnswer && got.fit == fitAhead:
		t.explainGap(in, got)
	case a&DupAck != 0:
		r.note("seg.dupack.plain", r.DupAckNum, r.DupAckOf, in.from, r.RelAck)
	case a&WindowUpdate != 0:
		r.note("seg.winupdate", in.from, r.Window, in.to)
	default:
		r.note("seg.ack", in.from, r.RelAck)
	}
	if s.Flags&segment.FIN == 0 && len(s.Opts.SACK) > 0 {
		r.Notes = append(r.Notes, sackNote(r))
	}
	if r.Cause.Diff == event.DiffDSACK {
		r.note("diff.dsack", in.from)
	}
	if r.Cause.Emu == event.EmuDelayedAck {
		switch {
		case (s.Len > 0 || s.Flags&segment.FIN != 0) && r.Cause.Delay == 0:
			r.note("diff.delack.carried.now", in.from)
		case s.Len > 0 || s.Flags&segment.FIN != 0:
			r.note("diff.delack.carried", in.from, r.Cause.Delay)
		case r.Cause.Kind == event.ByTimer:
			r.note("diff.delack.timer", in.from, r.Cause.Delay)
		case r.Cause.Delay == 0:
			r.note("diff.delack.read.now", in.from)
		default:
			r.note("diff.delack.read", in.from, r.Cause.Delay)
		}
	}
}

// silence returns how long the sender of a keep-alive probe has heard
// nothing from its peer: since the last segment of the peer that reached
// it (the ground truth, not what a capture point saw), or since the
// connection's last segment when it never heard anything.
func (t *Tap) silence(in *segInfo) time.Duration {
	if in.c.hasHeard[in.d] {
		return in.r.At - in.c.heard[in.d]
	}
	return in.r.At - in.c.last
}

// explainDupData explains an ACK that answers data its sender already had:
// a duplicate ACK, though nothing new is missing.
func (t *Tap) explainDupData(in *segInfo, got arrivalInfo) {
	r, c := in.r, in.c
	if r.Analysis&DupAck != 0 {
		r.note("seg.dupack.num", r.DupAckNum, r.DupAckOf)
	}
	if hole, ok := c.rcv[in.d].hole(); ok {
		r.note("seg.ack.dupdata.gap", in.from, got.start, got.end, got.ref.Frame, hole.start, hole.end)
		t.whyMissing(in, hole.start)
		return
	}
	what := "seg.ack.dupdata"
	if got.ref.Copy > 0 {
		what = "seg.ack.dupcopy"
	}
	r.note(what, in.from, r.RelAck, got.start, got.end, got.ref.Frame)
}

// explainGap explains an ACK that answers data beyond the next byte its
// sender expects: a segment before it is missing, and the note says what
// became of it.
func (t *Tap) explainGap(in *segInfo, got arrivalInfo) {
	r, c := in.r, in.c
	if r.Analysis&DupAck != 0 {
		r.note("seg.dupack.num", r.DupAckNum, r.DupAckOf)
	}
	gap := got.start
	if hole, ok := c.rcv[in.d].hole(); ok {
		gap = hole.end
	}
	if got.flags&segment.FIN != 0 && got.end-got.start == 1 {
		r.note("seg.ack.gap.fin", in.from, got.ref.Frame, got.nxt, gap)
	} else {
		r.note("seg.ack.gap", in.from, got.start, got.end, got.ref.Frame, got.nxt, gap)
	}
	t.whyMissing(in, got.nxt)
}

// whyMissing says what became of the data at seq that the sender of an ACK
// is missing: its last transmission's fate.
func (t *Tap) whyMissing(in *segInfo, seq uint32) {
	if x := in.c.xmits[in.o].find(seq); x != nil && len(x.txs) > 0 {
		in.r.note("why.missing", x.txs[len(x.txs)-1].fate(t, in.from))
	}
}

// explainData explains a segment that carries data.
func (t *Tap) explainData(in *segInfo) {
	r, c, d := in.r, in.c, in.d
	s := r.Seg
	a := r.Analysis
	from, to := r.RelSeq, r.RelSeq+uint32(s.Len)
	if r.Cause.Kind != event.ByTimer || r.Cause.Timer != event.TimerKeepalive {
		c.keepalives[d] = 0
	}
	switch {
	case s.Len == 1 && c.winKnown[d] && c.winSeen[d] == 0 && (r.Cause.Kind == event.ByTimer || in.forged):
		// The last window of the peer that reached the sender is 0:
		// its timer makes it probe (netstack probes on its
		// retransmission timer, backing off like it).
		c.zwps[d]++
		r.probe = zeroWindowProbe
		r.note("seg.zwp", c.zwps[d], in.to, in.from)
		if seqLT(r.RelSeq, c.known[d]) {
			r.note("diff.zwp")
		}
		return
	case in.retrans():
		t.explainRetrans(in, from, to)
	case c.finHeard(d) && !c.finSent[d]:
		if e := t.endOf(in.to, s.Dst, s.Src); e == nil || e.state == event.Closed || e.closedByApp {
			r.note("seg.data.orphan", s.Len, in.from, from, to, in.to)
		} else {
			r.note("seg.data.halfclose", s.Len, in.from, from, to, in.to)
		}
	case s.Flags&segment.PSH != 0:
		r.note("seg.data.psh", s.Len, in.from, from, to)
	default:
		r.note("seg.data", s.Len, in.from, from, to)
	}
	if !in.retrans() && a&Retransmission != 0 {
		r.note("ws.newdata")
	}
	switch {
	case r.Cause.Nagle > 0 && r.Cause.Kind == event.ByArrival:
		r.note("seg.nagle.ack", in.from, r.Cause.Nagle, r.Cause.Ref.Frame)
	case r.Cause.Nagle > 0:
		r.note("seg.nagle", in.from, r.Cause.Nagle)
	}
	if r.Cause.Diff == event.DiffSegmentSize {
		mss := c.synOpts[in.o].MSS
		r.note("diff.segsize", s.Len, mss, mss-12)
	}
	if a&WindowFull != 0 {
		r.note("seg.winfull", in.from, in.to, r.InFlight)
	} else if r.InFlight > s.Len && !in.retrans() {
		r.note("seg.inflight", r.InFlight)
	}
}

// explainRetrans explains a retransmission of [from, to): what made the
// sender resend it (its cause), what became of the transmission before,
// whether the receiver already had it, and where Wireshark, looking at the
// capture of what was sent, sees it differently.
func (t *Tap) explainRetrans(in *segInfo, from, to uint32) {
	r, c, d, o := in.r, in.c, in.d, in.o
	a := r.Analysis
	n, wait := in.sends()
	last := in.lastTx()
	got, isAnswer := in.answers()
	kind := "other"
	switch {
	case r.Cause.Kind == event.ByTimer && r.Cause.Timer == event.TimerRTO:
		kind = "rto"
		r.note("seg.retrans.rto", n, from, to, wait)
	case r.Cause.Kind == event.ByTimer && r.Cause.Timer == event.TimerTLP:
		kind = "tlp"
		r.note("seg.retrans.tlp", from, to)
	case r.Cause.Kind == event.ByTimer && r.Cause.Timer == event.TimerRACK:
		kind = "rack"
		r.note("seg.retrans.rack", from, to)
	case isAnswer && got.sack && seqGE(from, got.sackHigh):
		kind = "recovery"
		r.note("seg.retrans.rescue", from, to, got.ref.Frame)
	case isAnswer && got.sack:
		kind = "recovery"
		r.note("seg.retrans.sack", from, to, got.ref.Frame)
	case isAnswer && c.dupSeen[d] >= 3:
		kind = "fast"
		r.note("seg.retrans.fast", from, to, in.from, c.dupSeen[d])
	case isAnswer:
		kind = "recovery"
		r.note("seg.retrans.partial", from, to, got.ref.Frame, got.ack)
	default:
		r.note("seg.retrans", from, to)
	}
	// What became of the transmission before, and whether the receiver
	// had the data after all.
	rcv := &c.rcv[o]
	switch {
	case rcv.started && seqLE(to, rcv.nxt) && seqGE(c.known[d], to):
		r.note("why.had.acked", in.to)
	case rcv.started && seqLE(to, rcv.nxt):
		r.note("why.had", in.to, in.from, t.ackFate(c, o, to, in.from))
	case rcv.has(from, to):
		r.note("why.held", in.to, rcv.nxt, t.ackFate(c, o, 0, in.from))
	default:
		t.whyPrev(in, last, to)
	}
	// Wireshark's view, where it differs.
	switch {
	case a&SpuriousRetransmission != 0 && seqLT(c.known[d], to):
		r.note("ws.spurious", in.to, in.from)
	case a&FastRetransmission != 0 && kind != "fast" && kind != "recovery":
		r.note("ws.fast", timerName(r.Cause))
	case a&OutOfOrder != 0:
		r.note("ws.ooo")
	}
}

// whyPrev says what became of the transmission before a retransmission
// of sequence space ending at to: dropped, in flight, or delivered but not
// kept by the receiver (out of order, beyond its window), as its ACK shows.
func (t *Tap) whyPrev(in *segInfo, last *tx, to uint32) {
	if last == nil {
		return
	}
	rcv := &in.c.rcv[in.o]
	if last.delivered() && rcv.has(to-1, to) && seqLE(to, rcv.nxt) {
		in.r.note("why.had", in.to, in.from, t.ackFate(in.c, in.o, to, in.from))
		return
	}
	if last.delivered() && rcv.started && seqLT(rcv.nxt, to) && !rcv.has(to-1, to) {
		in.r.note("why.notkept", last.frame, in.to, rcv.nxt)
		if s := in.r.Seg; last.ahead && s.Flags&segment.FIN != 0 && s.Len == 0 && in.r.RelSeq == rcv.nxt {
			// A FIN that arrived above a hole, now filled: Linux
			// would have queued it and taken it with the hole.
			in.r.note("diff.fin.ooo", in.to)
		}
		return
	}
	in.r.note("why.prev", last.fate(t, in.to))
}

// ackFate describes what became of the last ACK side o sent, which did not
// reach its peer in time: when to is not 0, only an ACK up to to counts.
func (t *Tap) ackFate(c *conn, o int, to uint32, peer string) i18n.Msg {
	x := c.lastAck[o]
	if x == nil || to != 0 && seqLT(x.ack, to) {
		return i18n.M("why.noack")
	}
	return x.fate(t, peer)
}

// timerNames are the messages that name each timer.
var timerNames = map[event.TimerKind]string{
	event.TimerUnknown:    "timer.unknown",
	event.TimerRTO:        "timer.rto",
	event.TimerTLP:        "timer.tlp",
	event.TimerRACK:       "timer.rack",
	event.TimerCork:       "timer.cork",
	event.TimerKeepalive:  "timer.keepalive",
	event.TimerHandshake:  "timer.handshake",
	event.TimerFinWait2:   "timer.fin_wait_2",
	event.TimerTimeWait:   "timer.time_wait",
	event.TimerGuard:      "timer.rto_guard",
	event.TimerDelayedAck: "timer.delayed_ack",
}

// timerName names the timer of a cause, as a message.
func timerName(c event.Cause) i18n.Msg {
	if key, ok := timerNames[c.Timer]; ok && c.Kind == event.ByTimer {
		return i18n.M(key)
	}
	return i18n.M("timer.none")
}

// explainFIN explains a FIN: which step of the close it is.
func (t *Tap) explainFIN(in *segInfo, acksFin bool) {
	r, c, d, o := in.r, in.c, in.d, in.o
	if c.finSent[d] {
		if x := c.xmits[d].find(c.finSeq[d]); x != nil && len(x.txs) > 1 && r.Seg.Len == 0 && in.retrans() {
			_, wait := in.sends()
			n := len(x.txs) - 1
			got, isAnswer := in.answers()
			switch {
			case r.Cause.Kind == event.ByTimer && r.Cause.Timer == event.TimerTLP:
				r.note("seg.fin.tlp", wait, in.from)
			case r.Cause.Kind == event.ByTimer && r.Cause.Timer == event.TimerRTO:
				r.note("seg.fin.retrans", n, wait, in.from)
			case r.Cause.Kind == event.ByTimer && r.Cause.Timer == event.TimerRACK:
				r.note("seg.fin.retrans.rack", n, wait, in.from)
			case isAnswer:
				r.note("seg.fin.retrans.ack", n, wait, in.from, got.ref.Frame)
			default:
				r.note("seg.fin.retrans.other", n, wait, in.from)
			}
			t.whyPrev(in, in.lastTx(), c.finSeq[d]+1)
		} else {
			r.note("seg.fin.again", in.from)
		}
		return
	}
	c.finSent[d] = true
	c.finSeq[d] = r.RelSeq + uint32(r.Seg.Len)
	switch {
	case c.firstFin < 0:
		c.firstFin = d
		r.note("seg.close1", in.from, in.to)
	case acksFin:
		r.note("seg.close23", in.from, in.to)
	case !c.finAcked[o] && !seqGE(r.RelAck, c.finSeq[o]+1):
		c.simClose = true
		r.note("seg.simclose.fin", in.from, in.to)
	default:
		r.note("seg.close3", in.from)
	}
}

// explainInjected adds how an injection rule made a packet.
func (t *Tap) explainInjected(r *Row, how *event.Injected) {
	if how.Spoofed && r.Seg != nil {
		r.note("sw.inject.spoofed", how.Rule, r.Host, r.Seg.Src.Addr().String())
	} else {
		r.note("sw.inject", how.Rule, r.Host)
	}
	if r.Seg == nil {
		return
	}
	if how.NoSeq {
		r.note("sw.inject.noseq", r.From, r.To)
	}
	if how.NoAck {
		r.note("sw.inject.noack", r.To, r.From)
	}
}

// optList lists the options a SYN offers.
func optList(o segment.Options) i18n.Msg {
	var parts i18n.List
	if o.MSS > 0 {
		parts = append(parts, i18n.M("opt.mss", o.MSS))
	}
	if o.WS >= 0 {
		parts = append(parts, i18n.M("opt.ws", 1<<min(o.WS, 14)))
	}
	if o.SACKPerm {
		parts = append(parts, i18n.M("opt.sack"))
	}
	if o.HasTS {
		parts = append(parts, i18n.M("opt.ts"))
	}
	if len(parts) == 0 {
		return i18n.M("opt.none")
	}
	return i18n.M("opt.list", parts)
}

// negotiated explains what a SYN-ACK agrees to, given the SYN's options.
func negotiated(syn, synack segment.Options) i18n.Msg {
	mss := synack.MSS
	if syn.MSS > 0 && (mss == 0 || syn.MSS < mss) {
		mss = syn.MSS
	}
	ws := i18n.M("opt.off")
	if syn.WS >= 0 && synack.WS >= 0 {
		ws = i18n.M("opt.ws.on", 1<<min(syn.WS, 14), 1<<min(synack.WS, 14))
	}
	onOff := func(b bool) i18n.Msg {
		if b {
			return i18n.M("opt.on")
		}
		return i18n.M("opt.off")
	}
	return i18n.M("seg.negotiated", mss, ws, onOff(syn.SACKPerm && synack.SACKPerm), onOff(syn.HasTS && synack.HasTS))
}

// sackNote explains the SACK blocks of an ACK: what the receiver holds
// beyond its cumulative ACK, and the holes that leaves.
func sackNote(r *Row) i18n.Msg {
	var blocks, holes []string
	var spans []span
	for _, b := range r.Seg.Opts.SACK {
		sp := span{uint32(b.Start - r.sackBase), uint32(b.End - r.sackBase)}
		blocks = append(blocks, fmt.Sprintf("%d–%d", sp.start, sp.end))
		if seqGT(sp.end, r.RelAck) {
			spans = append(spans, sp)
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return int(int32(a.start - b.start)) })
	next := r.RelAck
	for _, sp := range spans {
		if seqGT(sp.start, next) {
			holes = append(holes, fmt.Sprintf("%d–%d", next, sp.start))
		}
		next = max32(next, sp.end)
	}
	return i18n.M("seg.sack", strings.Join(blocks, ", "), strings.Join(holes, ", "))
}
