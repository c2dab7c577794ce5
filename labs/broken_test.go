package labs

import "testing"

// TestTypeAndSemanticErrors checks that a file with values of the wrong
// type and semantic errors reports them all at once, and that the checks
// that depend on a broken value are skipped rather than reporting it again
// in other words ("listen needs a port" for port = "80").
func TestTypeAndSemanticErrors(t *testing.T) {
	tests := []loadErrCase{
		{
			name: "type error and negative latency",
			src:  lines(`seed = "x"`, `[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.1"`, `[[links]]`, `host = "a"`, `latency = "-5ms"`),
			want: []string{
				`x.toml:1:8: seed must be an integer, not the string "x"`,
				`x.toml:7:11: latency -5ms is negative`,
			},
		},
		{
			name: "listen port of the wrong type",
			src: withA(`[[hosts.steps]]`, `do = "listen"`, `port = "80"`, // 4-6
				`[[hosts.steps]]`, `do = "sleep"`, `for = "-1s"`), // 7-9
			want: []string{
				`x.toml:6:8: port must be an integer, not the string "80"`,
				`x.toml:9:7: for -1s is negative`,
			},
		},
		{
			name: "model parameter of the wrong type",
			src: withA(`[[hosts.apps]]`, `model = "http-server"`, `port = "eighty"`, `idle_timeout = "-1s"`, // 4-7
				`[[links]]`, `host = "nobody"`), // 8-9
			want: []string{
				`x.toml:6:8: port must be an integer, not the string "eighty"`,
				`x.toml:7:16: idle_timeout -1s is negative`,
				`x.toml:9:8: link names host "nobody", which is not defined`,
			},
		},
		{
			name: "latency of the wrong type skips the jitter check, not the link's",
			src:  withA(`[[links]]`, `host = "b"`, `latency = 5`, `jitter = "2ms"`, `loss = 2.0`),
			want: []string{
				`x.toml:5:8: link names host "b", which is not defined`,
				`x.toml:6:11: latency must be a duration string such as "200ms", not the integer 5`,
				`x.toml:8:8: loss 2 is outside [0, 1]`,
			},
		},
		{
			name: "host name of the wrong type",
			src: lines(`[[hosts]]`, `name = 5`, `ipv4 = "10.0.0.1"`, // 1-3
				`[[hosts]]`, `name = "client"`, `ipv4 = "10.0.0.2"`, // 4-6
				`[[hosts.steps]]`, `do = "connect"`, `to = "server:80"`, // 7-9
				`[[hosts.steps]]`, `do = "sleep"`), // 10-11
			want: []string{
				`x.toml:2:8: name must be a string, not the integer 5`,
				`x.toml:10:1: sleep needs a duration: for = "1s"`,
			},
		},
		{
			name: "misspelt required key",
			src: withA(`[[hosts.steps]]`, `do = "listen"`, `por = 80`, // 4-6
				`[[faults]]`, `action = "hold"`, `after = "-1s"`), // 7-9
			want: []string{
				`x.toml:6:1: unknown key "hosts.steps.por" (did you mean "port"?)`,
				`x.toml:7:1: a hold fault needs until = "30s" (when the switch releases the segment)`,
				`x.toml:9:9: after -1s is negative`,
			},
		},
		{
			// A type error in a step hides only what depends on its key:
			// "sleep needs a duration" is about for, not socket.
			name: "type error and missing key in one step",
			src:  withA(`[[hosts.steps]]`, `do = "sleep"`, `socket = 5`), // 4-6
			want: []string{
				`x.toml:4:1: sleep needs a duration: for = "1s"`,
				`x.toml:6:10: socket must be a string, not the integer 5`,
			},
		},
		{
			name: "type error and a core problem in one step",
			src: withA(`[[hosts.steps]]`, `do = "send"`, `socket = 5`, // 4-6
				`[[hosts.steps]]`, `do = "listen"`, `port = 80`, `socket = true`, `backlog = -1`), // 7-11
			want: []string{
				`x.toml:4:1: send needs data = "..." or bytes = N`,
				`x.toml:6:10: socket must be a string, not the integer 5`,
				`x.toml:10:10: socket must be a string, not the boolean true`,
				`x.toml:11:11: backlog -1 is negative`,
			},
		},
		{
			name: "type error of the key a step needs",
			src: withA(`[[hosts.steps]]`, `do = "sleep"`, `for = 5`, // 4-6
				`[[hosts.steps]]`, `do = "send"`, `bytes = true`, // 7-9
				`[[hosts.steps]]`, `do = "set"`, `nodelay = "yes"`), // 10-12
			want: []string{
				`x.toml:6:7: for must be a duration string such as "200ms", not the integer 5`,
				`x.toml:9:9: a size must be an integer number of bytes or a string such as "64KB", not the boolean true`,
				`x.toml:12:11: nodelay must be true or false, not the string "yes"`,
			},
		},
		{
			// An unknown key may be the needed key misspelt: the step's
			// "needs" problems are left out, its others are not.
			name: "misspelt key a step needs",
			src: withA(`[[hosts.steps]]`, `do = "sleep"`, `fro = "1s"`, `at = "-1s"`, // 4-7
				`[[hosts.steps]]`, `do = "connect"`, `tp = "a:80"`, `timeout = "-2s"`, // 8-11
				`[[hosts.steps]]`, `do = "set"`, `nodelya = true`), // 12-14
			want: []string{
				`x.toml:6:1: unknown key "hosts.steps.fro" (did you mean "for"?)`,
				`x.toml:7:6: at -1s is negative`,
				`x.toml:10:1: unknown key "hosts.steps.tp" (did you mean "to"?)`,
				`x.toml:11:11: timeout -2s is negative`,
				`x.toml:14:1: unknown key "hosts.steps.nodelya" (did you mean "nodelay"?)`,
			},
		},
		{
			// The same for labs' own "needs" checks of other tables.
			name: "type error and missing key in a fault, an injection and a link",
			src: withA(`[[faults]]`, `from = 5`, // 4-5
				`[[faults]]`, `actoin = "drop"`, // 6-7
				`[[inject]]`, `via = "a"`, `to = "a:80"`, `from = "10.0.0.9:1"`, `count = "x"`, // 8-12
				`[[links]]`, `latency = 5`), // 13-14
			want: []string{
				`x.toml:4:1: a fault needs an action: action = "drop" (or delay, duplicate, hold)`,
				`x.toml:5:8: from must be a string, not the integer 5`,
				`x.toml:7:1: unknown key "faults.actoin" (did you mean "action"?)`,
				`x.toml:8:1: an injection needs flags = "SYN" (or "RST", "RST,ACK" ...)`,
				`x.toml:12:9: count must be an integer, not the string "x"`,
				`x.toml:13:1: link 1 has no host: host = "client"`,
				`x.toml:14:11: latency must be a duration string such as "200ms", not the integer 5`,
			},
		},
		{
			name: "model name of the wrong type",
			src:  withA(`[[hosts.apps]]`, `model = 7`, `port = 80`, `backlog = -1`, `[[links]]`, `host = "a"`, `loss = -1.0`),
			want: []string{
				`x.toml:5:9: model must be a string, not the integer 7`,
				`x.toml:10:8: loss -1 is outside [0, 1]`,
			},
		},
		{
			name: "a required model parameter missing while another is broken",
			src:  withA(`[[hosts.apps]]`, `model = "bulk-sender"`, `bytes = true`),
			want: []string{
				`x.toml:4:1: model "bulk-sender" needs to`,
				`x.toml:6:9: a size must be an integer number of bytes or a string such as "64KB", not the boolean true`,
			},
		},
	}
	checkLoadErrors(t, tests)
}
