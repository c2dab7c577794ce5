package tap

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/i18n"
)

// Kind says what a timeline row records.
type Kind int

// Row kinds.
const (
	// KindSegment is a TCP segment entering the switch.
	KindSegment Kind = iota + 1
	// KindState is a TCP state change of one endpoint.
	KindState
	// KindApp is the outcome of an application step.
	KindApp
	// KindPacket is a packet that is not TCP.
	KindPacket
	// KindQueue is a listening socket's queues after they changed.
	KindQueue
	// KindCounter is a set of stack counters that moved at one instant on
	// one host.
	KindCounter
)

// String returns the kind's name as the JSON form spells it.
func (k Kind) String() string {
	switch k {
	case KindSegment:
		return "segment"
	case KindState:
		return "state"
	case KindApp:
		return "app"
	case KindPacket:
		return "packet"
	case KindQueue:
		return "queue"
	case KindCounter:
		return "counter"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Row is one line of the timeline.
type Row struct {
	Kind Kind
	// At is the virtual time of the row.
	At time.Duration
	// No is the frame number of a segment (1-based, as in Wireshark and
	// in the pcapng), or 0 for other rows.
	No int
	// Host is the host a state, application, queue or counter row belongs
	// to; for a segment, the sending host.
	Host string

	// Segment rows.
	Seg      Segment
	From, To string // "client:40000"
	RelSeq   uint32
	RelAck   uint32
	HasAck   bool // RelAck is meaningful (ACK set and the peer's ISN known)
	Window   int  // the receive window the segment advertises, scaled
	// InFlight is the number of bytes the sender has sent and the receiver
	// has not yet acknowledged, after this segment (sequence space, SYN
	// and FIN count one each).
	InFlight int
	// Analysis holds what Wireshark's TCP analysis would flag on this
	// segment; DupAckNum counts duplicate ACKs (1 for the first duplicate)
	// and DupAckOf is the frame number of the ACK they repeat.
	Analysis  Analysis
	DupAckNum int
	DupAckOf  int
	// Dropped says why the switch dropped the segment; zero if it did not.
	Dropped  i18n.Msg
	Notes    []i18n.Msg
	sackBase uint32 // the peer's ISN, for relative SACK blocks
	packet   []byte
	iface    int

	// State rows.
	Local, Remote netip.AddrPort
	FromState     string
	ToState       string
	Cause         []i18n.Msg

	// Application rows.
	Step, Result, Err string

	// Queue rows: connections waiting for accept(), the accept queue's
	// capacity, and handshakes in progress on listening socket Local.
	Waiting, Capacity, HalfOpen int

	// Counter rows.
	Counters []CounterMove
}

// CounterMove is one stack counter that moved.
type CounterMove struct {
	Name         string
	Delta, Total uint64
}

// OptText renders the segment's TCP options in wire order, with SACK blocks
// in relative numbers: "MSS=1460 SACK_PERM TSval=1 TSecr=0 WS=128".
func (r *Row) OptText() string { return r.Seg.Opts.text(r.sackBase) }

// host is one host known to the tap.
type host struct {
	name  string
	addrs []netip.Addr
}

// Tap records a lab run. It is used from the loop goroutine only.
type Tap struct {
	// Lang is the language notes are rendered in; English by default.
	Lang i18n.Lang

	hosts  []host
	byAddr map[netip.Addr]string
	rows   []*Row
	frames []*Row // segment and packet rows by packet id
	conns  map[connKey]*conn
	ends   map[endKey]*endState // what the tap knows of each host's endpoints
	flows  map[flowKey]*flowAnalysis

	cookies    map[string]int           // SYN cookies a host sent and no row explains yet
	pendingSYN map[string][]*Row        // SYNs to a host not yet answered
	moved      map[string]time.Duration // "host/counter" → when it last moved
}

// New returns an empty tap.
func New() *Tap {
	return &Tap{
		byAddr: map[netip.Addr]string{},
		conns:  map[connKey]*conn{},
		ends:   map[endKey]*endState{},
		flows:  map[flowKey]*flowAnalysis{},

		cookies:    map[string]int{},
		pendingSYN: map[string][]*Row{},
		moved:      map[string]time.Duration{},
	}
}

// AddHost registers a host, in the order hosts were attached to the network
// (the index the network reports packets with).
func (t *Tap) AddHost(name string, addrs []netip.Addr) {
	t.hosts = append(t.hosts, host{name: name, addrs: addrs})
	for _, a := range addrs {
		t.byAddr[a] = name
	}
}

// Rows returns the timeline so far.
func (t *Tap) Rows() []*Row { return t.rows }

// Name returns the host name of addr, or its text form.
func (t *Tap) Name(addr netip.Addr) string {
	if n, ok := t.byAddr[addr]; ok {
		return n
	}
	return addr.String()
}

// endpoint renders an address and port with the host's name.
func (t *Tap) endpoint(ap netip.AddrPort) string {
	return t.Name(ap.Addr()) + ":" + fmt.Sprint(ap.Port())
}

// Packet implements topology.Observer.
func (t *Tap) Packet(at time.Duration, from int, pkt []byte) int {
	id := len(t.frames)
	r := &Row{At: at, No: id + 1, packet: pkt, iface: from}
	if from >= 0 && from < len(t.hosts) {
		r.Host = t.hosts[from].name
	}
	seg, err := decode(pkt)
	if err != nil {
		r.Kind = KindPacket
		r.Notes = []i18n.Msg{i18n.M("seg.nottcp", err.Error())}
	} else {
		r.Kind = KindSegment
		r.Seg = seg
		r.From, r.To = t.endpoint(seg.Src), t.endpoint(seg.Dst)
		t.analyze(r)
		t.annotate(r)
		t.trackSYN(r)
	}
	t.frames = append(t.frames, r)
	t.rows = append(t.rows, r)
	return id
}

// Dropped implements topology.Observer.
func (t *Tap) Dropped(id int, at time.Duration, reason i18n.Msg) {
	if id < 0 || id >= len(t.frames) {
		return
	}
	r := t.frames[id]
	r.Dropped = reason
	r.Notes = append(r.Notes, i18n.M("sw.dropped", reason))
}

// Altered implements topology.Observer.
func (t *Tap) Altered(id int, at time.Duration, what i18n.Msg) {
	if id < 0 || id >= len(t.frames) {
		return
	}
	r := t.frames[id]
	r.Notes = append(r.Notes, what)
}

// State implements hosts.Observer.
func (t *Tap) State(at time.Duration, hostName string, local, remote netip.AddrPort, from, to string, cause []i18n.Msg) {
	r := &Row{Kind: KindState, At: at, Host: hostName, Local: local, Remote: remote, FromState: from, ToState: to, Cause: cause}
	t.explainState(r)
	t.rows = append(t.rows, r)
}

// App implements hosts.Observer.
func (t *Tap) App(at time.Duration, hostName, step, result, err string) {
	t.rows = append(t.rows, &Row{Kind: KindApp, At: at, Host: hostName, Step: step, Result: result, Err: err})
}

// Queue implements hosts.QueueObserver.
func (t *Tap) Queue(at time.Duration, hostName string, listener netip.AddrPort, waiting, capacity, halfOpen int) {
	r := &Row{Kind: KindQueue, At: at, Host: hostName, Local: listener, Waiting: waiting, Capacity: capacity, HalfOpen: halfOpen}
	t.explainQueue(r)
	t.rows = append(t.rows, r)
}

// Counter implements hosts.QueueObserver. Counters that move at the same
// instant on one host share a row.
func (t *Tap) Counter(at time.Duration, hostName, name string, delta, total uint64) {
	var r *Row
	if n := len(t.rows); n > 0 && t.rows[n-1].Kind == KindCounter && t.rows[n-1].Host == hostName && t.rows[n-1].At == at {
		r = t.rows[n-1]
	} else {
		r = &Row{Kind: KindCounter, At: at, Host: hostName}
		t.rows = append(t.rows, r)
	}
	r.Counters = append(r.Counters, CounterMove{Name: name, Delta: delta, Total: total})
	t.explainCounter(r, name, delta)
}

// Segments returns the segment rows, in frame order.
func (t *Tap) Segments() []*Row {
	var out []*Row
	for _, r := range t.frames {
		if r.Kind == KindSegment {
			out = append(out, r)
		}
	}
	return out
}
