package topology

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// Node is what the network needs of a host. All methods are called on the
// loop goroutine only.
type Node interface {
	// Deliver injects an inbound packet (a raw IP packet).
	Deliver(pkt []byte)
	// Settle returns once the node has processed everything delivered to
	// it or triggered in it: the barrier after each event.
	Settle()
	// Drain passes each packet the node has sent since the last call to
	// emit, in order.
	Drain(emit func(pkt []byte))
	// RunPending runs queued application work and reports whether any ran.
	RunPending() bool
}

// Observer sees every packet that enters the switch and what became of it.
type Observer interface {
	// Packet records a packet sent by node from at virtual time at and
	// returns an identifier for later reports about it.
	Packet(at time.Duration, from int, pkt []byte) int
	// Dropped reports that the switch dropped packet id at time at.
	Dropped(id int, at time.Duration, reason i18n.Msg)
	// Altered reports that the switch did something other than forward
	// packet id unchanged: delayed, held, duplicated, corrupted, reordered
	// or injected it; what says what and which rule or link, such as
	// "held by faults[1] until 30s (match SYN,!ACK #1)". For an injected
	// packet it is called right after Packet returns the id.
	Altered(id int, at time.Duration, what i18n.Msg)
}

// StopReason tells why Run returned.
type StopReason int

// Reasons a run stops.
const (
	// Idle: nothing was left to happen.
	Idle StopReason = iota
	// TimeLimit: the next event lies beyond the time limit.
	TimeLimit
	// EventLimit: the run processed its maximum number of events; the lab
	// is probably a runaway (for example a retransmission storm).
	EventLimit
	// Interrupted: the context was cancelled.
	Interrupted
)

func (r StopReason) String() string {
	switch r {
	case Idle:
		return "idle"
	case TimeLimit:
		return "time limit"
	case EventLimit:
		return "event limit"
	case Interrupted:
		return "interrupted"
	}
	return fmt.Sprintf("StopReason(%d)", int(r))
}

// Result summarises a run.
type Result struct {
	// End is the virtual time the run covered: the time of the last event
	// run, or the time limit when the run stopped there.
	End time.Duration
	// Reason tells why the run stopped.
	Reason StopReason
	// Events is the number of events run.
	Events int
	// Next is the time of the first event not run when Reason is TimeLimit.
	Next time.Duration
}

// port is one node's attachment to the switch.
type port struct {
	name string
	node Node
	out  *pipe
	in   *pipe
	down []Window // scheduled outages of the link
}

// Network is the virtual world: a scheduler, a switch, and the nodes attached
// to it through links. It routes packets by destination address.
type Network struct {
	sched   *Scheduler
	seed    uint64
	obs     Observer
	log     *slog.Logger
	ports   []*port
	byAddr  map[netip.Addr]int
	touched []bool

	faults     []*fault
	injections []string          // names, in order added
	flows      map[flowKey]*flow // read only by injections
	conns      map[connKey]int   // connection numbers, for Fault.Connection

	// MaxEvents bounds a run; zero means DefaultMaxEvents.
	MaxEvents int
}

// DefaultMaxEvents bounds the number of events in one run.
const DefaultMaxEvents = 20_000_000

// New returns an empty network whose randomness derives from seed. obs may be
// nil; log may be nil.
func New(seed uint64, obs Observer, log *slog.Logger) *Network {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Network{
		sched:  &Scheduler{},
		seed:   seed,
		obs:    obs,
		log:    log,
		byAddr: map[netip.Addr]int{},
		flows:  map[flowKey]*flow{},
		conns:  map[connKey]int{},
	}
}

// Scheduler returns the network's virtual clock.
func (n *Network) Scheduler() *Scheduler { return n.sched }

// Now returns the current virtual time.
func (n *Network) Now() time.Duration { return n.sched.Now() }

// Attach connects a node to the switch through link. build receives the
// node's index and the clock its stack must use, and returns the node.
func (n *Network) Attach(name string, addrs []netip.Addr, link Link, build func(index int, clock tcpip.Clock) (Node, error)) (int, error) {
	if err := link.Out.Validate(); err != nil {
		return 0, fmt.Errorf("link of %s (out): %v", name, err)
	}
	if err := link.In.Validate(); err != nil {
		return 0, fmt.Errorf("link of %s (in): %v", name, err)
	}
	if err := validateDown(link.Down); err != nil {
		return 0, fmt.Errorf("link of %s: %v", name, err)
	}
	for _, a := range addrs {
		if other, ok := n.byAddr[a]; ok {
			return 0, fmt.Errorf("host %s: address %v is already used by host %s", name, a, n.ports[other].name)
		}
	}
	idx := len(n.ports)
	node, err := build(idx, n.sched.Clock(idx))
	if err != nil {
		return 0, err
	}
	p := &port{
		name: name,
		node: node,
		out:  n.pipe(name+"→switch", link.Out, name, "out"),
		in:   n.pipe("switch→"+name, link.In, name, "in"),
		down: slices.Clone(link.Down),
	}
	n.ports = append(n.ports, p)
	n.touched = append(n.touched, false)
	for _, a := range addrs {
		n.byAddr[a] = idx
	}
	return idx, nil
}

