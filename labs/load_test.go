package labs

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/hosts"
	"github.com/tcplab/tcplab/topology"
)

// lines joins its arguments into a TOML document, one per line, so that
// test sources show their line numbers plainly.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// hostA is lines 1-3 of most error cases: one valid host.
var hostA = []string{
	`[[hosts]]`,         // 1
	`name = "a"`,        // 2
	`ipv4 = "10.0.0.1"`, // 3
}

// withA returns hostA followed by more lines, starting at line 4.
func withA(more ...string) string { return lines(slices.Concat(hostA, more)...) }

// topA returns top-level lines followed by hostA.
func topA(top ...string) string { return lines(slices.Concat(top, hostA)...) }

// loadErrors loads src as "x.toml" and returns its ErrorList, failing the
// test if Load succeeded or returned another type.
func loadErrors(t *testing.T, src string) ErrorList {
	t.Helper()
	lab, err := Load("x.toml", []byte(src))
	if err == nil {
		t.Fatalf("Load(%q) = %+v, nil, want an error", src, lab)
	}
	if lab != nil {
		t.Errorf("Load(%q) returned a lab with its error, want nil", src)
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Load(%q) error is %T, want ErrorList", src, err)
	}
	return list
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // the whole error text: file:line:col: message
	}{
		{
			name: "unknown key",
			src:  lines(`[[hosts]]`, `name = "a"`, `bogus = 1`, `ipv4 = "10.0.0.1"`),
			want: `x.toml:3:1: unknown key "hosts.bogus"`,
		},
		{
			name: "unknown keys in a link direction",
			src:  withA(`[[links]]`, `host = "a"`, `[links.out]`, `bogus = 1`, `other = 2`),
			want: "x.toml:7:1: unknown key \"links.out.bogus\"\nx.toml:8:1: unknown key \"links.out.other\"",
		},
		{
			name: "unknown top-level key",
			src:  lines(`seeds = 3`),
			want: `x.toml:1:1: unknown key "seeds" (did you mean "seed"?)`,
		},
		{
			// "from" comes before "port" among a step's keys and is as
			// many substitutions away; a swap is one slip.
			name: "step key with two letters swapped",
			src:  withA(`  [[hosts.steps]]`, `  do = "listen"`, `  prot = 80`),
			want: `x.toml:6:3: unknown key "hosts.steps.prot" (did you mean "port"?)`,
		},
		{
			name: "unknown action",
			src:  withA(``, `  [[hosts.steps]]`, `  do = "jump"`),
			want: `x.toml:6:8: unknown action "jump" (want one of listen, accept, connect, send, recv, shutdown, close, abort, set, sleep, wait, so_error, tcp_info)`,
		},
		{
			name: "step without action",
			src:  withA(`  [[hosts.steps]]`, `  port = 80`),
			want: `x.toml:4:3: step has no action: do = "listen|accept|connect|send|recv|shutdown|close|abort|set|sleep|wait|so_error|tcp_info"`,
		},
		{
			name: "undefined host in a link",
			src:  withA(``, `[[links]]`, `host = "b"`),
			want: `x.toml:6:8: link names host "b", which is not defined`,
		},
		{
			name: "link without host",
			src:  withA(`[[links]]`, `latency = "1ms"`),
			want: `x.toml:4:1: link 1 has no host: host = "client"`,
		},
		{
			name: "two links for one host",
			src:  withA(`[[links]]`, `host = "a"`, `[[links]]`, `host = "a"`),
			want: `x.toml:7:8: host "a" has two links; a host attaches to the switch once`,
		},
		{
			name: "undefined host in a connect target",
			src:  withA(``, `  [[hosts.steps]]`, `  do = "connect"`, `  to = "server:80"`),
			want: `x.toml:7:8: target "server:80" names host "server", which is not defined`,
		},
		{
			name: "malformed connect target",
			src:  withA(`  [[hosts.steps]]`, `  do = "connect"`, `  to = "a:80:90"`),
			want: `x.toml:6:8: target "a:80:90" must be host:port, such as "server:80"`,
		},
		{
			name: "connect target port out of range",
			src:  withA(`  [[hosts.steps]]`, `  do = "connect"`, `  to = "a:70000"`),
			want: `x.toml:6:8: port 70000 is outside 1–65535`,
		},
		{
			name: "connect without target",
			src:  withA(`  [[hosts.steps]]`, `  do = "connect"`),
			want: `x.toml:4:3: connect needs a target: to = "server:80"`,
		},
		{
			name: "duplicate host name",
			src:  withA(``, `[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.2"`),
			want: `x.toml:6:8: host "a" is defined twice`,
		},
		{
			name: "bad host name",
			src:  lines(`[[hosts]]`, `name = "1a"`, `ipv4 = "10.0.0.1"`),
			want: `x.toml:2:8: host name "1a" must start with a letter and use only letters, digits, '-' and '_'`,
		},
		{
			name: "host without name",
			src:  lines(`[[hosts]]`, `ipv4 = "10.0.0.1"`),
			want: `x.toml:1:1: host 1 has no name`,
		},
		{
			name: "host without address",
			src:  lines(`[[hosts]]`, `name = "a"`),
			want: `x.toml:1:1: host "a" needs an address: ipv4 = "10.0.0.1" or ipv6 = "fd00::1"`,
		},
		{
			name: "duplicate address",
			src:  withA(``, `[[hosts]]`, `name = "b"`, `ipv4 = "10.0.0.1"`),
			want: `x.toml:7:8: address 10.0.0.1 is already used by host "a"`,
		},
		{
			name: "IPv6 address in ipv4",
			src:  lines(`[[hosts]]`, `name = "a"`, `ipv4 = "fd00::1"`),
			want: `x.toml:3:8: "fd00::1" is not an IPv4 address`,
		},
		{
			name: "IPv4 address in ipv6",
			src:  lines(`[[hosts]]`, `name = "a"`, `ipv6 = "10.0.0.1"`),
			want: `x.toml:3:8: "10.0.0.1" is not an IPv6 address`,
		},
		{
			name: "mapped IPv4 in ipv6",
			src:  lines(`[[hosts]]`, `name = "a"`, `ipv6 = "::ffff:10.0.0.1"`),
			want: `x.toml:3:8: "::ffff:10.0.0.1" is not an IPv6 address`,
		},
		{
			name: "not an address",
			src:  lines(`[[hosts]]`, `name = "a"`, `ipv4 = "999.0.0.1"`),
			want: `x.toml:3:8: "999.0.0.1" is not an IP address`,
		},
		{
			name: "unspecified address",
			src:  lines(`[[hosts]]`, `name = "a"`, `ipv4 = "0.0.0.0"`),
			want: `x.toml:3:8: 0.0.0.0 cannot be a host address`,
		},
		{
			name: "negative latency",
			src:  withA(``, `[[links]]`, `host = "a"`, `latency = "-5ms"`),
			want: `x.toml:7:11: latency -5ms is negative`,
		},
		{
			name: "negative jitter",
			src:  withA(`[[links]]`, `host = "a"`, `jitter = "-5ms"`),
			want: `x.toml:6:10: jitter -5ms is negative`,
		},
		{
			name: "loss above 1",
			src:  withA(``, `[[links]]`, `host = "a"`, `loss = 1.5`),
			want: `x.toml:7:8: loss 1.5 is outside [0, 1]`,
		},
		{
			name: "negative loss",
			src:  withA(`[[links]]`, `host = "a"`, `[links.in]`, `loss = -0.1`),
			want: `x.toml:7:8: loss -0.1 is outside [0, 1]`,
		},
		{
			name: "infinite loss",
			src:  withA(`[[links]]`, `host = "a"`, `loss = inf`),
			want: `x.toml:6:8: loss +Inf is outside [0, 1]`,
		},
		{
			name: "negative queue limit",
			src:  withA(`[[links]]`, `host = "a"`, `queue_limit = -1`),
			want: `x.toml:6:15: queue_limit -1 is negative`,
		},
		{
			name: "jitter larger than latency",
			src:  withA(``, `[[links]]`, `host = "a"`, `latency = "1ms"`, `jitter = "2ms"`),
			want: `x.toml:5:1: jitter 2ms is larger than latency 1ms`,
		},
		{
			name: "jitter larger than latency in one direction",
			src:  withA(`[[links]]`, `host = "a"`, `latency = "5ms"`, `[links.in]`, `jitter = "6ms"`),
			want: `x.toml:7:1: jitter 6ms is larger than latency 5ms`,
		},
		{
			name: "negative time_limit",
			src:  topA(`time_limit = "-1s"`),
			want: `x.toml:1:14: time_limit must be positive`,
		},
		{
			name: "zero time_limit",
			src:  topA(`time_limit = "0s"`),
			want: `x.toml:1:14: time_limit must be positive`,
		},
		{
			name: "negative seed",
			src:  topA(`seed = -3`),
			want: `x.toml:1:8: seed -3 is negative`,
		},
		{
			name: "missing port for listen",
			src:  withA(``, `  [[hosts.steps]]`, `  do = "listen"`),
			want: `x.toml:5:3: listen needs a port: port = 80`,
		},
		{
			name: "listen port out of range",
			src:  withA(`  [[hosts.steps]]`, `  do = "listen"`, `  port = 0`),
			want: `x.toml:6:10: port 0 is outside 1–65535`,
		},
		{
			name: "negative backlog",
			src:  withA(`  [[hosts.steps]]`, `  do = "listen"`, `  port = 80`, `  backlog = -1`),
			want: `x.toml:7:13: backlog -1 is negative`,
		},
		{
			name: "backlog on connect",
			src:  withA(``, `  [[hosts.steps]]`, `  do = "connect"`, `  to = "a:80"`, `  backlog = 80`),
			want: `x.toml:8:3: action "connect" does not take "backlog"`,
		},
		{
			name: "several keys an action does not take",
			src:  withA(`  [[hosts.steps]]`, `  do = "close"`, `  bytes = 3`, `  for = "1s"`),
			want: "x.toml:6:3: action \"close\" does not take \"bytes\"\nx.toml:7:3: action \"close\" does not take \"for\"",
		},
		{
			name: "send with both data and bytes",
			src:  withA(``, `  [[hosts.steps]]`, `  do = "send"`, `  data = "x"`, `  bytes = 5`),
			want: `x.toml:8:3: send takes data or bytes, not both`,
		},
		{
			name: "send with neither data nor bytes",
			src:  withA(`  [[hosts.steps]]`, `  do = "send"`),
			want: `x.toml:4:3: send needs data = "..." or bytes = N`,
		},
		{
			name: "recv with zero bytes",
			src:  withA(`  [[hosts.steps]]`, `  do = "recv"`, `  bytes = 0`),
			want: `x.toml:6:11: bytes must be positive`,
		},
		{
			name: "sleep without duration",
			src:  withA(`  [[hosts.steps]]`, `  do = "sleep"`),
			want: `x.toml:4:3: sleep needs a duration: for = "1s"`,
		},
		{
			name: "negative at",
			src:  withA(`  [[hosts.steps]]`, `  do = "close"`, `  at = "-1s"`),
			want: `x.toml:6:8: at -1s is negative`,
		},
		{
			name: "set without options",
			src:  withA(`  [[hosts.steps]]`, `  do = "set"`),
			want: `x.toml:4:3: set needs at least one option (nodelay, keepalive, keepalive_idle, keepalive_interval, keepalive_count, send_buffer, recv_buffer, mss, user_timeout, quickack)`,
		},
		{
			name: "bad set options",
			src:  withA(`  [[hosts.steps]]`, `  do = "set"`, `  keepalive_idle = "500ms"`, `  mss = 0`),
			want: "x.toml:6:20: keepalive_idle 500ms must be at least 1s\nx.toml:7:9: mss must be at least 1",
		},
		{
			name: "bad duration",
			src:  withA(``, `[[links]]`, `host = "a"`, `latency = "10 parsecs"`),
			want: `x.toml:7:11: invalid duration "10 parsecs" (use a number with a unit: "200ms", "1.5s", "2h")`,
		},
		{
			name: "bad rate",
			src:  withA(``, `[[links]]`, `host = "a"`, `rate = "fast"`),
			want: `x.toml:7:8: invalid rate "fast" (use a number with a unit: "100Mbit/s", "1Gbps", "56kbit", "1mbit")`,
		},
		{
			name: "wrong type string for integer",
			src:  withA(`  [[hosts.steps]]`, `  do = "listen"`, `  port = "80"`),
			want: `x.toml:6:10: port must be an integer, not the string "80"`,
		},
		{
			name: "wrong type string for seed",
			src:  topA(`seed = "x"`),
			want: `x.toml:1:8: seed must be an integer, not the string "x"`,
		},
		{
			name: "wrong type float for integer",
			src:  withA(`  [[hosts.steps]]`, `  do = "recv"`, `  bytes = 1e3`),
			want: `x.toml:6:11: a size must be an integer number of bytes or a string such as "64KB", not the float 1000`,
		},
		{
			name: "wrong type integer latency",
			src:  withA(``, `[[links]]`, `host = "a"`, `latency = 5`),
			want: `x.toml:7:11: latency must be a duration string such as "200ms", not the integer 5`,
		},
		{
			name: "wrong type integer time_limit",
			src:  topA(`time_limit = 10`),
			want: `x.toml:1:14: time_limit must be a duration string such as "200ms", not the integer 10`,
		},
		{
			name: "wrong type integer rate",
			src:  withA(`[[links]]`, `host = "a"`, `rate = 1000`),
			want: `x.toml:6:8: rate must be a rate string such as "100Mbit/s", not the integer 1000`,
		},
		{
			name: "wrong type array for a duration",
			src:  withA(`[[links]]`, `host = "a"`, `latency = ["1ms"]`),
			want: `x.toml:6:11: latency must be a duration string such as "200ms", not an array`,
		},
		{
			name: "wrong type integer for hosts",
			src:  lines(`hosts = 3`),
			want: `x.toml:1:9: hosts must be an array of tables, not the integer 3`,
		},
		{
			name: "NaN loss",
			src:  withA(`[[links]]`, `host = "a"`, `loss = nan`),
			want: `x.toml:6:8: loss NaN is outside [0, 1]`,
		},
		{
			name: "NaN rate",
			src:  withA(`[[links]]`, `host = "a"`, `rate = "NaNbit"`),
			want: `x.toml:6:8: invalid rate "NaNbit" (use a number with a unit: "100Mbit/s", "1Gbps", "56kbit", "1mbit")`,
		},
		{
			name: "rate below 1 bit/s",
			src:  withA(`[[links]]`, `host = "a"`, `rate = "0.5bit"`),
			want: `x.toml:6:8: invalid rate "0.5bit" (use a number with a unit: "100Mbit/s", "1Gbps", "56kbit", "1mbit")`,
		},
		{
			name: "port 0 in an address target",
			src:  withA(`  [[hosts.steps]]`, `  do = "connect"`, `  to = "10.0.0.9:0"`),
			want: `x.toml:6:8: port 0 is outside 1–65535`,
		},
		{
			name: "duplicate key",
			src:  lines(`seed = 1`, `seed = 2`, `[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.1"`),
			want: `x.toml:2:1: key seed is already defined`,
		},
		{
			name: "duplicate key in a table",
			src:  withA(`ipv4 = "10.0.0.2"`),
			want: `x.toml:4:1: key ipv4 is already defined`,
		},
		{
			name: "syntax error",
			src:  lines(`name = "x`),
			want: `x.toml:1:10: basic strings cannot have new lines`,
		},
		{
			name: "no hosts at all",
			src:  lines(`name = "empty"`),
			want: `x.toml:1:1: a lab needs at least one [[hosts]] table`,
		},
		{
			name: "empty file",
			src:  "",
			want: `x.toml:1:1: a lab needs at least one [[hosts]] table`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := loadErrors(t, tt.src)
			if got := list.Error(); got != tt.want {
				t.Errorf("Load(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

// TestLoadErrorsBugs pins wrong-type reports that an earlier decoder put in
// the wrong place or worded with Go type names: a bare value where a
// duration belongs when an earlier key has the same value, inside an inline
// table, a boolean, and a date. Each must be reported at its own value.
func TestLoadErrorsBugs(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantPos Pos
		key     string // the key the message must name
		notIn   string // text the message must not contain
	}{
		{
			name:    "same bare number on an earlier line",
			src:     withA(`[[links]]`, `host = "a"`, `queue_limit = 5`, `latency = 5`),
			wantPos: Pos{7, 11},
			key:     "latency",
		},
		{
			name:    "bare number in an inline table",
			src:     withA(`[[links]]`, `host = "a"`, `out = { latency = 5 }`),
			wantPos: Pos{6, 19},
			key:     "latency",
		},
		{
			name:    "boolean duration",
			src:     withA(`[[links]]`, `host = "a"`, `latency = true`),
			wantPos: Pos{6, 11},
			key:     "latency",
			notIn:   "number",
		},
		{
			name:    "date for a duration",
			src:     withA(`[[links]]`, `host = "a"`, `latency = 2025-01-01`),
			wantPos: Pos{6, 11},
			key:     "latency",
			notIn:   "labs.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := loadErrors(t, tt.src)
			if len(list) != 1 {
				t.Fatalf("Load(%q) = %v, want one error", tt.src, list)
			}
			e := list[0]
			if e.Pos != tt.wantPos || !strings.Contains(e.Msg, tt.key) {
				t.Errorf("Load(%q) = %v, want an error at %v naming %q", tt.src, e, tt.wantPos, tt.key)
			}
			if tt.notIn != "" && strings.Contains(e.Msg, tt.notIn) {
				t.Errorf("Load(%q) = %v, want a message without %q", tt.src, e, tt.notIn)
			}
		})
	}
}

// twelveErrors has 12 problems; the links come before the hosts, so they are
// found after problems on later lines and the list must be sorted.
var twelveErrors = lines(
	`seed = -1`, // 1
	``,
	`[[links]]`,       // 3
	`host = "nobody"`, // 4
	`latency = "-1ms"`,
	`loss = 2.0`, // 6
	``,
	`[[hosts]]`,
	`name = "1bad"`,      // 9
	`ipv4 = "999.0.0.1"`, // 10
	``,
	`  [[hosts.steps]]`,
	`  do = "fly"`, // 13
	``,
	`  [[hosts.steps]]`, // 15
	`  do = "listen"`,
	``,
	`  [[hosts.steps]]`, // 18
	`  do = "sleep"`,
	``,
	`  [[hosts.steps]]`,
	`  do = "recv"`,
	`  bytes = -1`, // 23
	``,
	`  [[hosts.steps]]`, // 25
	`  do = "set"`,
	``,
	`  [[hosts.steps]]`,
	`  do = "connect"`,
	`  to = "nowhere:80"`, // 30
)

func TestLoadManyErrors(t *testing.T) {
	list := loadErrors(t, twelveErrors)
	if len(list) != 12 {
		t.Fatalf("Load(twelveErrors) returned %d errors, want 12:\n%v", len(list), list)
	}
	for i := 1; i < len(list); i++ {
		if a, b := list[i-1].Pos, list[i].Pos; a.Line > b.Line || (a.Line == b.Line && a.Col > b.Col) {
			t.Errorf("Load(twelveErrors) error %d at %v comes after error %d at %v, want sorted by position", i, b, i-1, a)
		}
	}
	want := lines(
		`x.toml:1:8: seed -1 is negative`,
		`x.toml:4:8: link names host "nobody", which is not defined`,
		`x.toml:5:11: latency -1ms is negative`,
		`x.toml:6:8: loss 2 is outside [0, 1]`,
		`x.toml:9:8: host name "1bad" must start with a letter and use only letters, digits, '-' and '_'`,
		`x.toml:10:8: "999.0.0.1" is not an IP address`,
		`x.toml:13:8: unknown action "fly" (want one of listen, accept, connect, send, recv, shutdown, close, abort, set, sleep, wait, so_error, tcp_info)`,
		`x.toml:15:3: listen needs a port: port = 80`,
		`x.toml:18:3: sleep needs a duration: for = "1s"`,
		`x.toml:23:11: bytes must be positive`,
		`(and 2 more errors)`,
	)
	want = strings.TrimSuffix(want, "\n")
	if got := list.Error(); got != want {
		t.Errorf("Load(twelveErrors) =\n%s\nwant\n%s", got, want)
	}
	last := []string{
		`x.toml:25:3: set needs at least one option (nodelay, keepalive, keepalive_idle, keepalive_interval, keepalive_count, send_buffer, recv_buffer, mss, user_timeout, quickack)`,
		`x.toml:30:8: target "nowhere:80" names host "nowhere", which is not defined`,
	}
	for i, w := range last {
		if got := list[10+i].Error(); got != w {
			t.Errorf("Load(twelveErrors) error %d = %q, want %q", 10+i, got, w)
		}
	}
}

func TestErrorListError(t *testing.T) {
	// errs returns n errors on lines 1..n and their texts.
	errs := func(n int) (ErrorList, []string) {
		var l ErrorList
		var texts []string
		for i := 1; i <= n; i++ {
			l = append(l, &Error{File: "f.toml", Pos: Pos{i, 2}, Msg: "m" + strconv.Itoa(i)})
			texts = append(texts, "f.toml:"+strconv.Itoa(i)+":2: m"+strconv.Itoa(i))
		}
		return l, texts
	}
	ten, tenTexts := errs(10)
	eleven, _ := errs(11)
	twelve, _ := errs(12)
	tests := []struct {
		name string
		list ErrorList
		want string
	}{
		{name: "one", list: ErrorList{{File: "f.toml", Pos: Pos{3, 1}, Msg: "m"}}, want: "f.toml:3:1: m"},
		{name: "no position", list: ErrorList{{File: "f.toml", Msg: "m"}}, want: "f.toml: m"},
		{name: "no column", list: ErrorList{{File: "f.toml", Pos: Pos{3, 0}, Msg: "m"}}, want: "f.toml: m"},
		{name: "no file", list: ErrorList{{Msg: "m"}}, want: "m"},
		{name: "ten", list: ten, want: strings.Join(tenTexts, "\n")},
		{name: "eleven", list: eleven, want: strings.Join(tenTexts, "\n") + "\n(and 1 more errors)"},
		{name: "twelve", list: twelve, want: strings.Join(tenTexts, "\n") + "\n(and 2 more errors)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.list.Error(); got != tt.want {
				t.Errorf("ErrorList.Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorListSort(t *testing.T) {
	list := ErrorList{
		{File: "b.toml", Pos: Pos{1, 1}, Msg: "b"},
		{File: "a.toml", Pos: Pos{2, 5}, Msg: "late"},
		{File: "a.toml", Msg: "no position"},
		{File: "a.toml", Pos: Pos{2, 1}, Msg: "first at 2:1"},
		{File: "a.toml", Pos: Pos{2, 1}, Msg: "second at 2:1"},
	}
	err := list.err()
	var got []string
	for _, e := range err.(ErrorList) {
		got = append(got, e.Msg)
	}
	want := []string{"no position", "first at 2:1", "second at 2:1", "late", "b"}
	if !slices.Equal(got, want) {
		t.Errorf("ErrorList.err() order = %q, want %q", got, want)
	}
	if err := (ErrorList{}).err(); err != nil {
		t.Errorf("ErrorList{}.err() = %v, want nil", err)
	}
}

// minimal is the smallest useful two-host lab; every optional key is absent.
var minimal = lines(
	`[[hosts]]`,
	`name = "client"`,
	`ipv4 = "10.0.0.1"`,
	``,
	`  [[hosts.steps]]`,
	`  do = "connect"`,
	`  to = "server:80"`,
	``,
	`[[hosts]]`,
	`name = "server"`,
	`ipv4 = "10.0.0.2"`,
	``,
	`  [[hosts.steps]]`,
	`  do = "listen"`,
	`  port = 80`,
	``,
	`  [[hosts.steps]]`,
	`  do = "accept"`,
)

func TestLoadMinimal(t *testing.T) {
	lab, err := Load("min.toml", []byte(minimal))
	if err != nil {
		t.Fatalf("Load(%q) = %v, want nil error", "min.toml", err)
	}
	server := netip.MustParseAddr("10.0.0.2")
	linux := hosts.DefaultSettings(hosts.Linux)
	want := &Lab{
		File:      "min.toml",
		Name:      "min", // from the file name
		Seed:      DefaultSeed,
		TimeLimit: DefaultTimeLimit,
		Hosts: []hosts.Config{
			{
				Name: "client", IPv4: netip.MustParseAddr("10.0.0.1"),
				Steps:    []hosts.Step{{Action: hosts.Connect, Addr: netip.AddrPortFrom(server, 80), Target: "server:80"}},
				Settings: &linux,
			},
			{
				Name: "server", IPv4: server,
				Steps:    []hosts.Step{{Action: hosts.Listen, Port: 80, Backlog: DefaultBacklog}, {Action: hosts.Accept}},
				Settings: &linux,
			},
		},
		Links: []topology.Link{{}, {}},
	}
	if !reflect.DeepEqual(lab, want) {
		t.Errorf("Load(%q) =\n%+v\nwant\n%+v", "min.toml", lab, want)
	}
}

func TestLoadDefaults(t *testing.T) {
	if DefaultSeed != 1 || DefaultTimeLimit != time.Hour || DefaultBacklog != 16 {
		t.Errorf("defaults (seed, time limit, backlog) = (%d, %v, %d), want (1, 1h, 16)", DefaultSeed, DefaultTimeLimit, DefaultBacklog)
	}
	tests := []struct {
		name    string
		src     string
		seed    uint64
		limit   time.Duration
		backlog int
	}{
		{name: "absent", src: withA(`  [[hosts.steps]]`, `  do = "listen"`, `  port = 80`), seed: 1, limit: time.Hour, backlog: 16},
		{name: "explicit", src: lines(slices.Concat([]string{`seed = 0`, `time_limit = "90s"`}, hostA, []string{`  [[hosts.steps]]`, `  do = "listen"`, `  port = 80`, `  backlog = 0`})...), seed: 0, limit: 90 * time.Second, backlog: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab, err := Load("x.toml", []byte(tt.src))
			if err != nil {
				t.Fatalf("Load(%q) = %v, want nil error", tt.src, err)
			}
			got := []any{lab.Seed, lab.TimeLimit, lab.Hosts[0].Steps[0].Backlog}
			if want := []any{tt.seed, tt.limit, tt.backlog}; !reflect.DeepEqual(got, want) {
				t.Errorf("Load(%q) seed, time limit, backlog = %v, want %v", tt.src, got, want)
			}
		})
	}
}

func TestLoadLinks(t *testing.T) {
	ms := time.Millisecond
	src := lines(
		`[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.1"`,
		`[[hosts]]`, `name = "b"`, `ipv6 = "fd00::2"`,
		`[[hosts]]`, `name = "c"`, `ipv4 = "10.0.0.3"`,
		`[[links]]`, `host = "b"`, `latency = "10ms"`, `jitter = "2ms"`, `loss = 0.25`, `rate = "100Mbit/s"`, `queue_limit = 30`,
		`[links.in]`, `latency = "3ms"`, `rate = "1Gbps"`,
		`[links.out]`, `loss = 0`, `jitter = "0s"`,
		`[[links]]`, `host = "a"`, `rate = "56kbit"`,
	)
	lab, err := Load("x.toml", []byte(src))
	if err != nil {
		t.Fatalf("Load(%q) = %v, want nil error", src, err)
	}
	want := []topology.Link{
		{Out: topology.Direction{Rate: 56000}, In: topology.Direction{Rate: 56000}},
		{
			Out: topology.Direction{Latency: 10 * ms, Loss: 0, Rate: 100e6, QueueLimit: 30},
			In:  topology.Direction{Latency: 3 * ms, Jitter: 2 * ms, Loss: 0.25, Rate: 1e9, QueueLimit: 30},
		},
		{},
	}
	if !reflect.DeepEqual(lab.Links, want) {
		t.Errorf("Load(%q).Links =\n%+v\nwant\n%+v", src, lab.Links, want)
	}
	if got := lab.Hosts[1].IPv6; got != netip.MustParseAddr("fd00::2") {
		t.Errorf("Load(%q).Hosts[1].IPv6 = %v, want fd00::2", src, got)
	}
}

func TestRate(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // bits per second
		ok   bool
	}{
		{"100Mbit/s", 100e6, true},
		{"1Gbps", 1e9, true},
		{"56kbit", 56e3, true},
		{"56Kbit", 56e3, true},
		{"9600bit/s", 9600, true},
		{"9600bps", 9600, true},
		{"1.5Mbit/s", 1.5e6, true},
		{"10Mb", 10e6, true},
		{" 10 Mbit ", 10e6, true},
		{"1000000Gbit", 1e15, true},
		{"fast", 0, false},
		{"100", 0, false},
		{"100MB/s", 0, false},
		{"100mbit", 100e6, true},
		{"1mbit", 1e6, true},
		{"10gbit", 10e9, true},
		{"10GBIT", 10e9, true},
		{"1tbit", 1e12, true},
		{"512kbit", 512e3, true},
		{"100mbps", 0, false},
		{"1gbps", 0, false},
		{"mbit", 0, false},
		{"0bit", 0, false},
		{"-5Mbit", 0, false},
		{"1000001Gbit", 0, false},
		{"infbit", 0, false},
		{"NaNbit", 0, false},
		{"0.5bit", 0, false},
		{"1bit", 1, true},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var r Rate
			err := r.UnmarshalText([]byte(tt.in))
			if got := r.BitsPerSecond(); (err == nil) != tt.ok || got != tt.want {
				t.Errorf("Rate.UnmarshalText(%q) = %d bit/s, %v, want %d bit/s, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "200ms", want: 200 * time.Millisecond},
		{in: "1.5s", want: 1500 * time.Millisecond},
		{in: "2h", want: 2 * time.Hour},
		{in: "-1s", want: -time.Second},
		{in: "10 parsecs", err: `invalid duration "10 parsecs" (use a number with a unit: "200ms", "1.5s", "2h")`},
		{in: "5", err: `invalid duration "5" (use a number with a unit: "200ms", "1.5s", "2h")`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Duration
			err := d.UnmarshalText([]byte(tt.in))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if d.D() != tt.want || got != tt.err {
				t.Errorf("Duration.UnmarshalText(%q) = %v, %q, want %v, %q", tt.in, d.D(), got, tt.want, tt.err)
			}
		})
	}
}

// TestLoadDirectionInheritance checks how the keys at a link's top level,
// which are only defaults for [links.out] and [links.in], are validated:
// jitter at the top level with latency set per direction is fine, and a
// problem of the shared keys inherited by a direction table is reported
// once, at the link.
func TestLoadDirectionInheritance(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // the whole error text, "" for success
	}{
		{
			name: "jitter shared, latency per direction",
			src:  withA(`[[links]]`, `host = "a"`, `jitter = "2ms"`, `[links.out]`, `latency = "5ms"`, `[links.in]`, `latency = "5ms"`),
			want: "",
		},
		{
			name: "inherited problem reported once",
			src:  withA(`[[links]]`, `host = "a"`, `latency = "1ms"`, `jitter = "2ms"`, `[links.out]`, `loss = 0.1`),
			want: `x.toml:4:1: jitter 2ms is larger than latency 1ms`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("x.toml", []byte(tt.src))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Load(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

// TestLoadKeyCase checks that keys are case-sensitive. go-toml matches keys
// to struct fields case-insensitively (there is no option to turn that off),
// so Load walks the position index after decoding and rejects any key not
// spelled exactly as in format.go, at the key's position.
func TestLoadKeyCase(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantPos Pos
		key     string
	}{
		{
			name:    "two spellings of name",
			src:     lines(`[[hosts]]`, `name = "a"`, `Name = "b"`, `ipv4 = "10.0.0.1"`),
			wantPos: Pos{3, 1},
			key:     "Name",
		},
		{
			name:    "capitalised key",
			src:     withA(`[[links]]`, `host = "a"`, `Latency = "-1ms"`),
			wantPos: Pos{6, 1},
			key:     "Latency",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab, err := Load("x.toml", []byte(tt.src))
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 || list[0].Pos != tt.wantPos || !strings.Contains(list[0].Msg, tt.key) {
				t.Errorf("Load(%q) = %+v, %v, want one error about %q at %v", tt.src, lab, err, tt.key, tt.wantPos)
			}
		})
	}
}

func TestLoadBuiltins(t *testing.T) {
	for _, name := range []string{"handshake", "close"} {
		t.Run(name, func(t *testing.T) {
			lab, err := Builtin(name)
			if err != nil {
				t.Fatalf("Builtin(%q) = %v, want nil error", name, err)
			}
			if lab.Name != name || len(lab.Hosts) != 2 || len(lab.Links) != 2 {
				t.Errorf("Builtin(%q) = name %q, %d hosts, %d links, want %q, 2, 2", name, lab.Name, len(lab.Hosts), len(lab.Links), name)
			}
		})
	}
}

// brokenLabs seed FuzzLoad with inputs that exercise error paths.
var brokenLabs = []string{
	twelveErrors,
	withA(`[[links]]`, `host = "a"`, `latency = 5`),
	withA(`[[links]]`, `host = "a"`, `queue_limit = 5`, `out = { latency = 5, rate = 5 }`),
	withA(`[[links]]`, `host = "a"`, `rate = "NaNbit"`, `loss = nan`),
	withA(`  [[hosts.steps]]`, `  do = "connect"`, `  to = "[fd00::1]:80"`, `  port = 3`),
	lines(`seed = 1`, `seed = 2`),
	lines(`[hosts]`, `name = "a"`),
	lines(`hosts = [{name = "a", ipv4 = "10.0.0.1", steps = [{do = "listen"}]}]`),
	lines(`[[hosts.steps]]`, `do = "x"`),
	"name = \"x",
	"\xff\xfe",
	"\xef\xbb\xbf" + minimal,
	lines(`name = "empty"`),
	"[a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z]\n",
	"x = [[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	lines(`[[hosts]]`, `name = "a"`, `ipv4 = "255.255.255.255"`, `ipv6 = "fe80::1%eth0"`),
	lines(`hosts = 5`, `links = "x"`, `seed = "1"`),
	withA(`[[hosts.apps]]`, `model = "pool-client"`, `requests = ["1s", 5]`, `to = 3`, `retry = "yes"`, `options = 1`),
	withA(`[[hosts.apps]]`, `model = 7`, `port = "80"`, `[hosts.tcp]`, `rto_min = 1`, `ip_local_port_range = "x"`),
}

func FuzzLoad(f *testing.F) {
	for _, name := range []string{"handshake", "close"} {
		src, err := BuiltinSource(name)
		if err != nil {
			f.Fatalf("BuiltinSource(%q) = %v", name, err)
		}
		f.Add(src)
	}
	f.Add([]byte(minimal))
	for _, s := range brokenLabs {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lab, err := Load("fuzz.toml", data)
		if err == nil {
			if lab == nil {
				t.Fatalf("Load(%q) = nil, nil", data)
			}
			return
		}
		list, ok := err.(ErrorList)
		if !ok {
			t.Fatalf("Load(%q) error = %T %v, want ErrorList", data, err, err)
		}
		if len(list) == 0 {
			t.Fatalf("Load(%q) returned an empty ErrorList", data)
		}
		for _, e := range list {
			if e.File != "fuzz.toml" || !e.Pos.IsValid() {
				t.Errorf("Load(%q): error %q has no file:line:col", data, e)
			}
		}
		_ = err.Error()
	})
}
