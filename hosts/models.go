package hosts

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Model is a ready-made application, run natively on the host's
// non-blocking runtime. The set is closed: *HTTPServer, *PoolClient,
// *EchoServer, *BulkSender, *Sink and *Holder (values work too).
type Model interface{ modelName() string }

// newModel returns the function that starts model m on the host.
func (h *Host) newModel(m Model, label string, opts Options) func() {
	p := &proc{h: h, label: label, opts: opts, timers: map[time.Duration]bool{}}
	p.pollFn = p.runPoll
	switch m := m.(type) {
	case HTTPServer:
		return newHTTPServer(p, m)
	case *HTTPServer:
		return newHTTPServer(p, *m)
	case PoolClient:
		return newPoolClient(p, m)
	case *PoolClient:
		return newPoolClient(p, *m)
	case EchoServer:
		return newEchoServer(p, m)
	case *EchoServer:
		return newEchoServer(p, *m)
	case BulkSender:
		return newBulkSender(p, m)
	case *BulkSender:
		return newBulkSender(p, *m)
	case Sink:
		return newSink(p, m)
	case *Sink:
		return newSink(p, *m)
	case Holder:
		return newHolder(p, m)
	case *Holder:
		return newHolder(p, *m)
	}
	panic(fmt.Sprintf("hosts: unknown model %T", m))
}

// proc runs a model: one poll function advances every connection of the
// model without blocking. It runs when the model starts, when one of its
// sockets has news (the notification only queues it) and when one of its
// timers is due. Polling a connection that has nothing new is harmless.
type proc struct {
	h      *Host
	label  string
	opts   Options // the app's socket options, after the host's defaults
	poll   func()
	pollFn func()                 // runPoll, made once
	poked  bool                   // guarded by h.mu
	timers map[time.Duration]bool // wake-ups already scheduled
	// ready lists the sockets with news since the model last took them
	// (guarded by h.mu), so that a model with many connections serves
	// the ones that changed, not all of them; sockets counts the
	// sockets opened, to order them.
	ready   []*socket
	sockets uint64
	// handed is the ready list takeReady handed out last, whose array the
	// next takeReady reuses; peer is where accept reads the peer's address.
	handed []*socket
	peer   tcpip.FullAddress
}

// notify runs on netstack goroutines: it only queues a poll.
func (p *proc) notify(waiter.EventMask) { p.h.poke(&p.poked, p.pollFn) }

// runPoll runs the model's poll (which it may replace as it goes).
func (p *proc) runPoll() { p.poll() }

// watch makes sk's notifications put it in the ready list and queue a
// poll, and numbers it.
func (p *proc) watch(sk *socket) {
	p.sockets++
	sk.seq = p.sockets
	sk.watch(func(waiter.EventMask) {
		p.h.mu.Lock()
		if !sk.ready {
			sk.ready = true
			p.ready = append(p.ready, sk)
		}
		p.h.mu.Unlock()
		p.notify(0)
	})
}

// markReady puts sk in the ready list, as a notification would (for a
// connection's own timer).
func (p *proc) markReady(sk *socket) {
	p.h.mu.Lock()
	if !sk.ready {
		sk.ready = true
		p.ready = append(p.ready, sk)
	}
	p.h.mu.Unlock()
}

// takeReady returns the sockets with news since the last call, in the
// order they were opened.
func (p *proc) takeReady() []*socket {
	p.h.mu.Lock()
	// The list handed out last time has been served (one poll at a
	// time): its array takes the next news.
	r := p.ready
	clear(p.handed)
	p.ready, p.handed = p.handed[:0], r
	for _, sk := range r {
		sk.ready = false
	}
	p.h.mu.Unlock()
	slices.SortFunc(r, func(a, b *socket) int { return cmp.Compare(a.seq, b.seq) })
	return r
}

// wakeSocket schedules, once per instant, making sk ready and polling at
// time at: a connection's own timer.
func (p *proc) wakeSocket(sk *socket, at time.Duration) {
	p.h.at(at, func() {
		p.markReady(sk)
		p.poll()
	})
}

// wakeAt schedules a poll at time at, once however often it is asked for.
func (p *proc) wakeAt(at time.Duration) {
	if p.timers[at] {
		return
	}
	p.timers[at] = true
	p.h.at(at, func() {
		delete(p.timers, at)
		p.poll()
	})
}

// report sends one of the model's rows to the observer: the outcome of
// the socket call op.
func (p *proc) report(step, op string, o outcome) {
	p.h.report(p.label, code(step), op, o)
}

// reportMsg is report for a step that is a sentence, in every language.
func (p *proc) reportMsg(step i18n.Msg, op string, o outcome) {
	p.h.report(p.label, step, op, o)
}

// did reports the state changes the model's call op just made, with op as
// their cause.
func (p *proc) did(op string, eps ...tcpip.Endpoint) {
	p.h.act(op, "")
	for _, ep := range eps {
		p.h.touch(ep)
	}
	p.h.checkStates()
}

