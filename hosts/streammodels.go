package hosts

import (
	"cmp"
	"fmt"
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/i18n"
)

// EchoServer listens on Port and echoes every byte back on every
// connection; when the peer closes its side, it sends what is left and
// closes the connection.
type EchoServer struct {
	// Port is the port the server listens on.
	Port uint16 `lab:"port,required" doc:"the port it listens on"`
	// Backlog is the listen backlog, as listen(2) takes it (a lab's
	// default is DefaultBacklog).
	Backlog int `lab:"backlog" default:"DefaultBacklog" doc:"the listen backlog, as listen(2) takes it"`
}

func (EchoServer) modelName() string { return "echo-server" }

func newEchoServer(p *proc, cfg EchoServer) func() {
	s := &server{proc: p}
	s.serve = func(c *serverConn) {
		for !c.closed {
			if len(c.echo) > 0 {
				n, e := writeSome(s.h, c.sk, c.echo, len(c.echo), 0)
				if e != nil {
					s.fail(c, "echo", "send", e)
					return
				}
				c.sent += n
				c.echo = c.echo[n:]
				if len(c.echo) > 0 {
					return // the send buffer is full: stop reading too
				}
			}
			if c.eof {
				s.close(c, i18n.M("app.close.echo", c.sent), "close")
				return
			}
			n, eof, e := readSome(s.h, c.sk, 0, func(b []byte) { c.echo = append(c.echo, b...) })
			if e != nil {
				s.fail(c, "echo", "recv", e)
				return
			}
			c.got += n
			c.eof = eof
			if n == 0 && !eof {
				return
			}
		}
	}
	return func() { s.start(cfg.Port, cfg.Backlog) }
}

// Sink listens on Port, reads and discards everything on every connection,
// and closes a connection when the peer closes its side: the receiving end
// of a BulkSender.
type Sink struct {
	// Port is the port the server listens on.
	Port uint16 `lab:"port,required" doc:"the port it listens on"`
	// Backlog is the listen backlog, as listen(2) takes it (a lab's
	// default is DefaultBacklog).
	Backlog int `lab:"backlog" default:"DefaultBacklog" doc:"the listen backlog, as listen(2) takes it"`
}

func (Sink) modelName() string { return "sink" }

func newSink(p *proc, cfg Sink) func() {
	s := &server{proc: p}
	s.serve = func(c *serverConn) {
		if c.closed {
			return
		}
		n, eof, e := readSome(s.h, c.sk, 0, nil)
		c.got += n
		if e != nil {
			s.fail(c, "recv", "recv", e)
			return
		}
		if eof {
			s.close(c, i18n.M("app.close.sink", c.got), "close")
		}
	}
	return func() { s.start(cfg.Port, cfg.Backlog) }
}

// BulkSender connects to Target at At, sends Bytes filler bytes and closes
// the connection (the close queues a FIN behind the data). An error ends it.
type BulkSender struct {
	// Target is the receiver's address.
	Target netip.AddrPort `lab:"to,required" doc:"the receiver"`
	// TargetName is how the lab named Target ("server:80").
	TargetName string
	// At is when the sender connects.
	At time.Duration `lab:"at" doc:"when it connects"`
	// Bytes is how much it sends.
	Bytes int `lab:"bytes,required,size,min=1" doc:"how much it sends"`
}

func (BulkSender) modelName() string { return "bulk-sender" }

