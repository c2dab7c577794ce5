package hosts

import (
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// socket is one named socket of a host's application.
type socket struct {
	name  string
	ep    tcpip.Endpoint // nil until created; options wait in opts
	wq    *waiter.Queue
	entry waiter.Entry
	// watched says entry is registered with wq.
	watched bool
	opts    Options
	err     *appErr // the error the socket failed with, once taken from it
	// closed says the script closed or aborted the socket; cleared that
	// a so_error step took the error it failed with.
	closed, cleared bool
	// For a model's sockets: the order the model opened it in, whether
	// it is in its proc's ready list (guarded by the host's mu), and the
	// model's connection it belongs to.
	seq   uint64
	ready bool
	owner any
}

// notifyMask is what wakes an application up.
const notifyMask = waiter.EventIn | waiter.EventOut | waiter.EventErr | waiter.EventHUp

// watch makes notifications of sk wake fn's owner, replacing its previous
// watcher.
func (sk *socket) watch(fn func(waiter.EventMask)) {
	sk.unwatch()
	sk.entry = waiter.NewFunctionEntry(notifyMask, fn)
	sk.wq.EventRegister(&sk.entry)
	sk.watched = true
}

// unwatch stops notifications of sk.
func (sk *socket) unwatch() {
	if sk.watched {
		sk.wq.EventUnregister(&sk.entry)
		sk.watched = false
	}
}

// failure returns the error sk failed with, or nil if it has not failed.
// netstack hands a socket's error out once; it is kept so that a Wait that
// saw it and a later Recv report the same error.
func (sk *socket) failure() *appErr {
	if sk.err == nil && tcp.EndpointState(sk.ep.State()) == tcp.StateError {
		if e := sk.ep.LastError(); e != nil {
			sk.err = errnoErr(e)
		}
	}
	return sk.err
}

// script plays a host's steps in order without ever blocking: a step that
// would block returns, and the script resumes when a socket notification or
// a scheduled wake-up arrives.
type script struct {
	h       *Host
	stepFn  func() // step, made once
	label   string // prefix of the script's App rows; "" for none
	steps   []Step
	rounds  int // how many times the steps run (Repeat)
	round   int // rounds started
	pc      int
	sockets map[string]*socket
	poked   bool          // guarded by h.mu
	wakeAt  time.Duration // a wake-up is scheduled for this time; -1 if none
	conns   int           // connections handed to per-connection scripts

	// progress of the current step
	started  bool
	count    int           // bytes sent or received so far
	until    time.Duration // end of a sleep
	deadline time.Duration // end of a Recv or Wait timeout
	preview  []byte        // first bytes received
	eof      bool
}

func newScript(h *Host, label string, steps []Step, rounds int) *script {
	s := &script{h: h, label: label, steps: steps, rounds: max(rounds, 1), round: 1, sockets: map[string]*socket{}, wakeAt: -1}
	s.stepFn = s.step
	return s
}

// notify runs on netstack goroutines: it only queues a wake-up.
func (s *script) notify(waiter.EventMask) { s.h.poke(&s.poked, s.stepFn) }

// poke queues run on the loop once, however many notifications arrive
// before it runs. *poked (guarded by h.mu) tells whether it is queued. It
// runs on netstack goroutines, so it only queues.
func (h *Host) poke(poked *bool, run func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if *poked {
		return
	}
	*poked = true
	h.pending = append(h.pending, pendingWork{poked, run})
}

// pendingWork is application work queued by poke.
type pendingWork struct {
	poked *bool
	run   func()
}

// wakeAfter schedules one wake-up at time at, unless one is already due then.
func (s *script) wakeAfter(at time.Duration) {
	if s.wakeAt == at {
		return
	}
	s.wakeAt = at
	s.h.at(at, func() {
		if s.wakeAt == at {
			s.wakeAt = -1
		}
		s.step()
	})
}

// step runs steps until one has to wait or the script ends. With Repeat,
// the steps start over with no sockets once they are done.
func (s *script) step() {
	for {
		if s.pc == len(s.steps) {
			if s.round >= s.rounds || len(s.steps) == 0 {
				return
			}
			s.round++
			s.pc = 0
			s.sockets = map[string]*socket{}
		}
		st := &s.steps[s.pc]
		now := s.h.now()
		if st.At > now {
			s.wakeAfter(st.At)
			return
		}
		first := !s.started
		s.h.act(st.Action.String(), "")
		o, blocked := s.try(st)
		for _, sk := range s.sockets {
			if sk.ep != nil {
				s.h.touch(sk.ep) // the order is the tracker's, not the map's
			}
		}
		if first {
			// State changes a step makes synchronously (connect's SYN,
			// close's FIN) are attributed to it right away.
			s.h.checkStates()
		}
		if blocked && st.Timeout > 0 && st.Action.takesTimeout() {
			if first {
				s.deadline = now + st.Timeout
			}
			if now < s.deadline {
				s.wakeAfter(s.deadline)
			} else {
				blocked = false
				o = s.timedOut(st)
			}
		}
		if blocked {
			s.started = true
			return
		}
		stop := o.err != nil && st.OnError == Stop
		s.h.report(s.label, code(st.String()), st.Action.String(), s.decided(st, o))
		s.started, s.count, s.until, s.deadline, s.preview, s.eof = false, 0, 0, 0, nil, false
		if st.Action == Accept && st.Each != nil && o.err == nil {
			s.spawn(st)
			continue // the step serves the next connection
		}
		s.pc++
		if stop {
			// on_error = "stop" (the default): the script ends here.
			s.pc, s.round = len(s.steps), s.rounds
			return
		}
	}
}

// decided adds to the outcome of a failed step what the script does next
// (its on_error), and how many steps a stop leaves unrun.
func (s *script) decided(st *Step, o outcome) outcome {
	if o.err == nil {
		return o
	}
	if st.OnError == Continue {
		o.onError = event.OnErrorContinue
		return o
	}
	o.onError = event.OnErrorStop
	o.skipped = len(s.steps) - s.pc - 1 + (s.rounds-s.round)*len(s.steps)
	return o
}

// timedOut is the outcome of a step whose Timeout ran out while it waited:
// a Recv or Wait reports it and succeeds; a Connect is abandoned.
func (s *script) timedOut(st *Step) outcome {
	if st.Action == Connect {
		return s.abandon(st)
	}
	o := succeeded(i18n.M("app.timedout", durText(st.Timeout)))
	if s.count > 0 {
		o = succeeded(i18n.M("app.timedout.received", durText(st.Timeout), s.count))
	}
	if st.Action == Recv {
		o.bytes = s.count
	}
	return o
}

// spawn starts a per-connection script for the connection an Accept step
// with Each just accepted.
func (s *script) spawn(st *Step) {
	name := st.socketName()
	sk := s.sockets[name]
	delete(s.sockets, name)
	s.conns++
	label := "conn" + strconv.Itoa(s.conns)
	if s.label != "" {
		label = s.label + "/" + label
	}
	c := newScript(s.h, label, st.Each, 1)
	c.sockets[name] = sk
	if from := st.from(); s.sockets[from] != nil {
		c.sockets[from] = s.sockets[from]
	}
	sk.watch(c.notify)
	c.step()
}

// try attempts the current step. It returns the outcome, or blocked when the
// step must wait.
func (s *script) try(st *Step) (o outcome, blocked bool) {
	switch st.Action {
	case Listen:
		return s.listen(st)
	case Accept:
		return s.accept(st)
	case Connect:
		return s.connect(st)
	case Send:
		return s.send(st)
	case Recv:
		return s.recv(st)
	case Wait:
		return s.wait(st)
	case Sleep:
		if !s.started {
			s.until = s.h.now() + st.For
		}
		if s.h.now() < s.until {
			s.wakeAfter(s.until)
			return outcome{}, true
		}
		return succeeded(i18n.M("app.slept", st.For.String())), false
	case Set:
		sk := s.socket(st.socketName())
		sk.opts = MergeOptions(sk.opts, st.Options)
		if sk.ep == nil {
			return succeeded(i18n.M("app.set.kept", sk.name)), false
		}
		if e := applyOptions(sk.ep, st.Options); e != nil {
			return failedWith(e), false
		}
		return succeeded(i18n.M("app.set")), false
	}
	sk := s.sockets[st.socketName()]
	if sk == nil || sk.ep == nil {
		return failedWith(errMsg(i18n.M("app.err.nosocket", st.socketName()))), false
	}
	switch st.Action {
	case Shutdown:
		if e := sk.ep.Shutdown(tcpip.ShutdownWrite); e != nil {
			return failedWith(errnoErr(e)), false
		}
		return succeeded(i18n.M("app.shutdown")), false
	case Close:
		sk.ep.Close()
		s.h.forget(sk.ep)
		sk.closed = true
		return succeeded(i18n.M("app.closed")), false
	case Abort:
		sk.ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true, Timeout: 0})
		sk.ep.Close()
		s.h.forget(sk.ep)
		sk.closed = true
		return succeeded(i18n.M("app.aborted")), false
	case SoError:
		return s.soError(sk), false
	case TCPInfo:
		return s.tcpInfo(sk), false
	}
	// Not reached: newApps runs only steps Step.Validate accepts.
	return failedWith(errMsg(i18n.M("app.err.action", st.Action.String()))), false
}

