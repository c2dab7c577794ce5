package labs

import (
	"github.com/tcplab/tcplab/hosts"
)

// linuxSettings converts the [hosts.tcp] keys only the linux profile has,
// named after Linux's sysctls.
func (v *validator) linuxSettings(tp string, t *tcpSpec, s *hosts.Settings) {
	keys := []struct {
		name string
		set  bool
	}{
		{"kernel", t.Kernel != nil}, {"tcp_syn_retries", t.SynRetries != nil},
		{"tcp_syn_linear_timeouts", t.SynLinearTimeouts != nil}, {"tcp_synack_retries", t.SynAckRetries != nil},
		{"tcp_abort_on_overflow", t.AbortOnOverflow != nil}, {"tcp_dsack", t.DSACK != nil},
		{"tcp_window_scaling", t.WindowScaling != nil}, {"ip_local_port_range", t.PortRange != nil},
		{"tcp_tw_reuse", t.TWReuse != nil}, {"delayed_ack", t.DelayedAck != nil},
	}
	if s.Profile != hosts.Linux {
		for _, k := range keys {
			if k.set {
				v.valuef(join(tp, k.name), "%s is a setting of the linux profile, where tcplab emulates Linux; this host's profile is %s", k.name, s.Profile)
			}
		}
		return
	}
	l := &s.Linux
	if t.Kernel != nil {
		if hosts.ValidKernel(*t.Kernel) {
			s.SetKernel(*t.Kernel)
		} else {
			l.Kernel = *t.Kernel // for Settings.Validate to report
		}
	}
	integer := func(k string, n *int64, dst *int) {
		if n != nil {
			*dst = v.integer(join(tp, k), *n)
		}
	}
	flag := func(k string, n *int64, dst *bool) {
		if n == nil {
			return
		}
		if *n != 0 && *n != 1 {
			v.valuef(join(tp, k), "%s must be 0 or 1, not %d", k, *n)
			return
		}
		*dst = *n == 1
	}
	integer("tcp_syn_retries", t.SynRetries, &l.SynRetries)
	integer("tcp_syn_linear_timeouts", t.SynLinearTimeouts, &l.SynLinearTimeouts)
	integer("tcp_synack_retries", t.SynAckRetries, &l.SynAckRetries)
	flag("tcp_abort_on_overflow", t.AbortOnOverflow, &l.AbortOnOverflow)
	flag("tcp_dsack", t.DSACK, &l.DSACK)
	flag("tcp_window_scaling", t.WindowScaling, &l.WindowScaling)
	integer("tcp_tw_reuse", t.TWReuse, &l.TWReuse)
	if t.DelayedAck != nil {
		l.DelayedAck = *t.DelayedAck
	}
	if r := t.PortRange; r != nil {
		switch {
		case len(*r) != 2:
			v.valuef(join(tp, "ip_local_port_range"), "ip_local_port_range must be two ports, [low, high]")
		case (*r)[0] < 0 || (*r)[1] < 0 || (*r)[0] > 65535 || (*r)[1] > 65535:
			// Settings.Validate words the error; these do not fit a port.
			v.valuef(join(tp, "ip_local_port_range"), "ip_local_port_range [%d, %d] is not a range of ports within 1–65535", (*r)[0], (*r)[1])
		default:
			l.PortLow, l.PortHigh = uint16((*r)[0]), uint16((*r)[1])
		}
	}
}