func newBulkSender(p *proc, cfg BulkSender) func() {
	target := cmp.Or(cfg.TargetName, cfg.Target.String())
	var sk *socket
	sent := 0
	connected, done := false, false
	p.poll = func() {
		if done {
			return
		}
		if p.h.now() < cfg.At {
			p.wakeAt(cfg.At)
			return
		}
		if sk == nil {
			var e *appErr
			if sk, e = p.dial(cfg.Target); e != nil {
				p.report("connect "+target, "connect", failedWith(e))
				done = true
				return
			}
		}
		if !connected {
			ok, e := dialed(sk)
			if !ok {
				return
			}
			if e != nil {
				p.report("connect "+target, "connect", failedWith(e))
				p.closeSocket(sk, "")
				done = true
				return
			}
			connected = true
			local, _ := endpointAddrs(sk.ep)
			p.report("connect "+target, "connect", succeeded(i18n.M("app.connected", local.String())))
		}
		step := fmt.Sprintf("send %d bytes", cfg.Bytes)
		var e *appErr
		if sent, e = writeSome(p.h, sk, nil, cfg.Bytes, sent); e != nil {
			p.report(step, "send", outcome{err: e, bytes: sent})
			p.closeSocket(sk, "")
			done = true
			return
		}
		if sent < cfg.Bytes {
			return
		}
		p.report(step, "send", transferred(i18n.M("app.sent", cfg.Bytes), cfg.Bytes))
		p.closeSocket(sk, "")
		p.report("close", "close", succeeded(i18n.M("app.closed")))
		done = true
	}
	return p.poll
}

// Holder opens Count connections to Target, the first at At and then one
// every Interval, and holds them open without sending anything (an idle
// hoarder; it does not notice the server closing them). With Hold > 0 it
// closes each connection that long after it was established.
type Holder struct {
	// Target is the server's address.
	Target netip.AddrPort `lab:"to,required" doc:"the server"`
	// TargetName is how the lab named Target ("server:80").
	TargetName string
	// At is when the first connection opens.
	At time.Duration `lab:"at" doc:"when the first connection opens"`
	// Count is how many connections it opens.
	Count int `lab:"count,min=1" default:"1" doc:"how many connections it opens"`
	// Interval is the time between two connections.
	Interval time.Duration `lab:"interval" doc:"the time between two connections"`
	// Hold, when positive, closes each connection that long after it was
	// established; 0 holds them forever.
	Hold time.Duration `lab:"hold" doc:"closes each connection this long after it is established; 0: never"`
}

func (Holder) modelName() string { return "holder" }

// heldConn is one connection of a Holder.
type heldConn struct {
	sk        *socket
	n         int
	local     netip.AddrPort
	connected bool
	since     time.Duration
	done      bool
	waking    bool // its hold's end is scheduled
}

func newHolder(p *proc, cfg Holder) func() {
	target := cmp.Or(cfg.TargetName, cfg.Target.String())
	opened := 0
	p.poll = func() {
		now := p.h.now()
		for opened < cfg.Count && now >= cfg.At+time.Duration(opened)*cfg.Interval {
			opened++
			sk, e := p.dial(cfg.Target)
			if e != nil {
				p.reportMsg(i18n.M("app.step.connect.nth", target, opened, cfg.Count), "connect", failedWith(e))
				continue
			}
			c := &heldConn{sk: sk, n: opened}
			sk.owner = c
		}
		if opened < cfg.Count {
			p.wakeAt(cfg.At + time.Duration(opened)*cfg.Interval)
		}
		for _, sk := range p.takeReady() {
			c, ok := sk.owner.(*heldConn)
			if !ok || c.done {
				continue
			}
			if !c.connected {
				ok, e := dialed(c.sk)
				if !ok {
					continue
				}
				step := i18n.M("app.step.connect.nth", target, c.n, cfg.Count)
				if e != nil {
					p.reportMsg(step, "connect", failedWith(e))
					p.closeSocket(c.sk, "")
					c.done = true
					continue
				}
				c.connected, c.since = true, now
				c.local, _ = endpointAddrs(c.sk.ep)
				p.reportMsg(step, "connect", succeeded(i18n.M("app.connected.hold", c.local.String())))
			}
			if cfg.Hold <= 0 {
				continue
			}
			if now < c.since+cfg.Hold {
				if !c.waking {
					c.waking = true
					p.wakeSocket(c.sk, c.since+cfg.Hold)
				}
				continue
			}
			p.report("close "+c.local.String(), "close", succeeded(i18n.M("app.closed.held", durText(cfg.Hold))))
			p.closeSocket(c.sk, "")
			c.done = true
		}
	}
	return p.poll
}
