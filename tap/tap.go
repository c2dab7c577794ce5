package tap

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
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
)

// Row is one line of the timeline.
type Row struct {
	Kind Kind
	// At is the virtual time of the row.
	At time.Duration
	// No is the frame number of a segment (1-based, as in Wireshark and
	// in the pcapng), or 0 for other rows.
	No int
	// Host is the host a state or application row belongs to; for a
	// segment, the sending host.
	Host string

	// Segment rows.
	Seg      Segment
	From, To string // "client:40000"
	RelSeq   uint32
	RelAck   uint32
	Window   int    // scaled window when scaling is in use
	sackBase uint32 // the peer's ISN, for relative SACK blocks
	Dropped  string // why the switch dropped the segment, or ""
	Notes    []string
	packet   []byte
	iface    int
	hasRelAk bool

	// State rows.
	Local, Remote netip.AddrPort
	FromState     string
	ToState       string
	Cause         string

	// Application rows.
	Step, Result, Err string
}

// OptText renders the segment's TCP options in wire order, with SACK blocks
// in relative numbers: "MSS=1460 SACK_PERM TSval=1 TSecr=0 WS=128".
func (r *Row) OptText() string { return r.Seg.Opts.text(r.sackBase) }

// Note returns the row's explanation.
func (r *Row) Note() string { return strings.Join(r.Notes, "; ") }

// host is one host known to the tap.
type host struct {
	name  string
	addrs []netip.Addr
}

// Tap records a lab run. It is used from the loop goroutine only.
type Tap struct {
	hosts  []host
	byAddr map[netip.Addr]string
	rows   []*Row
	frames []*Row // segment and packet rows by packet id
	conns  map[connKey]*conn
	states map[stateKey]time.Duration // when an endpoint entered its state
}

// New returns an empty tap.
func New() *Tap {
	return &Tap{byAddr: map[netip.Addr]string{}, conns: map[connKey]*conn{}, states: map[stateKey]time.Duration{}}
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
		r.Notes = []string{"not a TCP segment: " + err.Error()}
	} else {
		r.Kind = KindSegment
		r.Seg = seg
		r.From, r.To = t.endpoint(seg.Src), t.endpoint(seg.Dst)
		t.annotate(r)
	}
	t.frames = append(t.frames, r)
	t.rows = append(t.rows, r)
	return id
}

// Dropped implements topology.Observer.
func (t *Tap) Dropped(id int, at time.Duration, reason string) {
	if id < 0 || id >= len(t.frames) {
		return
	}
	r := t.frames[id]
	r.Dropped = reason
	r.Notes = append(r.Notes, "DROPPED by the switch: "+reason)
}

// Altered implements topology.Observer.
func (t *Tap) Altered(id int, at time.Duration, what string) {
	if id < 0 || id >= len(t.frames) {
		return
	}
	r := t.frames[id]
	r.Notes = append(r.Notes, what)
}

// State implements hosts.Observer.
func (t *Tap) State(at time.Duration, hostName string, local, remote netip.AddrPort, from, to, cause string) {
	r := &Row{Kind: KindState, At: at, Host: hostName, Local: local, Remote: remote, FromState: from, ToState: to, Cause: cause}
	k := stateKey{host: hostName, local: local, remote: remote}
	since := t.states[k]
	t.states[k] = at
	r.Notes = stateNotes(from, to, at-since)
	t.rows = append(t.rows, r)
}

// App implements hosts.Observer.
func (t *Tap) App(at time.Duration, hostName, step, result, err string) {
	t.rows = append(t.rows, &Row{Kind: KindApp, At: at, Host: hostName, Step: step, Result: result, Err: err})
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

type stateKey struct {
	host          string
	local, remote netip.AddrPort
}

// stateNotes explains a state change.
func stateNotes(from, to string, held time.Duration) []string {
	var n []string
	switch to {
	case "SYN_SENT":
		n = append(n, "connect(): SYN sent, waiting for SYN-ACK")
	case "SYN_RCVD":
		n = append(n, "SYN received on the listening socket: a half-open connection waits for the final ACK")
	case "ESTABLISHED":
		n = append(n, "handshake complete: data can flow both ways")
	case "FIN_WAIT_1":
		n = append(n, "this side closed first (active close): FIN sent, waiting for its ACK")
	case "FIN_WAIT_2":
		n = append(n, "our FIN is acknowledged; waiting for the peer's FIN")
	case "CLOSE_WAIT":
		n = append(n, "peer's FIN received (passive close): the application must close() its side")
	case "LAST_ACK":
		n = append(n, "FIN sent after the peer's: waiting for the last ACK")
	case "CLOSING":
		n = append(n, "both sides sent FIN at once (simultaneous close)")
	case "TIME_WAIT":
		n = append(n, "waits 2MSL (60 s) so that a lost last ACK can be resent and old segments die out")
	case "LISTEN":
		n = append(n, "listen(): ready to accept connections")
	case "CLOSED":
		switch from {
		case "TIME_WAIT":
			n = append(n, fmt.Sprintf("TIME_WAIT expired after %s (2MSL): the port pair may be reused", fmtDur(held)))
		case "LAST_ACK":
			n = append(n, "last ACK received: connection fully closed")
		case "SYN_SENT":
			n = append(n, "connection attempt failed")
		}
	}
	return n
}

// fmtDur renders a duration compactly: "60s", "1.5ms".
func fmtDur(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return d.String()
}
