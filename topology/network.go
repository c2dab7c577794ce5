package topology

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Node is what the network needs of a host. All methods are called on the
// loop goroutine only.
type Node interface {
	// Deliver injects an inbound packet (a raw IP packet) and its parsed
	// TCP segment (nil when it is not one); ref names it in the events the
	// node reports about it.
	Deliver(pkt []byte, seg *segment.Segment, ref event.Ref)
	// Settle returns once the node has processed everything delivered to
	// it or triggered in it: the barrier after each event.
	Settle()
	// Drain passes each packet the node has sent since the last call to
	// emit, in order, with what made the node send it, the sending
	// endpoint's state (nil when unknown) and the packet's segment as the
	// node parsed it (nil when it did not: the switch parses it), both of
	// which emit copies: the node may reuse them after emit returns.
	Drain(emit func(pkt []byte, cause event.Cause, sender *event.SenderState, seg *segment.Segment))
	// RunPending runs queued application work and reports whether any ran.
	RunPending() bool
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

// String names the reason as the run's summary line does: "idle", "time
// limit".
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
	mtu  int      // the link's MTU (Link.EffectiveMTU)
	// crashed are the spans the host is down (crash.go).
	crashed []Window
	// box is the stateful middlebox on the link, if any (middlebox.go).
	box *box
	// emit sends what the node drains into the switch (made once).
	emit func(pkt []byte, cause event.Cause, sender *event.SenderState, seg *segment.Segment)
}

// Network is the virtual world: a scheduler, a switch, and the nodes attached
// to it through links. It routes packets by destination address.
type Network struct {
	sched   *Scheduler
	seed    uint64
	obs     event.Observer
	frames  int // packets that entered the switch so far
	log     *slog.Logger
	ports   []*port
	byAddr  map[netip.Addr]int
	touched []bool
	// forwardFn and arriveFn are n.forward and n.arrive, made once.
	forwardFn, arriveFn func(*packet)
	debug               bool // the log takes debug records
	// touchedList holds the touched nodes' indices, spare a list to reuse.
	touchedList, spare []int

	faults     []*fault
	injections []string          // names, in order added
	flows      map[flowKey]*flow // read only by injections
	conns      map[connKey]int   // connection numbers, for Fault.Connection
	// Only what a rule can ask for is remembered, so that memory follows
	// the rules, not the traffic: the directions an injection continues
	// (flowWatch), and the numbers of connections up to the highest one
	// a fault selects (maxConn); later connections are only counted.
	flowWatch map[flowKey]bool
	maxConn   int
	connCount int

	// MaxEvents bounds a run; zero means DefaultMaxEvents.
	MaxEvents int
}

// DefaultMaxEvents bounds the number of events in one run.
const DefaultMaxEvents = 20_000_000

// New returns an empty network whose randomness derives from seed. obs
// receives what happens to every packet (Sent and Fate); it and log may be
// nil.
func New(seed uint64, obs event.Observer, log *slog.Logger) *Network {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if obs == nil {
		obs = event.Nop{}
	}
	n := &Network{
		sched:     &Scheduler{},
		seed:      seed,
		obs:       obs,
		log:       log,
		byAddr:    map[netip.Addr]int{},
		flows:     map[flowKey]*flow{},
		conns:     map[connKey]int{},
		flowWatch: map[flowKey]bool{},
	}
	n.forwardFn, n.arriveFn = n.forward, n.arrive
	n.debug = log.Enabled(context.Background(), slog.LevelDebug)
	return n
}

// Frames returns the number of packets that entered the switch so far.
func (n *Network) Frames() int { return n.frames }

// Scheduler returns the network's virtual clock.
func (n *Network) Scheduler() *Scheduler { return n.sched }

// Now returns the current virtual time.
func (n *Network) Now() time.Duration { return n.sched.Now() }

