package capture

import (
	"container/heap"
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// Deciding what a capture cannot show directly: why each segment was sent,
// and when (and whether) each reached its receiver.

// timeWait is how long Linux keeps an endpoint in TIME_WAIT, and
// finTimeout how long an orphaned FIN_WAIT_2 (tcp_fin_timeout).
const (
	timeWait   = 60 * time.Second
	finTimeout = 60 * time.Second
	// rtoMin is Linux's shortest retransmission timeout.
	rtoMin = 200 * time.Millisecond
)

// evidence decides the arrivals at side d that packet it, sent by d,
// proves: what its ACK covers, what it answers.
func (x *Explainer) evidence(c *conn, d int, it *item) {
	s := it.p.Seg
	for _, dl := range c.timed[d] {
		if !dl.done && probeAnswer(s, dl.seg) {
			x.deliver(dl, min(dl.due, it.at), event.Processed)
		}
	}
	c.timed[d] = live(c.timed[d])
	pend := c.pend[d]
	if len(pend) == 0 {
		return
	}
	rstUsed := false
	for _, dl := range pend {
		if dl.done {
			continue
		}
		ds := dl.seg
		proven, verdict, answer, resets := false, event.Processed, false, false
		switch {
		case ds.Flags&(segment.SYN|segment.ACK) == segment.SYN:
			switch {
			case s.Flags&segment.ACK != 0 && s.Ack == ds.Seq.Add(1) && s.Flags&(segment.SYN|segment.RST) != 0:
				proven, answer = true, true
				if s.Flags&segment.RST != 0 {
					verdict = event.NoSocket
				}
			case s.Flags&(segment.SYN|segment.RST|segment.ACK) == segment.ACK && c.st[d] == event.SynRcvd:
				proven = true // a repeated SYN answered with a bare ACK
			case s.Flags&(segment.SYN|segment.ACK) == segment.SYN && c.syns[d] == 0:
				// Our own SYN crossed it (simultaneous open): not
				// evidence either way yet.
			}
		case ds.Flags&segment.SYN != 0:
			if s.Flags&segment.ACK != 0 && ds.Seq.Add(1).LessThanEq(s.Ack) && s.Flags&segment.SYN == 0 || s.Flags&segment.RST != 0 && !rstUsed {
				proven, answer = true, true
				rstUsed = rstUsed || s.Flags&segment.RST != 0
			}
		default:
			switch {
			case s.Flags&segment.RST != 0 && !rstUsed:
				// The RST answers it: its arrival resets d.
				proven, rstUsed, resets = true, true, c.rstPlausible(d, s)
			case s.Flags&segment.ACK != 0 && s.Flags&segment.RST == 0 && dl.end().LessThanEq(s.Ack):
				proven = true
				answer = s.Ack == dl.end()
			case s.Flags&segment.ACK != 0 && sackCovers(s, ds):
				proven = true
			}
		}
		if !proven {
			continue
		}
		if answer {
			c.noteResp(d, it.at-dl.at)
		}
		at := min(dl.at+c.delay(d), it.at)
		if resets {
			dl.resets = true
		}
		x.deliver(dl, at, verdict)
	}
	c.pend[d] = live(c.pend[d])
}

// probeAnswer reports whether s answers probe p: a keep-alive or window
// probe (no data, or one byte, one below the next sequence number), which
// its receiver answers with an ACK at once.
func probeAnswer(s, p *segment.Segment) bool {
	return s.Flags&(segment.ACK|segment.RST|segment.SYN) == segment.ACK && p.Len <= 1 && p.Flags&(segment.SYN|segment.FIN|segment.RST) == 0 &&
		p.Seq.Add(1) == s.Ack
}

// sackCovers reports whether an ACK's SACK blocks cover segment ds.
func sackCovers(s, ds *segment.Segment) bool {
	for _, b := range s.Opts.SACK {
		if b.Start.LessThanEq(ds.Seq) && ds.End().LessThanEq(b.End) {
			return true
		}
	}
	return false
}

// live returns the deliveries not yet decided.
func live(ds []*delivery) []*delivery {
	n := 0
	for _, d := range ds {
		if !d.done {
			ds[n] = d
			n++
		}
	}
	clear(ds[n:])
	if n == 0 {
		return nil
	}
	return ds[:n]
}

// supersede decides, as unknown, the earlier transmissions still pending
// to side o that packet it (from its peer) sends again: the capture shows
// no answer to them before they were resent.
func (x *Explainer) supersede(c *conn, o int, it *item) {
	s := it.p.Seg
	if s.Flags&segment.RST != 0 || s.Span() == 0 {
		return
	}
	for _, dl := range c.pend[o] {
		ds := dl.seg
		if dl.done || ds.Flags&segment.RST != 0 {
			continue
		}
		again := false
		switch {
		case s.Flags&segment.SYN != 0:
			again = ds.Flags&(segment.SYN|segment.ACK) == s.Flags&(segment.SYN|segment.ACK) && ds.Seq == s.Seq
		default:
			again = ds.Flags&segment.SYN == 0 && s.Seq.LessThan(ds.End()) && ds.Seq.LessThan(s.End())
		}
		if again {
			x.unseen(dl, it.at)
		}
	}
	c.pend[o] = live(c.pend[o])
}

// plan decides how the arrival of delivery dl is decided, from what it is
// and, for the few segments whose effect shows only later, from the
// lookahead window.
func (x *Explainer) plan(dl *delivery, it *item) {
	c, s, y := dl.c, dl.seg, dl.to
	dl.due = it.at + c.delay(y)
	switch {
	case s.Flags&segment.RST != 0:
	case s.Span() > 0:
		dl.evidence = true
		dl.deadline = it.at + lookahead
	case c.st[y] == event.SynRcvd && s.Flags&segment.ACK != 0 && c.syns[y] > 0 && s.Ack == c.synSeq[y].Add(1):
		// The handshake's final ACK: it took unless the server sends its
		// SYN-ACK again.
		c.finalAck = true
		dl.dropped = x.resends(it, s.Dst, func(n *segment.Segment) bool {
			return n.Flags&(segment.SYN|segment.ACK) == segment.SYN|segment.ACK
		})
	case c.fin[y] && s.Flags&segment.ACK != 0 && c.finSeq[y].Add(1).LessThanEq(s.Ack) && !c.finAck[y]:
		// The ACK of the receiver's FIN: it took unless the receiver
		// sends its FIN again.
		fin := c.finSeq[y]
		dl.dropped = x.resends(it, s.Dst, func(n *segment.Segment) bool {
			return n.Flags&segment.FIN != 0 && n.Seq.Add(seqnum.Size(n.Len)) == fin
		})
	}
}

// resends reports whether, in the lookahead window after it, the endpoint
// from sends a segment that resend matches before it sends anything else
// of its connection (on its way to an answer, a resend means it did not
// get what it was waiting for).
func (x *Explainer) resends(it *item, from netip.AddrPort, resend func(*segment.Segment) bool) bool {
	for n := it.next; n != nil; n = n.next {
		if ns := n.p.Seg; ns.Src == from {
			return resend(ns)
		}
	}
	return false
}

// byDefault decides a delivery that no evidence decided by its deadline
// (or the end of the capture): a segment with sequence space reached a
// receiver the capture was taken near (the capture saw it reach it);
// otherwise, and for a SYN or SYN-ACK, the capture cannot tell.
func (x *Explainer) byDefault(dl *delivery, atEnd bool) {
	c, s := dl.c, dl.seg
	if s.Flags&segment.SYN == 0 && c.near(dl.to) {
		x.deliver(dl, dl.due, event.Processed)
		return
	}
	if s.Flags&(segment.SYN|segment.ACK) == segment.SYN && c.syns[dl.to] == 0 {
		c.noAnswer = true
	}
	if atEnd {
		x.note(dl.ref.Frame, i18n.M("cap.unseen.end"))
	}
	x.unseen(dl, dl.deadline)
}

// decided marks a delivery decided and takes it out of the heap, so that
// the heap holds only what is undecided.
func (x *Explainer) decided(dl *delivery) {
	dl.done = true
	if dl.index >= 0 {
		heap.Remove(&x.heap, dl.index)
	}
}

// unseen decides that whether dl reached its receiver cannot be told.
func (x *Explainer) unseen(dl *delivery, at time.Duration) {
	if dl.done {
		return
	}
	x.decided(dl)
	x.tap.Fate(&event.Fate{Kind: event.Unseen, Ref: dl.ref, At: max(at, x.lastT), To: dl.c.host[dl.to]})
}

// deliver decides that dl reached its receiver at time t, with the
// receiving stack's verdict: the tap gets the arrival, the receiver's
// state changes and the receipt.
func (x *Explainer) deliver(dl *delivery, t time.Duration, verdict event.Verdict) {
	if dl.done {
		return
	}
	if dl.dropped {
		x.unseen(dl, t)
		return
	}
	x.decided(dl)
	c, s, y := dl.c, dl.seg, dl.to
	estimate := max(t-dl.at, 0)
	at := x.clamp(t)
	if c.st[y] == event.Closed && verdict == event.Processed && s.Flags&(segment.SYN|segment.RST) == 0 && (c.sent[y] || c.rstBy == y) {
		verdict = event.NoSocket // its endpoint is gone
	}
	host := c.host[y]
	x.tap.Fate(&event.Fate{Kind: event.Arrived, Ref: dl.ref, At: at, Place: event.Place{Host: host, Dir: event.In}, To: host, Data: dl.data})
	inf := event.InferSeen
	if c.delay(y) > 0 {
		inf = event.InferFar
	}
	cause := event.Cause{Kind: event.ByArrival, Ref: dl.ref, Inferred: inf}
	if inf == event.InferFar {
		cause.Delay = estimate
	}
	for _, tr := range c.receive(y, s, verdict) {
		x.stateChange(c, y, at, tr, cause)
	}
	if dl.resets && c.st[y] != event.Closed && c.st[y] != event.Listen {
		// The receiver answers it with a RST: it has no socket that can
		// take it (the application closed it).
		x.stateChange(c, y, at, transition{c.st[y], event.Closed}, cause)
		c.st[y] = event.Closed
	}
	x.tap.Receipt(&event.Receipt{Ref: dl.ref, At: at, Host: host, Verdict: verdict})
	c.arr[y] = arrival{ref: dl.ref, at: at, flags: s.Flags, end: s.End(), data: s.Len > 0, span: s.Span() > 0, valid: true, ack: s.Ack, ackValid: s.Flags&segment.ACK != 0}
	c.answered[y] = false
	if s.Flags&segment.ACK != 0 && s.Flags&(segment.RST|segment.SYN) == 0 {
		switch {
		case c.acked[y].LessThan(s.Ack) || c.acked[y] == 0:
			c.acked[y], c.dupacks[y] = s.Ack, 0
		case s.Ack == c.acked[y] && s.Len == 0 && s.Flags&segment.FIN == 0 && s.Ack.LessThan(c.nxt[y]):
			c.dupacks[y]++
		}
	}
	if s.Len > 0 {
		c.dataIn[y] = at
	}
}

// stateChange gives the tap a state change of side d and keeps the
// half-open count and the TIME_WAIT timer.
func (x *Explainer) stateChange(c *conn, d int, at time.Duration, tr transition, cause event.Cause) {
	x.tap.StateChange(&event.StateChange{At: at, Host: c.host[d], Local: c.ends[d], Remote: c.ends[1-d], From: tr.from, To: tr.to, Cause: cause})
	switch {
	case tr.to == event.SynRcvd && tr.from == event.Listen:
		c.halfOpen = true
		x.halfOpen++
		x.peakHalfOpen = max(x.peakHalfOpen, x.halfOpen)
		if x.halfOpen >= x.opts.HalfOpenFlood && !x.floodNoted {
			x.floodNoted = true
			if cause.Kind == event.ByArrival {
				x.note(cause.Ref.Frame, i18n.M("cap.pat.flood", x.halfOpen, c.host[d]))
			}
		}
	case tr.from == event.SynRcvd && c.halfOpen:
		c.halfOpen = false
		x.halfOpen--
	}
	switch {
	case tr.to == event.TimeWait:
		tw := &delivery{c: c, to: d, due: at + timeWait, timer: true, index: -1}
		c.twTimer[d] = tw
		x.schedule(tw)
	case tr.to == event.FinWait2 && c.closeOp[d] == "close":
		// An orphaned FIN_WAIT_2 ends after tcp_fin_timeout.
		tw := &delivery{c: c, to: d, due: at + finTimeout, timer: true, index: -1}
		c.twTimer[d] = tw
		x.schedule(tw)
	}
}

// fire runs an inferred timer: TIME_WAIT ends after Linux's 60 s, and so
// does an orphaned FIN_WAIT_2 (tcp_fin_timeout).
func (x *Explainer) fire(tw *delivery) {
	tw.done = true
	c, d := tw.c, tw.to
	if c.twTimer[d] != tw {
		return
	}
	c.twTimer[d] = nil
	kind := event.TimerTimeWait
	switch c.st[d] {
	case event.TimeWait:
	case event.FinWait2:
		kind = event.TimerFinWait2
	default:
		return
	}
	at := x.clamp(tw.due)
	from := c.st[d]
	c.st[d] = event.Closed
	if c.selected {
		x.stateChange(c, d, at, transition{from, event.Closed}, event.Cause{Kind: event.ByTimer, Timer: kind, Inferred: event.InferLinux})
	}
}

// move changes side d's state because of what it sends, before the tap
// gets the segment.
func (x *Explainer) move(c *conn, d int, to event.State, at time.Duration, cause event.Cause) {
	if c.st[d] == to {
		return
	}
	tr := transition{c.st[d], to}
	c.st[d] = to
	if c.selected {
		x.stateChange(c, d, x.clamp(at), tr, cause)
	}
}

// sendSide infers why side d sent packet it, makes the state changes its
// sending implies (connect, close, abort), and returns the cause.
func (x *Explainer) sendSide(c *conn, d int, it *item) event.Cause {
	s := it.p.Seg
	o := 1 - d
	a := c.arr[d]
	recent := a.valid && !c.answered[d]
	// prompt: what reached d last came just before this: d answers it.
	prompt := recent && it.at-c.delay(d)-a.at <= 10*time.Millisecond+2*c.resp[d]
	answer := event.Cause{Kind: event.ByArrival, Ref: a.ref, Inferred: event.InferSeen}
	app := func(op string) event.Cause { return event.Cause{Kind: event.ByApp, Op: op, Inferred: event.InferSeen} }
	timer := func(k event.TimerKind) event.Cause {
		return event.Cause{Kind: event.ByTimer, Timer: k, Inferred: event.InferSeen}
	}
	if s.Flags&segment.SYN == 0 && s.Len > 0 {
		c.dataOut[d] = it.at
	}
	switch {
	case s.Flags&segment.RST != 0:
		if !c.rstPlausible(d, s) {
			x.note(it.p.No, i18n.M("cap.rst.odd", c.host[d]))
			return event.Cause{Inferred: event.InferSeen}
		}
		var cause event.Cause
		switch {
		case prompt && (a.span || c.st[d] == event.Closed || c.st[d] == event.Listen):
			// What arrived had sequence space (data, a FIN, a SYN-ACK)
			// for a socket that cannot take it, or came to no socket.
			cause = answer
		case c.st[d] == event.Closed || c.st[d] == event.Listen:
			cause = event.Cause{Inferred: event.InferSeen}
		case c.dataIn[d] > c.dataOut[d]:
			cause = app("close")
			x.note(it.p.No, i18n.M("cap.rst.guess.unread", c.host[d]))
		default:
			cause = app("abort")
			x.note(it.p.No, i18n.M("cap.rst.guess.abort", c.host[d]))
		}
		if recent && a.data && c.fin[d] && c.finData[o] {
			c.patterns = append(c.patterns, "cap.pat.findatarst")
			x.note(it.p.No, i18n.M("cap.pat.findatarst", c.host[d], c.host[o]))
		}
		if c.st[d] != event.Closed && c.st[d] != event.Listen {
			x.move(c, d, event.Closed, it.at, cause)
		}
		return cause
	case s.Flags&(segment.SYN|segment.ACK) == segment.SYN && c.oldDup && c.syns[d] == 0:
		x.note(it.p.No, i18n.M("cap.oldsyn", c.host[d]))
		return event.Cause{Inferred: event.InferSeen}
	case s.Flags&(segment.SYN|segment.ACK) == segment.SYN:
		if c.syns[d] > 0 && s.Seq == c.synSeq[d] {
			if !c.hasAck[o] && c.synRetx == 0 && c.syns[o] == 0 {
				c.patterns = append(c.patterns, "cap.pat.syn")
				x.note(it.p.No, i18n.M("cap.pat.syn", c.host[o]))
			}
			if c.syns[o] == 0 {
				c.synRetx++
			}
			c.retrans[d]++
			return timer(event.TimerHandshake)
		}
		if c.st[d] == event.Closed {
			x.move(c, d, event.SynSent, it.at, app("connect"))
		}
		return app("connect")
	case s.Flags&segment.SYN != 0:
		if c.syns[d] > 0 && s.Seq == c.synSeq[d] && c.sentSynAck[d] {
			c.retrans[d]++
			if c.finalAck && c.synAckRtx == 0 {
				c.patterns = append(c.patterns, "cap.pat.finalack")
				x.note(it.p.No, i18n.M("cap.pat.finalack", c.host[o], c.host[d]))
			}
			if c.finalAck {
				c.synAckRtx++
			}
			if recent && a.flags&(segment.SYN|segment.ACK) == segment.SYN {
				return answer
			}
			return timer(event.TimerHandshake)
		}
		c.sentSynAck[d] = true
		if c.st[d] == event.Closed || c.st[d] == event.Listen {
			// The SYN it answers is not in the capture.
			x.note(it.p.No, i18n.M("cap.synack.nosyn", c.host[d]))
			c.st[d] = event.Listen
			x.move(c, d, event.SynRcvd, it.at, event.Cause{Inferred: event.InferSeen})
			return event.Cause{Inferred: event.InferSeen}
		}
		if recent {
			return answer
		}
		return event.Cause{Inferred: event.InferSeen}
	}
	if s.Flags&segment.FIN != 0 && !c.fin[d] {
		op := "close"
		switch c.st[d] {
		case event.Established, event.SynRcvd:
			op = x.finOp(c, d, it)
			x.move(c, d, event.FinWait1, it.at, app(op))
			c.closeOp[d] = op
		case event.CloseWait:
			x.move(c, d, event.LastAck, it.at, app(op))
		}
		if c.fin[o] && s.Len > 0 {
			c.finData[d] = true
		}
		return app(op)
	}
	if c.fin[o] && s.Len > 0 && c.nxt[d].LessThanEq(s.Seq) {
		c.finData[d] = true
	}
	if c.sent[d] && s.Span() > 0 && s.Seq.LessThan(c.nxt[d]) {
		if s.Len <= 1 && s.Flags&segment.FIN == 0 && s.Seq.Add(1) == c.nxt[d] && c.idle >= 500*time.Millisecond {
			return timer(event.TimerKeepalive)
		}
		c.retrans[d]++
		if a.valid && !a.span && a.flags&segment.ACK != 0 && (prompt || c.dupacks[d] > 0 && it.at-a.at < rtoMin) {
			// Resent at once on an ACK, or sooner after duplicate
			// ACKs than any retransmission timer: fast
			// retransmission or loss recovery.
			return answer
		}
		return timer(event.TimerRTO)
	}
	if s.Len == 0 && s.Flags&segment.FIN == 0 && c.sent[d] && s.Seq.Add(1) == c.nxt[d] {
		return timer(event.TimerKeepalive)
	}
	if s.Len > 0 {
		return app("send")
	}
	if recent {
		return answer
	}
	return event.Cause{Inferred: event.InferSeen}
}

// finOp tells from the lookahead window whether side d's first FIN came
// from shutdown(SHUT_WR) or close(): after a half-close the side still
// acknowledges the data its peer sends; after close() it answers data
// with a RST. Without such data in the window it says close.
func (x *Explainer) finOp(c *conn, d int, it *item) string {
	me, peer := c.ends[d], c.ends[1-d]
	sawData := false
	for n := it.next; n != nil; n = n.next {
		ns := n.p.Seg
		switch {
		case ns.Src == peer && ns.Len > 0:
			sawData = true
		case ns.Src == peer && ns.Flags&(segment.FIN|segment.RST) != 0:
			return "close"
		case ns.Src == me && sawData && ns.Flags&segment.RST != 0:
			return "close"
		case ns.Src == me && sawData && ns.Flags&segment.ACK != 0:
			return "shutdown"
		}
	}
	return "close"
}
