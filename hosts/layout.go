package hosts

import (
	"reflect"
	"sync"
	"time"
	"unsafe"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Reading netstack's sender and timers.
//
// netstack exports none of what a host needs to know about an endpoint's
// sender (SND.UNA, SND.NXT, the RTO, the state of its timers), so hosts read
// the fields. They are read after every settle (the RTO guard) and every
// time a timer wakes up, so the fields are found once, by reflection on
// netstack's types, and then read at their offsets. Every offset is checked
// against the field's type when it is found; if netstack's layout changes,
// layoutOK is false and the readers say they cannot read (the RTO guard
// then does nothing, and timers are taken as due), and TestRTOGuardFields
// fails.

// layout holds the offsets of the fields hosts read.
type layout struct {
	snd       uintptr // tcp.Endpoint.snd, a *sender
	keepalive uintptr // tcp.Endpoint.keepalive, a struct whose field timer is a timer
	kaTimer   uintptr // keepalive.timer within it
	h         uintptr // tcp.Endpoint.h, a *handshake
	iss       uintptr // handshake.iss, a seqnum.Value

	sndUna, sndNxt, rto uintptr // in sender
	// the sender's timers (tcp.timer structs)
	resend, probe, reorder, cork uintptr
	// in tcp.timer
	tState, tTarget, tTimer uintptr
}

var (
	nsLayout   layout
	layoutOK   bool
	layoutOnce sync.Once
)

// netstackLayout finds the offsets once.
func netstackLayout() (*layout, bool) {
	layoutOnce.Do(func() { layoutOK = findLayout(&nsLayout) })
	return &nsLayout, layoutOK
}

// findLayout fills l from netstack's types and reports whether every field
// was found with the expected type.
func findLayout(l *layout) bool {
	ok := true
	field := func(t reflect.Type, name string, want reflect.Kind) (reflect.StructField, bool) {
		f, found := t.FieldByName(name)
		if !found || want != reflect.Invalid && f.Type.Kind() != want {
			ok = false
			return reflect.StructField{}, false
		}
		return f, true
	}
	ep := reflect.TypeFor[tcp.Endpoint]()
	snd, found := field(ep, "snd", reflect.Pointer)
	if !found {
		return false
	}
	l.snd = snd.Offset
	sender := snd.Type.Elem()
	for _, f := range []struct {
		name string
		off  *uintptr
		typ  reflect.Type
	}{
		{"SndUna", &l.sndUna, reflect.TypeFor[seqnum.Value]()},
		{"SndNxt", &l.sndNxt, reflect.TypeFor[seqnum.Value]()},
		{"RTO", &l.rto, reflect.TypeFor[time.Duration]()},
	} {
		sf, found := field(sender, f.name, reflect.Invalid)
		if !found || sf.Type != f.typ {
			return false
		}
		*f.off = sf.Offset
	}
	var timerType reflect.Type
	for _, f := range []struct {
		name string
		off  *uintptr
	}{{"resendTimer", &l.resend}, {"probeTimer", &l.probe}, {"reorderTimer", &l.reorder}, {"corkTimer", &l.cork}} {
		sf, found := field(sender, f.name, reflect.Struct)
		if !found {
			return false
		}
		*f.off, timerType = sf.Offset, sf.Type
	}
	st, _ := field(timerType, "state", reflect.Int)
	target, _ := field(timerType, "target", reflect.Struct)
	tm, _ := field(timerType, "timer", reflect.Interface)
	if !ok || target.Type != reflect.TypeFor[tcpip.MonotonicTime]() || tm.Type != reflect.TypeFor[tcpip.Timer]() {
		return false
	}
	l.tState, l.tTarget, l.tTimer = st.Offset, target.Offset, tm.Offset
	ka, found := field(ep, "keepalive", reflect.Struct)
	if !found {
		return false
	}
	kt, found := field(ka.Type, "timer", reflect.Struct)
	if !found || kt.Type != timerType {
		return false
	}
	l.keepalive, l.kaTimer = ka.Offset, kt.Offset
	h, found := field(ep, "h", reflect.Pointer)
	if !found {
		return false
	}
	iss, found := field(h.Type.Elem(), "iss", reflect.Invalid)
	if !found || iss.Type != reflect.TypeFor[seqnum.Value]() {
		return false
	}
	l.h, l.iss = h.Offset, iss.Offset
	return ok
}

// sender returns a pointer to ep's sender, or nil before it has one.
func (l *layout) sender(ep *tcp.Endpoint) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(ep), l.snd))
}

// lazyTimer is one of netstack's tcp.timer structs, read in place.
type lazyTimer struct {
	l *layout
	p unsafe.Pointer
}

// state returns the timer's state (tcp/timer.go's timerState).
func (t lazyTimer) state() int { return *(*int)(unsafe.Add(t.p, t.l.tState)) }

// target returns when the timer is due while it is enabled.
func (t lazyTimer) target() tcpip.MonotonicTime {
	return *(*tcpip.MonotonicTime)(unsafe.Add(t.p, t.l.tTarget))
}

// clock returns the clock timer under it, or nil before it was first armed.
func (t lazyTimer) clock() tcpip.Timer { return *(*tcpip.Timer)(unsafe.Add(t.p, t.l.tTimer)) }

// timerOf returns the lazy timer of kind k of ep, if k is one of the
// sender's or the keep-alive timer and ep has it.
func (l *layout) timerOf(ep *tcp.Endpoint, k timerField) (lazyTimer, bool) {
	if k == keepaliveTimer {
		return lazyTimer{l, unsafe.Add(unsafe.Pointer(ep), l.keepalive+l.kaTimer)}, true
	}
	snd := l.sender(ep)
	if snd == nil {
		return lazyTimer{}, false
	}
	var off uintptr
	switch k {
	case resendTimer:
		off = l.resend
	case probeTimer:
		off = l.probe
	case reorderTimer:
		off = l.reorder
	case corkTimer:
		off = l.cork
	default:
		return lazyTimer{}, false
	}
	return lazyTimer{l, unsafe.Add(snd, off)}, true
}

// timerField names one of netstack's lazy timers of an endpoint.
type timerField int

const (
	resendTimer timerField = iota + 1
	probeTimer
	reorderTimer
	corkTimer
	keepaliveTimer
)

// sendSpace returns the sequence space an endpoint has sent and not seen
// acknowledged, [una, nxt), read from netstack's sender (or, during the
// handshake, its SYN). ok is false when it cannot be read.
func sendSpace(ep tcpip.Endpoint) (una, nxt seqnum.Value, ok bool) {
	e, isTCP := ep.(*tcp.Endpoint)
	l, found := netstackLayout()
	if !isTCP || e == nil || !found {
		return 0, 0, false
	}
	if snd := l.sender(e); snd != nil {
		return *(*seqnum.Value)(unsafe.Add(snd, l.sndUna)), *(*seqnum.Value)(unsafe.Add(snd, l.sndNxt)), true
	}
	if h := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(e), l.h)); h != nil {
		iss := *(*seqnum.Value)(unsafe.Add(h, l.iss))
		return iss, iss + 1, true
	}
	return 0, 0, false
}

// senderRTO returns the endpoint's current retransmission timeout, or 0.
func senderRTO(ep *tcp.Endpoint) time.Duration {
	l, found := netstackLayout()
	if !found {
		return 0
	}
	snd := l.sender(ep)
	if snd == nil {
		return 0
	}
	return *(*time.Duration)(unsafe.Add(snd, l.rto))
}
