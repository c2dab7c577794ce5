package tap

import (
	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
)

// Explaining a capture (tcplab explain): package capture infers from the
// packets of a pcap or pcapng the events a lab run reports, and marks each
// cause as inferred (event.Cause.Inferred). Here the tap renders those
// causes, so that a state row says how it was inferred (seen at the
// capture point, or beyond it and when), and records the fate a capture
// cannot tell (event.Unseen).

// unseen records that a capture cannot tell whether segment row r reached
// its receiver.
func (t *Tap) unseen(r *Row, f *event.Fate) {
	if r.tx != nil {
		r.tx.unseen = true
	}
	r.note("cap.unseen", f.To)
}

// inferredCause renders an inferred cause, for a state row.
func (t *Tap) inferredCause(c event.Cause) i18n.Msg {
	switch {
	case c.Inferred == event.InferBefore:
		return i18n.M("cap.cause.before")
	case c.Kind == event.ByApp:
		return i18n.M("cap.cause.app", c.Op)
	case c.Kind == event.ByArrival:
		r := t.open[c.Ref]
		if r == nil || r.Seg == nil {
			return i18n.M("cap.cause.frame", c.Ref.Frame)
		}
		return i18n.M("cap.cause.recv", r.Seg.Flags.Spoken(), r.Seg.Src, c.Ref.Frame)
	case c.Kind == event.ByTimer && c.Inferred == event.InferLinux:
		return i18n.M("cap.cause.linux", timerName(c))
	case c.Kind == event.ByTimer:
		return i18n.M("cap.cause.timer", timerName(c))
	}
	return i18n.M("cap.cause.none")
}

// explainInferredState explains a state row whose cause a capture gave:
// its cause says how it was inferred, and for an arrival beyond the
// capture point, about how long after the capture saw the segment it
// reached this host. It reports whether the row is explained in full (a
// state that held before the capture began).
func (t *Tap) explainInferredState(r *Row, e *endState) bool {
	if r.Cause.Inferred == event.InferFar && r.Cause.Kind == event.ByArrival {
		if seg := t.open[r.Cause.Ref]; seg != nil && seg.Seg != nil {
			r.CauseMsg = i18n.M("cap.cause.far", seg.Seg.Flags.Spoken(), seg.Seg.Src, r.Cause.Ref.Frame, r.Cause.Delay)
		}
	}
	if r.Cause.Inferred != event.InferBefore {
		return false
	}
	r.note("cap.st.before", r.ToState)
	e.was, e.state, e.at, e.cause = r.FromState, r.ToState, r.At, r.Cause
	return true
}

// SetEndpointWidth sets the width of the Source and Destination columns of
// a listing whose endpoints are not host names known when it starts (the
// addresses of a capture), so that its columns line up.
func (tw *TextWriter) SetEndpointWidth(n int) {
	tw.width[2] = max(tw.width[2], n)
	tw.width[3] = max(tw.width[3], n)
}
