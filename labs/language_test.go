package labs

import (
	"testing"

	"github.com/tcplab/tcplab/hosts"
)

// twoHosts is lines 1-6 of the language error cases: hosts a and b.
var twoHosts = []string{
	`[[hosts]]`,         // 1
	`name = "a"`,        // 2
	`ipv4 = "10.0.0.1"`, // 3
	`[[hosts]]`,         // 4
	`name = "b"`,        // 5
	`ipv4 = "10.0.0.2"`, // 6
}

// withAB returns twoHosts followed by more lines, starting at line 7.
func withAB(more ...string) string { return lines(append(append([]string{}, twoHosts...), more...)...) }

// TestLanguageErrors covers the error cases of the lab language: each is
// reported with its exact message at the position of the offending key or
// value.
func TestLanguageErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"duplicate key", withAB(`[[links]]`, `host = "a"`, `host = "b"`),
			`x.toml:9:1: key host is already defined`},
		{"undefined host in a link", withAB(`[[links]]`, `host = "c"`),
			`x.toml:8:8: link names host "c", which is not defined`},
		{"overlapping address", lines(`[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.1"`, `[[hosts]]`, `name = "b"`, `ipv4 = "10.0.0.1"`),
			`x.toml:6:8: address 10.0.0.1 is already used by host "a"`},
		{"negative latency", withAB(`[[links]]`, `host = "a"`, `latency = "-5ms"`),
			`x.toml:9:11: latency -5ms is negative`},
		{"probability above 1", withAB(`[[links]]`, `host = "a"`, `duplicate = 1.5`),
			`x.toml:9:13: duplicate 1.5 is outside [0, 1]`},
		{"negative probability in a direction", withAB(`[[links]]`, `host = "a"`, `[links.in]`, `corrupt = -0.1`),
			`x.toml:10:11: corrupt -0.1 is outside [0, 1]`},
		{"impossible outage", withAB(`[[links]]`, `host = "a"`, `down = [{from = "5s", to = "1s"}]`),
			`x.toml:9:28: impossible window: to 1s is not after from 5s`},
		{"overlapping outages", withAB(`[[links]]`, `host = "a"`, `[[links.down]]`, `from = "1s"`, `to = "5s"`, `[[links.down]]`, `from = "3s"`),
			`x.toml:12:1: outage 3s–end overlaps outage 1 (1s–5s)`},
		{"impossible fault window", withAB(`[[faults]]`, `action = "drop"`, `after = "2s"`, `before = "1s"`),
			`x.toml:10:10: impossible time window: before 1s is not after after 2s`},
		{"unknown fault action", withAB(`[[faults]]`, `action = "reset"`),
			`x.toml:8:10: unknown fault action "reset" (want drop, delay, duplicate, hold)`},
		{"fault names an undefined host", withAB(`[[faults]]`, `action = "drop"`, `from = "c"`),
			`x.toml:9:8: fault names host "c", which is not defined`},
		{"bad fault flags", withAB(`[[faults]]`, `action = "drop"`, `flags = "SYNN"`),
			`x.toml:9:9: unknown TCP flag "SYNN" (want SYN, ACK, FIN, RST, PSH, URG, ECE, CWR)`},
		{"hold without until", withAB(`[[faults]]`, `action = "hold"`),
			`x.toml:7:1: a hold fault needs until = "30s" (when the switch releases the segment)`},
		{"until on a drop", withAB(`[[faults]]`, `action = "drop"`, `until = "3s"`),
			`x.toml:9:1: only hold faults take until`},
		{"nth zero", withAB(`[[faults]]`, `action = "drop"`, `nth = 0`),
			`x.toml:9:7: nth must be at least 1`},
		{"injection via an undefined host", withAB(`[[inject]]`, `via = "c"`, `from = "10.9.0.1:1"`, `to = "b:80"`, `flags = "SYN"`),
			`x.toml:8:7: injection names host "c", which is not defined`},
		{"injection with a negated flag", withAB(`[[inject]]`, `via = "a"`, `from = "10.9.0.1:1"`, `to = "b:80"`, `flags = "SYN,!ACK"`),
			`x.toml:11:9: injected flags cannot use '!': list the flags the segment carries`},
		{"injection seq word", withAB(`[[inject]]`, `via = "a"`, `from = "10.9.0.1:1"`, `to = "b:80"`, `flags = "RST"`, `seq = "exact"`),
			`x.toml:12:7: sequence number "exact" must be an integer, "next" or "isn"`},
		{"injection prefix", withAB(`[[inject]]`, `via = "a"`, `from = "10.9.0.0/33"`, `to = "b:80"`, `flags = "SYN"`),
			`x.toml:9:8: "10.9.0.0/33" is not an address prefix such as "10.9.0.0/24"`},
		{"syncookies 0 under netstack", withAB(`profile = "netstack"`, `[hosts.tcp]`, `syncookies = 0`),
			`x.toml:9:14: syncookies = 0 is not possible in netstack: a full SYN queue always answers with SYN cookies (use 1, the default, or 2 = always; the linux profile emulates 0)`},
		{"syncookies 3", withAB(`[hosts.tcp]`, `syncookies = 3`),
			`x.toml:8:14: syncookies must be 0, 1 or 2, not 3`},
		{"linux setting under netstack", withAB(`profile = "netstack"`, `[hosts.tcp]`, `tcp_syn_retries = 3`),
			`x.toml:9:19: tcp_syn_retries is a setting of the linux profile, where tcplab emulates Linux; this host's profile is netstack`},
		{"bad kernel", withAB(`[hosts.tcp]`, `kernel = "six"`),
			`x.toml:8:10: kernel "six" is not a Linux version like "6.18"`},
		{"bad port range", withAB(`[hosts.tcp]`, `ip_local_port_range = [60999, 32768]`),
			`x.toml:8:23: ip_local_port_range [60999, 32768] is not a range of ports within 1–65535`},
		{"abort_on_overflow 2", withAB(`[hosts.tcp]`, `tcp_abort_on_overflow = 2`),
			`x.toml:8:25: tcp_abort_on_overflow must be 0 or 1, not 2`},
		{"unknown profile", lines(`[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.1"`, `profile = "bsd"`),
			`x.toml:4:11: unknown profile "bsd" (want linux or netstack)`},
		{"unknown congestion control", withAB(`[hosts.tcp]`, `congestion = "bbr"`),
			`x.toml:8:14: unknown congestion control "bbr" (want reno or cubic)`},
		{"impossible RTO bounds", withAB(`[hosts.tcp]`, `rto_min = "2s"`, `rto_max = "1s"`),
			`x.toml:9:11: impossible RTO bounds: rto_max 1s is less than rto_min 2s`},
		{"buffer too small", withAB(`[hosts.tcp]`, `send_buffer = "1KB"`),
			`x.toml:8:15: send_buffer 1000 is smaller than netstack's minimum of 4096 bytes`},
		{"bad size", withAB(`[hosts.tcp]`, `recv_buffer = "lots"`),
			`x.toml:8:15: invalid size "lots" (use bytes or a unit: 1460, "64KB", "10MB", "1MiB")`},
		{"unknown tcp key", withAB(`[hosts.tcp]`, `tcp_syn_retrys = 3`),
			`x.toml:8:1: unknown key "hosts.tcp.tcp_syn_retrys" (did you mean "tcp_syn_retries"?)`},
		{"unknown model", withAB(`[[hosts.apps]]`, `model = "ftp-server"`),
			`x.toml:8:9: unknown model "ftp-server" (want one of http-server, pool-client, echo-server, bulk-sender, sink, holder)`},
		{"model parameter it does not take", withAB(`[[hosts.apps]]`, `model = "echo-server"`, `port = 7`, `requests = ["1s"]`),
			`x.toml:10:1: model "echo-server" does not take "requests" (it takes port, backlog)`},
		{"model without a required key", withAB(`[[hosts.apps]]`, `model = "pool-client"`, `to = "b:80"`),
			`x.toml:7:1: model "pool-client" needs requests`},
		{"decreasing request times", withAB(`[[hosts.apps]]`, `model = "pool-client"`, `to = "b:80"`, `requests = ["5s", "1s"]`),
			`x.toml:10:19: request times must not decrease: 1s comes after 5s`},
		{"unknown wait event", withAB(`[[hosts.steps]]`, `do = "wait"`, `until = "done"`),
			`x.toml:9:9: unknown event "done" (want one of connected, peer-closed, closed, readable, error)`},
		{"expectation with two checks", withAB(`[[expect]]`, `state = "CLOSED"`, `error = "x"`, `host = "a"`),
			`x.toml:7:1: an expectation checks one thing; this one has state and error`},
		{"unknown state", withAB(`[[expect]]`, `state = "FIN_WAIT1"`, `host = "a"`),
			`x.toml:8:9: unknown TCP state "FIN_WAIT1" (did you mean "FIN_WAIT_1"?)`},
		{"unknown state, nothing near", withAB(`[[expect]]`, `state = "HALF_OPEN"`, `host = "a"`),
			`x.toml:8:9: unknown TCP state "HALF_OPEN" (want one of CLOSED, LISTEN, SYN_SENT, SYN_RCVD, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT)`},
		{"bad segment pattern", withAB(`[[expect]]`, `segment = "a -> b RST"`),
			`x.toml:8:11: segment pattern "a -> b RST" names host "a -", which is not defined (did you mean "a"?)`},
		{"unknown counter", withAB(`[[expect]]`, `counter = "SynDrops"`, `host = "b"`),
			`x.toml:8:11: unknown counter "SynDrops" (want one of ` + counterList() + `)`},
		{"impossible expectation window", withAB(`[[expect]]`, `segment = "a > b"`, `after = "2s"`, `before = "1s"`),
			`x.toml:10:10: impossible time window: before 1s is earlier than after 2s`},
		{"impossible bounds", withAB(`[[expect]]`, `segment = "a > b"`, `min = 3`, `max = 1`),
			`x.toml:10:7: impossible bounds: max 1 is less than min 3`},
		{"state expectation without host", withAB(`[[expect]]`, `state = "CLOSED"`),
			`x.toml:7:1: a state expectation needs host = "..."`},
		{"unknown topic", lines(`topic = "dns"`, `[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.1"`),
			`x.toml:1:9: unknown topic "dns" (want one of handshake, close, queues, keepalive, resets, loss, data, other)`},
		{"misspelt key", withAB(`[[links]]`, `host = "a"`, `latancy = "1ms"`),
			`x.toml:9:1: unknown key "links.latancy" (did you mean "latency"?)`},
		{"several type errors at once", withAB(`[[links]]`, `host = "a"`, `latency = 5`, `loss = "high"`, `queue_limit = true`),
			"x.toml:9:11: latency must be a duration string such as \"200ms\", not the integer 5\n" +
				"x.toml:10:8: loss must be a number, not the string \"high\"\n" +
				"x.toml:11:15: queue_limit must be an integer, not the boolean true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadErrors(t, tt.src).Error(); got != tt.want {
				t.Errorf("Load(%q) =\n%s\nwant\n%s", tt.src, got, tt.want)
			}
		})
	}
}

func counterList() string {
	s := ""
	for i, c := range hosts.CounterNames() {
		if i > 0 {
			s += ", "
		}
		s += c
	}
	return s
}
