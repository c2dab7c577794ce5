package hosts

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
)

var (
	clientAddr = netip.MustParseAddr("10.0.0.1")
	serverAddr = netip.MustParseAddr("10.0.0.2")
)

// lab is a two-host test world: client 10.0.0.1 and server 10.0.0.2.
type lab struct {
	client, server []Step
	clientLink     topology.Link // defaults to 10ms latency each way
	limit          time.Duration // defaults to 5 minutes
}

// run builds the network as labs.Execute does, runs it and returns what
// was observed and how the run ended. The server's link has no delay.
func (l lab) run(t *testing.T) (*recorder, topology.Result) {
	t.Helper()
	link := l.clientLink
	if link.Out == (topology.Direction{}) && link.In == (topology.Direction{}) && len(link.Down) == 0 {
		link = topology.Link{Out: topology.Direction{Latency: 10 * time.Millisecond}, In: topology.Direction{Latency: 10 * time.Millisecond}}
	}
	return network{
		hosts: []netHost{
			{Config{Name: "client", IPv4: clientAddr, Seed: 1, Steps: l.client}, link},
			{Config{Name: "server", IPv4: serverAddr, Seed: 1, Steps: l.server}, topology.Link{}},
		},
		limit: l.limit,
	}.run(t)
}

var (
	listen80 = Step{Action: Listen, Port: 80, Backlog: 16}
	accept   = Step{Action: Accept}
	connect  = Step{Action: Connect, Addr: netip.AddrPortFrom(serverAddr, 80), Target: "server:80"}
)

func TestConnectRefused(t *testing.T) {
	tests := []struct {
		name   string
		server []Step
		port   uint16
	}{
		{name: "no listener", port: 80},
		{name: "wrong port", server: []Step{listen80}, port: 81},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, res := lab{
				client: []Step{
					{Action: Connect, Addr: netip.AddrPortFrom(serverAddr, tt.port)},
					{Action: Send, Data: []byte("never")},
				},
				server: tt.server,
			}.run(t)
			got := rec.app(t, "client", 0)
			if got.err != "connection refused" || got.result != "" {
				t.Errorf("connect 10.0.0.2:%d = %q, %q, want \"\", \"connection refused\"", tt.port, got.result, got.err)
			}
			if got.at != 20*time.Millisecond {
				t.Errorf("connect failed at %v, want 20ms (one round trip)", got.at)
			}
			if rst := rec.sentBy("server", segment.RST); len(rst) != 1 {
				t.Errorf("server sent %d RSTs, want 1", len(rst))
			}
			if n := rec.steps("client"); n != 1 {
				t.Errorf("client reported %d steps, want 1: the script stops at its first error", n)
			}
			if res.Reason != topology.Idle {
				t.Errorf("Run() reason = %v, want idle", res.Reason)
			}
		})
	}
}

func TestAbort(t *testing.T) {
	rec, _ := lab{
		client: []Step{
			connect,
			{Action: Send, Data: []byte("hi")},
			{Action: Sleep, For: 100 * time.Millisecond},
			{Action: Abort},
		},
		server: []Step{
			listen80, accept,
			{Action: Recv, Bytes: 2},
			{Action: Recv},
		},
	}.run(t)
	if got := rec.app(t, "client", 3); got.result != "aborted (SO_LINGER 0: RST)" || got.err != "" {
		t.Errorf("abort = %q, %q, want \"aborted (SO_LINGER 0: RST)\", \"\"", got.result, got.err)
	}
	rst := rec.sentBy("client", segment.RST)
	if len(rst) != 1 {
		t.Fatalf("client sent %d RSTs, want 1", len(rst))
	}
	if want := event.AppCause("abort"); rst[0].cause != want {
		t.Errorf("client's RST cause = %+v, want %+v (the abort step)", rst[0].cause, want)
	}
	if fins := rec.sentBy("client", segment.FIN); len(fins) != 0 {
		t.Errorf("client sent %d FINs, want none: abort must not close gracefully", len(fins))
	}
	got := rec.app(t, "server", 3)
	if got.err != "connection reset by peer" {
		t.Errorf("server recv after the peer's abort = %q, %q, want error \"connection reset by peer\"", got.result, got.err)
	}
	if want := rst[0].at + 10*time.Millisecond; got.at != want {
		t.Errorf("server recv failed at %v, want %v (when the RST arrived)", got.at, want)
	}
	// The client's endpoint goes from ESTABLISHED straight to CLOSED.
	if tr := rec.transitions("client", netip.AddrPortFrom(clientAddr, 0)); !slices.Equal(tr, []string{"CLOSED→SYN_SENT", "SYN_SENT→ESTABLISHED", "ESTABLISHED→CLOSED"}) {
		t.Errorf("client transitions = %q, want CLOSED→SYN_SENT, SYN_SENT→ESTABLISHED, ESTABLISHED→CLOSED", tr)
	}
}

