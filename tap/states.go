package tap

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
)

// endKey identifies one endpoint of one host.
type endKey struct {
	host          string
	local, remote netip.AddrPort
}

// endState is what the tap knows of one endpoint from its state rows.
type endState struct {
	state       string
	was         string        // the state before
	at          time.Duration // when the endpoint entered state
	cause       []i18n.Msg    // why
	closedByApp bool          // the application closed or aborted it
	twRestarts  int           // FINs that reached it in TIME_WAIT
}

// endOf returns what the tap knows of host's endpoint local–remote, or nil.
func (t *Tap) endOf(host string, local, remote netip.AddrPort) *endState {
	return t.ends[endKey{host, local, remote}]
}

// causeAction returns the application action in a cause ("close",
// "abort", "connect" ...; a model's idle timeout is a close), "timer" for a
// timer, or "".
func causeAction(cause []i18n.Msg) string {
	for _, m := range cause {
		switch m.Key {
		case "cause.timer":
			return "timer"
		case "cause.step", "cause.app":
			if len(m.Args) > 0 {
				if a := fmt.Sprint(m.Args[0]); a != "idle timeout" {
					return a
				}
				return "close" // a model closing an idle connection calls close()
			}
		}
	}
	return ""
}

// causeIs reports whether cause is the application action (or "timer")
// word.
func causeIs(cause []i18n.Msg, word string) bool { return causeAction(cause) == word }

// received returns the flags of the segment a cause says arrived
// ("FIN-ACK"), or "".
func received(cause []i18n.Msg) string {
	for _, m := range cause {
		if m.Key == "cause.recv" && len(m.Args) > 0 {
			return fmt.Sprint(m.Args[0])
		}
	}
	return ""
}

// explainState explains a state change from its cause and what the tap
// knows of the connection.
func (t *Tap) explainState(r *Row) {
	k := endKey{r.Host, r.Local, r.Remote}
	e := t.ends[k]
	if e == nil {
		e = &endState{}
		t.ends[k] = e
	}
	held := r.At - e.at
	action := causeAction(r.Cause)
	got := received(r.Cause)
	c := t.conns[keyOfEnds(r.Local, r.Remote)]
	add := func(key string, args ...any) { r.Notes = append(r.Notes, i18n.M(key, args...)) }

	switch from, to := r.FromState, r.ToState; to {
	case "LISTEN":
		add("st.listen")
	case "SYN_SENT":
		add("st.synsent")
	case "SYN_RCVD":
		if from == "SYN_SENT" {
			add("st.synrcvd.simopen")
		} else {
			add("st.synrcvd")
		}
	case "ESTABLISHED":
		switch from {
		case "SYN_SENT":
			add("st.est.client")
		case "LISTEN":
			add("st.est.cookie")
		default:
			if c != nil && c.simOpen {
				add("st.est.simopen")
			} else {
				add("st.est.server")
			}
		}
	case "FIN_WAIT_1":
		if action == "shutdown" {
			add("st.finwait1.shutdown")
		} else {
			add("st.finwait1")
		}
	case "FIN_WAIT_2":
		if action == "shutdown" || (from == "FIN_WAIT_1" && !e.closedByApp) {
			add("st.finwait2.half")
		} else {
			add("st.finwait2")
		}
	case "CLOSING":
		add("st.closing")
	case "TIME_WAIT":
		add("st.timewait")
	case "CLOSE_WAIT":
		add("st.closewait")
	case "LAST_ACK":
		add("st.lastack")
	case "CLOSED":
		t.explainClosed(r, e, held, action, got, c)
	}
	e.was, e.state, e.at, e.cause = r.FromState, r.ToState, r.At, r.Cause
	switch {
	case action == "close" || action == "abort":
		e.closedByApp = true
	case r.FromState == "CLOSED" || r.FromState == "LISTEN":
		// A new connection on the same port pair: the old one's close()
		// is not this one's.
		e.closedByApp = false
	}
}

