package hosts

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Config describes a host.
type Config struct {
	// Name identifies the host in timelines and captures.
	Name string
	// IPv4 and IPv6 are the host's addresses; at least one must be valid.
	IPv4, IPv6 netip.Addr
	// Seed is the lab seed; the host derives its own from it and Name.
	Seed uint64
	// MTU of the host's NIC; zero means topology.DefaultMTU.
	MTU uint32
	// Steps is the host's application script: with Apps, the first of the
	// host's applications.
	Steps []Step
	// Apps are the host's applications.
	Apps []App
	// Settings are the host's TCP settings; nil means
	// DefaultSettings(Linux).
	Settings *Settings
}

// Host is one virtual host: a netstack stack, its NIC and its application.
// It implements topology.Node.
type Host struct {
	name   string
	addrs  []netip.Addr
	stack  *stack.Stack
	tcp    stack.TransportProtocol // the stack's TCP, for process
	nic    *nic
	clock  tcpip.Clock
	sched  *topology.Scheduler
	index  int
	obs    event.Observer
	log    *slog.Logger
	starts []func() // start each application

	settings Settings
	defaults Options // every socket's options before the application's own

	// cause is what the host is doing now: handling an arriving packet,
	// a timer, or an application call. Packets the stack sends and state
	// changes are attributed to it.
	cause event.Cause
	emu   event.Emulation // what the next timer to fire emulates (linux_syn.go)
	linux linuxEdge       // the linux profile's emulation (linux_*.go)
	// nagle holds, per connection, the bytes Nagle's algorithm keeps back
	// (nagle.go).
	nagle   map[connKey]nagleHeld
	arrival *arrival // the packet delivered in this event, until its receipt
	arrived arrival  // what arrival points to
	// receipts is room for the receipts still to be reported (newReceipt).
	receipts []event.Receipt
	// inEP and outEP remember the endpoints of the last segment that
	// arrived and of the last one sent (epcache.go).
	inEP, outEP epCache
	counters    []watchedCounter
	tracked     []*trackedEP // every TCP endpoint seen, in order of discovery
	known       map[tcpip.Endpoint]*trackedEP
	// What the state tracker looks at after an event: only the endpoints
	// the event touched (dirty), or every one (allDirty), and the
	// listeners, whose queues any arrival or timer may change. removed
	// counts the entries of tracked forgotten since it was compacted.
	dirty      []*trackedEP
	spareDirty []*trackedEP // the list being checked, reused
	allDirty   bool
	listeners  []*trackedEP
	removed    int
	seq        uint64

	// A host that crashes and reboots (crash.go): its configuration, the
	// number of its current boot (timers and wake-ups of an earlier boot
	// do nothing), and the connections it forgot. While it is down the
	// network delivers nothing to it (topology.Crash).
	cfg       Config
	boot      int
	forgotten map[fourTuple]bool

	mu      sync.Mutex // guards pending; notifications arrive on netstack goroutines
	pending []pendingWork
	// sparePending is the list RunPending ran last, for reuse.
	sparePending []pendingWork
}

var _ topology.Node = (*Host)(nil)

// trackedEP is the last state seen of one TCP endpoint.
type trackedEP struct {
	ep            tcpip.Endpoint
	local, remote netip.AddrPort
	state         event.State
	done          bool
	seq           uint64 // order of discovery
	dirty         bool   // in the host's dirty list
	gone          bool   // forgotten: CLOSED and released by its application
	// owned says an application holds it: it opened or accepted it. A
	// listener's half-open connection that no application accepted is
	// forgotten when it closes from SYN_RCVD (it never reached the accept
	// queue).
	owned     bool
	listening bool        // in the host's listener list
	queue     [3]int      // a listener's last reported queues
	guard     tcpip.Timer // the armed RTO guard, if any (rtoguard.go)
}

// arrival is a packet delivered to the host, until the stack has processed
// it and its receipt is reported.
type arrival struct {
	ref event.Ref
	seg *segment.Segment // nil when not TCP
	// to is the endpoint the packet was for when it arrived (nil: no
	// socket), and its state then.
	to     *trackedEP
	toEP   tcpip.Endpoint
	before event.State
	// linuxVerdict is set when the linux profile dropped the packet
	// before netstack saw it (linux_edge.go).
	linuxVerdict event.Verdict
}

