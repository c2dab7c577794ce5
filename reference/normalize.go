package reference

import (
	"fmt"
	"github.com/tcplab/tcplab/hosts"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

// normalize reduces what the kernel's tracepoint reports to the states
// tcplab reports. Linux hands a connection entering TIME_WAIT to a
// time-wait minisocket and closes the full socket, which the tracepoint
// reports as FIN_WAIT_2 (or CLOSING) → CLOSE at the moment the connection
// enters TIME_WAIT; tcplab reports → TIME_WAIT. A FIN_WAIT_2 → CLOSE after
// the peer's FIN arrived is that.
func normalize(rec *Record) {
	for i, st := range rec.States {
		if st.To != event.Closed || st.From != event.FinWait2 && st.From != event.Closing {
			continue
		}
		for _, s := range rec.Segs {
			if s.Conn == st.Conn && s.To == st.Host && s.Flags&segment.FIN != 0 && s.At <= st.At {
				rec.States[i].To = event.TimeWait
				break
			}
		}
	}
}

// linuxSysctls returns the sysctls of the settings only the linux profile
// has.
func linuxSysctls(s *hosts.Settings) []string {
	l := s.Linux
	if l.Kernel == "" {
		return nil
	}
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	return []string{
		"net.ipv4.tcp_syn_retries=" + fmt.Sprint(l.SynRetries),
		"net.ipv4.tcp_syn_linear_timeouts=" + fmt.Sprint(l.SynLinearTimeouts),
		"net.ipv4.tcp_synack_retries=" + fmt.Sprint(l.SynAckRetries),
		"net.ipv4.tcp_abort_on_overflow=" + b(l.AbortOnOverflow),
		"net.ipv4.tcp_dsack=" + b(l.DSACK),
		"net.ipv4.tcp_window_scaling=" + b(l.WindowScaling),
		fmt.Sprintf("net.ipv4.ip_local_port_range=%d %d", l.PortLow, l.PortHigh),
		"net.ipv4.tcp_tw_reuse=" + fmt.Sprint(l.TWReuse),
	}
}
