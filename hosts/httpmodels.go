package hosts

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
)

// HTTPServer is a request/response server like nginx. It listens on Port
// and accepts every connection (from AcceptDelay on). On each connection it
// reads a request — whatever arrives, or RequestBytes bytes when set —
// answers with Response (or ResponseBytes filler bytes), and then either
// closes the connection (KeepAlive false) or waits for the next request.
// A connection without a request for IdleTimeout (nginx keepalive_timeout,
// counted from the last response, or from the accept for the first
// request) is closed with a FIN; zero means never. A peer that closes its
// side gets the connection closed.
//
// With MaxConnections > 0 the server does not accept while that many
// connections are open: further connections wait in the accept queue (the
// stack completes their handshakes up to the backlog) until one closes, as
// an event-loop server at worker_connections does.
type HTTPServer struct {
	// Port is the port the server listens on.
	Port uint16 `lab:"port,required" doc:"the port it listens on"`
	// Backlog is the listen backlog, as listen(2) takes it (a lab's
	// default is DefaultBacklog).
	Backlog int `lab:"backlog" default:"DefaultBacklog" doc:"the listen backlog, as listen(2) takes it"`
	// RequestBytes is the size of a request; 0 means whatever arrives.
	RequestBytes int `lab:"request_bytes,size" doc:"the size of a request: it answers once this many bytes have arrived; 0: whatever arrives"`
	// Response is the response; when nil, ResponseBytes filler bytes, or
	// DefaultResponse when ResponseBytes is 0 too.
	Response []byte `lab:"response" doc:"the response (default: a 200 with no body)"`
	// ResponseBytes is the size of a filler response when Response is nil.
	ResponseBytes int `lab:"response_bytes,size" doc:"the size of a filler response, instead of response"`
	// IdleTimeout closes connections without a request for that long
	// (keepalive_timeout); 0 means never.
	IdleTimeout time.Duration `lab:"idle_timeout" doc:"closes a connection without a request for this long (nginx keepalive_timeout); 0: never"`
	// KeepAlive keeps connections open for further requests; when false,
	// each connection is closed after its first response.
	KeepAlive bool `lab:"persistent" default:"true" doc:"keeps a connection open for further requests; false closes it after each response"`
	// MaxConnections bounds the connections open at once; 0 means no limit.
	MaxConnections int `lab:"max_connections,min=1" doc:"serves at most this many connections at once; the rest wait in the accept queue"`
	// AcceptDelay holds off accepting until this virtual time (backlog labs).
	AcceptDelay time.Duration `lab:"accept_at" doc:"accepts nothing before this time"`
}

// DefaultResponse is what HTTPServer answers without Response or
// ResponseBytes.
const DefaultResponse = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

func (HTTPServer) modelName() string { return "http-server" }

func newHTTPServer(p *proc, cfg HTTPServer) func() {
	resp, total := cfg.Response, len(cfg.Response)
	if resp == nil {
		total = cfg.ResponseBytes
		if total == 0 {
			resp, total = []byte(DefaultResponse), len(DefaultResponse)
		}
	}
	s := &server{proc: p, max: cfg.MaxConnections, acceptAt: cfg.AcceptDelay}
	s.serve = func(c *serverConn) {
		for !c.closed {
			now := s.h.now()
			if c.responding {
				var e *appErr
				c.sent, e = writeSome(s.h, c.sk, resp, total, c.sent)
				if e != nil {
					s.fail(c, "serve", "send", e)
					return
				}
				if c.sent < total {
					return
				}
				c.responding = false
				s.report("serve "+c.peer.String(), "send", transferred(i18n.M("app.served", c.requests, c.got, total), total))
				c.got, c.idleSince = 0, now
				if !cfg.KeepAlive {
					s.close(c, i18n.M("app.close.response"), "close")
					return
				}
			}
			limit := 0
			if cfg.RequestBytes > 0 {
				limit = cfg.RequestBytes - c.got
			}
			n, eof, e := readSome(s.h, c.sk, limit, nil)
			if e != nil {
				s.fail(c, "serve", "recv", e)
				return
			}
			c.got += n
			if c.got > 0 && (cfg.RequestBytes == 0 || c.got >= cfg.RequestBytes) {
				c.requests++
				c.responding, c.sent = true, 0
				continue
			}
			switch {
			case eof:
				s.close(c, i18n.M("app.close.peer"), "close")
			case c.got == 0 && cfg.IdleTimeout > 0:
				if deadline := c.idleSince + cfg.IdleTimeout; now < deadline {
					s.wakeConn(c, deadline)
				} else {
					s.close(c, i18n.M("app.close.idle", durText(cfg.IdleTimeout)), event.WhyIdleTimeout)
				}
			}
			return
		}
	}
	return func() { s.start(cfg.Port, cfg.Backlog) }
}

