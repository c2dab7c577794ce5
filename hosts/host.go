package hosts

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/topology"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Observer receives what happens inside hosts, in order.
type Observer interface {
	// State reports that the TCP endpoint local–remote on host moved
	// from one state to another (Linux names), and why.
	State(at time.Duration, host string, local, remote netip.AddrPort, from, to string, cause []i18n.Msg)
	// App reports the outcome of an application step. err is the
	// message an application would see, or "" on success.
	App(at time.Duration, host string, step, result, err string)
}

// Config describes a host.
type Config struct {
	// Name identifies the host in timelines and captures.
	Name string
	// IPv4 and IPv6 are the host's addresses; at least one must be valid.
	IPv4, IPv6 netip.Addr
	// Seed is the lab seed; the host derives its own from it and Name.
	Seed uint64
	// MTU of the host's NIC; zero means 1500.
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
	nic    *nic
	clock  tcpip.Clock
	sched  *topology.Scheduler
	index  int
	obs    Observer
	log    *slog.Logger
	starts []func() // start each application

	settings Settings
	defaults Options // every socket's options before the application's own

	causes   []i18n.Msg // what touched the host since the last settle
	counters []watchedCounter
	discover bool         // an endpoint may have been created by the stack
	inbound  bool         // a packet was delivered since the last barrier
	received [][]byte     // packets delivered since the last settle, for causes
	tracked  []*trackedEP // every TCP endpoint seen, in order of discovery
	known    map[tcpip.Endpoint]*trackedEP
	conns    map[connID]bool // port pairs of tracked connected endpoints

	mu      sync.Mutex // guards pending; notifications arrive on netstack goroutines
	pending []func()
}

var _ topology.Node = (*Host)(nil)

// trackedEP is the last state seen of one TCP endpoint.
type trackedEP struct {
	ep            tcpip.Endpoint
	local, remote netip.AddrPort
	state         string
	done          bool
	queue         [3]int // a listener's last reported queues
}

// procsMu serialises stack creation, during which GOMAXPROCS is 1.
var procsMu sync.Mutex

// newStack creates a stack with exactly one TCP processor goroutine. netstack
// starts one processor per GOMAXPROCS; with several, endpoints of one host
// would be processed in parallel during a barrier and the order in which they
// arm timers (and so the order of same-instant events) would vary.
func newStack(opts stack.Options) *stack.Stack {
	procsMu.Lock()
	defer procsMu.Unlock()
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	return stack.New(opts)
}

// New creates a host attached to the network with the given index and clock.
// obs and log may be nil.
func New(cfg Config, index int, clock tcpip.Clock, sched *topology.Scheduler, obs Observer, log *slog.Logger) (*Host, error) {
	if !cfg.IPv4.IsValid() && !cfg.IPv6.IsValid() {
		return nil, fmt.Errorf("host %s: no address", cfg.Name)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	secure, insecure := newRNGs(cfg.Seed, cfg.Name)
	s := newStack(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			ipv4.NewProtocol,
			ipv6.NewProtocolWithOptions(ipv6.Options{DADConfigs: stack.DADConfigurations{DupAddrDetectTransmits: 0}}),
		},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
		Clock:              clock,
		SecureRNG:          secure,
		RandSource:         insecure,
	})
	h := &Host{
		name:  cfg.Name,
		stack: s,
		nic:   &nic{mtu: cmp.Or(cfg.MTU, 1500)},
		clock: clock,
		sched: sched,
		index: index,
		obs:   obs,
		log:   log.With("host", cfg.Name),
		known: map[tcpip.Endpoint]*trackedEP{},
		conns: map[connID]bool{},
	}
	if err := h.configure(cfg); err != nil {
		s.Destroy()
		return nil, err
	}
	if err := h.newApps(cfg); err != nil {
		s.Destroy()
		return nil, err
	}
	h.watchCounters()
	return h, nil
}

func (h *Host) configure(cfg Config) error {
	const nicID = 1
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
		if !cfg.IPv4.Is4() {
			return fmt.Errorf("host %s: %v is not an IPv4 address", h.name, cfg.IPv4)
		}
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
		if !cfg.IPv6.Is6() || cfg.IPv6.Is4In6() {
			return fmt.Errorf("host %s: %v is not an IPv6 address", h.name, cfg.IPv6)
		}
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
		h.sched.At(0, h.index, start)
	}
}