// socket returns the named socket, creating an empty one.
func (s *script) socket(name string) *socket {
	sk := s.sockets[name]
	if sk == nil {
		sk = &socket{name: name}
		s.sockets[name] = sk
	}
	return sk
}

// open creates the endpoint of a socket for the given address family.
func (s *script) open(sk *socket, v6 bool) *appErr {
	sk.wq = &waiter.Queue{}
	ep, e := s.h.newEndpoint(v6, sk.wq)
	if e != nil {
		return e
	}
	sk.ep = ep
	sk.watch(s.notify)
	return applyOptions(ep, sk.opts)
}

// newEndpoint creates a TCP endpoint for the host's applications, IPv6 when
// v6 is set, notifying wq, and starts tracking its state. It is the one
// place where application endpoints are created, so host-wide socket
// defaults belong here.
func (h *Host) newEndpoint(v6 bool, wq *waiter.Queue) (tcpip.Endpoint, *appErr) {
	proto := ipv4.ProtocolNumber
	if v6 {
		proto = ipv6.ProtocolNumber
	}
	ep, e := h.stack.NewEndpoint(tcp.ProtocolNumber, proto, wq)
	if e != nil {
		return nil, errnoErr(e)
	}
	h.track(ep, event.Closed)
	if e := applyOptions(ep, h.defaults); e != nil {
		return nil, e
	}
	return ep, nil
}