// explainClosed explains how an endpoint reached CLOSED.
func (t *Tap) explainClosed(r *Row, e *endState, held time.Duration, action, got string, c *conn) {
	add := func(key string, args ...any) { r.Notes = append(r.Notes, i18n.M(key, args...)) }
	from := r.FromState
	switch {
	case strings.HasPrefix(got, "RST"):
		switch from {
		case "SYN_SENT":
			add("st.closed.refused")
		case "SYN_RCVD":
			add("st.closed.rst.halfopen")
		case "TIME_WAIT":
			add("st.closed.rst.timewait")
		case "LAST_ACK", "CLOSING", "FIN_WAIT_1", "FIN_WAIT_2":
			if e.closedByApp {
				add("st.closed.reset.closed")
			} else {
				add("st.closed.reset")
			}
		default:
			add("st.closed.reset")
		}
	case action == "abort":
		add("st.closed.abort")
	case got != "" && e.closedByApp && from != "TIME_WAIT" && from != "LAST_ACK" && from != "CLOSING":
		add("st.closed.orphandata")
	case action == "close" && from == "LISTEN":
		add("st.closed.listener")
	case action == "close":
		if from == "SYN_SENT" || from == "SYN_RCVD" {
			add("st.closed.early")
		} else {
			add("st.closed.unread")
		}
	case from == "TIME_WAIT":
		if e.twRestarts > 0 {
			add("st.closed.timewait.restarted", held)
		} else {
			add("st.closed.timewait", held)
		}
	case from == "LAST_ACK" || from == "CLOSING":
		add("st.closed.lastack")
	case from == "FIN_WAIT_2":
		add("st.closed.finwait2", held)
	case from == "SYN_SENT":
		add("st.closed.syntimeout", held)
		add("diff.synretries")
	case from == "SYN_RCVD":
		add("st.closed.synacktimeout", held)
		add("diff.synackretries")
	case c != nil && (c.keepalives[0] > 0 || c.keepalives[1] > 0):
		add("st.closed.keepalive")
		add("diff.keepalive")
	case action == "timer":
		add("st.closed.timeout")
	}
}

// explainQueue explains a listener's queue row.
func (t *Tap) explainQueue(r *Row) {
	switch {
	case r.Waiting >= r.Capacity:
		r.Notes = append(r.Notes, i18n.M("q.full", r.Waiting), i18n.M("diff.backlog"))
	case r.HalfOpen > 0 && r.Waiting > 0:
		r.Notes = append(r.Notes, i18n.M("q.both", r.Waiting, r.HalfOpen))
	case r.HalfOpen > 0:
		r.Notes = append(r.Notes, i18n.M("q.halfopen", r.HalfOpen))
	case r.Waiting > 0:
		r.Notes = append(r.Notes, i18n.M("q.waiting", r.Waiting))
	default:
		r.Notes = append(r.Notes, i18n.M("q.empty"))
	}
}

// explainCounter explains one counter that moved on a counter row, and
// marks the segments it concerns.
func (t *Tap) explainCounter(r *Row, name string, delta uint64) {
	key := "ctr." + name
	if !i18n.Has(i18n.EN, key) {
		return
	}
	r.Notes = append(r.Notes, i18n.M(key, name))
	t.moved[r.Host+"/"+name] = r.At
	switch name {
	case "ListenOverflowSynCookieSent":
		t.cookies[r.Host] += int(delta)
	case "ListenOverflowSynDrop":
		for range delta {
			t.markDroppedSYN(r)
		}
	}
}

// takeCookie reports whether host has just sent a SYN cookie, and counts
// it as explained.
func (t *Tap) takeCookie(host string) bool {
	if t.cookies[host] > 0 {
		t.cookies[host]--
		return true
	}
	return false
}

// markDroppedSYN notes on the oldest SYN sent to r's host and not yet
// answered that the host dropped it because its accept queue was full.
// Links deliver in order, so the oldest unanswered SYN is the one that
// arrived.
func (t *Tap) markDroppedSYN(r *Row) {
	q := t.pendingSYN[r.Host]
	for len(q) > 0 {
		s := q[0]
		q = q[1:]
		if !s.Dropped.IsZero() || s.At > r.At {
			continue
		}
		s.Notes = append(s.Notes, i18n.M("seg.syn.dropped", r.Host))
		if c := t.conns[keyOf(s.Seg)]; c != nil {
			c.synDropped = true
		}
		break
	}
	t.pendingSYN[r.Host] = q
}

// trackSYN keeps SYNs until they are answered, for markDroppedSYN.
func (t *Tap) trackSYN(r *Row) {
	switch r.Seg.Flags & (SYN | ACK | RST) {
	case SYN:
		h := t.Name(r.Seg.Dst.Addr())
		t.pendingSYN[h] = append(t.pendingSYN[h], r)
	case SYN | ACK:
		q := t.pendingSYN[r.Host]
		k := keyOf(r.Seg)
		for i, s := range q {
			if keyOf(s.Seg) == k {
				t.pendingSYN[r.Host] = append(q[:i:i], q[i+1:]...)
				break
			}
		}
	}
}

// movedNow reports whether counter name of segment row r's sending host
// moved at the row's instant (counter rows precede the segments the same
// settle sends).
func (t *Tap) movedNow(r *Row, name string) bool {
	at, ok := t.moved[r.Host+"/"+name]
	return ok && at == r.At
}