// Close stops the stack's goroutines. The host must not be used afterwards.
func (h *Host) Close() {
	h.stack.Destroy()
}

// now returns the current virtual time.
func (h *Host) now() time.Duration { return h.sched.Now() }

// Deliver implements topology.Node.
func (h *Host) Deliver(pkt []byte) {
	h.received = append(h.received, pkt)
	h.discover = h.discover || h.mayCreate(pkt)
	h.inbound = true
	h.nic.deliver(pkt)
}

// Settle implements topology.Node: it waits until netstack's processor has
// handled everything queued (stack.Pause returns only once its queue is
// empty), then reports state changes.
//
// Only inbound packets give the processor goroutine work: timers and
// application calls run synchronously on the loop goroutine, and a timer
// hands an endpoint to the processor only when segments are queued for it,
// which cannot be after a barrier. So the barrier is skipped when nothing was
// delivered since the last one.
func (h *Host) Settle() {
	if h.inbound {
		h.inbound = false
		h.stack.Pause()
		h.stack.Resume()
	}
	h.checkStates()
	h.causes = h.causes[:0]
	clear(h.received)
	h.received = h.received[:0]
}

// Drain implements topology.Node.
func (h *Host) Drain(emit func(pkt []byte)) {
	for _, p := range h.nic.take() {
		emit(p)
	}
}

// RunPending implements topology.Node.
func (h *Host) RunPending() bool {
	h.mu.Lock()
	work := h.pending
	h.pending = nil
	h.mu.Unlock()
	for _, fn := range work {
		fn()
	}
	return len(work) > 0
}

// track starts following ep's state from the given state.
func (h *Host) track(ep tcpip.Endpoint, from string) {
	if _, ok := h.known[ep]; ok {
		return
	}
	t := &trackedEP{ep: ep, state: from}
	h.known[ep] = t
	h.tracked = append(h.tracked, t)
}

// checkStates compares every endpoint's state with the last one reported.
func (h *Host) checkStates() {
	// Endpoints created by the stack (a listener's children, TIME_WAIT
	// endpoints) are discovered here; RegisteredEndpoints comes from maps,
	// so order the newcomers by their addresses.
	var fresh []tcpip.Endpoint
	var registered []stack.TransportEndpoint
	if h.discover {
		registered = h.stack.RegisteredEndpoints()
		h.discover = false
	}
	for _, te := range registered {
		ep, ok := te.(*tcp.Endpoint)
		if !ok {
			continue
		}
		if _, ok := h.known[ep]; !ok {
			fresh = append(fresh, ep)
		}
	}
	if len(fresh) > 1 {
		slices.SortFunc(fresh, func(a, b tcpip.Endpoint) int {
			la, ra := endpointAddrs(a)
			lb, rb := endpointAddrs(b)
			return cmp.Or(la.Compare(lb), ra.Compare(rb))
		})
	}
	for _, ep := range fresh {
		h.track(ep, "LISTEN") // a child of a listening socket
	}
	cause := h.cause()
	live := h.tracked[:0]
	for _, t := range h.tracked {
		st := linuxState(tcp.EndpointState(t.ep.State()))
		if st != t.state {
			local, remote := endpointAddrs(t.ep)
			if local.IsValid() {
				t.local, t.remote = local, remote
				if remote.Port() != 0 {
					h.conns[connID{local, remote}] = true
				}
			}
			if h.obs != nil {
				h.obs.State(h.now(), h.name, t.local, t.remote, t.state, st, cause)
			}
			t.state = st
		}
		if st == "CLOSED" && t.done {
			delete(h.known, t.ep)
			continue
		}
		live = append(live, t)
	}
	h.tracked = live
	for _, t := range live {
		if t.state == "LISTEN" {
			h.checkQueue(t)
		}
	}
	h.checkCounters()
}

// mayCreate reports whether delivering pkt may make the stack create an
// endpoint the application did not: a SYN (a listener's half-open child), or
// an ACK for a port pair no tracked endpoint has (a connection completed from
// a SYN cookie). Looking only then keeps RegisteredEndpoints, which copies
// the stack's tables, off the per-segment path.
func (h *Host) mayCreate(pkt []byte) bool {
	src, dst, tcph, err := parseTCP(pkt)
	if err != nil {
		return false
	}
	if tcph.Flags()&header.TCPFlagSyn != 0 {
		return true
	}
	if tcph.Flags()&header.TCPFlagRst != 0 {
		return false
	}
	_, ok := h.conns[connID{netip.AddrPortFrom(dst, tcph.DestinationPort()), netip.AddrPortFrom(src, tcph.SourcePort())}]
	return !ok
}