// Attach connects a node to the switch through link. build receives the
// node's index and the clock its stack must use, and returns the node.
func (n *Network) Attach(name string, addrs []netip.Addr, link Link, build func(index int, clock tcpip.Clock) (Node, error)) (int, error) {
	if err := link.Validate(); err != nil {
		return 0, fmt.Errorf("link of %s: %v", name, err)
	}
	if err := ValidateMTU(link.MTU, slices.ContainsFunc(addrs, netip.Addr.Is6)); err != nil {
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
		out:  n.pipe(event.Place{Host: name, Dir: event.Out}, link.Out, name, "out"),
		in:   n.pipe(event.Place{Host: name, Dir: event.In}, link.In, name, "in"),
		down: slices.Clone(link.Down),
		mtu:  link.EffectiveMTU(),
	}
	p.emit = func(pkt []byte, cause event.Cause, sender *event.SenderState, seg *segment.Segment) {
		n.send(idx, pkt, cause, nil, sender, seg)
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
func (n *Network) pipe(place event.Place, dir Direction, parts ...string) *pipe {
	sub := func(s string) []string { return append(slices.Clone(parts), s) }
	return &pipe{
		place:      place,
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
	// Work queued before the run: the applications' first steps.
	for i, p := range n.ports {
		if p.node.RunPending() {
			n.touch(i)
		}
	}
	n.settle()
	done := ctx.Done()
	for {
		// Checked before every event: one event can take milliseconds when
		// a host holds thousands of connections, and Ctrl-C must stop the
		// run at once. A receive from a nil or open channel costs
		// nanoseconds.
		select {
		case <-done:
			res.Reason = Interrupted
			return res, nil
		default:
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
			n.touch(e.owner)
		}
		e.run()
		n.sched.recycle(e)
		res.Events++
		n.settle()
	}
	return res, nil
}

// settle brings every touched node to rest, forwards what they sent and runs
// application work, until nothing changes. Nodes settle one at a time, in
// index order, so that the order of everything they do is deterministic.
func (n *Network) settle() {
	for len(n.touchedList) > 0 {
		// Nodes are visited in port order, whatever order touched them:
		// the order of what they send must not depend on it.
		list := n.touchedList
		slices.Sort(list)
		n.touchedList = n.spare[:0]
		for _, i := range list {
			n.touched[i] = false
			p := n.ports[i]
			p.node.Settle()
			p.node.Drain(p.emit)
		}
		// Only a node that was touched can have application work: its
		// stack's notifications queue it, and they come from what the
		// node itself just did.
		for _, i := range list {
			if n.ports[i].node.RunPending() {
				n.touch(i)
			}
		}
		n.spare = list
	}
}

// touch marks node i as having work to settle.
func (n *Network) touch(i int) {
	if !n.touched[i] {
		n.touched[i] = true
		n.touchedList = append(n.touchedList, i)
	}
}

// packet is one packet, or one copy of it, on its way through the network.
type packet struct {
	ref  event.Ref
	from int // the port it entered the switch by
	data []byte
	seg  *segment.Segment // nil when not TCP
	// entered is when it entered the link it is crossing, so that an
	// outage that starts while it is on the link drops it.
	entered time.Duration
	// to is the receiver's port, once the switch has routed it.
	to int
	// copies counts the copies made of the frame so far, shared by the
	// frame and its copies so that each new copy gets the next number.
	copies *int
	// fromBox says a middlebox forged it: no middlebox stops it.
	fromBox bool
	// arrived is room for the event of its arrival, allocated with it
	// (sending); nil for a copy, or once used.
	arrived *event.Fate
}

// sending is what a packet entering the switch allocates, in one piece: the
// packet, the event that reports it, its parsed segment (which both point
// to), the sender's state the event points to, the count of its copies and
// the event of its arrival (most packets arrive).
type sending struct {
	p       packet
	ev      event.Sent
	seg     segment.Segment
	sender  event.SenderState
	copies  int
	arrived event.Fate
}

// copyOf returns a new copy of p with its own number and its own bytes.
func (p *packet) copyOf() *packet {
	*p.copies++
	c := *p
	c.ref.Copy = *p.copies
	c.data = slices.Clone(p.data)
	c.arrived = nil // the original's
	return &c
}

// send takes a packet from node i into the switch: it gets the next frame
// number, is parsed once (or takes the node's parse, when given) and is
// reported to the observer with its cause (and, for a forged one, how it
// was made).
func (n *Network) send(from int, data []byte, cause event.Cause, inj *event.Injected, sender *event.SenderState, parsed *segment.Segment) {
	now := n.sched.Now()
	n.frames++
	// One allocation for the packet, its event, its parsed segment and the
	// event of its arrival.
	a := &sending{}
	p := &a.p
	*p = packet{ref: event.Ref{Frame: n.frames}, from: from, data: data, copies: &a.copies, arrived: &a.arrived}
	ev := &a.ev
	*ev = event.Sent{Ref: p.ref, At: now, From: n.ports[from].name, Data: data, Cause: cause, Injected: inj}
	if sender != nil {
		a.sender = *sender
		ev.Sender = &a.sender
	}
	var err error
	if parsed != nil {
		parsed.CopyTo(&a.seg) // the node parsed it already
		if n.debug {
			n.checkParse(from, &a.seg, data)
		}
	} else {
		err = segment.ParseInto(&a.seg, data)
	}
	if err == nil {
		p.seg = &a.seg
		ev.Seg = p.seg
	} else {
		ev.ParseErr = err
	}
	n.obs.Sent(ev)
	src := n.ports[from]
	if w, ok := outage(src.down, now); ok {
		n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: event.Place{Host: src.name, Dir: event.Out}, Reason: event.LinkDown, Outage: event.Window(w)})
		return
	}
	if len(data) > src.mtu {
		n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: src.out.place, Reason: event.TooBig, MTU: src.mtu})
		return
	}
	n.cross(src.out, -1, p, n.forwardFn)
}

