package hosts

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

var server80 = netip.AddrPortFrom(serverAddr, 80)

// idleClose is the cause of a model's close for its idle timeout.
var idleClose = event.Cause{Kind: event.ByApp, Op: "close", Why: event.WhyIdleTimeout}

func modelHost(name string, addr netip.Addr, models ...Model) Config {
	cfg := Config{Name: name, IPv4: addr}
	for _, m := range models {
		cfg.Apps = append(cfg.Apps, App{Model: m})
	}
	return cfg
}

// stateAt returns the time of host's first state change to "to" with the
// given cause, or -1.
func (r *recorder) stateAt(host, to string, cause event.Cause) time.Duration {
	for _, s := range r.states {
		if s.host == host && s.to == to && s.cause == cause {
			return s.at
		}
	}
	return -1
}

// rowsEqual checks rows against want, comparing step prefixes, results
// (with "…" standing for the rest) and errors; zero times are not checked.
func rowsEqual(t *testing.T, rec *recorder, host string, want []appResult) {
	t.Helper()
	got := rec.find(host, "")
	if len(got) != len(want) {
		t.Fatalf("%s rows:\n%s\nwant %d rows", host, rowsText(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if !match(w.step, g.step) || !match(w.result, g.result) || g.err != w.err || (w.at != 0 && g.at != w.at) {
			t.Errorf("%s row %d = %v %q → %q, error %q; want %v %q → %q, error %q", host, i, g.at, g.step, g.result, g.err, w.at, w.step, w.result, w.err)
		}
	}
}

// match reports whether s matches pattern, in which "…" stands for any
// text.
func match(pattern, s string) bool {
	parts := strings.Split(pattern, "…")
	if len(parts) == 1 {
		return s == pattern
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

func rowsText(rows []appResult) string {
	var b strings.Builder
	for _, a := range rows {
		fmt.Fprintf(&b, "  %v %q → %q error %q\n", a.at, a.step, a.result, a.err)
	}
	return b.String()
}

func TestHTTPServer(t *testing.T) {
	get := Step{Action: Send, Data: []byte("GET / HTTP/1.1\r\n\r\n")}
	respond := Step{Action: Recv, Bytes: len(DefaultResponse)}
	t.Run("idle timeout", func(t *testing.T) {
		rec, _ := world(t, 0,
			clientHost(connectPeer, get, respond, Step{Action: Sleep, For: 10 * time.Second}, get, respond, waitFor(EventPeerClosed), closeStep),
			modelHost("server", serverAddr, HTTPServer{Port: 80, Backlog: 8, IdleTimeout: 75 * time.Second, KeepAlive: true}),
		)
		rowsEqual(t, rec, "server", []appResult{
			{at: 0, step: "listen :80 backlog 8", result: "listening on port 80, backlog 8 (accept queue holds 9)"},
			{at: 30 * time.Millisecond, step: "accept", result: "accepted connection from 10.0.0.1:…"},
			{at: 30 * time.Millisecond, step: "serve 10.0.0.1:…", result: "request 1: received 18 bytes, sent 38 bytes"},
			{at: 10*time.Second + 50*time.Millisecond, step: "serve 10.0.0.1:…", result: "request 2: received 18 bytes, sent 38 bytes"},
			// 75s after the last response, not after the first.
			{at: 85*time.Second + 50*time.Millisecond, step: "close 10.0.0.1:…", result: "idle 75s: closing connection (keepalive_timeout)"},
		})
		if got, want := rec.stateAt("server", "FIN_WAIT_1", idleClose), 85*time.Second+50*time.Millisecond; got != want {
			t.Errorf("server ESTABLISHED→FIN_WAIT_1 (app: idle timeout) at %v, want %v\n%s", got, want, rec)
		}
		if got := rec.find("client", "wait peer-closed"); len(got) != 1 || got[0].at != 85*time.Second+60*time.Millisecond {
			t.Errorf("client wait peer-closed = %+v, want one at 85.06s", got)
		}
	})
	t.Run("keep-alive off", func(t *testing.T) {
		rec, _ := world(t, 0,
			clientHost(connectPeer, get, respond, recvAny, closeStep),
			modelHost("server", serverAddr, HTTPServer{Port: 80, Backlog: 128, Response: []byte("HTTP/1.1 204 No Content\r\n\r\n")}),
		)
		rowsEqual(t, rec, "server", []appResult{
			{step: "listen :80 backlog 128", result: "listening on port 80, backlog 128 (accept queue holds 129)"},
			{step: "accept", result: "accepted connection from 10.0.0.1:…"},
			{step: "serve 10.0.0.1:…", result: "request 1: received 18 bytes, sent 27 bytes"},
			{at: 30 * time.Millisecond, step: "close 10.0.0.1:…", result: "response sent: closing connection (keep-alive off)"},
		})
		if got := rec.app(t, "client", 3); got.result != "received end of stream (peer sent FIN)" {
			t.Errorf("client recv after the response = %q, %q, want end of stream", got.result, got.err)
		}
	})
	t.Run("request size and peer close", func(t *testing.T) {
		rec, _ := world(t, 0,
			clientHost(connectPeer, Step{Action: Send, Bytes: 10}, sleep1s, Step{Action: Send, Bytes: 10}, Step{Action: Recv, Bytes: 100}, closeStep),
			modelHost("server", serverAddr, HTTPServer{Port: 80, Backlog: 128, RequestBytes: 20, ResponseBytes: 100, KeepAlive: true}),
		)
		rowsEqual(t, rec, "server", []appResult{
			{step: "listen :80 backlog 128", result: "listening on port 80, backlog 128 (accept queue holds 129)"},
			{step: "accept", result: "accepted connection from 10.0.0.1:…"},
			{at: 1030 * time.Millisecond, step: "serve 10.0.0.1:…", result: "request 1: received 20 bytes, sent 100 bytes"},
			{at: 1050 * time.Millisecond, step: "close 10.0.0.1:…", result: "peer closed the connection: closing"},
		})
	})
	t.Run("accept delay", func(t *testing.T) {
		rec, _ := world(t, 0,
			clientHost(connectPeer, get, respond),
			modelHost("server", serverAddr, HTTPServer{Port: 80, Backlog: 4, AcceptDelay: 3 * time.Second}),
		)
		if got := rec.find("server", "accept"); len(got) != 1 || got[0].at != 3*time.Second {
			t.Errorf("server accept rows = %+v, want one at 3s", got)
		}
		if got := rec.app(t, "client", 2); got.at != 3*time.Second+10*time.Millisecond {
			t.Errorf("client got the response at %v, want 3.01s", got.at)
		}
	})
}

func TestPoolClient(t *testing.T) {
	pool := func(p PoolClient) Config {
		p.Target, p.TargetName = server80, "server:80"
		return modelHost("client", clientAddr, p)
	}
	nginx := modelHost("server", serverAddr, HTTPServer{Port: 80, Backlog: 8, IdleTimeout: 75 * time.Second, KeepAlive: true})
	t.Run("reuse", func(t *testing.T) {
		rec, _ := world(t, 0, pool(PoolClient{Requests: []time.Duration{time.Second, 5 * time.Second}, IdleTimeout: 90 * time.Second}), nginx)
		rowsEqual(t, rec, "client", []appResult{
			{at: 1020 * time.Millisecond, step: "connect server:80", result: "connected from 10.0.0.1:…"},
			{at: 1040 * time.Millisecond, step: "request 1 on new connection 10.0.0.1:…", result: "sent 18 bytes, received 38 bytes"},
			{at: 5020 * time.Millisecond, step: "request 2 on reused connection 10.0.0.1:…", result: "sent 18 bytes, received 38 bytes"},
			// The server closed it at 80.03s; the pool notices nothing.
			{at: 95020 * time.Millisecond, step: "close 10.0.0.1:…", result: "idle 90s: closing pooled connection (IdleConnTimeout)"},
		})
		local := strings.TrimPrefix(rec.app(t, "client", 0).result, "connected from ")
		if r := rec.app(t, "client", 2); r.step != "request 2 on reused connection "+local+"→10.0.0.2:80" {
			t.Errorf("request 2 = %q, want it on the first connection %s", r.step, local)
		}
	})
	t.Run("own idle timeout", func(t *testing.T) {
		rec, _ := world(t, 0, pool(PoolClient{Requests: []time.Duration{time.Second, 20 * time.Second}, IdleTimeout: 10 * time.Second}), nginx)
		rowsEqual(t, rec, "client", []appResult{
			{step: "connect server:80", result: "connected from 10.0.0.1:…"},
			{step: "request 1 on new connection 10.0.0.1:…", result: "sent 18 bytes, received 38 bytes"},
			{at: 11040 * time.Millisecond, step: "close 10.0.0.1:…", result: "idle 10s: closing pooled connection (IdleConnTimeout)"},
			{at: 20020 * time.Millisecond, step: "connect server:80", result: "connected from 10.0.0.1:…"},
			{at: 20040 * time.Millisecond, step: "request 2 on new connection 10.0.0.1:…", result: "sent 18 bytes, received 38 bytes"},
			{at: 30040 * time.Millisecond, step: "close 10.0.0.1:…", result: "idle 10s: closing pooled connection (IdleConnTimeout)"},
		})
		if a, b := rec.app(t, "client", 0).result, rec.app(t, "client", 3).result; a == b {
			t.Errorf("both requests %q: want a new connection (another port) after the idle close", a)
		}
		if got := rec.stateAt("client", "FIN_WAIT_1", idleClose); got != 11040*time.Millisecond {
			t.Errorf("client ESTABLISHED→FIN_WAIT_1 (app: idle timeout) at %v, want 11.04s", got)
		}
	})
	// The keepalive mismatch: nginx closes idle connections after 75s, the
	// pool keeps them 90s, so the request at 80s goes out on a connection
	// the server has closed.
	for _, retry := range []bool{false, true} {
		t.Run(fmt.Sprintf("keepalive mismatch retry=%v", retry), func(t *testing.T) {
			rec, _ := world(t, 0, pool(PoolClient{Requests: []time.Duration{time.Second, 80 * time.Second}, IdleTimeout: 90 * time.Second, Retry: retry}), nginx)
			want := []appResult{
				{step: "connect server:80", result: "connected from 10.0.0.1:…"},
				{step: "request 1 on new connection 10.0.0.1:…", result: "sent 18 bytes, received 38 bytes"},
				{at: 80 * time.Second, step: "request 2 on reused connection 10.0.0.1:…", err: "EOF"},
			}
			if retry {
				want = append(want,
					appResult{at: 80020 * time.Millisecond, step: "connect server:80", result: "connected from 10.0.0.1:…"},
					appResult{at: 80040 * time.Millisecond, step: "request 2 (retry) on new connection 10.0.0.1:…", result: "sent 18 bytes, received 38 bytes"},
					appResult{at: 170040 * time.Millisecond, step: "close 10.0.0.1:…", result: "idle 90s: closing pooled connection (IdleConnTimeout)"},
				)
			}
			rowsEqual(t, rec, "client", want)
			if got := rec.stateAt("server", "FIN_WAIT_1", idleClose); got != 76030*time.Millisecond {
				t.Errorf("server closed the idle connection at %v, want 76.03s", got)
			}
			// The request meets a closed socket on the server: RST.
			var rst []packet
			for _, p := range rec.sentBy("server", segment.RST) {
				if p.at == 80010*time.Millisecond {
					rst = append(rst, p)
				}
			}
			if len(rst) == 0 {
				t.Errorf("server sent no RST at 80.01s for the request on its closed connection\n%s", rec)
			}
			if n := len(rec.find("server", "serve")); n != 1+btoi(retry) {
				t.Errorf("server served %d requests, want %d", n, 1+btoi(retry))
			}
		})
	}
	t.Run("max idle", func(t *testing.T) {
		rec, _ := world(t, 0, pool(PoolClient{Requests: []time.Duration{time.Second, time.Second, 2 * time.Second}, MaxIdle: 1}), nginx)
		if got := rec.find("client", "connect server"); len(got) != 2 {
			t.Errorf("client connected %d times, want 2 (two requests at once)", len(got))
		}
		closes := rec.find("client", "close")
		if len(closes) != 1 || closes[0].result != "more than 1 idle connections: closing the oldest (MaxIdleConns)" {
			t.Errorf("client close rows = %+v, want one for MaxIdleConns", closes)
		}
		if got := rec.find("client", "request 3 on reused"); len(got) != 1 || got[0].err != "" {
			t.Errorf("request 3 rows = %+v, want one on a reused connection", got)
		}
	})
	t.Run("reset", func(t *testing.T) {
		// A server that answers the first request and resets the connection
		// when the second arrives.
		srv := serverHost(listen80, accept, Step{Action: Recv, Bytes: 18}, Step{Action: Send, Bytes: 38}, Step{Action: Recv, Bytes: 18}, abortStep)
		rec, _ := world(t, 0, pool(PoolClient{Requests: []time.Duration{time.Second, 2 * time.Second}, ResponseBytes: 38}), srv)
		rowsEqual(t, rec, "client", []appResult{
			{step: "connect server:80", result: "connected from 10.0.0.1:…"},
			{step: "request 1 on new connection 10.0.0.1:…", result: "sent 18 bytes, received 38 bytes"},
			{at: 2020 * time.Millisecond, step: "request 2 on reused connection 10.0.0.1:…", err: "read tcp " + strings.TrimPrefix(rec.app(t, "client", 0).result, "connected from ") + "->10.0.0.2:80: read: connection reset by peer"},
		})
	})
	t.Run("refused", func(t *testing.T) {
		p := PoolClient{Target: netip.AddrPortFrom(serverAddr, 81), Requests: []time.Duration{time.Second, 2 * time.Second}, Retry: true}
		rec, _ := world(t, 0, modelHost("client", clientAddr, p), nginx)
		want := appResult{step: "connect 10.0.0.2:81", err: "dial tcp 10.0.0.2:81: connect: connection refused"}
		rowsEqual(t, rec, "client", []appResult{want, want, want, want}) // each request and its retry
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestEchoServer(t *testing.T) {
	rec, _ := world(t, 0,
		clientHost(connectPeer, Step{Action: Send, Data: []byte("hello")}, Step{Action: Recv, Bytes: 5},
			Step{Action: Send, Bytes: 20000}, Step{Action: Recv, Bytes: 20000}, Step{Action: Shutdown}, recvAny, closeStep),
		modelHost("server", serverAddr, EchoServer{Port: 80, Backlog: 4}),
	)
	if got := rec.app(t, "client", 2); got.result != `received 5 bytes "hello"` {
		t.Errorf("client recv = %q, %q, want the echo \"hello\"", got.result, got.err)
	}
	if got := rec.app(t, "client", 4); got.result != `received 20000 bytes "abcdefghijklmnopqrstuvwx…"` {
		t.Errorf("client recv 20000 = %q, %q, want the filler echoed", got.result, got.err)
	}
	if got := rec.app(t, "client", 6); got.result != "received end of stream (peer sent FIN)" {
		t.Errorf("client recv after shutdown = %q, %q, want end of stream", got.result, got.err)
	}
	rowsEqual(t, rec, "server", []appResult{
		{step: "listen :80 backlog 4", result: "listening on port 80, backlog 4 (accept queue holds 5)"},
		{step: "accept", result: "accepted connection from 10.0.0.1:…"},
		{step: "close 10.0.0.1:…", result: "peer closed the connection after 20005 bytes echoed: closing"},
	})
}

func TestBulkSenderSink(t *testing.T) {
	const n = 1_000_000
	rec, _ := world(t, 0,
		modelHost("client", clientAddr, BulkSender{Target: server80, TargetName: "server:80", At: time.Second, Bytes: n}),
		modelHost("server", serverAddr, Sink{Port: 80, Backlog: 4}),
	)
	rowsEqual(t, rec, "client", []appResult{
		{at: 1020 * time.Millisecond, step: "connect server:80", result: "connected from 10.0.0.1:…"},
		{step: "send 1000000 bytes", result: "sent 1000000 bytes"},
		{step: "close", result: "closed"},
	})
	rowsEqual(t, rec, "server", []appResult{
		{step: "listen :80 backlog 4", result: "listening on port 80, backlog 4 (accept queue holds 5)"},
		{step: "accept", result: "accepted connection from 10.0.0.1:…"},
		{step: "close 10.0.0.1:…", result: "received 1000000 bytes, then end of stream: closing"},
	})
	payload := 0
	for _, p := range rec.packets {
		if p.host == "client" {
			payload += p.payload
		}
	}
	if payload != n {
		t.Errorf("client sent %d payload bytes, want %d", payload, n)
	}
	if got := rec.transitions("client", netip.AddrPortFrom(clientAddr, 0)); strings.Join(got, " ") != "CLOSED→SYN_SENT SYN_SENT→ESTABLISHED ESTABLISHED→FIN_WAIT_1 FIN_WAIT_1→FIN_WAIT_2 FIN_WAIT_2→TIME_WAIT TIME_WAIT→CLOSED" {
		t.Errorf("client transitions = %q, want a graceful close from the sender", got)
	}
}

// TestHolderMaxConnections: two idle hoarders take both of the server's
// connection slots; a third client completes its handshake (the stack
// accepts into the backlog) but is not served until a hoarder leaves.
func TestHolderMaxConnections(t *testing.T) {
	get := Step{Action: Send, Data: []byte("GET / HTTP/1.1\r\n\r\n")}
	tests := []struct {
		name   string
		hold   time.Duration
		result string
		at     time.Duration
	}{
		{name: "held", result: "timed out after 5s", at: 6020 * time.Millisecond},
		{name: "released", hold: 2 * time.Second, result: "received 38 bytes \"HTTP/1.1 200 OK\\r\\nContent…\"", at: 2040 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := world(t, 0,
				clientHost(Step{Action: Connect, At: time.Second, Addr: server80, Target: "server:80"}, get, Step{Action: Recv, Timeout: 5 * time.Second}),
				modelHost("server", serverAddr, HTTPServer{Port: 80, Backlog: 8, KeepAlive: true, MaxConnections: 2}),
				modelHost("hoarder", thirdAddr, Holder{Target: server80, TargetName: "server:80", Count: 2, Interval: 100 * time.Millisecond, Hold: tt.hold}),
			)
			want := []appResult{
				{at: 20 * time.Millisecond, step: "connect server:80 (1 of 2)", result: "connected from 10.0.0.3:…, holding it idle"},
				{at: 120 * time.Millisecond, step: "connect server:80 (2 of 2)", result: "connected from 10.0.0.3:…, holding it idle"},
			}
			if tt.hold > 0 {
				want = append(want,
					appResult{at: 2020 * time.Millisecond, step: "close 10.0.0.3:…", result: "closed after holding 2s"},
					appResult{at: 2120 * time.Millisecond, step: "close 10.0.0.3:…", result: "closed after holding 2s"})
			}
			rowsEqual(t, rec, "hoarder", want)
			if got := rec.app(t, "client", 0); got.at != 1020*time.Millisecond || got.err != "" {
				t.Errorf("client connect = %v %q %q, want connected at 1.02s: the handshake completes into the backlog", got.at, got.result, got.err)
			}
			if got := rec.app(t, "client", 2); got.result != tt.result || got.at != tt.at {
				t.Errorf("client recv = %v %q %q, want %v %q", got.at, got.result, got.err, tt.at, tt.result)
			}
			full := rec.find("server", "accept")
			if len(full) < 3 || full[2].result != "at max_connections 2: leaving connections in the accept queue" || full[2].at != 1030*time.Millisecond {
				t.Errorf("server accept rows:\n%s\nwant the third to report the limit at 1.03s", rowsText(full))
			}
		})
	}
}

// TestModelsDeterministic runs every model together twice with the same
// seed and compares everything observed.
func TestModelsDeterministic(t *testing.T) {
	run := func() string {
		cfgs := []Config{
			{Name: "client", IPv4: clientAddr, Apps: []App{
				{Name: "pool", Model: &PoolClient{Target: server80, TargetName: "server:80", Requests: []time.Duration{time.Second, time.Second, 3 * time.Second, 80 * time.Second}, IdleTimeout: 90 * time.Second, Retry: true}},
				{Name: "bulk", Model: &BulkSender{Target: netip.AddrPortFrom(serverAddr, 9), At: 2 * time.Second, Bytes: 300000}},
				{Name: "echo", Copies: 2, Steps: []Step{{Action: Connect, Addr: netip.AddrPortFrom(serverAddr, 7)}, ping, {Action: Recv, Bytes: 4}, closeStep}},
			}},
			{Name: "server", IPv4: serverAddr, Apps: []App{
				{Name: "nginx", Model: &HTTPServer{Port: 80, Backlog: 8, IdleTimeout: 75 * time.Second, KeepAlive: true, MaxConnections: 3}},
				{Name: "echo", Model: &EchoServer{Port: 7, Backlog: 4}},
				{Name: "sink", Model: &Sink{Port: 9, Backlog: 4}},
			}},
			{Name: "hoarder", IPv4: thirdAddr, Apps: []App{{Model: &Holder{Target: server80, Count: 2, Interval: time.Second, Hold: 30 * time.Second}}}},
		}
		rec, _ := world(t, 0, cfgs...)
		return rec.String()
	}
	first, second := run(), run()
	if first != second {
		t.Errorf("two runs with the same seed differ:\n%s\n---\n%s", first, second)
	}
	for _, want := range []string{"[nginx] serve", "[pool] request 4 on reused connection", "[echo#2] recv 4 bytes", "[sink] close", "[echo] close"} {
		if !strings.Contains(first, want) {
			t.Errorf("output lacks %q:\n%s", want, first)
		}
	}
}