// connID is an endpoint's local and remote address.
type connID struct{ local, remote netip.AddrPort }

// cause summarises what touched the host since the last settle.
func (h *Host) cause() []i18n.Msg {
	causes := slices.Clone(h.causes)
	for _, p := range h.received {
		causes = append(causes, describe(p))
	}
	if len(causes) == 0 {
		return []i18n.Msg{i18n.M("cause.timer")}
	}
	return slices.CompactFunc(causes, func(a, b i18n.Msg) bool {
		return a.Key == b.Key && reflect.DeepEqual(a.Args, b.Args)
	})
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
func linuxState(s tcp.EndpointState) string {
	switch s {
	case tcp.StateEstablished:
		return "ESTABLISHED"
	case tcp.StateSynSent, tcp.StateConnecting:
		return "SYN_SENT"
	case tcp.StateSynRecv:
		return "SYN_RCVD"
	case tcp.StateFinWait1:
		return "FIN_WAIT_1"
	case tcp.StateFinWait2:
		return "FIN_WAIT_2"
	case tcp.StateTimeWait:
		return "TIME_WAIT"
	case tcp.StateCloseWait:
		return "CLOSE_WAIT"
	case tcp.StateLastAck:
		return "LAST_ACK"
	case tcp.StateListen:
		return "LISTEN"
	case tcp.StateClosing:
		return "CLOSING"
	}
	return "CLOSED"
}

// describe summarises a packet for causes: "received SYN from
// 10.0.0.1:40000".
func describe(pkt []byte) i18n.Msg {
	src, _, tcph, err := parseTCP(pkt)
	if err != nil {
		return i18n.M("cause.recv.packet")
	}
	return i18n.M("cause.recv", flagNames(tcph.Flags()), netip.AddrPortFrom(src, tcph.SourcePort()))
}

// parseTCP returns the source and destination address and TCP header of a
// raw IP packet.
func parseTCP(pkt []byte) (src, dst netip.Addr, tcph header.TCP, err error) {
	if len(pkt) == 0 {
		return src, dst, nil, errors.New("empty packet")
	}
	var payload []byte
	switch header.IPVersion(pkt) {
	case header.IPv4Version:
		ip := header.IPv4(pkt)
		if !ip.IsValid(len(pkt)) || ip.TransportProtocol() != header.TCPProtocolNumber {
			return src, dst, nil, errors.New("not TCP over IPv4")
		}
		src, dst = netip.AddrFrom4(ip.SourceAddress().As4()), netip.AddrFrom4(ip.DestinationAddress().As4())
		payload = ip.Payload()
	case header.IPv6Version:
		ip := header.IPv6(pkt)
		if !ip.IsValid(len(pkt)) || ip.NextHeader() != uint8(header.TCPProtocolNumber) {
			return src, dst, nil, errors.New("not TCP over IPv6")
		}
		src, dst = netip.AddrFrom16(ip.SourceAddress().As16()), netip.AddrFrom16(ip.DestinationAddress().As16())
		payload = ip.Payload()
	default:
		return src, dst, nil, errors.New("not IP")
	}
	if len(payload) < header.TCPMinimumSize {
		return src, dst, nil, errors.New("truncated TCP header")
	}
	return src, dst, header.TCP(payload), nil
}

// flagNames renders TCP flags the way people say them: "SYN", "SYN-ACK",
// "FIN-ACK", "RST".
func flagNames(f header.TCPFlags) string {
	var parts []string
	for _, fl := range []struct {
		bit  header.TCPFlags
		name string
	}{{header.TCPFlagSyn, "SYN"}, {header.TCPFlagFin, "FIN"}, {header.TCPFlagRst, "RST"}, {header.TCPFlagPsh, "PSH"}, {header.TCPFlagAck, "ACK"}} {
		if f&fl.bit != 0 {
			parts = append(parts, fl.name)
		}
	}
	if len(parts) == 0 {
		return "segment"
	}
	return strings.Join(parts, "-")
}
