package hosts

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestStepValidate checks each step rule, by the field it names.
func TestStepValidate(t *testing.T) {
	server := netip.MustParseAddrPort("10.0.0.2:80")
	one, zero := 1, 0
	yes := true
	tests := []struct {
		name string
		step Step
		want []string
	}{
		{"valid listen", Step{Action: Listen, Port: 80, Backlog: 16}, nil},
		{"listen backlog 0 is listen(0)", Step{Action: Listen, Port: 80}, nil},
		{"no action", Step{}, []string{"do: unknown action Action(0) (want one of listen, accept, connect, send, recv, shutdown, close, abort, set, sleep, wait, so_error, tcp_info)"}},
		{"unknown on_error", Step{Action: Close, OnError: 7}, []string{"on_error: unknown on_error OnError(7) (want stop or continue)"}},
		{"negative at", Step{Action: Close, At: -time.Second}, []string{"at: at -1s is negative"}},
		{"listen without port", Step{Action: Listen, Backlog: -1}, []string{"port: listen needs a port: port = 80", "backlog: backlog -1 is negative"}},
		{"fields an action does not take", Step{Action: Close, Bytes: 3, For: time.Second, Timeout: time.Second},
			[]string{`bytes: action "close" does not take "bytes"`, `for: action "close" does not take "for"`, `timeout: action "close" does not take "timeout"`}},
		{"an option on a step that is not set", Step{Action: Connect, Addr: server, Options: Options{NoDelay: &yes}},
			[]string{`nodelay: action "connect" does not take "nodelay"`}},
		{"connect without target", Step{Action: Connect}, []string{`to: connect needs a target: to = "server:80"`}},
		{"connect to port 0", Step{Action: Connect, Addr: netip.AddrPortFrom(server.Addr(), 0)}, []string{"to: target 10.0.0.2:0 has port 0; connect needs a port from 1 to 65535"}},
		{"negative timeout", Step{Action: Connect, Addr: server, Timeout: -time.Second}, []string{"timeout: timeout -1s is negative"}},
		{"send both", Step{Action: Send, Data: []byte("x"), Bytes: 3}, []string{"bytes: send takes data or bytes, not both"}},
		{"send neither", Step{Action: Send}, []string{`data: send needs data = "..." or bytes = N`}},
		{"send empty data", Step{Action: Send, Data: []byte{}}, nil},
		{"negative recv", Step{Action: Recv, Bytes: -1}, []string{"bytes: bytes must be positive"}},
		{"sleep without for waits until at", Step{Action: Sleep, At: time.Second}, nil},
		{"negative sleep", Step{Action: Sleep, For: -time.Second}, []string{"for: for -1s is negative"}},
		{"unknown event", Step{Action: Wait, Until: 99}, []string{"until: unknown event Event(99) (want one of connected, peer-closed, closed, readable, error)"}},
		{"set nothing", Step{Action: Set}, []string{": set needs at least one option (nodelay, keepalive, keepalive_idle, keepalive_interval, keepalive_count, send_buffer, recv_buffer, mss, user_timeout, quickack)"}},
		{"set bad options", Step{Action: Set, Options: Options{KeepCount: &zero, MSS: &one}}, []string{"keepalive_count: keepalive_count must be at least 1"}},
		{"empty each", Step{Action: Accept, Each: []Step{}}, []string{"each: each needs at least one step"}},
		{"each's steps", Step{Action: Accept, Each: []Step{{Action: Recv}, {Action: Send}, {Action: Accept, Each: []Step{{Action: Sleep, For: -1}}}}},
			[]string{`each.1.data: send needs data = "..." or bytes = N`, "each.2.each.0.for: for -1ns is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fields(t, tt.step.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("%v.Validate() =\n%q\nwant\n%q", &tt.step, got, tt.want)
			}
		})
	}
}

// TestActionKeys checks that the keys an action takes and the fields
// Step.Validate finds set agree: a step setting each key of its action
// passes, and the same key on an action that does not take it fails.
func TestActionKeys(t *testing.T) {
	for _, a := range []Action{Listen, Accept, Connect, Send, Recv, Sleep, Wait, Set} {
		if len(a.Keys()) == 0 {
			t.Errorf("%v.Keys() is empty", a)
		}
		for _, k := range a.Keys() {
			if !a.Takes(k) {
				t.Errorf("%v.Takes(%q) = false for one of its Keys", a, k)
			}
			if Close.Takes(k) {
				t.Errorf("Close.Takes(%q) = true", k)
			}
		}
	}
	for _, k := range []string{"do", "at", "socket", "on_error"} {
		if !Close.Takes(k) {
			t.Errorf("Close.Takes(%q) = false, want true (every action takes it)", k)
		}
	}
	b, n, d := true, 1000, time.Second
	all := Options{NoDelay: &b, KeepAlive: &b, KeepIdle: &d, KeepInterval: &d, KeepCount: &n, SendBuffer: &n, RecvBuffer: &n, MSS: &n, UserTimeout: &d, QuickAck: &b}
	var keys []string
	for _, o := range all.set() {
		keys = append(keys, o.key)
	}
	if !slices.Equal(keys, OptionKeys()) {
		t.Errorf("the keys of a step setting every option = %v, want OptionKeys() %v", keys, OptionKeys())
	}
	if !slices.Equal(OptionKeys(), Set.Keys()) {
		t.Errorf("OptionKeys() = %v, Set.Keys() = %v, want the same", OptionKeys(), Set.Keys())
	}
}

// TestValidateSteps checks the fields of a script's problems: each after
// its step's index, and an App's after "steps".
func TestValidateSteps(t *testing.T) {
	steps := []Step{{Action: Listen, Port: 80}, {Action: Sleep, For: -time.Second}}
	want := []string{"1.for: for -1s is negative"}
	if got := fields(t, ValidateSteps(steps).Err()); !slices.Equal(got, want) {
		t.Errorf("ValidateSteps() = %q, want %q", got, want)
	}
	a := App{Steps: steps}
	want = []string{"steps.1.for: for -1s is negative"}
	if got := fields(t, a.Validate()); !slices.Equal(got, want) {
		t.Errorf("App.Validate() = %q, want %q", got, want)
	}
}