// PoolClient is an HTTP client with a connection pool, like Go's
// http.Transport. At each time in Requests it sends Request on an idle
// pooled connection if there is one (the most recently used, even if the
// server has closed it meanwhile: the client notices a FIN only when it
// reads) or else on a new connection to Target, reads the response
// (ResponseBytes bytes, or whatever arrives first when 0), and puts the
// connection back in the pool. Requests due while others are in flight run
// concurrently on other connections.
//
// Pooled connections idle longer than IdleTimeout (IdleConnTimeout; 0:
// never) are closed, and so is the least recently used one when more than
// MaxIdle (0: no limit) are idle. A request that meets an error (reset,
// end of stream instead of a response) reports it as Go does ("read tcp
// 10.0.0.1:16001->10.0.0.2:80: read: connection reset by peer", "EOF"),
// drops the connection and, with Retry, is sent once more on a new
// connection. The client carries on with its next request either way.
type PoolClient struct {
	// Target is the server's address.
	Target netip.AddrPort `lab:"to,required" doc:"the server"`
	// TargetName is how the lab named Target ("server:80").
	TargetName string
	// Requests are the virtual times at which requests start, in order.
	Requests []time.Duration `lab:"requests,required" doc:"the times at which requests start, in order"`
	// Request is what a request sends; nil means DefaultRequest.
	Request []byte `lab:"request" doc:"what a request sends (default: GET / HTTP/1.1)"`
	// ResponseBytes is the size of a response; 0 means whatever arrives
	// first.
	ResponseBytes int `lab:"response_bytes,size" doc:"the size of a response; 0: whatever arrives first"`
	// IdleTimeout closes pooled connections idle for that long
	// (IdleConnTimeout); 0 means never.
	IdleTimeout time.Duration `lab:"idle_timeout" doc:"closes pooled connections idle this long (Go's IdleConnTimeout); 0: never"`
	// MaxIdle bounds the idle connections kept; 0 means no limit.
	MaxIdle int `lab:"max_idle,min=1" doc:"keeps at most this many idle connections, closing the least recently used"`
	// Retry sends a failed request once more on a new connection.
	Retry bool `lab:"retry" doc:"sends a failed request once more on a new connection"`
}

// DefaultRequest is what PoolClient sends without Request.
const DefaultRequest = "GET / HTTP/1.1\r\n\r\n"

func (PoolClient) modelName() string { return "pool-client" }

// poolClient is a running PoolClient.
type poolClient struct {
	*proc
	cfg    PoolClient
	target string
	next   int         // index of the next request in cfg.Requests
	idle   []*poolConn // idle connections, least recently used first
	active []*poolReq
}

// poolConn is one connection of a pool.
type poolConn struct {
	sk        *socket
	local     netip.AddrPort
	idleSince time.Duration
}

// poolReq is a request in flight.
type poolReq struct {
	n       int
	conn    *poolConn
	reused  bool
	retried bool
	dialing bool
	sent    int
	got     int
	done    bool
}

func newPoolClient(p *proc, cfg PoolClient) func() {
	if cfg.Request == nil {
		cfg.Request = []byte(DefaultRequest)
	}
	cfg.Requests = slices.Sorted(slices.Values(cfg.Requests))
	c := &poolClient{proc: p, cfg: cfg, target: cmp.Or(cfg.TargetName, cfg.Target.String())}
	p.poll = c.step
	return c.step
}

func (c *poolClient) step() {
	now := c.h.now()
	for c.next < len(c.cfg.Requests) && c.cfg.Requests[c.next] <= now {
		c.next++
		r := &poolReq{n: c.next}
		c.active = append(c.active, r)
		c.send(r)
	}
	if c.next < len(c.cfg.Requests) {
		c.wakeAt(c.cfg.Requests[c.next])
	}
	for _, r := range c.active {
		c.advance(r)
	}
	live := c.active[:0]
	for _, r := range c.active {
		if !r.done {
			live = append(live, r)
		}
	}
	c.active = live
	c.expire(now)
}

// send gives r a connection: an idle one, or a new one.
func (c *poolClient) send(r *poolReq) {
	if n := len(c.idle); n > 0 {
		r.conn, r.reused = c.idle[n-1], true
		c.idle = c.idle[:n-1]
		return
	}
	sk, e := c.dial(c.cfg.Target)
	if e != nil {
		c.dialFailed(e)
		r.done = true
		return
	}
	r.conn, r.reused, r.dialing = &poolConn{sk: sk}, false, true
}