func (s *script) listen(st *Step) (outcome, bool) {
	sk := s.socket(st.socketName())
	if sk.ep != nil {
		return failedWith(errMsg(i18n.M("app.err.open", sk.name))), false
	}
	// A host with an IPv6 address listens on a dual-stack IPv6 socket
	// (IPV6_V6ONLY off, as on Linux), so IPv4 and IPv6 clients both reach it.
	v6 := slices.ContainsFunc(s.h.addrs, netip.Addr.Is6)
	if e := s.open(sk, v6); e != nil {
		return failedWith(e), false
	}
	if v6 {
		sk.ep.SocketOptions().SetV6Only(false)
	}
	if e := sk.ep.Bind(tcpip.FullAddress{Port: st.Port}); e != nil {
		return failedWith(errnoErr(e)), false
	}
	n := s.h.settings.Backlog(st.Backlog)
	if e := sk.ep.Listen(n); e != nil {
		return failedWith(errnoErr(e)), false
	}
	return succeeded(i18n.M("app.listening", st.Port, st.Backlog, n)), false
}

func (s *script) accept(st *Step) (outcome, bool) {
	from := st.from()
	l := s.sockets[from]
	if l == nil || l.ep == nil {
		return failedWith(errMsg(i18n.M("app.err.nolistener", from))), false
	}
	var peer tcpip.FullAddress
	ep, wq, e := l.ep.Accept(&peer)
	if _, ok := e.(*tcpip.ErrWouldBlock); ok {
		return outcome{}, true
	}
	if e != nil {
		return failedWith(errnoErr(e)), false
	}
	// A fresh socket: one accepted earlier under the same name keeps
	// its registration, so its notifications still wake the script.
	old := s.socket(st.socketName())
	sk := &socket{name: old.name, ep: ep, wq: wq, opts: old.opts}
	s.sockets[sk.name] = sk
	sk.watch(s.notify)
	s.h.track(ep, event.SynRcvd)
	if e := applyOptions(ep, MergeOptions(s.h.defaults, sk.opts)); e != nil {
		return failedWith(e), false
	}
	return succeeded(i18n.M("app.accepted", addrPort(peer.Addr, peer.Port).String())), false
}

