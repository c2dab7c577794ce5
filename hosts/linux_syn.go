package hosts

import (
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/tcplab/tcplab/internal/event"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Linux's SYN and SYN-ACK retransmission schedules, emulated.
//
// netstack retransmits a SYN or SYN-ACK from its handshake's backoffTimer
// (tcp/connect.go): 1 s, doubling, and it gives up when the doubled
// timeout passes MaxRTO (120 s): 7 SYNs and 127 s, for SYNs and SYN-ACKs
// alike, whatever TCP_SYNCNT says. Linux 6.x (tcp_timer.c) retransmits a
// SYN after 1 s tcp_syn_linear_timeouts times, then doubling, and gives up
// at the first timeout once (2^(tcp_syn_retries+1) − 1) s have passed since
// the first SYN; a SYN-ACK after 1, 2, 4 ... s, tcp_synack_retries times.
//
// The host's clock knows the handshake timer when netstack creates it
// (timers.go), so it hands netstack a timer of its own: a backoff reset from
// within netstack's handler gets Linux's next wait instead of netstack's,
// and before each expiry the backoffTimer's timeout is set so that
// netstack's own handler does what Linux would: retransmit (timeout 1 s,
// whose double is far from MaxRTO) or give up (timeout MaxRTO, whose
// double fails the handshake with ETIMEDOUT, as netstack does at 127 s).
// The timer reports itself as the handshake timer, marked as emulated.

// synLayout holds the offsets of the handshake fields the emulation
// writes.
type synLayout struct {
	h       uintptr // tcp.Endpoint.h, a *handshake
	timer   uintptr // handshake.retransmitTimer, a *backoffTimer
	timeout uintptr // backoffTimer.timeout, a time.Duration
}

var (
	synFields   synLayout
	synFieldsOK bool
	synOnce     sync.Once
)

// handshakeLayout finds the offsets once; ok is false if netstack's layout
// changed (TestLinuxSynFields fails then, and the emulation is off).
func handshakeLayout() (*synLayout, bool) {
	synOnce.Do(func() {
		ep := reflect.TypeFor[tcp.Endpoint]()
		h, ok := ep.FieldByName("h")
		if !ok || h.Type.Kind() != reflect.Pointer {
			return
		}
		rt, ok := h.Type.Elem().FieldByName("retransmitTimer")
		if !ok || rt.Type.Kind() != reflect.Pointer {
			return
		}
		to, ok := rt.Type.Elem().FieldByName("timeout")
		if !ok || to.Type != reflect.TypeFor[time.Duration]() {
			return
		}
		synFields = synLayout{h: h.Offset, timer: rt.Offset, timeout: to.Offset}
		synFieldsOK = true
	})
	return &synFields, synFieldsOK
}

// setHandshakeTimeout sets the timeout of ep's handshake backoffTimer.
func setHandshakeTimeout(ep *tcp.Endpoint, d time.Duration) bool {
	l, ok := handshakeLayout()
	if !ok {
		return false
	}
	h := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(ep), l.h))
	if h == nil {
		return false
	}
	bt := *(*unsafe.Pointer)(unsafe.Add(h, l.timer))
	if bt == nil {
		return false
	}
	*(*time.Duration)(unsafe.Add(bt, l.timeout)) = d
	return true
}

// synTimer is a handshake retransmission timer on Linux's schedule.
type synTimer struct {
	h     *Host
	st    stackTimer
	f     func()
	inner tcpip.Timer
	start tcpip.MonotonicTime // the first SYN or SYN-ACK
	sent  int                 // retransmissions so far
	// firing is set while netstack's handler runs: its backoff reset
	// then asks for Linux's next wait.
	firing bool
	boot   int // the host's boot it belongs to (crash.go)
}

var _ tcpip.Timer = (*synTimer)(nil)

// newSynTimer replaces netstack's handshake timer with one on Linux's
// schedule: the first wait is 1 s, as netstack's.
func (h *Host) newSynTimer(st stackTimer, d time.Duration, f func()) tcpip.Timer {
	t := &synTimer{h: h, st: st, f: f, start: h.clock.NowMonotonic(), boot: h.boot}
	t.inner = h.clock.(*hostClock).Clock.AfterFunc(d, t.fire)
	return t
}

// Stop implements tcpip.Timer.
func (t *synTimer) Stop() bool { return t.inner.Stop() }

// Reset implements tcpip.Timer. netstack resets the timer from its handler
// to back off (Linux's wait replaces its own), and from elsewhere to fire
// at once (a SYN that crosses in a simultaneous open), which is kept.
func (t *synTimer) Reset(d time.Duration) {
	if t.firing {
		d = t.next()
	}
	t.inner.Reset(d)
}

// active reports whether the timer's endpoint is connecting (a SYN), not
// half-open (a SYN-ACK).
func (t *synTimer) active() bool {
	return tcp.EndpointState(t.st.ep.State()) != tcp.StateSynRecv
}

// next returns the wait after the retransmission just made.
func (t *synTimer) next() time.Duration {
	l := &t.h.settings.Linux
	k := t.sent
	if t.active() && k <= l.SynLinearTimeouts {
		return time.Second
	}
	if t.active() {
		k -= l.SynLinearTimeouts
	}
	return min(time.Second<<min(k, 7), tcp.MaxRTO)
}

// giveUp reports whether Linux gives up at this timeout.
func (t *synTimer) giveUp() bool {
	l := &t.h.settings.Linux
	if t.active() {
		return t.h.clock.NowMonotonic().Sub(t.start) >= synBudget(l.SynRetries)
	}
	return t.sent >= l.SynAckRetries
}

// fire runs netstack's handler so that it retransmits or gives up as Linux
// would, and reports the timer as emulated.
func (t *synTimer) fire() {
	if t.h.boot != t.boot {
		return // a timer of a stack destroyed in a crash (crash.go)
	}
	timeout := time.Second
	stop := t.giveUp()
	if stop {
		timeout = tcp.MaxRTO
	}
	if !setHandshakeTimeout(t.st.ep, timeout) {
		t.h.timerFired(t.st, t.f) // netstack's layout changed: its own schedule
		return
	}
	if !stop {
		t.sent++
		t.h.synRetransmitted()
	}
	t.h.emu = event.EmuSynSchedule
	t.firing = true
	t.h.timerFired(t.st, t.f)
	t.firing = false
}