// TestHalfClose checks shutdown(SHUT_WR): the client's FIN ends the stream
// the server reads, but the client can still receive what the server sends
// afterwards.
func TestHalfClose(t *testing.T) {
	rec, _ := lab{
		client: []Step{
			connect,
			{Action: Send, Data: []byte("request")},
			{Action: Shutdown},
			{Action: Recv, Bytes: 8},
			{Action: Recv},
			{Action: Close},
		},
		server: []Step{
			listen80, accept,
			{Action: Recv, Bytes: 7},
			{Action: Recv},
			{Action: Sleep, For: time.Second},
			{Action: Send, Data: []byte("response")},
			{Action: Close},
		},
	}.run(t)
	tests := []struct {
		host   string
		step   int
		result string
	}{
		{"client", 2, "write side shut down (FIN queued)"},
		{"server", 2, `received 7 bytes "request"`},
		{"server", 3, "received end of stream (peer sent FIN)"},
		{"server", 5, "sent 8 bytes"},
		{"client", 3, `received 8 bytes "response"`},
		{"client", 4, "received end of stream (peer sent FIN)"},
		{"client", 5, "closed"},
	}
	for _, tt := range tests {
		got := rec.app(t, tt.host, tt.step)
		if got.result != tt.result || got.err != "" {
			t.Errorf("%s step %d (%s) = %q, %q, want %q, \"\"", tt.host, tt.step, got.step, got.result, got.err, tt.result)
		}
	}
	// The client's FIN went out before the server's data.
	clientFIN := rec.sentBy("client", segment.FIN)
	var data []packet
	for _, p := range rec.packets {
		if p.host == "server" && p.payload > 0 {
			data = append(data, p)
		}
	}
	if len(clientFIN) != 1 || len(data) != 1 || clientFIN[0].at >= data[0].at {
		t.Errorf("client FINs %+v, server data %+v, want one of each, the FIN first", clientFIN, data)
	}
	if tr := rec.transitions("client", netip.AddrPortFrom(clientAddr, 0)); !slices.Contains(tr, "FIN_WAIT_2→TIME_WAIT") {
		t.Errorf("client transitions = %q, want FIN_WAIT_2→TIME_WAIT after the half-close", tr)
	}
}

func TestBulkSend(t *testing.T) {
	const n = 100000
	rec, _ := lab{
		client: []Step{connect, {Action: Send, Bytes: n}, {Action: Close}},
		server: []Step{listen80, accept, {Action: Recv, Bytes: n}, {Action: Recv}, {Action: Close}},
	}.run(t)
	if got := rec.app(t, "client", 1); got.result != "sent 100000 bytes" || got.err != "" {
		t.Errorf("send 100000 bytes = %q, %q, want \"sent 100000 bytes\", \"\"", got.result, got.err)
	}
	want := `received 100000 bytes "abcdefghijklmnopqrstuvwx…"`
	if got := rec.app(t, "server", 2); got.result != want || got.err != "" {
		t.Errorf("recv 100000 bytes = %q, %q, want %q, \"\"", got.result, got.err, want)
	}
	if got := rec.app(t, "server", 3); got.result != "received end of stream (peer sent FIN)" {
		t.Errorf("recv after the whole transfer = %q, %q, want end of stream", got.result, got.err)
	}
	payload := 0
	for _, p := range rec.packets {
		if p.host == "client" {
			payload += p.payload
		}
	}
	if payload != n {
		t.Errorf("client sent %d payload bytes, want %d (no loss, no retransmission)", payload, n)
	}
}

