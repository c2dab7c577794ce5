package hosts

import (
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// The RTO guard works around a netstack bug that can leave a connection
// stuck for ever. After SACK recovery with RACK, netstack's sender can
// undercount its packets in flight (sender.Outstanding): SetPipe counts
// neither the FIN nor segments RACK retransmitted above HighRxt
// (tcp/snd.go SetPipe, tcp/rack.go DoRecovery). postXmit arms the
// retransmission timer only while Outstanding > 0 (tcp/snd.go postXmit), so
// once the count reaches 0 with data or a FIN still unacknowledged, and a
// tail loss probe has been spent, no timer is left: nothing will ever send
// that data again. (Found on a lossy bulk transfer, lab seed 136 of the
// issue's bulk-orphan lab; since tcplab patched RACK's tie-break, seed 1110
// of that lab, see third_party/gvisor/PATCHES.md. The fix upstream would
// arm the timer whenever SND.UNA != SND.NXT.)
//
// After each settle the guard looks for a sender with unacknowledged
// sequence space and no retransmission, probe or reorder timer enabled.
// One RTO later, unless netstack armed a timer meanwhile, it fires
// netstack's own retransmission timer (through the tcpip.Timer under it),
// so that netstack's retransmitTimerExpired does the rest exactly as it
// would have. The guard reports itself as a timer of kind TimerGuard, so
// that the timeline says tcplab stepped in. It only reads netstack's
// fields; TestRTOGuardFields fails if an upgrade renames one.

// tcp/timer.go's timer states.
const (
	timerUninitialized = 0
	timerDisabled      = 1
	timerEnabled       = 2
	timerOrphaned      = 3
)

// stalledSender returns the clock timer under ep's retransmission timer and
// the RTO if ep has unacknowledged sequence space and no timer enabled to
// send it again (an orphaned retransmission timer still has a clock event,
// so only a disabled one counts).
func stalledSender(ep *tcp.Endpoint) (tcpip.Timer, time.Duration, bool) {
	switch tcp.EndpointState(ep.State()) {
	case tcp.StateEstablished, tcp.StateFinWait1, tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing:
	default:
		return nil, 0, false
	}
	l, ok := netstackLayout()
	if !ok {
		return nil, 0, false
	}
	una, nxt, ok := sendSpace(ep)
	if !ok || una == nxt {
		return nil, 0, false
	}
	resend, _ := l.timerOf(ep, resendTimer)
	probe, _ := l.timerOf(ep, probeTimer)
	reorder, _ := l.timerOf(ep, reorderTimer)
	if resend.state() != timerDisabled || probe.state() == timerEnabled || reorder.state() == timerEnabled {
		return nil, 0, false
	}
	t := resend.clock()
	if t == nil {
		return nil, 0, false
	}
	return t, senderRTO(ep), true
}

// guardRTO arms t's guard when its sender stalls, and stops it once
// netstack has a timer again or nothing left to send.
func (h *Host) guardRTO(t *trackedEP) {
	ep, ok := t.ep.(*tcp.Endpoint)
	if !ok || h.settings.NoRTOGuard {
		return
	}
	_, rto, stalled := stalledSender(ep)
	switch {
	case !stalled && t.guard != nil:
		t.guard.Stop()
		t.guard = nil
	case stalled && t.guard == nil:
		t.guard = h.clock.AfterFunc(rto, func() {
			t.guard = nil
			timer, rto, still := stalledSender(ep)
			if !still {
				return
			}
			h.obs.Timer(&event.Timer{At: h.now(), Host: h.name, Local: t.local, Remote: t.remote, Kind: event.TimerGuard, State: t.state, RTO: rto})
			timer.Reset(0) // netstack's retransmitTimerExpired runs next
		})
	}
}