func (s *script) connect(st *Step) (outcome, bool) {
	sk := s.socket(st.socketName())
	if !s.started {
		if sk.ep != nil && !sk.reusable() {
			return failedWith(errMsg(i18n.M("app.err.open", sk.name))), false
		}
		s.release(sk)
		if e := s.open(sk, !st.Addr.Addr().Is4()); e != nil {
			return failedWith(e), false
		}
		if st.Port != 0 {
			// A fixed local port: simultaneous open needs both sides to
			// know each other's port.
			if e := sk.ep.Bind(tcpip.FullAddress{Port: st.Port}); e != nil {
				return failedWith(errnoErr(e)), false
			}
		}
		e := sk.ep.Connect(fullAddress(st.Addr))
		if _, ok := e.(*tcpip.ErrConnectStarted); ok {
			return outcome{}, true
		}
		if e != nil {
			return failedWith(errnoErr(e)), false
		}
	}
	switch state := tcp.EndpointState(sk.ep.State()); {
	case state == tcp.StateSynSent || state == tcp.StateConnecting:
		return outcome{}, true
	case connected(state):
		local, _ := endpointAddrs(sk.ep)
		return succeeded(i18n.M("app.connected", local.String())), false
	}
	if e := sk.ep.LastError(); e != nil {
		return failedWith(errnoErr(e)), false
	}
	return failedWith(errMsg(i18n.M("app.err.failed"))), false
}

func (s *script) send(st *Step) (outcome, bool) {
	sk := s.sockets[st.socketName()]
	if sk == nil || sk.ep == nil {
		return failedWith(errMsg(i18n.M("app.err.nosocket", st.socketName()))), false
	}
	total := st.Bytes
	if st.Data != nil {
		total = len(st.Data)
	}
	for s.count < total {
		var r tcpip.Payloader
		if st.Data != nil {
			r = &byteReader{b: st.Data[s.count:]}
		} else {
			r = &fillReader{off: s.count, n: total - s.count}
		}
		n, e := s.h.write(sk.ep, r)
		s.count += int(n)
		if _, ok := e.(*tcpip.ErrWouldBlock); ok {
			return outcome{}, true
		}
		if e != nil {
			err := sk.err
			if err == nil {
				err = errnoErr(e)
			}
			sk.err = nil // handed out, as the system call does
			return outcome{err: err, bytes: s.count}, false
		}
		if n == 0 {
			return outcome{}, true
		}
	}
	return transferred(i18n.M("app.sent", total), total), false
}

func (s *script) recv(st *Step) (outcome, bool) {
	sk := s.sockets[st.socketName()]
	if sk == nil || sk.ep == nil {
		return failedWith(errMsg(i18n.M("app.err.nosocket", st.socketName()))), false
	}
	for st.Bytes == 0 || s.count < st.Bytes {
		w := &countWriter{s: s}
		var dst io.Writer = w
		if st.Bytes > 0 {
			dst = &tcpip.LimitedWriter{W: w, N: int64(st.Bytes - s.count)}
		}
		_, e := s.h.read(sk.ep, dst)
		if _, ok := e.(*tcpip.ErrWouldBlock); ok {
			if st.Bytes == 0 && s.count > 0 {
				break
			}
			return outcome{}, true
		}
		if _, ok := e.(*tcpip.ErrClosedForReceive); ok {
			if err := sk.err; err != nil {
				sk.err = nil // handed out, as the system call does
				return outcome{err: err, bytes: s.count}, false
			}
			s.eof = true
			break
		}
		if e != nil {
			return outcome{err: errnoErr(e), bytes: s.count}, false
		}
	}
	preview := len(s.preview) > 0 && printable(s.preview)
	head := truncate(string(s.preview), 24)
	var r i18n.Msg
	switch {
	case s.eof && s.count == 0 && sk.cleared:
		r = i18n.M("app.eof.cleared")
	case s.eof && s.count == 0:
		r = i18n.M("app.eof")
	case s.eof && preview:
		r = i18n.M("app.received.preview.eof", s.count, head)
	case s.eof:
		r = i18n.M("app.received.eof", s.count)
	case preview:
		r = i18n.M("app.received.preview", s.count, head)
	default:
		r = i18n.M("app.received", s.count)
	}
	return transferred(r, s.count), false
}

