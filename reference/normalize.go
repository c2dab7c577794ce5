package reference

import (
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
	return nil
}