func TestCloseStates(t *testing.T) {
	rec, res := lab{
		client: []Step{
			{Action: Connect, At: time.Millisecond, Addr: netip.AddrPortFrom(serverAddr, 80)},
			{Action: Send, Data: []byte("hello")},
			{Action: Recv},
			{Action: Close},
		},
		server: []Step{
			listen80, accept,
			{Action: Recv},
			{Action: Send, Data: []byte("bye")},
			{Action: Recv},
			{Action: Close},
		},
	}.run(t)
	// Each change has the cause the host was handling: a step, the
	// arrival of a segment (named here by its flags and sender), a timer.
	tests := []struct {
		host  string
		local netip.AddrPort
		want  []string
	}{
		{
			host:  "client",
			local: netip.AddrPortFrom(clientAddr, 0),
			want: []string{
				"CLOSED→SYN_SENT: app connect",
				"SYN_SENT→ESTABLISHED: SYN-ACK from server",
				"ESTABLISHED→FIN_WAIT_1: app close",
				// The server closes at once: its FIN carries the ACK
				// of the client's FIN, which Linux delays, and Linux
				// passes through FIN_WAIT_2 on that one segment.
				"FIN_WAIT_1→FIN_WAIT_2: FIN-ACK from server",
				"FIN_WAIT_2→TIME_WAIT: FIN-ACK from server",
				"TIME_WAIT→CLOSED: timer time_wait",
			},
		},
		{
			host:  "server listener",
			local: netip.AddrPortFrom(netip.IPv4Unspecified(), 80),
			want:  []string{"CLOSED→LISTEN: app listen"},
		},
		{
			host:  "server connection",
			local: netip.AddrPortFrom(serverAddr, 80),
			want: []string{
				"LISTEN→SYN_RCVD: SYN from client",
				"SYN_RCVD→ESTABLISHED: ACK from client",
				"ESTABLISHED→CLOSE_WAIT: FIN-ACK from client",
				"CLOSE_WAIT→LAST_ACK: app close",
				"LAST_ACK→CLOSED: ACK from client",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			host, _, _ := strings.Cut(tt.host, " ")
			if got := rec.causes(host, tt.local); !slices.Equal(got, tt.want) {
				t.Errorf("%s transitions of %v = %q, want %q\n%s", host, tt.local, got, tt.want, rec)
			}
		})
	}
	// TIME_WAIT lasts 60s (2MSL) in netstack.
	var tw, closed time.Duration
	for _, s := range rec.states {
		if s.host == "client" && s.to == "TIME_WAIT" {
			tw = s.at
		}
		if s.host == "client" && s.from == "TIME_WAIT" {
			closed = s.at
		}
	}
	if closed-tw != 60*time.Second {
		t.Errorf("client held TIME_WAIT from %v to %v (%v), want 60s", tw, closed, closed-tw)
	}
	if res.Reason != topology.Idle {
		t.Errorf("Run() reason = %v, want idle once TIME_WAIT expires", res.Reason)
	}
}

func TestSetOptions(t *testing.T) {
	tru := true
	idle, interval, count := 10*time.Second, 5*time.Second, 3
	keepalive := Options{KeepAlive: &tru, KeepIdle: &idle, KeepInterval: &interval, KeepCount: &count}
	rec, _ := lab{
		client: []Step{
			{Action: Set, Options: Options{NoDelay: &tru}},
			connect,
			{Action: Set, Options: keepalive},
			{Action: Sleep, For: 30 * time.Second},
			{Action: Close},
		},
		server: []Step{listen80, accept, {Action: Recv}},
	}.run(t)
	tests := []struct {
		step   int
		result string
	}{
		{0, `options kept for socket conn`},
		{2, "options set"},
		{3, "slept 30s"},
	}
	for _, tt := range tests {
		if got := rec.app(t, "client", tt.step); got.result != tt.result || got.err != "" {
			t.Errorf("client step %d (%s) = %q, %q, want %q, \"\"", tt.step, got.step, got.result, got.err, tt.result)
		}
	}
	if got, want := rec.app(t, "client", 2).step, "set keepalive=true keepalive_idle=10s keepalive_interval=5s keepalive_count=3"; got != want {
		t.Errorf("set step String() = %q, want %q", got, want)
	}
	// The connection is idle after the handshake (at 20ms): keepalive
	// probes go out at 10s idle and then every 5s until the close at 30s.
	var probes []time.Duration
	for _, p := range rec.packets {
		if p.host == "client" && p.at > time.Second && p.flags&segment.FIN == 0 {
			probes = append(probes, p.at)
		}
	}
	if len(probes) == 0 || probes[0] < 10*time.Second || probes[0] > 11*time.Second {
		t.Errorf("client sent idle packets at %v, want keepalive probes starting at 10s of idleness", probes)
	}
}