// pipe returns the runtime state of one direction; its random streams derive
// from parts.
func (n *Network) pipe(name string, dir Direction, parts ...string) *pipe {
	sub := func(s string) []string { return append(slices.Clone(parts), s) }
	return &pipe{
		name:       name,
		dir:        dir,
		rng:        n.rng(parts...),
		dupRng:     n.rng(sub("duplicate")...),
		reorderRng: n.rng(sub("reorder")...),
		corruptRng: n.rng(sub("corrupt")...),
	}
}

// rng returns a random source derived from the network seed and parts (a
// pipe's host and direction and impairment, or an injection's name), so that
// adding a link, an impairment or an injection does not change the others'
// draws.
func (n *Network) rng(parts ...string) *rand.Rand {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return rand.New(rand.NewPCG(n.seed, h.Sum64()))
}

// Schedule runs fn at virtual time at on behalf of node (which is then
// settled); node may be -1.
func (n *Network) Schedule(at time.Duration, node int, fn func()) {
	n.sched.At(at, node, fn)
}

// Run runs events until nothing is left, the next event lies beyond limit,
// the event budget is spent, or ctx is cancelled.
func (n *Network) Run(ctx context.Context, limit time.Duration) (Result, error) {
	maxEvents := n.MaxEvents
	if maxEvents == 0 {
		maxEvents = DefaultMaxEvents
	}
	var res Result
	n.settle() // initial work queued before the run (applications' first steps)
	for {
		if res.Events&1023 == 0 && ctx.Err() != nil {
			res.Reason = Interrupted
			break
		}
		// Between events every stack is at rest, so nothing else can push
		// an event between this check and pop.
		at, ok := n.sched.pending()
		if !ok {
			break // Idle
		}
		if at > limit {
			res.Reason, res.Next, res.End = TimeLimit, at, limit
			break
		}
		if res.Events >= maxEvents {
			res.Reason = EventLimit
			break
		}
		e := n.sched.pop()
		res.End = e.at
		if e.owner >= 0 {
			n.touched[e.owner] = true
		}
		e.fn()
		res.Events++
		n.settle()
	}
	return res, nil
}

// settle brings every touched node to rest, forwards what they sent and runs
// application work, until nothing changes. Nodes settle one at a time, in
// index order, so that the order of everything they do is deterministic.
func (n *Network) settle() {
	for {
		for i, p := range n.ports {
			if !n.touched[i] {
				continue
			}
			n.touched[i] = false
			p.node.Settle()
			p.node.Drain(func(pkt []byte) { n.send(i, pkt) })
		}
		progress := false
		for i, p := range n.ports {
			if p.node.RunPending() {
				n.touched[i] = true
				progress = true
			}
		}
		if !progress {
			return
		}
	}
}

// send takes a packet from node i into the switch.
func (n *Network) send(from int, pkt []byte) {
	n.sendNoted(from, pkt, nil)
}

// sendNoted is send with a note for the observer about the packet's origin
// (for injected packets), reported right after the packet.
func (n *Network) sendNoted(from int, pkt []byte, notes []i18n.Msg) {
	now := n.sched.now // loop goroutine, between barriers: no processor runs
	id := -1
	if n.obs != nil {
		id = n.obs.Packet(now, from, pkt)
		for _, note := range notes {
			n.obs.Altered(id, now, note)
		}
	}
	src := n.ports[from]
	if w, ok := outage(src.down, now); ok {
		n.drop(id, now, downReason(src.name, w))
		return
	}
	n.cross(src.out, -1, id, pkt, false, n.forward)
}

// cross sends pkt (packet id, or a copy of it) through pipe p and calls
// arrive at the far end, on behalf of node owner (-1 for the switch), for
// the packet and for any duplicate the pipe makes.
func (n *Network) cross(p *pipe, owner, id int, pkt []byte, isCopy bool, arrive func(id int, pkt []byte, isCopy bool)) {
	now := n.sched.now
	at, reason := p.admit(now, len(pkt))
	if !reason.IsZero() {
		n.lose(id, now, reason, isCopy)
		return
	}
	im := p.impair(pkt)
	if im.corrupt >= 0 {
		pkt = slices.Clone(pkt) // the observer keeps the original
		pkt[im.corrupt] ^= im.bit
		n.alter(id, now, i18n.M("sw.corrupt", p.name), isCopy)
	}
	if im.reorder > 0 {
		at += im.reorder
		n.alter(id, now, i18n.M("sw.reorder", p.name, im.reorder), isCopy)
	}
	n.sched.At(at, owner, func() { arrive(id, pkt, isCopy) })
	if im.duplicate {
		n.alter(id, now, i18n.M("sw.duplicate", p.name), isCopy)
		dup := slices.Clone(pkt)
		n.sched.At(at, owner, func() { arrive(id, dup, true) })
	}
}