// wait waits for st.Until on the step's socket. A socket that fails while
// Wait waits for anything but "closed" or "error" ends the step with its
// error.
func (s *script) wait(st *Step) (outcome, bool) {
	if st.Until == 0 {
		return succeeded(i18n.M("app.waited", durText(s.h.now()))), false
	}
	sk := s.sockets[st.socketName()]
	if sk == nil || sk.ep == nil {
		return failedWith(errMsg(i18n.M("app.err.nosocket", st.socketName()))), false
	}
	state := tcp.EndpointState(sk.ep.State())
	failure := sk.failure()
	switch st.Until {
	case EventClosed:
		switch {
		case state != tcp.StateClose && state != tcp.StateError:
			return outcome{}, true
		case failure != nil:
			return succeeded(i18n.M("app.wait.closed.err", failure.msg)), false
		}
		return succeeded(i18n.M("app.wait.closed")), false
	case EventError:
		if failure == nil {
			return outcome{}, true
		}
		return succeeded(i18n.M("app.wait.error", failure.msg)), false
	}
	if failure != nil {
		return failedWith(failure), false
	}
	switch st.Until {
	case EventConnected:
		if connected(state) {
			local, remote := endpointAddrs(sk.ep)
			return succeeded(i18n.M("app.wait.connected", local.String(), remote.String())), false
		}
	case EventPeerClosed:
		switch state {
		case tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing, tcp.StateTimeWait:
			return succeeded(i18n.M("app.wait.peerclosed")), false
		case tcp.StateClose:
			return succeeded(i18n.M("app.wait.closed")), false
		}
	case EventReadable:
		if sk.ep.Readiness(waiter.ReadableEvents) == 0 {
			return outcome{}, true
		}
		if state == tcp.StateListen {
			return succeeded(i18n.M("app.wait.readable.accept")), false
		}
		if n, e := sk.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); e == nil && n > 0 {
			return succeeded(i18n.M("app.wait.readable", n)), false
		}
		return succeeded(i18n.M("app.wait.readable.eof")), false
	default: // not reached: newApps runs only steps Step.Validate accepts
		return failedWith(errMsg(i18n.M("app.err.event", st.Until.String()))), false
	}
	return outcome{}, true
}

// forget lets the state tracker drop ep once it reaches CLOSED.
func (h *Host) forget(ep tcpip.Endpoint) {
	if t, ok := h.known[ep]; ok {
		t.done = true
		h.markDirty(t)
	}
}

// connected reports whether s is one of netstack's connected states
// (its own EndpointState.connected, which is not exported): an endpoint
// in one is registered under its 4-tuple until it leaves them.
func connected(s tcp.EndpointState) bool {
	switch s {
	case tcp.StateEstablished, tcp.StateFinWait1, tcp.StateFinWait2, tcp.StateTimeWait,
		tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing:
		return true
	}
	return false
}

func fullAddress(ap netip.AddrPort) tcpip.FullAddress {
	a := ap.Addr()
	if a.Is4() {
		return tcpip.FullAddress{Addr: tcpip.AddrFrom4(a.As4()), Port: ap.Port()}
	}
	return tcpip.FullAddress{Addr: tcpip.AddrFrom16(a.As16()), Port: ap.Port()}
}

