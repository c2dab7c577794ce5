package hosts

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Action is what a step does.
type Action int

// Step actions.
const (
	// Listen opens a listening socket on Port with Backlog.
	Listen Action = iota + 1
	// Accept takes the next established connection from the listener,
	// waiting for one if the accept queue is empty.
	Accept
	// Connect opens a connection to Addr and waits until it is
	// established or fails.
	Connect
	// Send writes Data (or Bytes filler bytes), waiting for buffer space.
	Send
	// Recv reads Bytes bytes (or, when Bytes is 0, whatever is available),
	// waiting for data or end of stream.
	Recv
	// Shutdown closes the write side (shutdown(SHUT_WR)): a FIN.
	Shutdown
	// Close closes the socket.
	Close
	// Abort closes the socket with SO_LINGER 0: an RST.
	Abort
	// Set applies Options to the socket (or to the socket of that name
	// created later).
	Set
	// Sleep waits for For.
	Sleep
	// Wait waits until the socket sees Until (see Event), or, when Until is
	// zero, only until the step's At time.
	Wait
	// SoError reads and clears the socket's pending error
	// (getsockopt(SO_ERROR)): "0", or the errno a failure left.
	SoError
	// TCPInfo reads a snapshot of the socket's TCP state
	// (getsockopt(TCP_INFO)): state, RTT, RTO, windows, retransmissions.
	TCPInfo
)

// lastAction is the last Action; ParseAction and ActionNames walk up to it.
const lastAction = TCPInfo

var actionNames = map[Action]string{
	Listen: "listen", Accept: "accept", Connect: "connect", Send: "send", Recv: "recv",
	Shutdown: "shutdown", Close: "close", Abort: "abort", Set: "set", Sleep: "sleep",
	Wait: "wait", SoError: "so_error", TCPInfo: "tcp_info",
}

