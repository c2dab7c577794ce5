package labs

import (
	"slices"
	"testing"
)

// serverClient is lines 1-6 of the "did you mean" cases: hosts server and
// client, names long enough to be misspelt.
var serverClient = []string{
	`[[hosts]]`,         // 1
	`name = "server"`,   // 2
	`ipv4 = "10.0.0.2"`, // 3
	`[[hosts]]`,         // 4
	`name = "client"`,   // 5
	`ipv4 = "10.0.0.1"`, // 6
}

// withSC returns serverClient followed by more lines, starting at line 7.
func withSC(more ...string) string { return lines(slices.Concat(serverClient, more)...) }

// TestDidYouMean covers the suggestions for misspelt host names, states
// and counters: each error is at the misspelt value and names the word
// meant.
func TestDidYouMean(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"state with a dash", withSC(`[[expect]]`, `state = "TIME-WAIT"`, `host = "server"`),
			`x.toml:8:9: unknown TCP state "TIME-WAIT" (did you mean "TIME_WAIT"?)`},
		{"state without the underscore", withSC(`[[expect]]`, `state = "TIMEWAIT"`, `host = "server"`),
			`x.toml:8:9: unknown TCP state "TIMEWAIT" (did you mean "TIME_WAIT"?)`},
		{"state in lower case", withSC(`[[expect]]`, `state = "close_wait"`, `host = "server"`),
			`x.toml:8:9: unknown TCP state "close_wait" (did you mean "CLOSE_WAIT"?)`},
		{"state as ss prints it", withSC(`[[expect]]`, `state = "ESTAB"`, `host = "server"`),
			`x.toml:8:9: unknown TCP state "ESTAB" (did you mean "ESTABLISHED"?)`},
		{"state as the RFC names it", withSC(`[[expect]]`, `state = "SYN-RECEIVED"`, `host = "server"`),
			`x.toml:8:9: unknown TCP state "SYN-RECEIVED" (did you mean "SYN_RCVD"?)`},
		{"state misspelt", withSC(`[[expect]]`, `state = "ESTABLISED"`, `host = "server"`),
			`x.toml:8:9: unknown TCP state "ESTABLISED" (did you mean "ESTABLISHED"?)`},
		{"expectation host", withSC(`[[expect]]`, `state = "LISTEN"`, `host = "sever"`),
			`x.toml:9:8: expectation names host "sever", which is not defined (did you mean "server"?)`},
		{"expectation host in another case", withSC(`[[expect]]`, `error = "refused"`, `host = "Client"`),
			`x.toml:9:8: expectation names host "Client", which is not defined (did you mean "client"?)`},
		{"stall host", withSC(`[[expect]]`, `stall = "clinet"`),
			`x.toml:8:9: stall names host "clinet", which is not defined (did you mean "client"?) (or "*" for any host)`},
		{"segment pattern host", withSC(`[[expect]]`, `segment = "server > clent RST"`),
			`x.toml:8:11: segment pattern "server > clent RST" names host "clent", which is not defined (did you mean "client"?)`},
		{"bound pattern host", withSC(`[[expect]]`, `segment = "server > client"`, `after = "srever > client RST"`),
			`x.toml:9:9: after must be a duration such as "80s" or a segment pattern: segment pattern "srever > client RST" names host "srever", which is not defined (did you mean "server"?)`},
		{"step action", withSC(`[[hosts.steps]]`, `do = "acept"`),
			`x.toml:8:6: unknown action "acept" (did you mean "accept"? the actions are listen, accept, connect, send, recv, shutdown, close, abort, set, sleep, wait, so_error, tcp_info)`},
		{"link host", withSC(`[[links]]`, `host = "servr"`),
			`x.toml:8:8: link names host "servr", which is not defined (did you mean "server"?)`},
		{"connect target", withSC(`[[hosts.steps]]`, `do = "connect"`, `to = "sevrer:80"`),
			`x.toml:9:6: target "sevrer:80" names host "sevrer", which is not defined (did you mean "server"?)`},
		{"model target", withSC(`[[hosts.apps]]`, `model = "bulk-sender"`, `to = "server2:80"`, `bytes = 10`),
			`x.toml:9:6: target "server2:80" names host "server2", which is not defined (did you mean "server"?)`},
		{"fault host", withSC(`[[faults]]`, `action = "drop"`, `to = "cilent"`),
			`x.toml:9:6: fault names host "cilent", which is not defined (did you mean "client"?)`},
		{"injection via", withSC(`[[inject]]`, `via = "clientt"`, `to = "server:80"`, `from = "10.0.0.9:1"`, `flags = "RST"`),
			`x.toml:8:7: injection names host "clientt", which is not defined (did you mean "client"?)`},
		{"a host too far from any", withSC(`[[links]]`, `host = "router"`),
			`x.toml:8:8: link names host "router", which is not defined`},
		{"counter", withSC(`[[expect]]`, `counter = "ResetSent"`, `host = "server"`),
			`x.toml:8:11: unknown counter "ResetSent" (did you mean "ResetsSent"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadErrors(t, tt.src).Error(); got != tt.want {
				t.Errorf("Load(%q) =\n%s\nwant\n%s", tt.src, got, tt.want)
			}
		})
	}
}

// TestEditDistance checks that two adjacent letters swapped are one
// slip, not two, so that "prot" suggests "port" rather than "from".
func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"prot", "port", 1},
		{"prot", "from", 2},
		{"port", "port", 0},
		{"", "abc", 3},
		{"ab", "ba", 1},
		{"abc", "ca", 3}, // no letter is edited twice
		{"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
	for _, tt := range []struct {
		s     string
		known []string
		want  string
	}{
		{"prot", []string{"from", "port"}, "port"},
		{"fro", []string{"from", "for"}, "for"}, // as near, and as long
		{"fro", []string{"from", "to"}, "from"},
		{"por", []string{"from", "port", "for"}, "port"}, // not a swap: the earlier word
	} {
		if got := nearest(tt.s, tt.known); got != tt.want {
			t.Errorf("nearest(%q, %q) = %q, want %q", tt.s, tt.known, got, tt.want)
		}
	}
}

// TestNearest covers the rule behind every suggestion.
func TestNearest(t *testing.T) {
	known := []string{"server", "client", "a", "b", "TIME_WAIT"}
	tests := []struct{ s, want string }{
		{"sever", "server"},
		{"SERVER", "server"},
		{"clinet", "client"},
		{"c", ""},   // one edit from "a", but as long as itself
		{"srv", ""}, // three edits
		{"time_wait", "TIME_WAIT"},
		{"", ""},
		{"sevrer", "server"}, // two letters swapped: one edit
		{"lcient", "client"},
	}
	for _, tt := range tests {
		if got := nearest(tt.s, known); got != tt.want {
			t.Errorf("nearest(%q) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestExpectMatchErrors covers the errors of the keys that narrow an
// expectation: each at its key or value, with "did you mean" for a
// misspelt note key, analysis flag or step.
func TestExpectMatchErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"misspelt note key", withSC(`[[expect]]`, `note = "seg.retrans.rot"`),
			`x.toml:8:8: unknown note key "seg.retrans.rot" (did you mean "seg.retrans.rto"?)`},
		{"unknown note key", withSC(`[[expect]]`, `segment = "server > client"`, `note = "retransmitted"`),
			`x.toml:9:8: unknown note key "retransmitted" (the keys are those tcplab run --format json shows in note_keys, such as "seg.retrans.rto")`},
		{"misspelt analysis flag", withSC(`[[expect]]`, `segment = "server > client"`, `analysis = "retransmision"`),
			`x.toml:9:12: unknown analysis flag "retransmision" (did you mean "retransmission"?)`},
		{"Wireshark's label", withSC(`[[expect]]`, `segment = "server > client"`, `analysis = "TCP Dup ACK"`),
			`x.toml:9:12: unknown analysis flag "TCP Dup ACK" (did you mean "duplicate_ack"?)`},
		{"Wireshark's label of another flag", withSC(`[[expect]]`, `segment = "server > client"`, `analysis = "TCP Previous segment not captured"`),
			`x.toml:9:12: unknown analysis flag "TCP Previous segment not captured" (did you mean "lost_segment"?)`},
		{"nothing like a flag", withSC(`[[expect]]`, `segment = "server > client"`, `analysis = "slow"`),
			`x.toml:9:12: unknown analysis flag "slow" (want one of retransmission, fast_retransmission, spurious_retransmission, out_of_order, lost_segment, duplicate_ack, keep_alive, keep_alive_ack, zero_window, zero_window_probe, zero_window_probe_ack, window_update, window_full, ack_lost_segment, reused_ports)`},
		{"misspelt negated analysis flag", withSC(`[[expect]]`, `segment = "server > client"`, `analysis = "!tcp.analysis.dup_ack"`),
			`x.toml:9:12: unknown analysis flag "dup_ack" (did you mean "duplicate_ack"?)`},
		{"analysis flag set and not", withSC(`[[expect]]`, `segment = "server > client"`, `analysis = "retransmission, !retransmission"`),
			`x.toml:9:12: analysis "retransmission, !retransmission" asks for retransmission both set and not set`},
		{"misspelt step", withSC(`[[expect]]`, `step = "conect server:80"`, `host = "client"`),
			`x.toml:8:8: unknown step "conect" (did you mean "connect"?)`},
		{"unknown step", withSC(`[[expect]]`, `step = "dial"`),
			`x.toml:8:8: unknown step "dial" (a step begins with one of listen, accept, connect, send, recv, shutdown, close, abort, set, sleep, wait, so_error, tcp_info, serve, request)`},
		{"len that is not a number", withSC(`[[expect]]`, `segment = "server > client"`, `len = "big"`),
			`x.toml:9:7: "big" is not a value to match: write 1448, ">0", ">=1", "<1448", "<=1448" or "1..1448"`},
		{"len of the wrong type", withSC(`[[expect]]`, `segment = "server > client"`, `len = true`),
			`x.toml:9:7: a value to match must be an integer such as 1448 or a range such as ">0", "<=1448" or "1..1448", not the boolean true`},
		{"empty range", withSC(`[[expect]]`, `segment = "server > client"`, `window = "<0"`),
			`x.toml:9:10: "<0" matches no value`},
		{"len beyond a segment", withSC(`[[expect]]`, `segment = "server > client"`, `len = 70000`),
			`x.toml:9:7: len 70000 can never match: a segment's len is at most 65535`},
		{"ws as the shift", withSC(`[[expect]]`, `segment = "server > client SYN"`, `ws = 7`),
			`x.toml:9:6: ws 7 can never match: ws is the window scale multiplier the timeline shows (WS=128), a power of two from 1 to 16384`},
		{"bad sack blocks", withSC(`[[expect]]`, `segment = "server > client"`, `sack = "4261:5681"`),
			`x.toml:9:8: sack "4261:5681" must list blocks as the timeline shows them, such as "1449-2897" or "1449-2897,4345-5793" (or be true or false)`},
		{"sack of the wrong type", withSC(`[[expect]]`, `segment = "server > client"`, `sack = 3`),
			`x.toml:9:8: sack must be true, false or blocks such as "1449-2897", not the integer 3`},
		{"segment field without a segment", withSC(`[[expect]]`, `state = "LISTEN"`, `host = "server"`, `len = 0`),
			`x.toml:10:1: len narrows a segment expectation (segment = "client > server"), not a state expectation`},
		{"step on a segment expectation", withSC(`[[expect]]`, `segment = "server > client"`, `step = "connect"`),
			`x.toml:9:1: step narrows an error or result expectation (or stands alone), not a segment expectation`},
		{"note on a counter", withSC(`[[expect]]`, `counter = "ResetsSent"`, `host = "server"`, `note = "seg.rst"`),
			`x.toml:10:1: a counter expectation takes no note: a counter has no rows`},
		{"note on a snapshot", withSC(`[[expect]]`, `state = "LISTEN"`, `host = "server"`, `at = "1s"`, `note = "st.listen"`),
			`x.toml:11:1: a state expectation with at counts connections, not rows; it takes no note`},
		{"port on a step", withSC(`[[expect]]`, `step = "connect"`, `port = 80`),
			`x.toml:9:1: a step expectation takes no port: an application's row names no connection`},
		{"nothing to check", withSC(`[[expect]]`, `host = "server"`),
			`x.toml:7:1: an expectation needs one of segment, state, error, result, counter, stall, step or note`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadErrors(t, tt.src).Error(); got != tt.want {
				t.Errorf("Load(%q) =\n%s\nwant\n%s", tt.src, got, tt.want)
			}
		})
	}
}