// advance moves r on as far as it can go without blocking.
func (c *poolClient) advance(r *poolReq) {
	if r.done {
		return
	}
	pc := r.conn
	if r.dialing {
		done, e := dialed(pc.sk)
		if !done {
			return
		}
		r.dialing = false
		if e != nil {
			c.dialFailed(e)
			c.closeSocket(pc.sk, "")
			c.failed(r)
			return
		}
		pc.local, _ = endpointAddrs(pc.sk.ep)
		c.report("connect "+c.target, "connect", succeeded(i18n.M("app.connected", pc.local.String())))
	}
	if r.sent < len(c.cfg.Request) {
		var e *appErr
		r.sent, e = writeSome(c.h, pc.sk, c.cfg.Request, len(c.cfg.Request), r.sent)
		if e != nil {
			c.drop(r, "send", e.wrapped(i18n.M("app.err.write", c.goAddrs(pc), e.msg)))
			return
		}
		if r.sent < len(c.cfg.Request) {
			return
		}
	}
	limit := 0
	if c.cfg.ResponseBytes > 0 {
		limit = c.cfg.ResponseBytes - r.got
	}
	n, eof, e := readSome(c.h, pc.sk, limit, nil)
	r.got += n
	switch {
	case e != nil:
		c.drop(r, "recv", e.wrapped(i18n.M("app.err.read", c.goAddrs(pc), e.msg)))
	case r.got > 0 && (c.cfg.ResponseBytes == 0 || r.got >= c.cfg.ResponseBytes):
		c.reportMsg(c.requestText(r), "recv", transferred(i18n.M("app.request", r.sent, r.got), r.got))
		r.done = true
		if eof {
			c.report("close "+pc.local.String(), "close", succeeded(i18n.M("app.close.server")))
			c.closeSocket(pc.sk, "")
			return
		}
		c.putIdle(pc)
	case eof && r.got == 0:
		c.drop(r, "recv", errMsg(i18n.M("app.err.eof")))
	case eof:
		c.drop(r, "recv", errMsg(i18n.M("app.err.unexpectedeof")))
	}
}

// dialFailed reports a connection that could not be made, as Go's
// net.OpError says it: "dial tcp 10.0.0.2:80: connect: connection refused".
func (c *poolClient) dialFailed(e *appErr) {
	c.report("connect "+c.target, "connect", failedWith(e.wrapped(i18n.M("app.err.dial", c.cfg.Target.String(), e.msg))))
}

// requestText is the step of a request's row: "request 2 on reused
// connection 10.0.0.1:16001→10.0.0.2:80".
func (c *poolClient) requestText(r *poolReq) i18n.Msg {
	key := "app.step.request.new"
	switch {
	case r.reused && r.retried:
		key = "app.step.request.reused.retry"
	case r.reused:
		key = "app.step.request.reused"
	case r.retried:
		key = "app.step.request.new.retry"
	}
	return i18n.M(key, r.n, r.conn.local.String()+"→"+c.cfg.Target.String())
}

// goAddrs renders a connection as Go's net.OpError does: "a->b".
func (c *poolClient) goAddrs(pc *poolConn) string {
	return pc.local.String() + "->" + c.cfg.Target.String()
}

// drop reports the error r met in the socket call op, closes its
// connection and retries if allowed.
func (c *poolClient) drop(r *poolReq, op string, err *appErr) {
	c.reportMsg(c.requestText(r), op, failedWith(err))
	c.closeSocket(r.conn.sk, "")
	c.failed(r)
}

// failed ends r, or sends it again on a new connection when Retry allows.
func (c *poolClient) failed(r *poolReq) {
	if !c.cfg.Retry || r.retried {
		r.done = true
		return
	}
	r.retried, r.sent, r.got = true, 0, 0
	sk, e := c.dial(c.cfg.Target)
	if e != nil {
		c.dialFailed(e)
		r.done = true
		return
	}
	r.conn, r.reused, r.dialing = &poolConn{sk: sk}, false, true
	c.advance(r)
}

// putIdle returns pc to the pool, closing the least recently used idle
// connection if the pool is full.
func (c *poolClient) putIdle(pc *poolConn) {
	pc.idleSince = c.h.now()
	c.idle = append(c.idle, pc)
	if c.cfg.MaxIdle > 0 && len(c.idle) > c.cfg.MaxIdle {
		old := c.idle[0]
		c.idle = c.idle[1:]
		c.report("close "+old.local.String(), "close", succeeded(i18n.M("app.close.maxidle", c.cfg.MaxIdle)))
		c.closeSocket(old.sk, "")
	}
	if c.cfg.IdleTimeout > 0 {
		c.wakeAt(pc.idleSince + c.cfg.IdleTimeout)
	}
}

// expire closes pooled connections idle for IdleTimeout.
func (c *poolClient) expire(now time.Duration) {
	if c.cfg.IdleTimeout <= 0 {
		return
	}
	live := c.idle[:0]
	for _, pc := range c.idle {
		if now < pc.idleSince+c.cfg.IdleTimeout {
			live = append(live, pc)
			continue
		}
		c.report("close "+pc.local.String(), "close", succeeded(i18n.M("app.close.pool.idle", durText(c.cfg.IdleTimeout))))
		c.closeSocket(pc.sk, event.WhyIdleTimeout)
	}
	c.idle = live
}
