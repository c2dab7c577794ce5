package hosts

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/tcplab/tcplab/internal/field"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Profile names a set of default TCP settings.
type Profile int

// Profiles.
const (
	// Linux asks for Linux's defaults wherever netstack has the knob:
	// Nagle on, listen(n) holding n+1 connections capped by somaxconn 4096,
	// CUBIC, SACK, TIME_WAIT and FIN_WAIT_2 60 s, keepalive 7200/75/9.
	Linux Profile = iota
	// Netstack keeps netstack's own defaults: Nagle off, listen(n) holding
	// n connections, Reno, SACK, TIME_WAIT and FIN_WAIT_2 60 s, keepalive
	// 7200/75/9.
	Netstack
)

// String returns the profile's name as written in a lab file.
func (p Profile) String() string {
	switch p {
	case Linux:
		return "linux"
	case Netstack:
		return "netstack"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// ParseProfile returns the profile named s.
func ParseProfile(s string) (Profile, bool) {
	switch s {
	case "linux":
		return Linux, true
	case "netstack":
		return Netstack, true
	}
	return 0, false
}

// MinMSS and MaxMSS bound Settings.MSS: 536, the least MSS a host must
// accept (RFC 9293), and 65495, the most a 65535-byte IPv4 packet carries.
const (
	MinMSS = 536
	MaxMSS = 65495
)

// Settings are a host's TCP settings. Stack-wide settings apply to the
// whole host; socket defaults apply to every socket the host opens or
// accepts, before the application's own options.
type Settings struct {
	// Profile is where the defaults came from.
	Profile Profile
	// Somaxconn caps a listen backlog (net.core.somaxconn); 0 = no cap.
	Somaxconn int
	// BacklogPlusOne makes listen(n) hold n+1 established connections in
	// its accept queue, as Linux does; netstack's own listen holds n.
	BacklogPlusOne bool
	// SynCookies is net.ipv4.tcp_syncookies: 1 sends cookies when the SYN
	// queue is full, 2 always; 0 (linux profile only) drops the SYN
	// instead, which tcplab emulates (linux_queue.go).
	SynCookies int
	// FinTimeout is how long an orphaned connection stays in FIN_WAIT_2
	// (net.ipv4.tcp_fin_timeout).
	FinTimeout time.Duration
	// TimeWait is how long a connection stays in TIME_WAIT (2MSL).
	TimeWait time.Duration
	// Keepalive turns SO_KEEPALIVE on for every socket.
	Keepalive bool
	// KeepaliveTime, KeepaliveInterval and KeepaliveProbes are the
	// keepalive idle time, the time between probes and the number of
	// unanswered probes before the connection is dropped
	// (net.ipv4.tcp_keepalive_time, _intvl, _probes).
	KeepaliveTime, KeepaliveInterval time.Duration
	KeepaliveProbes                  int
	// MSS is TCP_MAXSEG for every socket; 0 derives it from the MTU.
	MSS int
	// SendBuffer and RecvBuffer are the default socket buffer sizes in
	// bytes; 0 keeps the stack's default.
	SendBuffer, RecvBuffer int
	// SACK enables selective acknowledgements (net.ipv4.tcp_sack).
	SACK bool
	// Congestion is the congestion control algorithm: "reno" or "cubic".
	Congestion string
	// RTOMin and RTOMax bound the retransmission timeout.
	RTOMin, RTOMax time.Duration
	// Retries2 is how many times a data segment is retransmitted before
	// the connection is dropped (net.ipv4.tcp_retries2).
	Retries2 int
	// UserTimeout is TCP_USER_TIMEOUT for every socket; 0 = none.
	UserTimeout time.Duration
	// Nagle enables Nagle's algorithm on every socket (TCP_NODELAY off).
	Nagle bool
	// NoRTOGuard turns off tcplab's RTO guard (rtoguard.go), which works
	// around a netstack bug that can leave a sender with unacknowledged
	// data and no retransmission timer: with it off, such a connection
	// stays stuck, as netstack alone would leave it.
	NoRTOGuard bool

	// Linux holds the settings only the linux profile has, where tcplab
	// emulates Linux at the host's edge (hosts/linux_*.go).
	Linux LinuxSettings
}

// DefaultSettings returns the settings of profile p.
func DefaultSettings(p Profile) Settings {
	s := Settings{
		Profile:           p,
		SynCookies:        1,
		FinTimeout:        60 * time.Second,
		TimeWait:          60 * time.Second,
		KeepaliveTime:     2 * time.Hour,
		KeepaliveInterval: 75 * time.Second,
		KeepaliveProbes:   9,
		SACK:              true,
		Congestion:        "reno",
		RTOMin:            tcp.MinRTO,
		RTOMax:            tcp.MaxRTO,
		Retries2:          tcp.MaxRetries,
	}
	if p == Linux {
		s.BacklogPlusOne = true
		s.Congestion = "cubic"
		s.Nagle = true
		s.SetKernel(DefaultKernel)
	}
	return s
}

// Validate reports every setting netstack cannot honour, as a field.List
// whose fields are named as a lab file's [hosts.tcp] table writes them
// ("syncookies", "rto_max", "tcp_syn_retries"), or nil.
func (s *Settings) Validate() error {
	var l field.List
	s.validateLinux(&l)
	switch {
	case s.SynCookies == 0 && s.Profile != Linux:
		l.Add("syncookies", "syncookies = 0 is not possible in netstack: a full SYN queue always answers with SYN cookies (use 1, the default, or 2 = always; the linux profile emulates 0)")
	case s.SynCookies < 0 || s.SynCookies > 2:
		l.Add("syncookies", "syncookies must be 0, 1 or 2, not %d", s.SynCookies)
	}
	if s.Somaxconn < 0 {
		l.Add("somaxconn", "somaxconn %d is negative", s.Somaxconn)
	}
	if s.Congestion != "reno" && s.Congestion != "cubic" {
		l.Add("congestion", "unknown congestion control %q (want reno or cubic)", s.Congestion)
	}
	atLeast := func(name string, d, lo time.Duration) {
		if d < lo {
			l.Add(name, "%s %v must be at least %v", name, d, lo)
		}
	}
	atLeast("fin_timeout", s.FinTimeout, time.Second)
	atLeast("time_wait", s.TimeWait, time.Second)
	atLeast("keepalive_time", s.KeepaliveTime, time.Second)
	atLeast("keepalive_intvl", s.KeepaliveInterval, time.Second)
	atLeast("rto_min", s.RTOMin, time.Millisecond)
	atLeast("rto_max", s.RTOMax, time.Millisecond)
	if s.RTOMax < s.RTOMin && s.RTOMin >= time.Millisecond && s.RTOMax >= time.Millisecond {
		l.AddEither("rto_max", []string{"rto_min"}, "impossible RTO bounds: rto_max %v is less than rto_min %v", s.RTOMax, s.RTOMin)
	}
	if s.UserTimeout < 0 {
		l.Add("user_timeout", "user_timeout %v is negative", s.UserTimeout)
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"keepalive_probes", s.KeepaliveProbes}, {"retries2", s.Retries2}} {
		if c.n < 1 {
			l.Add(c.name, "%s must be at least 1", c.name)
		}
	}
	if s.MSS != 0 && (s.MSS < MinMSS || s.MSS > MaxMSS) {
		l.Add("mss", "mss %d is outside %d–%d", s.MSS, MinMSS, MaxMSS)
	}
	for _, b := range []struct {
		name string
		n    int
	}{{"send_buffer", s.SendBuffer}, {"recv_buffer", s.RecvBuffer}} {
		switch {
		case b.n != 0 && b.n < tcp.MinBufferSize:
			l.Add(b.name, "%s %d is smaller than netstack's minimum of %d bytes", b.name, b.n, tcp.MinBufferSize)
		case b.n > tcp.MaxBufferSize:
			l.Add(b.name, "%s %d is larger than netstack's maximum of %dMiB", b.name, b.n, tcp.MaxBufferSize>>20)
		}
	}
	return l.Err()
}

// Backlog returns the accept-queue capacity netstack is given for
// listen(n) under these settings.
func (s *Settings) Backlog(n int) int {
	if s.Somaxconn > 0 {
		n = min(n, s.Somaxconn)
	}
	if s.BacklogPlusOne {
		n++
	}
	return n
}

// apply sets the stack-wide settings on st.
func (s *Settings) apply(st *stack.Stack) error {
	sack := tcpip.TCPSACKEnabled(s.SACK)
	delay := tcpip.TCPDelayEnabled(s.Nagle)
	cc := tcpip.CongestionControlOption(s.Congestion)
	tw := tcpip.TCPTimeWaitTimeoutOption(s.TimeWait)
	linger := tcpip.TCPLingerTimeoutOption(s.FinTimeout)
	maxRTO := tcpip.TCPMaxRTOOption(s.RTOMax)
	minRTO := tcpip.TCPMinRTOOption(s.RTOMin)
	retries := tcpip.TCPMaxRetriesOption(s.Retries2)
	cookies := tcpip.TCPAlwaysUseSynCookies(s.SynCookies == 2)
	opts := []tcpip.SettableTransportProtocolOption{&sack, &delay, &cc, &tw, &linger, &maxRTO, &minRTO, &retries, &cookies}
	if s.SendBuffer > 0 {
		opts = append(opts, &tcpip.TCPSendBufferSizeRangeOption{Min: tcp.MinBufferSize, Default: s.SendBuffer, Max: tcp.MaxBufferSize})
	}
	if s.RecvBuffer > 0 {
		opts = append(opts, &tcpip.TCPReceiveBufferSizeRangeOption{Min: tcp.MinBufferSize, Default: s.RecvBuffer, Max: tcp.MaxBufferSize})
	}
	opts = append(opts, s.linuxOptions()...) // linux_settings.go
	for _, o := range opts {
		if e := st.SetTransportProtocolOption(tcp.ProtocolNumber, o); e != nil {
			return fmt.Errorf("TCP setting %T: %v", o, e)
		}
	}
	return s.applyLinux(st) // linux_settings.go
}

// socketDefaults returns the options every socket of the host starts with.
func (s *Settings) socketDefaults() Options {
	var o Options
	if s.Keepalive {
		o.KeepAlive = ptr(true)
	}
	if s.KeepaliveTime != 2*time.Hour {
		o.KeepIdle = ptr(s.KeepaliveTime)
	}
	if s.KeepaliveInterval != 75*time.Second {
		o.KeepInterval = ptr(s.KeepaliveInterval)
	}
	if s.KeepaliveProbes != 9 {
		o.KeepCount = ptr(s.KeepaliveProbes)
	}
	if s.MSS != 0 {
		o.MSS = ptr(s.MSS)
	}
	if s.UserTimeout != 0 {
		o.UserTimeout = ptr(s.UserTimeout)
	}
	if s.emulates() && s.Linux.DelayedAck {
		// netstack starts every socket with TCP_QUICKACK on (and ignores
		// it); Linux's delayed ACK reads it as the application set it.
		o.QuickAck = ptr(false)
	}
	return o
}

func ptr[T any](v T) *T { return &v }

// counterFields lists the stack counters a lab can name, in order.
var counterFields = func() []string {
	t := reflect.TypeFor[tcpip.TCPStats]()
	var names []string
	for f := range t.Fields() {
		if f.Type == reflect.TypeFor[*tcpip.StatCounter]() {
			names = append(names, f.Name)
		}
	}
	slices.Sort(names)
	return names
}()

// CounterNames lists the TCP counters Counter knows: the fields of
// netstack's tcpip.TCPStats ("ListenOverflowSynDrop", "ResetsSent" ...),
// sorted.
func CounterNames() []string { return slices.Clone(counterFields) }

// Counter returns the value of the TCP counter name of the host's stack.
func (h *Host) Counter(name string) (uint64, bool) {
	if !slices.Contains(counterFields, name) {
		return 0, false
	}
	v := reflect.ValueOf(h.stack.Stats().TCP).FieldByName(name)
	c, ok := v.Interface().(*tcpip.StatCounter)
	if !ok || c == nil {
		return 0, false
	}
	return c.Value(), true
}