// open creates a socket whose notifications poll the model.
func (p *proc) open(v6 bool) (*socket, *appErr) {
	sk := &socket{wq: &waiter.Queue{}}
	ep, e := p.h.newEndpoint(v6, sk.wq)
	if e != nil {
		return nil, e
	}
	if e := applyOptions(ep, p.opts); e != nil {
		ep.Close()
		return nil, e
	}
	sk.ep = ep
	p.watch(sk)
	return sk, nil
}

// listen opens a listening socket on port, dual-stack when the host has an
// IPv6 address, and reports it. It returns nil on failure.
func (p *proc) listen(port uint16, backlog int) *socket {
	step := fmt.Sprintf("listen :%d backlog %d", port, backlog)
	n := p.h.settings.Backlog(backlog)
	v6 := slices.ContainsFunc(p.h.addrs, netip.Addr.Is6)
	sk, e := p.open(v6)
	if e == nil {
		if v6 {
			sk.ep.SocketOptions().SetV6Only(false)
		}
		if err := sk.ep.Bind(tcpip.FullAddress{Port: port}); err != nil {
			e = errnoErr(err)
		} else if err := sk.ep.Listen(n); err != nil {
			e = errnoErr(err)
		}
	}
	if sk != nil {
		p.did("listen", sk.ep)
	} else {
		p.did("listen")
	}
	if e != nil {
		p.report(step, "listen", failedWith(e))
		return nil
	}
	p.report(step, "listen", succeeded(i18n.M("app.listening", port, backlog, n)))
	return sk
}

// accept takes one connection from l: nil when none is waiting.
func (p *proc) accept(l *socket) (*socket, netip.AddrPort, *appErr) {
	peer := &p.peer
	ep, wq, e := l.ep.Accept(peer)
	if _, ok := e.(*tcpip.ErrWouldBlock); ok {
		return nil, netip.AddrPort{}, nil
	}
	if e != nil {
		return nil, netip.AddrPort{}, errnoErr(e)
	}
	sk := &socket{ep: ep, wq: wq}
	p.watch(sk)
	p.h.track(ep, event.SynRcvd)
	if e := applyOptions(ep, MergeOptions(p.h.defaults, p.opts)); e != nil {
		return sk, addrPort(peer.Addr, peer.Port), e
	}
	return sk, addrPort(peer.Addr, peer.Port), nil
}

// dial starts connecting a new socket to addr.
func (p *proc) dial(addr netip.AddrPort) (*socket, *appErr) {
	sk, e := p.open(!addr.Addr().Is4())
	if e != nil {
		return nil, e
	}
	p.h.act("connect", "")
	err := sk.ep.Connect(fullAddress(addr))
	p.did("connect", sk.ep)
	if _, ok := err.(*tcpip.ErrConnectStarted); ok || err == nil {
		return sk, nil
	}
	p.closeSocket(sk, "")
	return nil, errnoErr(err)
}

// dialed reports whether a socket's connect finished: done with a nil
// error on success, done with the error otherwise.
func dialed(sk *socket) (done bool, err *appErr) {
	switch state := tcp.EndpointState(sk.ep.State()); {
	case state == tcp.StateSynSent || state == tcp.StateConnecting:
		return false, nil
	case connected(state):
		return true, nil
	}
	if f := sk.failure(); f != nil {
		return true, f
	}
	return true, errMsg(i18n.M("app.err.failed"))
}

// closeSocket closes sk (a FIN, or an RST if unread data is left) and
// reports the state changes. why is the model's reason (event.WhyIdleTimeout),
// or "" when it closes because its protocol says so.
func (p *proc) closeSocket(sk *socket, why string) {
	sk.unwatch()
	p.h.act("close", why)
	sk.ep.Close()
	p.h.forget(sk.ep)
	p.h.checkStates()
}

// opError is the error a socket operation returned: the error the socket
// failed with, if it has.
func (sk *socket) opError(e tcpip.Error) *appErr {
	if f := sk.failure(); f != nil {
		return f
	}
	return errnoErr(e)
}

// readSome reads what sk, a socket of h, holds, at most limit bytes when limit > 0, and
// returns how many bytes it read, whether the stream has ended, and an
// error. keep, if not nil, receives the bytes.
func readSome(h *Host, sk *socket, limit int, keep func([]byte)) (n int, eof bool, err *appErr) {
	w := &sinkWriter{keep: keep}
	for limit == 0 || n < limit {
		w.n = 0
		var dst io.Writer = w
		if limit > 0 {
			dst = &tcpip.LimitedWriter{W: w, N: int64(limit - n)}
		}
		_, e := h.read(sk.ep, dst)
		n += w.n
		switch e.(type) {
		case nil:
			continue
		case *tcpip.ErrWouldBlock:
			return n, false, nil
		case *tcpip.ErrClosedForReceive:
			if sk.err != nil {
				return n, false, sk.err
			}
			return n, true, nil
		}
		return n, false, sk.opError(e)
	}
	return n, false, nil
}