// forward runs when a packet (or a copy of it) reaches the switch: the
// switch tracks it, applies the faults, picks the destination port and sends
// the packet down that port's In direction.
func (n *Network) forward(id int, pkt []byte, isCopy bool) {
	now := n.sched.now
	dst, err := destination(pkt)
	if err != nil {
		n.lose(id, now, i18n.M("sw.unroutable", err.Error()), isCopy)
		return
	}
	to, ok := n.byAddr[dst]
	if !ok {
		to = -1
	}
	s, isTCP := parseSegment(pkt)
	if !isTCP {
		n.toHost(id, pkt, to, isCopy)
		return
	}
	conn := n.track(s)
	f := n.applyFaults(now, s, conn)
	if f == nil {
		n.toHost(id, pkt, to, isCopy)
		return
	}
	n.log.Debug("fault", "packet", id, "rule", f.Name, "action", f.Action)
	switch f.Action {
	case FaultDrop:
		n.lose(id, now, i18n.M("sw.fault.drop", f.Name, f.match()), isCopy)
	case FaultDelay:
		n.alter(id, now, i18n.M("sw.fault.delay", f.Delay, f.Name, f.match()), isCopy)
		n.sched.At(now+f.Delay, -1, func() { n.toHost(id, pkt, to, isCopy) })
	case FaultHold:
		n.alter(id, now, i18n.M("sw.fault.hold", f.Name, f.Until, f.match()), isCopy)
		n.sched.At(f.Until, -1, func() { n.toHost(id, pkt, to, isCopy) })
	case FaultDuplicate:
		n.alter(id, now, i18n.M("sw.fault.duplicate", f.Name, f.match(), f.Delay), isCopy)
		n.toHost(id, pkt, to, isCopy)
		dup := slices.Clone(pkt)
		n.sched.At(now+f.Delay, -1, func() { n.toHost(id, dup, to, true) })
	}
}

// toHost sends a packet from the switch down the In direction of port to
// (-1: nobody owns the destination address).
func (n *Network) toHost(id int, pkt []byte, to int, isCopy bool) {
	now := n.sched.now
	if to < 0 {
		dst, _ := destination(pkt)
		n.lose(id, now, i18n.M("sw.nohost", dst), isCopy)
		return
	}
	p := n.ports[to]
	if w, ok := outage(p.down, now); ok {
		n.lose(id, now, downReason(p.name, w), isCopy)
		return
	}
	n.cross(p.in, to, id, pkt, isCopy, func(_ int, pkt []byte, _ bool) { p.node.Deliver(pkt) })
}

// downReason is the drop reason for a packet on a link in an outage.
func downReason(host string, w Window) i18n.Msg {
	return i18n.M("sw.down", host, w.String())
}

// lose reports that the switch dropped packet id, or only a copy of it.
func (n *Network) lose(id int, at time.Duration, reason i18n.Msg, isCopy bool) {
	if isCopy {
		n.alter(id, at, i18n.M("sw.copy.dropped", reason), false)
		return
	}
	n.drop(id, at, reason)
}

// alter reports that the switch altered packet id, or a copy of it.
func (n *Network) alter(id int, at time.Duration, what i18n.Msg, isCopy bool) {
	if isCopy {
		what = i18n.M("sw.copy", what)
	}
	n.log.Debug("alter", "packet", id, "what", what.Key)
	if n.obs != nil {
		n.obs.Altered(id, at, what)
	}
}

func (n *Network) drop(id int, at time.Duration, reason i18n.Msg) {
	n.log.Debug("drop", "packet", id, "reason", reason.Key)
	if n.obs != nil {
		n.obs.Dropped(id, at, reason)
	}
}

// destination returns the destination address of a raw IP packet.
func destination(pkt []byte) (netip.Addr, error) {
	if len(pkt) == 0 {
		return netip.Addr{}, errors.New("empty packet")
	}
	switch header.IPVersion(pkt) {
	case header.IPv4Version:
		if len(pkt) < header.IPv4MinimumSize {
			return netip.Addr{}, errors.New("truncated IPv4 header")
		}
		return netip.AddrFrom4(header.IPv4(pkt).DestinationAddress().As4()), nil
	case header.IPv6Version:
		if len(pkt) < header.IPv6MinimumSize {
			return netip.Addr{}, errors.New("truncated IPv6 header")
		}
		return netip.AddrFrom16(header.IPv6(pkt).DestinationAddress().As16()), nil
	}
	return netip.Addr{}, errors.New("not an IP packet")
}