func TestStepAt(t *testing.T) {
	rec, _ := lab{
		client: []Step{
			{Action: Connect, At: 250 * time.Millisecond, Addr: netip.AddrPortFrom(serverAddr, 80)},
			{Action: Sleep, For: time.Second},
			{Action: Close, At: 100 * time.Millisecond}, // already past: runs at once
			{Action: Sleep, At: 3 * time.Second, For: 0},
		},
		server: []Step{listen80, accept},
	}.run(t)
	tests := []struct {
		step int
		at   time.Duration
	}{
		{0, 270 * time.Millisecond}, // the connect step ends one round trip after it starts
		{1, 1270 * time.Millisecond},
		{2, 1270 * time.Millisecond},
		{3, 3 * time.Second},
	}
	for _, tt := range tests {
		if got := rec.app(t, "client", tt.step); got.at != tt.at || got.err != "" {
			t.Errorf("client step %d (%s) reported at %v with error %q, want at %v without error", tt.step, got.step, got.at, got.err, tt.at)
		}
	}
	syn := rec.sentBy("client", segment.SYN)
	if len(syn) != 1 || syn[0].at != 250*time.Millisecond {
		t.Errorf("client SYNs = %+v, want one at 250ms", syn)
	}
}

func TestStepErrors(t *testing.T) {
	tests := []struct {
		name   string
		client []Step
		want   string
	}{
		{name: "recv without socket", client: []Step{{Action: Recv}}, want: `no socket "conn"`},
		{name: "send without socket", client: []Step{{Action: Send, Data: []byte("x")}}, want: `no socket "conn"`},
		{name: "close without socket", client: []Step{{Action: Close}}, want: `no socket "conn"`},
		{name: "accept without listener", client: []Step{{Action: Accept}}, want: `no listening socket "listener"`},
		{name: "listen twice", client: []Step{listen80, listen80}, want: `socket "listener" is already open`},
		{name: "port in use", client: []Step{listen80, {Action: Listen, Port: 80, Socket: "other"}}, want: "address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := lab{client: tt.client}.run(t)
			got := rec.app(t, "client", len(tt.client)-1)
			if got.err != tt.want {
				t.Errorf("%s = %q, %q, want error %q", got.step, got.result, got.err, tt.want)
			}
		})
	}
}

func TestStepString(t *testing.T) {
	tests := []struct {
		step Step
		want string
	}{
		{listen80, "listen :80 backlog 16"},
		{connect, "connect server:80"},
		{Step{Action: Connect, Addr: netip.AddrPortFrom(serverAddr, 80)}, "connect 10.0.0.2:80"},
		{Step{Action: Send, Data: []byte("hello")}, `send "hello"`},
		{Step{Action: Send, Bytes: 10}, "send 10 bytes"},
		{Step{Action: Recv, Bytes: 3, Socket: "c1"}, "recv 3 bytes [c1]"},
		{Step{Action: Sleep, For: time.Second}, "sleep 1s"},
		{Step{Action: Action(99)}, "Action(99)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.step.String(); got != tt.want {
				t.Errorf("%+v.String() = %q, want %q", tt.step, got, tt.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "no address", cfg: Config{Name: "x"}, want: `host x: host "x" needs an address: ipv4 = "10.0.0.1" or ipv6 = "fd00::1"`},
		{name: "IPv6 as IPv4", cfg: Config{Name: "x", IPv4: netip.MustParseAddr("fd00::1")}, want: `host x: "fd00::1" is not an IPv4 address`},
		{name: "IPv4 as IPv6", cfg: Config{Name: "x", IPv6: netip.MustParseAddr("10.0.0.1")}, want: `host x: "10.0.0.1" is not an IPv6 address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &topology.Scheduler{}
			h, err := New(tt.cfg, 0, s.Clock(0), s, nil, nil)
			if err == nil {
				h.Close()
			}
			if fmt.Sprint(err) != tt.want {
				t.Errorf("New(%+v) = %v, want %q", tt.cfg, err, tt.want)
			}
		})
	}
}

// TestWaitSchedulesOneWakeup documents redundant events: while a step waits
// for its At time (app.go:74) or a sleep runs (app.go:120), every call of
// script.step — one per socket notification — schedules another wake-up, so
// a client that receives data while waiting gets one event per notification
// at the wake-up time. They are harmless for the timeline but count against
// the event budget. The events at exactly 5s are counted as the difference
// between runs limited to just before and exactly at 5s.
func TestWaitSchedulesOneWakeup(t *testing.T) {
	events := func(limit time.Duration) int {
		_, res := lab{
			limit:  limit,
			client: []Step{connect, {Action: Sleep, At: 5 * time.Second, For: time.Second}, {Action: Recv, Bytes: 100000}},
			server: []Step{listen80, accept, {Action: Send, Bytes: 100000}},
		}.run(t)
		return res.Events
	}
	if got := events(5*time.Second) - events(5*time.Second-1); got != 1 {
		t.Errorf("events run at exactly 5s = %d, want 1 (the client's wake-up)", got)
	}
}