// New creates a host attached to the network with the given index and clock.
// obs and log may be nil.
func New(cfg Config, index int, clock tcpip.Clock, sched *topology.Scheduler, obs event.Observer, log *slog.Logger) (*Host, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("host %s: %v", cfg.Name, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if obs == nil {
		obs = event.Nop{}
	}
	h := &Host{
		cfg:   cfg,
		boot:  1,
		name:  cfg.Name,
		nic:   &nic{mtu: cmp.Or(cfg.MTU, topology.DefaultMTU)},
		sched: sched,
		index: index,
		obs:   obs,
		log:   log.With("host", cfg.Name),
	}
	h.clock = &hostClock{Clock: clock, h: h}
	if err := h.freshStack(); err != nil {
		h.stack.Destroy()
		return nil, err
	}
	if err := h.newApps(cfg); err != nil {
		h.stack.Destroy()
		return nil, err
	}
	return h, nil
}

// networkProtocols are the network protocols of every stack.
func networkProtocols() []stack.NetworkProtocolFactory {
	return []stack.NetworkProtocolFactory{
		ipv4.NewProtocol,
		ipv6.NewProtocolWithOptions(ipv6.Options{DADConfigs: stack.DADConfigurations{DupAddrDetectTransmits: 0}}),
	}
}

// nicID is the ID of every host's one NIC.
const nicID = 1

func (h *Host) configure(cfg Config) error {
	if err := h.stack.CreateNIC(nicID, h.nic); err != nil {
		return fmt.Errorf("host %s: create NIC: %s", h.name, err)
	}
	h.settings = DefaultSettings(Linux)
	if cfg.Settings != nil {
		h.settings = *cfg.Settings
	}
	if err := h.settings.Validate(); err != nil {
		return fmt.Errorf("host %s: %v", h.name, err)
	}
	if err := h.settings.apply(h.stack); err != nil {
		return fmt.Errorf("host %s: %v", h.name, err)
	}
	h.defaults = h.settings.socketDefaults()
	var routes []tcpip.Route
	if cfg.IPv4.IsValid() {
		if err := h.stack.AddProtocolAddress(nicID, tcpip.ProtocolAddress{
			Protocol:          ipv4.ProtocolNumber,
			AddressWithPrefix: tcpip.AddrFrom4(cfg.IPv4.As4()).WithPrefix(),
		}, stack.AddressProperties{}); err != nil {
			return fmt.Errorf("host %s: add address %v: %s", h.name, cfg.IPv4, err)
		}
		routes = append(routes, tcpip.Route{Destination: header.IPv4EmptySubnet, NIC: nicID})
		h.addrs = append(h.addrs, cfg.IPv4)
	}
	if cfg.IPv6.IsValid() {
		if err := h.stack.AddProtocolAddress(nicID, tcpip.ProtocolAddress{
			Protocol:          ipv6.ProtocolNumber,
			AddressWithPrefix: tcpip.AddrFrom16(cfg.IPv6.As16()).WithPrefix(),
		}, stack.AddressProperties{}); err != nil {
			return fmt.Errorf("host %s: add address %v: %s", h.name, cfg.IPv6, err)
		}
		routes = append(routes, tcpip.Route{Destination: header.IPv6EmptySubnet, NIC: nicID})
		h.addrs = append(h.addrs, cfg.IPv6)
	}
	h.stack.SetRouteTable(routes)
	return nil
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Addrs returns the host's addresses, IPv4 first.
func (h *Host) Addrs() []netip.Addr { return h.addrs }

// Start schedules the host's applications to begin at virtual time zero.
func (h *Host) Start() {
	for _, start := range h.starts {
		h.at(0, start)
	}
}

// Close stops the stack's goroutines. The host must not be used afterwards.
func (h *Host) Close() {
	h.stack.Destroy()
}

// now returns the current virtual time.
func (h *Host) now() time.Duration { return h.sched.Now() }

// setCause records what the host is doing now; what its stack sends from
// now on is attributed to it.
func (h *Host) setCause(c event.Cause) {
	h.cause = c
	h.nic.setCause(c)
}

// act records that the application is making socket call op (for a
// model, because of why), so that the packets and state changes the call
// makes are attributed to it. Counters the previous call moved are
// reported first, with its cause: an application may make several calls
// before the host settles.
func (h *Host) act(op, why string) {
	h.reportCounters(h.movedCounters())
	h.setCause(event.Cause{Kind: event.ByApp, Op: op, Why: why})
}

// reportCounters reports the watched counters among moved, which moved
// outside the processing of an arrival, with the host's current cause.
func (h *Host) reportCounters(moved []event.CounterMove) {
	if r := reported(moved); len(r) > 0 {
		h.obs.Counter(&event.Counter{At: h.now(), Host: h.name, Cause: h.cause, Counters: r})
	}
}

// at schedules application work at virtual time t.
func (h *Host) at(t time.Duration, fn func()) {
	boot := h.boot
	h.sched.At(t, h.index, func() {
		if h.boot != boot {
			return // the application stopped when the host crashed
		}
		h.act("", "")
		fn()
	})
}

// Deliver implements topology.Node. It notes which endpoint the packet is
// for, so that the receipt can say what the stack did with it.
func (h *Host) Deliver(pkt []byte, seg *segment.Segment, ref event.Ref) {
	h.setCause(event.Arrival(ref))
	a := &h.arrived // one arrival per event: settled before the next
	*a = arrival{ref: ref, seg: seg}
	if seg != nil {
		h.reopened(seg) // crash.go
		if ep := h.lookup(seg); ep != nil {
			a.toEP = ep
			a.to = h.known[ep]
			a.before = linuxState(tcp.EndpointState(ep.State()))
			h.touch(ep)
		}
	}
	// A listener's queues change only through a segment for it or for
	// one of its handshakes (a SYN, a final ACK, a RST), not through
	// the traffic of established connections.
	if a.toEP == nil || a.before == event.Listen || a.before == event.SynRcvd || a.before == event.Closed {
		h.touchListeners()
	}
	h.arrival = a
	if pkt = h.linuxDeliver(pkt, a); pkt == nil {
		return // dropped as Linux would (linux_edge.go); Settle reports it
	}
	h.nic.deliver(pkt)
}

// tcpipAddr converts an address without allocating.
func tcpipAddr(a netip.Addr) tcpip.Address {
	if a.Is4() {
		return tcpip.AddrFrom4(a.As4())
	}
	return tcpip.AddrFrom16(a.As16())
}

// endpointID is how netstack's demultiplexer names the connection between
// local and remote, and its network protocol.
func endpointID(local, remote netip.AddrPort) (tcpip.NetworkProtocolNumber, stack.TransportEndpointID) {
	proto := ipv4.ProtocolNumber
	if local.Addr().Is6() {
		proto = ipv6.ProtocolNumber
	}
	return proto, stack.TransportEndpointID{
		LocalPort:     local.Port(),
		LocalAddress:  tcpipAddr(local.Addr()),
		RemotePort:    remote.Port(),
		RemoteAddress: tcpipAddr(remote.Addr()),
	}
}

// lookup returns the endpoint an arriving segment is for: the connection
// of its 4-tuple, else a listener on its port, else nil.
func (h *Host) lookup(seg *segment.Segment) tcpip.Endpoint {
	proto, id := endpointID(seg.Dst, seg.Src)
	if ep := h.inEP.find(h.stack, proto, id); ep != nil {
		return ep
	}
	return nil
}

// Settle implements topology.Node: it has netstack process everything
// queued (process: TCP's Pause handles the segments delivered, on this
// goroutine, before it returns; the synchronous dispatcher,
// third_party/gvisor), then reports state changes, the receipt of the
// packet delivered, and the counters that moved. The dispatcher would leave an endpoint whose lock is
// held for the next pause, but nothing holds one here: every call into the
// stack has returned.
//
// Only inbound packets give the dispatcher work: timers and application
// calls run synchronously on the loop goroutine, and a timer hands an
// endpoint to the dispatcher only when segments are queued for it, which
// cannot be after a barrier. So the barrier is skipped when nothing was
// delivered since the last one.
func (h *Host) Settle() {
	// The event is over once settled: what the host does next is caused
	// by the next event, which says what it is. A wake-up that does not
	// (a model's scheduled poll) must not inherit this event's cause,
	// such as a timer that fired long before.
	defer h.setCause(event.Cause{})
	a := h.arrival
	h.arrival = nil
	if a != nil {
		h.process()
		h.linuxRestore() // what linuxDeliver changed for this packet (linux_edge.go)
		if a.seg != nil && mayRegister(a) {
			// A SYN makes a half-open child, a cookie ACK a connection:
			// the stack registers it under the segment's 4-tuple.
			if ep := h.lookup(a.seg); ep != nil {
				h.track(ep, event.Listen)
			}
		}
	}
	h.checkStates()
	moved := h.movedCounters()
	if a != nil {
		v := a.linuxVerdict
		if v == 0 {
			v = h.verdict(a, moved)
		}
		v = h.forgottenVerdict(a, v)        // a connection forgotten in a crash (crash.go)
		moved = h.linuxReceipt(a, v, moved) // the linux profile's answers and counters (linux_queue.go)
		r := h.newReceipt()
		*r = event.Receipt{Ref: a.ref, At: h.now(), Host: h.name, Verdict: v, Counters: reported(moved)}
		h.obs.Receipt(r)
		*a = arrival{} // keeps nothing of the packet (its segment is in the switch's allocation)
		return
	}
	h.reportCounters(moved)
}

// receiptBlock is how many receipts newReceipt allocates at once.
const receiptBlock = 128

// newReceipt returns room for the receipt of one arrival, carved from a
// block of them: one allocation for receiptBlock receipts instead of one
// each. A block lives as long as its longest-held receipt; the tap lets go
// of them in about the order they were reported.
func (h *Host) newReceipt() *event.Receipt {
	if len(h.receipts) == 0 {
		h.receipts = make([]event.Receipt, receiptBlock)
	}
	r := &h.receipts[0]
	h.receipts = h.receipts[1:]
	return r
}

// process has the stack's TCP process every segment delivered since the
// last call, on this goroutine (the synchronous dispatcher), as
// stack.Pause and Resume do without looking up each protocol in a map:
// TCP is the only transport protocol, and tcplab saves no endpoint for a
// restore, so nothing else would be paused or resumed.
func (h *Host) process() {
	h.tcp.Pause()
	h.tcp.Resume()
}

// mayRegister reports whether processing arrival a may have registered a
// new endpoint under its segment's 4-tuple: only when the segment went to a
// listener (a SYN, a cookie ACK), to no endpoint, or to an endpoint that
// hands it on to its listener (a SYN to TIME_WAIT, a segment for an
// endpoint that closed). A segment of a connection in any other state is
// processed by that connection.
func mayRegister(a *arrival) bool {
	return a.toEP == nil || a.before == event.Listen || a.before == event.TimeWait || a.before == event.Closed
}

// Drain implements topology.Node.
func (h *Host) Drain(emit func(pkt []byte, cause event.Cause, sender *event.SenderState, seg *segment.Segment)) {
	out := h.linuxOutbound(h.nic.take()) // as Linux would send them (linux_edge.go)
	for i := range out {
		p := &out[i]
		if len(h.nagle) > 0 {
			h.nagleSent(p) // nagle.go
		}
		var sender *event.SenderState
		if p.hasSender {
			sender = &p.sender // emit copies it
		}
		var seg *segment.Segment
		if p.parsed {
			seg = &p.seg // emit copies it
		}
		emit(p.data, p.cause, sender, seg)
	}
}

// RunPending implements topology.Node. The work is the applications'; each
// call they make says which it is.
func (h *Host) RunPending() bool {
	h.mu.Lock()
	work := h.pending
	h.pending = h.sparePending[:0]
	h.mu.Unlock()
	for _, w := range work {
		h.mu.Lock()
		*w.poked = false
		h.mu.Unlock()
		h.act("", "")
		w.run()
	}
	clear(work)
	h.mu.Lock()
	h.sparePending = work
	h.mu.Unlock()
	return len(work) > 0
}

// track starts following ep's state from the given state: Listen for a
// listener's half-open connection, SynRcvd for one an application accepted
// (which may be known already, as a half-open one: it is owned from now
// on), Closed for a socket an application opened.
func (h *Host) track(ep tcpip.Endpoint, from event.State) {
	if t, ok := h.known[ep]; ok {
		if from == event.SynRcvd {
			t.owned = true // accepted
		}
		return
	}
	h.seq++
	t := &trackedEP{ep: ep, state: from, seq: h.seq, owned: from != event.Listen}
	t.local, t.remote = endpointAddrs(ep)
	h.known[ep] = t
	h.tracked = append(h.tracked, t)
	h.markDirty(t)
}

// touch marks ep as touched by the current event: the state tracker checks
// it at the next settle.
func (h *Host) touch(ep tcpip.Endpoint) {
	if t, ok := h.known[ep]; ok {
		h.markDirty(t)
	}
}

func (h *Host) markDirty(t *trackedEP) {
	if !t.dirty && !t.gone {
		t.dirty = true
		h.dirty = append(h.dirty, t)
	}
}

// touchListeners marks every listener: an arrival or a timer may change
// its queues (a SYN, a final ACK, a half-open connection that gives up).
func (h *Host) touchListeners() {
	for _, t := range h.listeners {
		h.markDirty(t)
	}
}

// checkStates compares the state of every endpoint the event touched with
// the last one reported, and reports the changes with the host's current
// cause, in the order the endpoints were discovered. Only touched
// endpoints are read, so an event costs what it touched, not what the host
// holds: arrivals touch their 4-tuple's endpoint, timers their endpoint,
// application calls their sockets, and all of them the listeners.
func (h *Host) checkStates() {
	for {
		var list []*trackedEP
		if h.allDirty {
			h.allDirty = false
			for _, t := range h.dirty {
				t.dirty = false
			}
			h.dirty = h.dirty[:0]
			list = make([]*trackedEP, 0, len(h.tracked))
			for _, t := range h.tracked {
				if !t.gone {
					list = append(list, t)
				}
			}
		} else {
			if len(h.dirty) == 0 {
				return
			}
			list = h.dirty
			h.dirty = h.spareDirty[:0]
			h.spareDirty = list
			slices.SortFunc(list, func(a, b *trackedEP) int { return cmp.Compare(a.seq, b.seq) })
		}
		listenerClosed := false
		for _, t := range list {
			t.dirty = false
			st := linuxState(tcp.EndpointState(t.ep.State()))
			prev := t.state
			if st != t.state {
				if !t.remote.IsValid() || t.remote.Port() == 0 || !t.local.IsValid() || t.local.Addr().IsUnspecified() {
					// Not connected when last seen: the addresses
					// may have been given since.
					local, remote := endpointAddrs(t.ep)
					if local.IsValid() {
						t.local, t.remote = local, remote
					}
				}
				h.linuxFinWait2(t, st)                                                                                                                                      // linux_counters.go
				h.obs.StateChange(&event.StateChange{At: h.now(), Host: h.name, Local: t.local, Remote: t.remote, From: t.state, To: st, Cause: h.linuxStateChange(t, st)}) // linux_counters.go
				if t.state == event.Listen && st == event.Closed {
					// Closing a listener resets the connections in
					// its queues: endpoints nothing else touched.
					listenerClosed = true
				}
				h.linuxForget(t, t.state, st, false) // linux_forget.go
				t.state = st
			}
			h.guardRTO(t)
			switch {
			case st == event.Listen && !t.listening:
				t.listening = true
				h.listeners = append(h.listeners, t)
			case st != event.Listen && t.listening:
				t.listening = false
				h.listeners = slices.DeleteFunc(h.listeners, func(l *trackedEP) bool { return l == t })
			}
			if st == event.Closed && (t.done || !t.owned && prev == event.SynRcvd) {
				t.gone = true
				h.linuxForget(t, st, st, true)
				delete(h.nagle, connKey{t.local, t.remote})
				delete(h.known, t.ep)
				h.removed++
			}
		}
		h.compact()
		for _, t := range list {
			if t.state == event.Listen {
				h.checkQueue(t)
			}
		}
		if !listenerClosed {
			return
		}
		h.allDirty = true
	}
}

// compact drops forgotten endpoints from tracked once they are half of it.
func (h *Host) compact() {
	if h.removed < 64 || h.removed < len(h.tracked)/2 {
		return
	}
	h.tracked = slices.DeleteFunc(h.tracked, func(t *trackedEP) bool { return t.gone })
	h.removed = 0
}

// endpointAddrs returns an endpoint's local and remote address and port.
func endpointAddrs(ep tcpip.Endpoint) (local, remote netip.AddrPort) {
	info, ok := ep.Info().(*stack.TransportEndpointInfo)
	if !ok {
		return
	}
	return addrPort(info.ID.LocalAddress, info.ID.LocalPort), addrPort(info.ID.RemoteAddress, info.ID.RemotePort)
}

func addrPort(a tcpip.Address, port uint16) netip.AddrPort {
	switch a.Len() {
	case 4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.As4()), port)
	case 16:
		return netip.AddrPortFrom(netip.AddrFrom16(a.As16()), port)
	}
	if port != 0 {
		return netip.AddrPortFrom(netip.IPv4Unspecified(), port)
	}
	return netip.AddrPort{}
}

// linuxState names a netstack state as Linux does. netstack's internal
// states before a connection exists map to CLOSED, CONNECTING (SYN not yet
// sent) to SYN_SENT, and ERROR (a failed connection) to CLOSED.
func linuxState(s tcp.EndpointState) event.State {
	switch s {
	case tcp.StateEstablished:
		return event.Established
	case tcp.StateSynSent, tcp.StateConnecting:
		return event.SynSent
	case tcp.StateSynRecv:
		return event.SynRcvd
	case tcp.StateFinWait1:
		return event.FinWait1
	case tcp.StateFinWait2:
		return event.FinWait2
	case tcp.StateTimeWait:
		return event.TimeWait
	case tcp.StateCloseWait:
		return event.CloseWait
	case tcp.StateLastAck:
		return event.LastAck
	case tcp.StateListen:
		return event.Listen
	case tcp.StateClosing:
		return event.Closing
	}
	return event.Closed
}
