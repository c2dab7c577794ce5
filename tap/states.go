package tap

import (
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

// causeMsg renders what made a host act, for a state row's cause: "step:
// close", "received FIN-ACK from client:40000 (frame 8)", "timer:
// TIME_WAIT".
func (t *Tap) causeMsg(c event.Cause) i18n.Msg {
	if c.Inferred != event.Observed {
		return t.inferredCause(c)
	}
	switch c.Kind {
	case event.ByApp:
		switch {
		case c.Why == event.WhyIdleTimeout:
			return i18n.M("cause.app", i18n.M("cause.why.idle"))
		case c.Why == event.WhyConnectTimeout:
			return i18n.M("cause.connecttimeout")
		case c.Why != "":
			return i18n.M("cause.app", c.Why)
		case c.Op != "":
			return i18n.M("cause.step", c.Op)
		}
		return i18n.M("cause.app.any")
	case event.ByArrival:
		if r := t.open[c.Ref]; r != nil && r.Seg != nil {
			if c.Ref.Copy > 0 {
				return i18n.M("cause.recv.copy", r.Seg.Flags.Spoken(), r.Seg.Src, c.Ref.Frame, c.Ref.Copy)
			}
			return i18n.M("cause.recv", r.Seg.Flags.Spoken(), r.Seg.Src, c.Ref.Frame)
		}
		return i18n.M("cause.recv.packet", c.Ref.Frame)
	case event.ByTimer:
		return i18n.M("cause.timer", timerName(c))
	case event.ByCrash:
		return i18n.M("cause.crash")
	}
	return i18n.M("cause.none")
}

// arrivedSeg returns the segment whose arrival is cause, or nil.
func (t *Tap) arrivedSeg(c event.Cause) *segment.Segment {
	if c.Kind != event.ByArrival {
		return nil
	}
	if r := t.open[c.Ref]; r != nil {
		return r.Seg
	}
	return nil
}

// arrivedFlags returns the flags of the segment whose arrival is cause, and
// whether the cause is an arrival.
func (t *Tap) arrivedFlags(c event.Cause) (segment.Flags, bool) {
	if c.Kind != event.ByArrival {
		return 0, false
	}
	if r := t.open[c.Ref]; r != nil && r.Seg != nil {
		return r.Seg.Flags, true
	}
	return 0, false
}

// explainState explains a state change from its cause and what the tap
// knows of the connection.
func (t *Tap) explainState(r *Row) {
	r.CauseMsg = t.causeMsg(r.Cause)
	k := endKey{r.Host, r.Local, r.Remote}
	e := t.ends[k]
	if e == nil {
		e = &endState{}
		t.ends[k] = e
	}
	if r.Cause.Inferred != event.Observed && t.explainInferredState(r, e) {
		return
	}
	held := r.At - e.at
	c := t.conns[keyOfEnds(r.Local, r.Remote)]
	op := ""
	if r.Cause.Kind == event.ByApp {
		op = r.Cause.Op
		if r.Cause.Why != "" {
			op = "close" // a model closing an idle connection calls close()
		}
	}
	switch from, to := r.FromState, r.ToState; to {
	case event.Listen:
		r.note("st.listen")
	case event.SynSent:
		r.note("st.synsent")
	case event.SynRcvd:
		if from == event.SynSent {
			r.note("st.synrcvd.simopen")
		} else {
			r.note("st.synrcvd")
		}
	case event.Established:
		switch {
		case from == event.SynSent:
			r.note("st.est.client")
		case from == event.Listen:
			r.note("st.est.cookie")
		case c != nil && c.simOpen:
			r.note("st.est.simopen")
		default:
			r.note("st.est.server")
		}
	case event.FinWait1:
		if op == "shutdown" {
			r.note("st.finwait1.shutdown")
		} else {
			r.note("st.finwait1")
		}
	case event.FinWait2:
		if op == "shutdown" || (from == event.FinWait1 && !e.closedByApp) {
			r.note("st.finwait2.half")
		} else {
			r.note("st.finwait2")
		}
		if r.Cause.Emu == event.EmuFinWait2 {
			r.note("diff.finwait2")
		}
	case event.Closing:
		r.note("st.closing")
	case event.TimeWait:
		r.note("st.timewait")
	case event.CloseWait:
		r.note("st.closewait")
	case event.LastAck:
		r.note("st.lastack")
	case event.Closed:
		t.explainClosed(r, e, held, op, c)
	}
	e.was, e.state, e.at, e.cause = r.FromState, r.ToState, r.At, r.Cause
	switch {
	case op == "close" || op == "abort":
		e.closedByApp = true
	case r.FromState == event.Closed || r.FromState == event.Listen:
		// A new connection on the same port pair: the old one's close()
		// is not this one's.
		e.closedByApp = false
	}
}

// explainClosed explains how an endpoint reached CLOSED.
func (t *Tap) explainClosed(r *Row, e *endState, held time.Duration, op string, c *conn) {
	from := r.FromState
	flags, arrived := t.arrivedFlags(r.Cause)
	timer := event.TimerUnknown
	if r.Cause.Kind == event.ByTimer {
		timer = r.Cause.Timer
	}
	switch {
	case r.Cause.Why == event.WhyConnectTimeout:
		r.note("st.closed.connecttimeout", held)
	case r.Cause.Kind == event.ByCrash && from == event.Listen:
		r.note("st.closed.crash.listener")
	case r.Cause.Kind == event.ByCrash:
		r.note("st.closed.crash")
	case r.Cause.Emu == event.EmuAbortOnOverflow && from == event.SynRcvd:
		r.note("st.closed.abortoverflow")
	case arrived && flags&segment.RST != 0:
		switch from {
		case event.SynSent:
			r.note("st.closed.refused")
		case event.SynRcvd:
			r.note("st.closed.rst.halfopen")
		case event.TimeWait:
			r.note("st.closed.rst.timewait")
		case event.CloseWait:
			r.note("st.closed.reset.closewait")
		case event.LastAck, event.Closing, event.FinWait1, event.FinWait2:
			if e.closedByApp {
				r.note("st.closed.reset.closed")
			} else {
				r.note("st.closed.reset")
			}
		default:
			r.note("st.closed.reset")
		}
	case op == "abort":
		r.note("st.closed.abort")
	case arrived && e.closedByApp && from != event.TimeWait && from != event.LastAck && from != event.Closing:
		if seg := t.arrivedSeg(r.Cause); seg != nil && seg.Len == 0 {
			// netstack resets a socket closed for reading when a
			// segment's sequence number runs past what it received,
			// data or not.
			r.note("st.closed.ackbeyond")
			r.note("diff.ackbeyond")
		} else {
			r.note("st.closed.orphandata")
		}
	case op == "close" && from == event.Listen:
		r.note("st.closed.listener")
	case op == "close":
		if from == event.SynSent || from == event.SynRcvd {
			r.note("st.closed.early")
		} else {
			r.note("st.closed.unread")
		}
	case timer == event.TimerKeepalive:
		r.note("st.closed.keepalive")
		r.note("diff.keepalive")
	case from == event.TimeWait:
		if e.twRestarts > 0 {
			r.note("st.closed.timewait.restarted", held)
		} else {
			r.note("st.closed.timewait", held)
		}
	case (from == event.LastAck || from == event.Closing) && arrived:
		r.note("st.closed.lastack")
	case from == event.LastAck || from == event.Closing:
		r.note("st.closed.lastack.timeout", from)
	case from == event.FinWait2:
		r.note("st.closed.finwait2", held)
	case from == event.SynSent && r.Cause.Emu == event.EmuSynSchedule:
		r.note("st.closed.syntimeout", held)
		r.note("diff.synretries.emu")
	case from == event.SynSent:
		r.note("st.closed.syntimeout", held)
		r.note("diff.synretries")
	case from == event.SynRcvd && r.Cause.Emu == event.EmuSynSchedule:
		r.note("st.closed.synacktimeout", held)
		r.note("diff.synackretries.emu")
	case from == event.SynRcvd:
		r.note("st.closed.synacktimeout", held)
		r.note("diff.synackretries")
	case timer != event.TimerUnknown:
		r.note("st.closed.timeout")
		if r.Cause.Diff == event.DiffRetries2 {
			r.note("diff.retries2")
		}
	}
}

// explainQueue explains a listener's queue row.
func (t *Tap) explainQueue(r *Row) {
	switch {
	case r.Waiting >= r.Capacity:
		r.note("q.full", r.Waiting)
		r.note("diff.backlog")
	case r.HalfOpen > 0 && r.Waiting > 0:
		r.note("q.both", r.Waiting, r.HalfOpen)
	case r.HalfOpen > 0:
		r.note("q.halfopen", r.HalfOpen)
	case r.Waiting > 0:
		r.note("q.waiting", r.Waiting)
	default:
		r.note("q.empty")
	}
}

// explainTimer explains a timer that fired and did nothing visible.
func (t *Tap) explainTimer(r *Row) {
	r.CauseMsg = t.causeMsg(r.Cause)
	if r.Timer.Kind == event.TimerGuard {
		r.note("diff.rtoguard", t.endpoint(r.Timer.Local), r.Timer.RTO)
		return
	}
	if r.Timer.Kind == event.TimerRTO && r.Timer.RTO > 0 {
		r.note("timer.idle.rto", r.Timer.RTO, r.Timer.State)
		return
	}
	r.note("timer.idle", timerName(r.Cause), r.Timer.State)
}

// explainStall explains an endpoint left with unacknowledged sequence space
// when nothing was left to happen.
func (t *Tap) explainStall(r *Row) {
	s := r.Stall
	c := t.conns[keyOfEnds(s.Local, s.Remote)]
	una, nxt := uint32(0), uint32(s.SndNxt-s.SndUna)
	if c != nil {
		d := c.sideOf(s.Local)
		una, nxt = uint32(s.SndUna-c.base[d]), uint32(s.SndNxt-c.base[d])
	}
	r.note("stall", t.endpoint(s.Local), s.State, nxt-una, una, nxt)
}
