package topology

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/field"
	"github.com/tcplab/tcplab/internal/segment"
)

// MiddleboxKind says which segments open a flow in a middlebox.
type MiddleboxKind int

// Middlebox kinds.
const (
	// NAT tracks flows that the host behind it opens: only a SYN the host
	// sends creates state. A SYN from outside finds none (no port
	// forwarding).
	NAT MiddleboxKind = iota
	// Conntrack tracks flows opened from either side (a stateful
	// firewall, or a load balancer in front of a server): any SYN creates
	// state.
	Conntrack
)

var middleboxKindNames = []string{"nat", "conntrack"}

// String returns the kind's name: "nat", "conntrack".
func (k MiddleboxKind) String() string {
	if k >= 0 && int(k) < len(middleboxKindNames) {
		return middleboxKindNames[k]
	}
	return fmt.Sprintf("MiddleboxKind(%d)", int(k))
}

// MiddleboxKinds lists the kinds' names.
func MiddleboxKinds() []string { return slices.Clone(middleboxKindNames) }

// ParseMiddleboxKind parses a kind's name.
func ParseMiddleboxKind(s string) (MiddleboxKind, error) {
	if i := slices.Index(middleboxKindNames, s); i >= 0 {
		return MiddleboxKind(i), nil
	}
	return 0, fmt.Errorf("unknown middlebox kind %q (want %s)", s, strings.Join(middleboxKindNames, ", "))
}

// ForgottenAction is what a middlebox does with a segment of a flow it
// has no state for.
type ForgottenAction int

// What a middlebox does with a segment it has no state for.
const (
	// ForgetDrop drops it silently.
	ForgetDrop ForgottenAction = iota
	// ForgetRST drops it and answers its sender with a RST that claims to
	// come from the segment's destination.
	ForgetRST
)

var forgottenActionNames = []string{"drop", "rst"}

// String returns the action's name: "drop", "rst".
func (a ForgottenAction) String() string {
	if a >= 0 && int(a) < len(forgottenActionNames) {
		return forgottenActionNames[a]
	}
	return fmt.Sprintf("ForgottenAction(%d)", int(a))
}

// ForgottenActions lists the actions' names.
func ForgottenActions() []string { return slices.Clone(forgottenActionNames) }

// ParseForgottenAction parses an action's name.
func ParseForgottenAction(s string) (ForgottenAction, error) {
	if i := slices.Index(forgottenActionNames, s); i >= 0 {
		return ForgottenAction(i), nil
	}
	return 0, fmt.Errorf("unknown on_forgotten action %q (want %s)", s, strings.Join(forgottenActionNames, ", "))
}

// Middlebox is a stateful box (a NAT, a connection-tracking firewall, a
// load balancer) on one host's link, at its switch end: it sees every TCP
// segment the host sends or receives. It keeps one flow per connection,
// created by a SYN (Kind says whose), refreshed by every segment of the
// flow in either direction, and forgotten after IdleTimeout without one
// (FIN and RST do not end a flow early). A segment of a flow it has no
// state for (forgotten, or never seen opening) is dropped, and with
// ForgetRST its sender gets a RST. Addresses are not rewritten: the box
// models the state a NAT keeps, not its translation.
type Middlebox struct {
	// Name names the box in the timeline ("nat").
	Name string
	// Kind says which SYNs create a flow.
	Kind MiddleboxKind
	// Host is the host on whose link the box sits.
	Host string
	// IdleTimeout is how long a flow may go without a segment before the
	// box forgets it.
	IdleTimeout time.Duration
	// OnForgotten is what the box does with a segment it has no state
	// for.
	OnForgotten ForgottenAction
}

// Validate reports the configuration errors of m, a field.List naming
// each problem's field as a lab file writes it ("idle_timeout").
func (m Middlebox) Validate() error {
	var l field.List
	if m.Kind < 0 || int(m.Kind) >= len(middleboxKindNames) {
		l.Add("kind", "unknown middlebox kind %v (want %s)", m.Kind, strings.Join(middleboxKindNames, ", "))
	}
	if m.OnForgotten < 0 || int(m.OnForgotten) >= len(forgottenActionNames) {
		l.Add("on_forgotten", "unknown action %v for a forgotten flow (want %s)", m.OnForgotten, strings.Join(forgottenActionNames, ", "))
	}
	if m.IdleTimeout <= 0 {
		l.Add("idle_timeout", "idle_timeout %v must be positive", m.IdleTimeout)
	}
	return l.Err()
}

