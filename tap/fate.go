package tap

import (
	"slices"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

// What became of each segment: the switch's fates and the receiving
// stack's verdict, as notes, and the ground truth they give the explainer.

// dropReason renders why the network dropped a packet.
func (t *Tap) dropReason(f *event.Fate) i18n.Msg {
	switch f.Reason {
	case event.Loss:
		return i18n.M("sw.loss", f.Place.String())
	case event.QueueFull:
		return i18n.M("sw.queuefull", f.Place.String(), f.Queued)
	case event.LinkDown:
		return i18n.M("sw.down", f.Place.Host, windowText(f.Outage))
	case event.FaultDrop:
		return i18n.M("sw.fault.drop", f.Rule.Name, ruleMatch(f.Rule))
	case event.NoHost:
		return i18n.M("sw.nohost", f.Addr.String())
	case event.Unroutable:
		return i18n.M("sw.unroutable", f.Detail)
	case event.TooBig:
		return i18n.M("sw.toobig", f.Place.String(), f.MTU)
	case event.HostDown:
		return i18n.M("sw.hostdown", f.Place.Host, f.Down)
	case event.Middlebox:
		return boxDrop(f.Box)
	}
	return i18n.M("sw.unroutable", f.Reason.String())
}

// fateNote renders something the network did to a packet other than
// dropping or delivering it.
func (t *Tap) fateNote(f *event.Fate) i18n.Msg {
	switch f.Kind {
	case event.Delayed:
		return i18n.M("sw.fault.delay", f.Delay, f.Rule.Name, ruleMatch(f.Rule))
	case event.Held:
		return i18n.M("sw.fault.hold", f.Rule.Name, f.Until, ruleMatch(f.Rule))
	case event.Duplicated:
		if f.Rule != nil {
			return i18n.M("sw.fault.duplicate", f.Rule.Name, ruleMatch(f.Rule), f.Delay)
		}
		return i18n.M("sw.duplicate", f.Place.String())
	case event.Reordered:
		return i18n.M("sw.reorder", f.Place.String(), f.Delay)
	case event.Corrupted:
		return i18n.M("sw.corrupt", f.Place.String())
	}
	return i18n.M("sw.unroutable", f.Kind.String())
}

// ruleMatch describes which match of a fault rule a packet was: "match
// SYN,!ACK #1".
func ruleMatch(r *event.Rule) i18n.Msg {
	if r.Flags.IsZero() {
		return i18n.M("sw.match", r.Match)
	}
	return i18n.M("sw.match.flags", r.Flags.String(), r.Match)
}

// windowText renders an outage as "1s–5s", or "1s–end" when it has no end.
func windowText(w event.Window) string {
	if w.To == 0 {
		return w.From.String() + "–end"
	}
	return w.From.String() + "–" + w.To.String()
}

// verdicts are the messages that say why a stack dropped a packet: a
// short one for the segment's row, a long one for the drop's own row.
var verdicts = map[event.Verdict][2]string{
	event.BadChecksum:      {"verdict.bad_checksum", "drop.bad_checksum"},
	event.SynQueueOverflow: {"verdict.syn_queue_overflow", "drop.syn_queue_overflow"},
	event.AckQueueOverflow: {"verdict.ack_queue_overflow", "drop.ack_queue_overflow"},
	event.CookieInvalid:    {"verdict.cookie_invalid", "drop.cookie_invalid"},
	event.Discarded:        {"verdict.discarded", "drop.discarded"},
	event.HalfOpenOverflow: {"verdict.half_open_overflow", "drop.half_open_overflow"},
}

// verdictMsg renders why a stack dropped a packet.
func verdictMsg(v event.Verdict) i18n.Msg {
	return i18n.M(verdicts[v][0])
}

// dropped records that the network dropped segment row r.
func (t *Tap) dropped(r *Row, f *event.Fate) {
	if r.tx != nil {
		r.tx.drop = f
	}
}

// causedState returns the state that the arrival ref of segment s put
// its receiver's endpoint in, or CLOSED when it changed no state.
func (t *Tap) causedState(host string, s *segment.Segment, ref event.Ref) event.State {
	if e := t.endOf(host, s.Dst, s.Src); e != nil && e.cause.Kind == event.ByArrival && e.cause.Ref == ref {
		return e.state
	}
	return event.Closed
}

// received records that segment row r (or a copy of it) reached its
// receiver and what the receiving stack did with it: the ground truth the
// explainer keeps of what each side has heard, and notes on the row (and a
// row of its own when the stack dropped it).
func (t *Tap) received(r *Row, e *event.Receipt) {
	s := r.Seg
	a := r.Arrival
	if r.tx != nil && r.Kind != KindCopy {
		r.tx.arrived, r.tx.arrival, r.tx.verdict = true, a.At, e.Verdict
	}
	if isDrop(e.Verdict) {
		r.note("seg.stackdrop", a.Host, verdictMsg(e.Verdict))
		drop := &Row{Kind: KindDrop, At: a.At, No: r.No, Copy: r.Copy, Host: a.Host, Seg: s, From: r.From, To: r.To, Cause: event.Arrival(e.Ref), Counters: e.Counters, done: true}
		drop.note(verdicts[e.Verdict][1], a.Host, s.Flags.Spoken(), r.No, r.From)
		if e.Verdict == event.AckQueueOverflow && !slices.ContainsFunc(e.Counters, func(m event.CounterMove) bool { return m.Name == "ListenOverflowAckDrop" }) {
			drop.note("diff.ackdrop")
		}
		t.add(drop)
	}
	c := t.conns[keyOf(s)]
	if c == nil {
		return
	}
	d := c.sideOf(s.Src)
	o := 1 - d
	info := arrivalInfo{ref: e.Ref, flags: s.Flags, verdict: e.Verdict, sack: len(s.Opts.SACK) > 0, ack: r.RelAck, probe: r.probe}
	for _, m := range e.Counters {
		if m.Name == "ListenOverflowSynCookieSent" {
			info.cookie = true
		}
	}
	if r.Injected != nil {
		// A forged segment tells nothing about what its claimed sender
		// sent or heard; only that the receiver got it, which its answer
		// (a challenge ACK, a RST) may be about.
		info.start, info.end = r.RelSeq, r.RelSeq+uint32(s.Span())
		c.arrived[o] = info
		return
	}
	for _, b := range s.Opts.SACK {
		if end := uint32(b.End - r.sackBase); seqGT(end, info.sackHigh) {
			info.sackHigh = end
		}
	}
	if e.Verdict == event.Processed || e.Verdict == event.CookieAccepted {
		// In TIME_WAIT netstack answers what arrives without the
		// processing that resets the keep-alive timer, ignores a RST
		// (RFC 1337) and restarts the wait for a FIN.
		inTimeWait := false
		if end := t.endOf(a.Host, s.Dst, s.Src); end != nil && end.state == event.TimeWait && !(end.cause.Kind == event.ByArrival && end.cause.Ref == e.Ref) {
			inTimeWait = true
			switch {
			case s.Flags&segment.RST != 0:
				r.note("diff.rst.timewait", a.Host)
			case s.Flags&segment.FIN != 0:
				end.twRestarts++
			}
		}
		if !inTimeWait {
			c.heard[o], c.hasHeard[o] = a.At, true
			c.keepalives[o] = 0
		}
		// An ACK without SYN is no news to an endpoint in SYN_SENT: it
		// ignores it (RFC 793), so its sender learns nothing from it.
		ignored := s.Flags&segment.SYN == 0 && t.stateOf(a.Host, s.Dst, s.Src) == event.SynSent
		if r.HasAck && s.Flags&segment.RST == 0 && !ignored {
			switch {
			case seqGT(r.RelAck, c.known[o]):
				c.known[o] = r.RelAck
				c.dupSeen[o] = 0
				c.xmits[o].prune(r.RelAck)
			case r.RelAck == c.known[o] && s.Len == 0 && s.Flags&(segment.SYN|segment.FIN) == 0 &&
				r.Window == c.winSeen[o] && seqGT(c.high[o], r.RelAck):
				c.dupSeen[o]++
			}
			if r.Window != 0 {
				c.zwps[o] = 0
			}
			c.winSeen[o], c.winKnown[o] = r.Window, true
		}
		span := uint32(s.Span())
		if s.Flags&segment.RST == 0 {
			win := -1
			if c.hasWin[o] && s.Flags&segment.SYN == 0 {
				win = c.win[o]
			}
			info.start, info.end = r.RelSeq, r.RelSeq+span
			info.fit, info.nxt = c.rcv[o].receive(info.start, info.end, win, s.Flags&segment.FIN != 0)
			if r.tx != nil && r.Kind != KindCopy && info.fit == fitAhead {
				r.tx.ahead = true
			}
		}
		if e.Verdict == event.CookieAccepted && span > 0 {
			// Not the handshake's own ACK (lost, or overtaken): this
			// segment's ACK carried the cookie.
			r.note("seg.cookie.rebuilt", a.Host)
		}
		switch {
		case r.Kind != KindCopy:
		case s.Flags&(segment.SYN|segment.ACK) == segment.SYN && c.over() && t.causedState(a.Host, s, e.Ref) == event.SynRcvd:
			r.note("copy.oldsyn", a.Host)
		case info.fit == fitDuplicate:
			r.note("copy.had", a.Host)
		case info.fit != fitNone:
			r.note("copy.new", a.Host)
		}
	}
	c.arrived[o] = info
}