// String returns the action's name as written in a lab file.
func (a Action) String() string {
	if s, ok := actionNames[a]; ok {
		return s
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// ParseAction returns the action named s.
func ParseAction(s string) (Action, bool) {
	for a := Listen; a <= lastAction; a++ {
		if actionNames[a] == s {
			return a, true
		}
	}
	return 0, false
}

// ActionNames lists the valid action names in their documented order.
func ActionNames() []string {
	var out []string
	for a := Listen; a <= lastAction; a++ {
		out = append(out, actionNames[a])
	}
	return out
}

// Event is what a Wait step waits for on its socket.
type Event int

// Events a Wait step can wait for.
const (
	// EventConnected: the connection is established (or was, and is now
	// closing).
	EventConnected Event = iota + 1
	// EventPeerClosed: the peer's FIN has arrived, so reading gives end of
	// stream (CLOSE_WAIT, LAST_ACK, CLOSING, TIME_WAIT, or CLOSED).
	EventPeerClosed
	// EventClosed: the socket reached CLOSED, normally or because it failed
	// (reset, timed out).
	EventClosed
	// EventReadable: data or end of stream is waiting to be read, or, on a
	// listener, a connection is waiting to be accepted.
	EventReadable
	// EventError: the socket failed; the result names the error.
	EventError
)

var eventNames = map[Event]string{
	EventConnected: "connected", EventPeerClosed: "peer-closed", EventClosed: "closed",
	EventReadable: "readable", EventError: "error",
}

// String returns the event's name as written in a lab file.
func (e Event) String() string {
	if s, ok := eventNames[e]; ok {
		return s
	}
	return fmt.Sprintf("Event(%d)", int(e))
}

// ParseEvent returns the event named s.
func ParseEvent(s string) (Event, bool) {
	for e := EventConnected; e <= EventError; e++ {
		if eventNames[e] == s {
			return e, true
		}
	}
	return 0, false
}

// EventNames lists the valid event names in their documented order.
func EventNames() []string {
	var out []string
	for e := EventConnected; e <= EventError; e++ {
		out = append(out, eventNames[e])
	}
	return out
}

// OnError is what a script does when one of its steps fails.
type OnError int

// What a script does after a failed step.
const (
	// Stop ends the script (its remaining steps and rounds are not run).
	Stop OnError = iota
	// Continue goes on with the next step, as if the step had succeeded.
	Continue
)

var onErrorNames = []string{Stop: "stop", Continue: "continue"}

// String returns the name as written in a lab file.
func (o OnError) String() string {
	if o >= 0 && int(o) < len(onErrorNames) {
		return onErrorNames[o]
	}
	return fmt.Sprintf("OnError(%d)", int(o))
}

// ParseOnError returns the OnError named s.
func ParseOnError(s string) (OnError, bool) {
	i := slices.Index(onErrorNames, s)
	return OnError(i), i >= 0
}

// OnErrorNames lists the valid on_error values.
func OnErrorNames() []string { return slices.Clone(onErrorNames) }

// Options are socket options. A nil field leaves the option unchanged.
type Options struct {
	// NoDelay disables Nagle's algorithm (TCP_NODELAY).
	NoDelay *bool
	// KeepAlive enables keepalive probes (SO_KEEPALIVE).
	KeepAlive *bool
	// KeepIdle is the idle time before the first probe (TCP_KEEPIDLE).
	KeepIdle *time.Duration
	// KeepInterval is the time between probes (TCP_KEEPINTVL).
	KeepInterval *time.Duration
	// KeepCount is the number of unanswered probes before the connection is
	// dropped (TCP_KEEPCNT).
	KeepCount *int
	// SendBuffer is SO_SNDBUF in bytes.
	SendBuffer *int
	// RecvBuffer is SO_RCVBUF in bytes.
	RecvBuffer *int
	// MSS is TCP_MAXSEG in bytes.
	MSS *int
	// UserTimeout is TCP_USER_TIMEOUT: how long sent data may stay
	// unacknowledged before the connection is dropped.
	UserTimeout *time.Duration
	// QuickAck is TCP_QUICKACK: on, the socket acknowledges at once
	// instead of delaying its ACKs, until it is set off again (in Linux
	// it is a one-off switch to quick-ack mode, which its delayed-ACK
	// logic later leaves; not emulated); off, ACKs are delayed as Linux
	// delays them.
	QuickAck *bool
}

// Step is one action of a host's application script. Steps run in order;
// each waits for the previous one to finish.
type Step struct {
	// Action is what the step does.
	Action Action
	// At, when non-zero, delays the step until this virtual time.
	At time.Duration
	// Socket names the socket the step acts on or creates. Empty means
	// "listener" for Listen and "conn" otherwise.
	Socket string
	// From names the listening socket Accept takes from ("listener").
	From string
	// Port is the port Listen binds, or the local port Connect binds
	// (0: an ephemeral port).
	Port uint16
	// Backlog is Listen's backlog.
	Backlog int
	// Addr is the address Connect connects to.
	Addr netip.AddrPort
	// Target is how the lab named Addr ("server:80"), for the timeline.
	Target string
	// Data is what Send writes; when nil, Send writes Bytes filler bytes.
	Data []byte
	// Bytes is the number of bytes Send writes or Recv waits for.
	Bytes int
	// For is how long Sleep waits.
	For time.Duration
	// Options are what Set applies.
	Options Options
	// Until is the event Wait waits for; zero means none (Wait then only
	// waits for At).
	Until Event
	// Timeout, when positive, bounds how long Recv, Wait and Connect wait.
	// A Recv or Wait that times out is not an error: it reports "timed out
	// after 75s" (plus the bytes a Recv got so far) and the script goes on.
	// A Connect that times out is abandoned as an application's connect
	// timeout abandons it: the socket is closed (a half-open connection
	// goes from SYN_SENT to CLOSED and sends nothing) and the step fails
	// with ETIMEDOUT.
	Timeout time.Duration
	// OnError says what the script does when the step fails: Stop (the
	// zero value) ends it, Continue goes on with the next step.
	OnError OnError
	// Each, on an Accept step, makes the step serve connections forever:
	// every accepted connection starts a new, independent script running
	// Each, in which the accepted socket has the step's socket name
	// ("conn") and the listener is shared under its name. The accepting
	// step reports each connection and goes back to waiting for the next.
	// A per-connection script is woken by its own connection's events.
	Each []Step
}

// socketName returns the socket a step acts on.
func (s *Step) socketName() string {
	switch {
	case s.Socket != "":
		return s.Socket
	case s.Action == Listen:
		return "listener"
	}
	return "conn"
}

// from returns the listening socket Accept takes from.
func (s *Step) from() string {
	if s.From != "" {
		return s.From
	}
	return "listener"
}

// String describes the step as the timeline shows it: "connect server:80".
func (s *Step) String() string {
	var b strings.Builder
	b.WriteString(s.Action.String())
	switch s.Action {
	case Listen:
		fmt.Fprintf(&b, " :%d backlog %d", s.Port, s.Backlog)
	case Connect:
		t := s.Target
		if t == "" {
			t = s.Addr.String()
		}
		b.WriteString(" " + t)
		if s.Port != 0 {
			fmt.Fprintf(&b, " from port %d", s.Port)
		}
	case Send:
		if s.Data != nil {
			fmt.Fprintf(&b, " %q", truncate(string(s.Data), 24))
		} else {
			fmt.Fprintf(&b, " %d bytes", s.Bytes)
		}
	case Recv:
		if s.Bytes > 0 {
			fmt.Fprintf(&b, " %d bytes", s.Bytes)
		}
	case Sleep:
		fmt.Fprintf(&b, " %v", s.For)
	case Set:
		b.WriteString(" " + s.Options.String())
	case Wait:
		if s.Until != 0 {
			b.WriteString(" " + s.Until.String())
		}
	case Accept:
		switch len(s.Each) {
		case 0:
		case 1:
			b.WriteString(" each (1 step)")
		default:
			fmt.Fprintf(&b, " each (%d steps)", len(s.Each))
		}
	}
	if s.Timeout > 0 && s.Action.takesTimeout() {
		b.WriteString(" timeout " + durText(s.Timeout))
	}
	if s.Socket != "" {
		b.WriteString(" [" + s.Socket + "]")
	}
	return b.String()
}

// String lists the options that are set: "nodelay=true keepalive=true".
func (o Options) String() string {
	var parts []string
	for _, f := range o.set() {
		parts = append(parts, fmt.Sprintf("%s=%v", f.key, f.value))
	}
	return strings.Join(parts, " ")
}

// option is one option that is set: its key as a lab writes it, and its
// value.
type option struct {
	key   string
	value any
}

// set lists the options that are set, in the order of optionKeys.
func (o Options) set() []option {
	var out []option
	add := func(key string, isSet bool, value func() any) {
		if isSet {
			out = append(out, option{key, value()})
		}
	}
	add("nodelay", o.NoDelay != nil, func() any { return *o.NoDelay })
	add("keepalive", o.KeepAlive != nil, func() any { return *o.KeepAlive })
	add("keepalive_idle", o.KeepIdle != nil, func() any { return *o.KeepIdle })
	add("keepalive_interval", o.KeepInterval != nil, func() any { return *o.KeepInterval })
	add("keepalive_count", o.KeepCount != nil, func() any { return *o.KeepCount })
	add("send_buffer", o.SendBuffer != nil, func() any { return *o.SendBuffer })
	add("recv_buffer", o.RecvBuffer != nil, func() any { return *o.RecvBuffer })
	add("mss", o.MSS != nil, func() any { return *o.MSS })
	add("user_timeout", o.UserTimeout != nil, func() any { return *o.UserTimeout })
	add("quickack", o.QuickAck != nil, func() any { return *o.QuickAck })
	return out
}

// durText renders a duration as people write timeouts: "75s" rather than
// "1m15s" when it is a whole number of seconds.
func durText(d time.Duration) string {
	if d >= time.Second && d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