// writeSome writes, on a socket of h, bytes off..total of data (of filler when data is nil)
// as far as the send buffer allows, and returns the new offset.
func writeSome(h *Host, sk *socket, data []byte, total, off int) (int, *appErr) {
	for off < total {
		var r tcpip.Payloader
		if data != nil {
			r = &byteReader{b: data[off:total]}
		} else {
			r = &fillReader{off: off, n: total - off}
		}
		n, e := h.write(sk.ep, r)
		off += int(n)
		if _, ok := e.(*tcpip.ErrWouldBlock); ok {
			return off, nil
		}
		if e != nil {
			return off, sk.opError(e)
		}
		if n == 0 {
			return off, nil
		}
	}
	return off, nil
}

// sinkWriter counts the bytes read and passes them on to keep.
type sinkWriter struct {
	keep func([]byte)
	n    int
}

func (w *sinkWriter) Write(b []byte) (int, error) {
	if w.keep != nil {
		w.keep(b)
	}
	w.n += len(b)
	return len(b), nil
}

// server is what the server models share: a listener and the connections
// accepted from it, served by serve until it marks them closed.
type server struct {
	*proc
	l        *socket
	conns    []*serverConn
	open     int           // connections not yet closed
	max      int           // accept no more while open == max (0: no limit)
	acceptAt time.Duration // accept nothing before
	full     bool          // the limit was reported
	closed   int           // closed connections still in conns
	serve    func(c *serverConn)
}

// serverConn is one accepted connection of a server model.
type serverConn struct {
	sk     *socket
	peer   netip.AddrPort
	closed bool

	requests   int           // requests answered
	got        int           // bytes of the current request, or bytes received
	sent       int           // bytes of the current response sent
	responding bool          // writing a response
	idleSince  time.Duration // last activity, for the idle timeout
	echo       []byte        // received bytes not yet echoed
	eof        bool          // the peer has closed its side
	wake       time.Duration // the connection's own wake-up, if any
}

// start listens and starts polling.
func (s *server) start(port uint16, backlog int) {
	s.poll = s.step
	s.l = s.listen(port, backlog)
	s.step()
}

// step serves the connections with news (a notification, or their own
// timer), then accepts what is waiting.
func (s *server) step() {
	if s.l == nil {
		return
	}
	for _, sk := range s.takeReady() {
		if c, ok := sk.owner.(*serverConn); ok && !c.closed {
			s.serve(c)
		}
	}
	for s.acceptOne() {
		s.serve(s.conns[len(s.conns)-1])
	}
	if s.closed > 64 && s.closed > len(s.conns)/2 {
		s.conns = slices.DeleteFunc(s.conns, func(c *serverConn) bool { return c.closed })
		s.closed = 0
	}
}

// wakeConn serves c again at time at, once per time asked.
func (s *server) wakeConn(c *serverConn, at time.Duration) {
	if c.wake == at {
		return
	}
	c.wake = at
	s.wakeSocket(c.sk, at)
}

// acceptOne accepts one connection if one is waiting and the server is
// below its connection limit. At the limit connections stay in the accept
// queue (where the stack completes handshakes up to the backlog), as an
// event-loop server at worker_connections leaves them.
func (s *server) acceptOne() bool {
	now := s.h.now()
	if now < s.acceptAt {
		s.wakeAt(s.acceptAt)
		return false
	}
	if s.max > 0 && s.open >= s.max {
		if !s.full && s.l.ep.Readiness(waiter.ReadableEvents) != 0 {
			s.full = true
			s.report("accept", "accept", succeeded(i18n.M("app.maxconn", s.max)))
		}
		return false
	}
	sk, peer, e := s.accept(s.l)
	if e != nil {
		s.report("accept", "accept", failedWith(e))
		s.l = nil
		return false
	}
	if sk == nil {
		return false
	}
	s.did("accept", s.l.ep, sk.ep)
	s.report("accept", "accept", succeeded(i18n.M("app.accepted", peer.String())))
	c := &serverConn{sk: sk, peer: peer, idleSince: now}
	sk.owner = c
	s.conns = append(s.conns, c)
	s.open++
	return true
}

// close closes c and reports why: result says so to the reader, cause to
// the state rows (event.WhyIdleTimeout; "close" when the protocol says so).
func (s *server) close(c *serverConn, result i18n.Msg, cause string) {
	s.report("close "+c.peer.String(), "close", succeeded(result))
	if cause == "close" {
		cause = ""
	}
	s.closeSocket(c.sk, cause)
	c.closed = true
	s.closed++
	s.open--
	s.full = false
}

// fail reports the error c met in the socket call op and closes it.
func (s *server) fail(c *serverConn, step, op string, err *appErr) {
	s.report(step+" "+c.peer.String(), op, failedWith(err))
	s.closeSocket(c.sk, "")
	c.closed = true
	s.closed++
	s.open--
	s.full = false
}