// checkParse panics when the segment a node handed over with a packet is
// not what parsing the packet's bytes gives: the node changed the bytes
// after parsing them and did not say so (Node.Drain). Checked only with
// debug logging on, as it parses every packet a second time; the tests run
// the linux labs that way (labs.TestHandedParse).
func (n *Network) checkParse(from int, seg *segment.Segment, data []byte) {
	var fresh segment.Segment
	if err := segment.ParseInto(&fresh, data); err != nil || !reflect.DeepEqual(&fresh, seg) {
		panic(fmt.Sprintf("topology: %s handed over a parse of frame %d that its bytes do not give (%v)", n.ports[from].name, n.frames, err))
	}
}

// fate reports what happened to a packet.
func (n *Network) fate(f *event.Fate) {
	if n.debug {
		n.log.Debug(f.Kind.String(), "frame", f.Ref.Frame, "copy", f.Ref.Copy, "place", f.Place.String())
	}
	n.obs.Fate(f)
}

// cross sends p through pipe d and calls arrive at the far end, on behalf of
// node owner (-1 for the switch), for the packet and for any copy the pipe
// makes of it.
func (n *Network) cross(d *pipe, owner int, p *packet, arrive func(p *packet)) {
	now := n.sched.Now()
	at, reason, queued := d.admit(now, len(p.data))
	if reason != 0 {
		n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: d.place, Reason: reason, Queued: queued})
		return
	}
	p.entered = now
	im := d.impair(p.data)
	if im.corrupt >= 0 {
		p.data = slices.Clone(p.data) // the observer keeps the original
		p.data[im.corrupt] ^= im.bit
		n.fate(&event.Fate{Kind: event.Corrupted, Ref: p.ref, At: now, Place: d.place})
	}
	if im.reorder > 0 {
		at += im.reorder
		n.fate(&event.Fate{Kind: event.Reordered, Ref: p.ref, At: now, Place: d.place, Delay: im.reorder})
	}
	n.sched.atPacket(at, owner, p, arrive)
	if im.duplicate {
		c := p.copyOf()
		n.fate(&event.Fate{Kind: event.Duplicated, Ref: p.ref, At: now, Place: d.place, Copy: c.ref.Copy})
		n.sched.atPacket(at, owner, c, arrive)
	}
}

