package labs

import "testing"

// TestStepFieldPositions checks that the problems hosts.Step.Validate
// finds are placed where the file writes the step: a nested each step, an
// app's step, a missing key at its table, a bad value at the value. It
// also checks labs' own rules for a 0 written where the step's 0 means
// "none".
func TestStepFieldPositions(t *testing.T) {
	tests := []loadErrCase{
		{
			name: "each steps",
			src: withA(`[[hosts.steps]]`, `do = "listen"`, `port = 80`, // 4-6
				`[[hosts.steps]]`, `do = "accept"`, // 7-8
				`[[hosts.steps.each]]`, `do = "recv"`, `bytes = -4`, // 9-11
				`[[hosts.steps.each]]`, `do = "send"`, // 12-13
				`[[hosts.steps.each]]`, `do = "sleep"`, `for = "-1s"`), // 14-16
			want: []string{
				`x.toml:11:9: bytes must be positive`,
				`x.toml:12:1: send needs data = "..." or bytes = N`,
				`x.toml:16:7: for -1s is negative`,
			},
		},
		{
			name: "an app's steps",
			src: withA(`[[hosts.apps]]`, `name = "c"`, // 4-5
				`[[hosts.apps.steps]]`, `do = "connect"`, // 6-7
				`[[hosts.apps.steps]]`, `do = "listen"`, `port = 80`, `backlog = -2`, // 8-11
				`[[hosts.apps.steps]]`, `do = "wait"`, `until = "closed"`, `timeout = "-1s"`), // 12-15
			want: []string{
				`x.toml:6:1: connect needs a target: to = "server:80"`,
				`x.toml:11:11: backlog -2 is negative`,
				`x.toml:15:11: timeout -1s is negative`,
			},
		},
		{
			name: "a 0 where the step's 0 means none",
			src: withA(`[[hosts.steps]]`, `do = "recv"`, `timeout = "0s"`, `bytes = 0`, // 4-7
				`[[hosts.steps]]`, `do = "send"`, `bytes = 0`), // 8-10
			want: []string{
				`x.toml:6:11: timeout must be positive`,
				`x.toml:7:9: bytes must be positive`,
				`x.toml:10:9: bytes must be positive`,
			},
		},
		{
			name: "a key an action does not take, written as 0",
			src:  withA(`[[hosts.steps]]`, `do = "close"`, `timeout = "0s"`, `bytes = 0`), // 4-7
			want: []string{
				`x.toml:6:1: action "close" does not take "timeout"`,
				`x.toml:7:1: action "close" does not take "bytes"`,
			},
		},
		{
			name: "a target whose host may be the one whose name is broken",
			src: lines(`[[hosts]]`, `name = 5`, `ipv4 = "10.0.0.1"`, // 1-3
				`[[hosts]]`, `name = "c"`, `ipv4 = "10.0.0.2"`, // 4-6
				`[[hosts.steps]]`, `do = "connect"`, `to = "s:80"`), // 7-9
			want: []string{
				`x.toml:2:8: name must be a string, not the integer 5`,
			},
		},
	}
	checkLoadErrors(t, tests)
}