// box is a middlebox at run time.
type box struct {
	Middlebox
	port  int
	flows map[connKey]*boxFlow
	// forgot is when each flow it forgot was forgotten, until a SYN opens
	// the connection again.
	forgot map[connKey]time.Duration
}

// boxFlow is one flow a box tracks: a the side that opened it.
type boxFlow struct {
	a, b netip.AddrPort
	last time.Duration // its last segment
}

// AddMiddlebox puts a middlebox on a host's link; a link has at most one.
func (n *Network) AddMiddlebox(m Middlebox) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("middlebox %s: %w", m.Name, err)
	}
	i := slices.IndexFunc(n.ports, func(p *port) bool { return p.name == m.Host })
	if i < 0 {
		return fmt.Errorf("middlebox %s: no host %q", m.Name, m.Host)
	}
	if b := n.ports[i].box; b != nil {
		return fmt.Errorf("middlebox %s: %w", m.Name, field.List{{Field: "link", Msg: fmt.Sprintf("the link of %s already has middlebox %s", m.Host, b.Name)}})
	}
	n.ports[i].box = &box{Middlebox: m, port: i, flows: map[connKey]*boxFlow{}, forgot: map[connKey]time.Duration{}}
	return nil
}

// event returns the box as events name it.
func (b *box) event() *event.Box {
	return &event.Box{Name: b.Name, Kind: b.Kind.String(), Host: b.Host}
}

// pass runs packet p through box b: out says the box's host sent it. It
// reports whether the packet goes on; a packet the box stops is reported
// dropped (and answered with a RST under ForgetRST).
func (n *Network) pass(b *box, p *packet, out bool) bool {
	s := p.seg
	if s == nil || p.fromBox {
		return true
	}
	now := n.sched.Now()
	k := connOf(s)
	if f := b.flows[k]; f != nil {
		f.last = now
		return true
	}
	if s.Flags&(segment.SYN|segment.ACK) == segment.SYN && (out || b.Kind == Conntrack) {
		f := &boxFlow{a: s.Src, b: s.Dst, last: now}
		b.flows[k] = f
		delete(b.forgot, k)
		n.armForget(b, k, f, now+b.IdleTimeout)
		return true
	}
	ev := b.event()
	if at, ok := b.forgot[k]; ok {
		ev.Forgot, ev.Idle = at, b.IdleTimeout
	}
	place := event.Place{Host: b.Host, Dir: event.In}
	if out {
		place.Dir = event.Out
	}
	n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: place, Reason: event.Middlebox, Box: ev})
	if b.OnForgotten == ForgetRST && s.Flags&segment.RST == 0 {
		n.boxRST(b, s, ev)
	}
	return false
}

// armForget makes box b check flow f at time at, and forget it if it has
// been idle for the box's idle timeout by then.
func (n *Network) armForget(b *box, k connKey, f *boxFlow, at time.Duration) {
	n.sched.At(at, -1, func() {
		if b.flows[k] != f {
			return
		}
		now := n.sched.Now()
		if next := f.last + b.IdleTimeout; next > now {
			n.armForget(b, k, f, next)
			return
		}
		delete(b.flows, k)
		b.forgot[k] = now
		ev := b.event()
		ev.Forgot, ev.Idle = now, b.IdleTimeout
		n.obs.World(&event.World{At: now, Kind: event.FlowForgotten, Host: b.Host, Box: ev, A: f.a, B: f.b})
	})
}

// boxRST answers segment s, which box b stopped, with a RST to its sender
// from its destination's address (RFC 9293 §3.10.7.1: the RST takes its
// sequence number from the segment's ACK, or acknowledges the segment).
// The RST enters the network at the switch end of the box's link.
func (n *Network) boxRST(b *box, s *segment.Segment, ev *event.Box) {
	flags, seq, ack := segment.RST, uint32(s.Ack), uint32(0)
	if s.Flags&segment.ACK == 0 {
		flags, seq, ack = segment.RST|segment.ACK, 0, uint32(s.End())
	}
	data := buildSegment(s.Dst, s.Src, flags, seq, ack, 0, 0, nil)
	now := n.sched.Now()
	n.frames++
	p := &packet{ref: event.Ref{Frame: n.frames}, from: b.port, data: data, copies: new(int), fromBox: true}
	sent := &event.Sent{Ref: p.ref, At: now, From: b.Host, Data: data, Box: ev}
	if seg, err := segment.Parse(data); err == nil {
		p.seg = &seg
		sent.Seg = p.seg
	} else {
		sent.ParseErr = err
	}
	n.obs.Sent(sent)
	to, ok := n.byAddr[s.Src.Addr()]
	if !ok {
		to = -1
	}
	n.toHost(p, to)
}
