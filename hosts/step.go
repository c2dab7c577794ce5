package hosts

import (
	"fmt"
	"net/netip"
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
)

var actionNames = map[Action]string{
	Listen: "listen", Accept: "accept", Connect: "connect", Send: "send", Recv: "recv",
	Shutdown: "shutdown", Close: "close", Abort: "abort", Set: "set", Sleep: "sleep",
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
	for a := Listen; a <= Sleep; a++ {
		if actionNames[a] == s {
			return a, true
		}
	}
	return 0, false
}

// ActionNames lists the valid action names in their documented order.
func ActionNames() []string {
	var out []string
	for a := Listen; a <= Sleep; a++ {
		out = append(out, actionNames[a])
	}
	return out
}

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
	// Port is the port Listen binds.
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
	}
	if s.Socket != "" {
		b.WriteString(" [" + s.Socket + "]")
	}
	return b.String()
}

// String lists the options that are set: "nodelay=true keepalive=true".
func (o Options) String() string {
	var parts []string
	add := func(name string, v any) { parts = append(parts, fmt.Sprintf("%s=%v", name, v)) }
	if o.NoDelay != nil {
		add("nodelay", *o.NoDelay)
	}
	if o.KeepAlive != nil {
		add("keepalive", *o.KeepAlive)
	}
	if o.KeepIdle != nil {
		add("keepalive_idle", *o.KeepIdle)
	}
	if o.KeepInterval != nil {
		add("keepalive_interval", *o.KeepInterval)
	}
	if o.KeepCount != nil {
		add("keepalive_count", *o.KeepCount)
	}
	if o.SendBuffer != nil {
		add("send_buffer", *o.SendBuffer)
	}
	if o.RecvBuffer != nil {
		add("recv_buffer", *o.RecvBuffer)
	}
	if o.MSS != nil {
		add("mss", *o.MSS)
	}
	if o.UserTimeout != nil {
		add("user_timeout", *o.UserTimeout)
	}
	return strings.Join(parts, " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
