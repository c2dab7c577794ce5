package reference

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tcplab/tcplab/internal/event"
)

// trace is a tracefs instance of its own that records every socket state
// change (sock:inet_sock_set_state) in the kernel, whatever the network
// namespace; a run keeps those of its own addresses.
type trace struct {
	dir string
}

// startTrace creates and enables the instance.
func startTrace(name string) (*trace, error) {
	dir := filepath.Join(tracefs, "instances", name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("trace instance: %w", err)
	}
	t := &trace{dir: dir}
	for _, w := range []struct{ file, value string }{
		{"trace_clock", "mono"},
		{"buffer_size_kb", "4096"},
		{"events/sock/inet_sock_set_state/filter", "protocol == 6"},
		{"events/sock/inet_sock_set_state/enable", "1"},
	} {
		if err := os.WriteFile(filepath.Join(dir, w.file), []byte(w.value), 0o644); err != nil {
			t.remove()
			return nil, fmt.Errorf("trace instance: %w", err)
		}
	}
	return t, nil
}

// remove disables and removes the instance.
func (t *trace) remove() {
	os.WriteFile(filepath.Join(t.dir, "events/sock/inet_sock_set_state/enable"), []byte("0"), 0o644)
	os.Remove(t.dir)
}

// change is one state change the trace recorded.
type change struct {
	at            time.Duration // CLOCK_MONOTONIC
	local, remote netip.AddrPort
	from, to      event.State
}

// read returns the state changes recorded so far.
func (t *trace) read() ([]change, error) {
	os.WriteFile(filepath.Join(t.dir, "events/sock/inet_sock_set_state/enable"), []byte("0"), 0o644)
	data, err := os.ReadFile(filepath.Join(t.dir, "trace"))
	if err != nil {
		return nil, err
	}
	var out []change
	for line := range strings.SplitSeq(string(data), "\n") {
		if c, ok := parseTraceLine(line); ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// traceLine matches an inet_sock_set_state line:
//
//	<idle>-0 [001] ..s2. 123.456789: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=80 dport=40000 saddr=10.0.0.2 daddr=10.0.0.1 saddrv6=... daddrv6=... oldstate=TCP_SYN_RECV newstate=TCP_ESTABLISHED
var traceLine = regexp.MustCompile(`\s(\d+)\.(\d{6}): inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=(\d+) dport=(\d+) saddr=(\S+) daddr=(\S+) .*oldstate=(\S+) newstate=(\S+)`)

// parseTraceLine parses one line of the trace.
func parseTraceLine(line string) (change, bool) {
	m := traceLine.FindStringSubmatch(line)
	if m == nil {
		return change{}, false
	}
	sec, _ := strconv.ParseInt(m[1], 10, 64)
	usec, _ := strconv.ParseInt(m[2], 10, 64)
	sport, _ := strconv.ParseUint(m[3], 10, 16)
	dport, _ := strconv.ParseUint(m[4], 10, 16)
	saddr, err1 := netip.ParseAddr(m[5])
	daddr, err2 := netip.ParseAddr(m[6])
	from, ok1 := kernelStates[m[7]]
	to, ok2 := kernelStates[m[8]]
	if err1 != nil || err2 != nil || !ok1 || !ok2 {
		return change{}, false
	}
	return change{
		at:     time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond,
		local:  netip.AddrPortFrom(saddr, uint16(sport)),
		remote: netip.AddrPortFrom(daddr, uint16(dport)),
		from:   from, to: to,
	}, true
}

// kernelStates maps the kernel's state names to tcplab's.
var kernelStates = map[string]event.State{
	"TCP_ESTABLISHED":  event.Established,
	"TCP_SYN_SENT":     event.SynSent,
	"TCP_SYN_RECV":     event.SynRcvd,
	"TCP_FIN_WAIT1":    event.FinWait1,
	"TCP_FIN_WAIT2":    event.FinWait2,
	"TCP_TIME_WAIT":    event.TimeWait,
	"TCP_CLOSE":        event.Closed,
	"TCP_CLOSE_WAIT":   event.CloseWait,
	"TCP_LAST_ACK":     event.LastAck,
	"TCP_LISTEN":       event.Listen,
	"TCP_CLOSING":      event.Closing,
	"TCP_NEW_SYN_RECV": event.SynRcvd,
}
