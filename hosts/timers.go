package hosts

import (
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/tcplab/tcplab/internal/event"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Which timer fired.
//
// netstack does not say which of an endpoint's timers a clock callback
// belongs to, and a host needs to know: a retransmission caused by the RTO
// timer, a tail loss probe, a keep-alive probe and a SYN retransmission are
// explained differently. The host's clock wraps every timer the stack arms
// and identifies it once, when it is created, from the callback netstack
// passes to AfterFunc:
//
//   - netstack's own timers (tcp/timer.go) are created with the closure
//     timerHandler(e, f) returns (tcp/connect.go), whose code the
//     compiler names after the function it is inlined into
//     ("tcp.initSender.timerHandler.func3"): it captures the endpoint e and
//     the handler f, a method value such as e.snd.retransmitTimerExpired,
//     whose code is named "(*sender).retransmitTimerExpired-fm";
//   - the TIME_WAIT and FIN_WAIT_2 timers are method values of the
//     endpoint itself (e.timeWaitTimerExpired).
//
// The function names come from the runtime's symbol table; the captured
// words are read from the closure object. This depends on netstack's code,
// not its API: TestTimerKinds runs labs that arm every kind and fails if
// one is no longer recognised.
//
// netstack's timers are lazy: when it disables one, the clock timer keeps
// running and wakes up early (or for nothing), and netstack re-arms it or
// ignores it (tcp/timer.go checkExpiration). A wake-up is reported as a
// timer firing only when the timer is really due: enabled, and its target
// reached.

// tcpPkg is the package path prefix of netstack's TCP function names.
const tcpPkg = "gvisor.dev/gvisor/pkg/tcpip/transport/tcp."

// handlerKinds maps the code names of netstack's timer handlers to kinds.
var handlerKinds = map[string]event.TimerKind{
	tcpPkg + "(*sender).retransmitTimerExpired-fm":     event.TimerRTO,
	tcpPkg + "(*sender).probeTimerExpired-fm":          event.TimerTLP,
	tcpPkg + "(*rackControl).reorderTimerExpired-fm":   event.TimerRACK,
	tcpPkg + "(*sender).corkTimerExpired-fm":           event.TimerCork,
	tcpPkg + "(*Endpoint).keepaliveTimerExpired-fm":    event.TimerKeepalive,
	tcpPkg + "(*handshake).retransmitHandlerLocked-fm": event.TimerHandshake,
	tcpPkg + "(*Endpoint).finWait2TimerExpired-fm":     event.TimerFinWait2,
	tcpPkg + "(*Endpoint).timeWaitTimerExpired-fm":     event.TimerTimeWait,
}

// lazyTimers maps the kinds of netstack's lazy timers to their fields.
var lazyTimers = map[event.TimerKind]timerField{
	event.TimerRTO:       resendTimer,
	event.TimerTLP:       probeTimer,
	event.TimerRACK:      reorderTimer,
	event.TimerCork:      corkTimer,
	event.TimerKeepalive: keepaliveTimer,
}

// stackTimer is what the host knows of one timer its stack armed.
type stackTimer struct {
	kind event.TimerKind
	ep   *tcp.Endpoint // nil when unknown
}

// hostClock is the clock a host's stack uses: the network's clock, with
// every timer the stack arms identified, so that the host knows which timer
// fired and attributes what the stack then does to it.
type hostClock struct {
	tcpip.Clock
	h *Host
}

var _ tcpip.Clock = (*hostClock)(nil)

// AfterFunc implements tcpip.Clock.AfterFunc.
func (c *hostClock) AfterFunc(d time.Duration, f func()) tcpip.Timer {
	st := classify(f)
	if st.kind == event.TimerHandshake && st.ep != nil && c.h.settings.emulates() {
		return c.h.newSynTimer(st, d, f) // Linux's schedule (linux_syn.go)
	}
	boot := c.h.boot
	return c.Clock.AfterFunc(d, func() {
		if c.h.boot != boot {
			return // a timer of a stack destroyed in a crash (crash.go)
		}
		c.h.timerFired(st, f)
	})
}

// timerFired runs a timer's callback on the loop goroutine, attributing
// what it does to the timer, and reports the timer when it is really due.
func (h *Host) timerFired(st stackTimer, f func()) {
	c := event.TimerCause(st.kind)
	c.Emu, h.emu = h.emu, event.EmuNone // set by an emulated timer (linux_syn.go)
	h.setCause(c)
	if st.ep != nil {
		h.touch(st.ep)
	} else {
		h.allDirty = true // a timer of an endpoint the host cannot name
	}
	if st.ep == nil || st.kind == event.TimerHandshake {
		h.touchListeners() // a half-open connection may give up
	}
	if st.ep != nil && due(st, h.clock.NowMonotonic()) {
		local, remote := endpointAddrs(st.ep)
		t := &event.Timer{At: h.now(), Host: h.name, Local: local, Remote: remote, Kind: st.kind, State: linuxState(tcp.EndpointState(st.ep.State()))}
		if st.kind == event.TimerRTO {
			t.RTO = senderRTO(st.ep)
		}
		h.obs.Timer(t)
	}
	f()
}

// classify identifies the timer whose callback is f.
func classify(f func()) stackTimer {
	words := closureWords(f)
	name := funcName(uintptr(words[0]))
	switch {
	case isTimerHandler(name):
		// func() { ... e ... f() ... }: the endpoint and the handler,
		// in an order the compiler chose; the handler is the one whose
		// code is a known method value.
		for i, j := 1, 2; i <= 2; i, j = i+1, i {
			if words[i] == nil {
				continue
			}
			if k, ok := handlerKinds[funcName(*(*uintptr)(words[i]))]; ok {
				return stackTimer{kind: k, ep: (*tcp.Endpoint)(words[j])}
			}
		}
	default:
		if k, ok := handlerKinds[name]; ok && strings.Contains(name, "(*Endpoint)") {
			return stackTimer{kind: k, ep: (*tcp.Endpoint)(words[1])}
		}
	}
	return stackTimer{}
}

// timerHandlerName matches the code of the closure timerHandler returns,
// which the compiler names after the function it is inlined into and
// numbers: "tcp.initSender.timerHandler.func3".
var timerHandlerName = regexp.MustCompile(`^` + regexp.QuoteMeta(tcpPkg) + `.*\btimerHandler\.func\d+$`)

// isTimerHandler reports whether code name is a timerHandler closure.
func isTimerHandler(name string) bool {
	if v, ok := handlerNames.Load(name); ok {
		return v.(bool)
	}
	is := timerHandlerName.MatchString(name)
	handlerNames.Store(name, is)
	return is
}

// handlerNames caches isTimerHandler by name: timers are armed on every
// connection, and a regular expression per arming was measurable.
var handlerNames sync.Map // string → bool

// closureWords returns the words of the closure object of f: its code
// pointer, then its captured variables, as far as the code's name says
// they go (a timerHandler closure captures two words, a method value its
// receiver); the rest are nil. Nothing past the code pointer is read for
// code it does not recognise.
func closureWords(f func()) [3]unsafe.Pointer {
	obj := *(*unsafe.Pointer)(unsafe.Pointer(&f))
	var words [3]unsafe.Pointer
	words[0] = *(*unsafe.Pointer)(obj)
	name := funcName(uintptr(words[0]))
	size := 1
	switch {
	case !strings.HasPrefix(name, tcpPkg):
	case isTimerHandler(name):
		size = 3
	case strings.HasSuffix(name, "-fm"):
		size = 2
	}
	for i := 1; i < size; i++ {
		words[i] = *(*unsafe.Pointer)(unsafe.Add(obj, i*int(unsafe.Sizeof(uintptr(0)))))
	}
	return words
}

// funcNames caches the names of code pointers.
var funcNames sync.Map // uintptr → string

// funcName returns the name of the function whose code starts at pc, or "".
func funcName(pc uintptr) string {
	if v, ok := funcNames.Load(pc); ok {
		return v.(string)
	}
	name := ""
	if fn := runtime.FuncForPC(pc); fn != nil && fn.Entry() == pc {
		name = fn.Name()
	}
	funcNames.Store(pc, name)
	return name
}

// due reports whether a timer that woke up is really due. netstack's lazy
// timers (tcp/timer.go) wake up spuriously only when orphaned (disabled
// with the clock timer still armed), and early when their target moved
// later; checkExpiration ignores the first and re-arms the second. A
// disabled timer past its target does expire (the RTO guard wakes one so).
// The other timers are stopped when they are no longer wanted, so a
// wake-up is always due. When the timer cannot be read, it is taken as due.
func due(st stackTimer, now tcpip.MonotonicTime) bool {
	field, lazy := lazyTimers[st.kind]
	l, ok := netstackLayout()
	if !lazy || !ok {
		return true
	}
	t, ok := l.timerOf(st.ep, field)
	if !ok {
		return false
	}
	switch t.state() {
	case timerUninitialized, timerOrphaned:
		return false
	}
	return !now.Before(t.target())
}

// ReportStalls reports every endpoint that holds sequence space it sent and
// never saw acknowledged (data, a SYN, a FIN). Call it when nothing was
// left to happen: no timer is armed then, so nothing will ever send that
// space again and the connection is stuck.
func (h *Host) ReportStalls(at time.Duration) {
	for _, t := range h.tracked {
		switch t.state {
		case event.Closed, event.Listen, event.TimeWait:
			continue
		}
		una, nxt, ok := sendSpace(t.ep)
		if !ok || una == nxt {
			continue
		}
		h.obs.Stall(&event.Stall{At: at, Host: h.name, Local: t.local, Remote: t.remote, State: t.state, SndUna: una, SndNxt: nxt})
	}
}