// MergeOptions returns a with every option set in b copied over it: an
// application's or a step's options over the host's defaults.
func MergeOptions(a, b Options) Options {
	if b.NoDelay != nil {
		a.NoDelay = b.NoDelay
	}
	if b.KeepAlive != nil {
		a.KeepAlive = b.KeepAlive
	}
	if b.KeepIdle != nil {
		a.KeepIdle = b.KeepIdle
	}
	if b.KeepInterval != nil {
		a.KeepInterval = b.KeepInterval
	}
	if b.KeepCount != nil {
		a.KeepCount = b.KeepCount
	}
	if b.SendBuffer != nil {
		a.SendBuffer = b.SendBuffer
	}
	if b.RecvBuffer != nil {
		a.RecvBuffer = b.RecvBuffer
	}
	if b.MSS != nil {
		a.MSS = b.MSS
	}
	if b.UserTimeout != nil {
		a.UserTimeout = b.UserTimeout
	}
	if b.QuickAck != nil {
		a.QuickAck = b.QuickAck
	}
	return a
}

// applyOptions sets o on ep and returns the first error, or nil.
func applyOptions(ep tcpip.Endpoint, o Options) *appErr {
	so := ep.SocketOptions()
	if o.NoDelay != nil {
		so.SetDelayOption(!*o.NoDelay)
	}
	if o.KeepAlive != nil {
		so.SetKeepAlive(*o.KeepAlive)
	}
	if o.SendBuffer != nil {
		so.SetSendBufferSize(int64(*o.SendBuffer), true)
	}
	if o.RecvBuffer != nil {
		so.SetReceiveBufferSize(int64(*o.RecvBuffer), true)
	}
	if o.QuickAck != nil {
		so.SetQuickAck(*o.QuickAck) // netstack keeps it; the linux profile's delayed ACK reads it
	}
	var errs []tcpip.Error
	if o.KeepIdle != nil {
		v := tcpip.KeepaliveIdleOption(*o.KeepIdle)
		errs = append(errs, ep.SetSockOpt(&v))
	}
	if o.KeepInterval != nil {
		v := tcpip.KeepaliveIntervalOption(*o.KeepInterval)
		errs = append(errs, ep.SetSockOpt(&v))
	}
	if o.KeepCount != nil {
		errs = append(errs, ep.SetSockOptInt(tcpip.KeepaliveCountOption, *o.KeepCount))
	}
	if o.MSS != nil {
		errs = append(errs, ep.SetSockOptInt(tcpip.MaxSegOption, *o.MSS))
	}
	if o.UserTimeout != nil {
		v := tcpip.TCPUserTimeoutOption(*o.UserTimeout)
		errs = append(errs, ep.SetSockOpt(&v))
	}
	for _, e := range errs {
		if e != nil {
			err := errnoErr(e)
			return err.wrapped(i18n.M("app.err.setopt", err.msg))
		}
	}
	return nil
}

// countWriter counts received bytes and keeps the first few.
type countWriter struct{ s *script }

func (w *countWriter) Write(p []byte) (int, error) {
	if room := 64 - len(w.s.preview); room > 0 {
		w.s.preview = append(w.s.preview, p[:min(room, len(p))]...)
	}
	w.s.count += len(p)
	return len(p), nil
}

// byteReader is a tcpip.Payloader over a byte slice.
type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func (r *byteReader) Len() int { return len(r.b) }

// fillReader is a tcpip.Payloader of n filler bytes starting at offset off
// of an endless repetition of the alphabet, without allocating them.
type fillReader struct{ off, n int }

const filler = "abcdefghijklmnopqrstuvwxyz"

// fillBlock holds the filler pattern repeated, so that Read copies instead of
// computing each byte.
var fillBlock = []byte(strings.Repeat(filler, 2521)) // 65546 bytes

func (r *fillReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	done := 0
	for done < k {
		start := (r.off + done) % len(filler)
		done += copy(p[done:k], fillBlock[start:])
	}
	r.off += k
	r.n -= k
	return k, nil
}

func (r *fillReader) Len() int { return r.n }

func printable(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\r' && c != '\n' && c != '\t' {
			return false
		}
	}
	return true
}
