package hosts

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tcplab/tcplab/internal/field"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The linux profile: settings with Linux's names that netstack lacks,
// emulated by tcplab at the host's edge (the files hosts/linux_*.go), each
// marked on the rows it changes.

// DefaultKernel is the Linux version whose defaults the linux profile
// takes unless a lab names another: the kernel tcplab was measured against
// (reference/).
const DefaultKernel = "6.18"

// LinuxSettings are the settings of the linux profile that netstack has no
// knob for. Their zero value (the netstack profile) leaves netstack's own
// behaviour.
type LinuxSettings struct {
	// Kernel is the Linux version whose defaults apply ("6.18").
	Kernel string
	// SynRetries is net.ipv4.tcp_syn_retries: connect() gives up when
	// (2^(SynRetries+1) − 1) s have passed since the first SYN, at the
	// first retransmission timeout after that.
	SynRetries int
	// SynLinearTimeouts is net.ipv4.tcp_syn_linear_timeouts (Linux 6.5):
	// the first this many SYN retransmissions wait 1 s each, then the
	// wait doubles.
	SynLinearTimeouts int
	// SynAckRetries is net.ipv4.tcp_synack_retries: a half-open
	// connection retransmits its SYN-ACK this many times (after 1, 2, 4
	// ... s) and is dropped at the next timeout.
	SynAckRetries int
	// AbortOnOverflow is net.ipv4.tcp_abort_on_overflow: a handshake's
	// final ACK that finds the accept queue full is answered with a RST.
	AbortOnOverflow bool
	// DSACK is net.ipv4.tcp_dsack: Linux reports duplicate data with a
	// D-SACK block. netstack never sends one; the rows say so.
	DSACK bool
	// WindowScaling is net.ipv4.tcp_window_scaling; off, tcplab removes
	// the window scale option from the host's SYNs and from the SYNs it
	// receives, so that no side scales.
	WindowScaling bool
	// PortLow and PortHigh are net.ipv4.ip_local_port_range.
	PortLow, PortHigh uint16
	// TWReuse is net.ipv4.tcp_tw_reuse: 0 off, 1 on, 2 loopback only.
	TWReuse int
	// DelayedAck delays ACKs as Linux does (quick-ack at the start of a
	// connection, then 40 ms, at once for every second full-sized
	// segment); off, every ACK goes at once, as netstack sends them.
	DelayedAck bool
}

// kernelVersion parses "6.18" into (6, 18).
func kernelVersion(v string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(v, ".")
	if !found {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || major < 3 || major > 7 || minor < 0 || minor > 99 {
		return 0, 0, false
	}
	return major, minor, true
}

// ValidKernel reports whether v names a Linux version tcplab knows the
// defaults of: "MAJOR.MINOR", 3.0 to 7.99.
func ValidKernel(v string) bool {
	_, _, ok := kernelVersion(v)
	return ok
}

// SetKernel sets the defaults of Linux version v (which must be valid)
// where they changed: somaxconn 4096 since 5.4 (128 before), and
// tcp_syn_linear_timeouts 4 since 6.5 (none before).
func (s *Settings) SetKernel(v string) {
	major, minor, _ := kernelVersion(v)
	at := func(ma, mi int) bool { return major > ma || major == ma && minor >= mi }
	s.Linux = LinuxSettings{
		Kernel:        v,
		SynRetries:    6,
		SynAckRetries: 5,
		DSACK:         true,
		WindowScaling: true,
		PortLow:       32768,
		PortHigh:      60999,
		TWReuse:       2,
		DelayedAck:    true,
	}
	s.Somaxconn = 128
	if at(5, 4) {
		s.Somaxconn = 4096
	}
	if at(6, 5) {
		s.Linux.SynLinearTimeouts = 4
	}
}

// emulates reports whether tcplab emulates Linux on this host.
func (s *Settings) emulates() bool { return s.Profile == Linux && s.Linux.Kernel != "" }

// validateLinux adds the impossible linux settings to l.
func (s *Settings) validateLinux(l *field.List) {
	ls := &s.Linux
	if !s.emulates() {
		if *ls != (LinuxSettings{}) {
			l.Add("kernel", "the settings of Linux (kernel, tcp_syn_retries ...) need the linux profile")
		}
		return
	}
	if !ValidKernel(ls.Kernel) {
		l.Add("kernel", "kernel %q is not a Linux version like \"6.18\"", ls.Kernel)
	}
	for _, c := range []struct {
		name   string
		n      int
		lo, hi int
	}{
		{"tcp_syn_retries", ls.SynRetries, 1, 127},
		{"tcp_syn_linear_timeouts", ls.SynLinearTimeouts, 0, 127},
		{"tcp_synack_retries", ls.SynAckRetries, 1, 127},
		{"tcp_tw_reuse", ls.TWReuse, 0, 2},
	} {
		if c.n < c.lo || c.n > c.hi {
			l.Add(c.name, "%s %d is outside %d–%d", c.name, c.n, c.lo, c.hi)
		}
	}
	if ls.PortLow == 0 || ls.PortHigh < ls.PortLow {
		l.Add("ip_local_port_range", "ip_local_port_range [%d, %d] is not a range of ports within 1–65535", ls.PortLow, ls.PortHigh)
	}
}

// linuxOptions returns the stack options the linux settings map to.
func (s *Settings) linuxOptions() []tcpip.SettableTransportProtocolOption {
	if !s.emulates() {
		return nil
	}
	reuse := tcpip.TCPTimeWaitReuseOption(s.Linux.TWReuse)
	return []tcpip.SettableTransportProtocolOption{&reuse}
}

// applyLinux sets what the linux settings change in the stack itself.
func (s *Settings) applyLinux(st *stack.Stack) error {
	if !s.emulates() {
		return nil
	}
	if e := st.SetPortRange(s.Linux.PortLow, s.Linux.PortHigh); e != nil {
		return fmt.Errorf("ip_local_port_range: %v", e)
	}
	return nil
}

// synBudget is how long connect() keeps retrying a SYN: Linux's
// tcp_model_timeout for tcp_syn_retries with a 1 s initial RTO, doubling
// up to TCP_RTO_MAX (120 s).
func synBudget(retries int) time.Duration {
	const thresh = 6 // ilog2(TCP_RTO_MAX / 1 s)
	if retries <= thresh {
		return time.Duration((2<<retries)-1) * time.Second
	}
	return time.Duration((2<<thresh)-1)*time.Second + time.Duration(retries-thresh)*120*time.Second
}