// forward runs when a packet (or a copy of it) reaches the switch: the
// switch tracks it, applies the faults, picks the destination port and sends
// the packet down that port's In direction.
func (n *Network) forward(p *packet) {
	now := n.sched.Now()
	// A packet still on its sender's link when the link went down is lost.
	if src := n.ports[p.from]; len(src.down) > 0 {
		if w, ok := cutWhile(src.down, p.entered, now); ok {
			n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: src.out.place, Reason: event.LinkDown, Outage: event.Window(w)})
			return
		}
	}
	dst, err := segment.Destination(p.data)
	if err != nil {
		n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: event.Place{Dir: event.Switch}, Reason: event.Unroutable, Detail: err.Error()})
		return
	}
	to, ok := n.byAddr[dst]
	if !ok {
		to = -1
	}
	if p.seg == nil {
		n.toHost(p, to)
		return
	}
	if b := n.ports[p.from].box; b != nil && !n.pass(b, p, true) {
		return
	}
	conn := n.track(p.seg)
	f := n.applyFaults(now, p.seg, conn)
	if f == nil {
		n.toHost(p, to)
		return
	}
	n.log.Debug("fault", "frame", p.ref.Frame, "rule", f.Name, "action", f.Action)
	rule := &event.Rule{Name: f.Name, Flags: f.Flags, Match: f.matches}
	sw := event.Place{Dir: event.Switch}
	switch f.Action {
	case FaultDrop:
		n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: sw, Reason: event.FaultDrop, Rule: rule})
	case FaultDelay:
		n.fate(&event.Fate{Kind: event.Delayed, Ref: p.ref, At: now, Place: sw, Rule: rule, Delay: f.Delay})
		n.sched.At(now+f.Delay, -1, func() { n.toHost(p, to) })
	case FaultHold:
		n.fate(&event.Fate{Kind: event.Held, Ref: p.ref, At: now, Place: sw, Rule: rule, Until: f.Until})
		n.sched.At(f.Until, -1, func() { n.toHost(p, to) })
	case FaultDuplicate:
		c := p.copyOf()
		n.fate(&event.Fate{Kind: event.Duplicated, Ref: p.ref, At: now, Place: sw, Rule: rule, Delay: f.Delay, Copy: c.ref.Copy})
		n.toHost(p, to)
		n.sched.At(now+f.Delay, -1, func() { n.toHost(c, to) })
	}
}

// toHost sends a packet from the switch down the In direction of port to
// (-1: nobody owns the destination address).
func (n *Network) toHost(p *packet, to int) {
	now := n.sched.Now()
	if to < 0 {
		dst, _ := segment.Destination(p.data)
		n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: event.Place{Dir: event.Switch}, Reason: event.NoHost, Addr: dst})
		return
	}
	port := n.ports[to]
	if port.box != nil && !n.pass(port.box, p, false) {
		return
	}
	if w, ok := outage(port.down, now); ok {
		n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: port.in.place, Reason: event.LinkDown, Outage: event.Window(w)})
		return
	}
	if len(p.data) > port.mtu {
		n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: port.in.place, Reason: event.TooBig, MTU: port.mtu})
		return
	}
	p.to = to
	n.cross(port.in, to, p, n.arriveFn)
}

// arrive delivers p at the end of its receiver's link, unless the link
// went down while p was on it.
func (n *Network) arrive(p *packet) {
	now := n.sched.Now()
	port := n.ports[p.to]
	if w, ok := cutWhile(port.down, p.entered, now); ok {
		n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: port.in.place, Reason: event.LinkDown, Outage: event.Window(w)})
		return
	}
	if w, ok := port.hostDown(now); ok {
		n.fate(&event.Fate{Kind: event.Dropped, Ref: p.ref, At: now, Place: port.in.place, Reason: event.HostDown, Down: w.From})
		return
	}
	f := p.arrived
	if f == nil {
		f = new(event.Fate)
	}
	p.arrived = nil
	*f = event.Fate{Kind: event.Arrived, Ref: p.ref, At: now, Place: port.in.place, To: port.name, Data: p.data}
	n.fate(f)
	port.node.Deliver(p.data, p.seg, p.ref)
}
