package hosts

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/topology"
)

var thirdAddr = netip.MustParseAddr("10.0.0.3")

// world runs hosts on one switch, each behind a link with 5ms latency each
// way (so any two hosts are 20ms of round trip apart), until idle or limit
// (5 minutes when zero). Seed is 1 unless cfg sets one.
func world(t *testing.T, limit time.Duration, cfgs ...Config) (*recorder, topology.Result) {
	t.Helper()
	link := topology.Link{Out: topology.Direction{Latency: 5 * time.Millisecond}, In: topology.Direction{Latency: 5 * time.Millisecond}}
	w := network{limit: limit}
	for _, cfg := range cfgs {
		w.hosts = append(w.hosts, netHost{cfg, link})
	}
	return w.run(t)
}

func clientHost(steps ...Step) Config {
	return Config{Name: "client", IPv4: clientAddr, Steps: steps}
}

func serverHost(steps ...Step) Config {
	return Config{Name: "server", IPv4: serverAddr, Steps: steps}
}

var (
	ping        = Step{Action: Send, Data: []byte("ping")}
	pong        = Step{Action: Send, Data: []byte("pong")}
	closeStep   = Step{Action: Close}
	sleep1s     = Step{Action: Sleep, For: time.Second}
	abortStep   = Step{Action: Abort}
	recvAny     = Step{Action: Recv}
	waitFor     = func(e Event) Step { return Step{Action: Wait, Until: e} }
	connectPeer = Step{Action: Connect, Addr: netip.AddrPortFrom(serverAddr, 80), Target: "server:80"}
)

func TestWait(t *testing.T) {
	tests := []struct {
		name           string
		client, server []Step
		host           string // whose step is checked
		step           int
		at             time.Duration
		result, err    string
		after          int // steps host reports in all
	}{
		{
			name:   "connected",
			client: []Step{connectPeer, waitFor(EventConnected)},
			server: []Step{listen80, accept},
			host:   "client", step: 1, at: 20 * time.Millisecond,
			result: "connected: 10.0.0.1:", // port follows
		},
		{
			name:   "peer-closed",
			client: []Step{connectPeer, sleep1s, closeStep},
			server: []Step{listen80, accept, waitFor(EventPeerClosed), closeStep},
			host:   "server", step: 2, at: 1030 * time.Millisecond,
			result: "peer closed the connection (FIN received)", after: 4,
		},
		{
			name:   "closed by reset",
			client: []Step{connectPeer, waitFor(EventClosed), recvAny},
			server: []Step{listen80, accept, sleep1s, abortStep},
			host:   "client", step: 1, at: 1040 * time.Millisecond,
			result: "socket closed: connection reset by peer", after: 3,
		},
		{
			name:   "closed normally",
			client: []Step{connectPeer, closeStep, waitFor(EventClosed)},
			server: []Step{listen80, accept, recvAny, closeStep},
			host:   "client", step: 2, at: 60*time.Second + 40*time.Millisecond, // TIME_WAIT ends
			result: "socket closed",
		},
		{
			name:   "readable",
			client: []Step{connectPeer, {Action: Sleep, For: 2 * time.Second}, ping},
			server: []Step{listen80, accept, waitFor(EventReadable), recvAny},
			host:   "server", step: 2, at: 2030 * time.Millisecond,
			result: "readable: 4 bytes waiting",
		},
		{
			name:   "readable listener",
			client: []Step{{Action: Connect, At: time.Second, Addr: netip.AddrPortFrom(serverAddr, 80)}},
			server: []Step{listen80, {Action: Wait, Until: EventReadable, Socket: "listener"}, accept},
			host:   "server", step: 1, at: 1030 * time.Millisecond,
			result: "readable: a connection is waiting to be accepted",
		},
		{
			name:   "error",
			client: []Step{connectPeer, waitFor(EventError)},
			server: []Step{listen80, accept, sleep1s, abortStep},
			host:   "client", step: 1, at: 1040 * time.Millisecond,
			result: "socket error: connection reset by peer",
		},
		{
			name:   "error ends a wait for another event",
			client: []Step{connectPeer, waitFor(EventPeerClosed), closeStep},
			server: []Step{listen80, accept, sleep1s, abortStep},
			host:   "client", step: 1, at: 1040 * time.Millisecond,
			err: "connection reset by peer", after: 2,
		},
		{
			name:   "until a time",
			client: []Step{{Action: Wait, At: 3 * time.Second}},
			host:   "client", step: 0, at: 3 * time.Second,
			result: "waited until 3s",
		},
		{
			name:   "no socket",
			client: []Step{waitFor(EventReadable)},
			host:   "client", step: 0, at: 0,
			err: `no socket "conn"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := world(t, 0, clientHost(tt.client...), serverHost(tt.server...))
			got := rec.app(t, tt.host, tt.step)
			if !strings.HasPrefix(got.result, tt.result) || (tt.result == "") != (got.result == "") || got.err != tt.err || got.at != tt.at {
				t.Errorf("%s step %d (%s) = %v %q, %q, want %v %q…, %q\n%s", tt.host, tt.step, got.step, got.at, got.result, got.err, tt.at, tt.result, tt.err, rec)
			}
			if tt.after > 0 {
				if n := rec.steps(tt.host); n != tt.after {
					t.Errorf("%s reported %d steps, want %d", tt.host, n, tt.after)
				}
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name           string
		client, server []Step
		step           int // of the server
		at             time.Duration
		result         string
		next           time.Duration // when the server's next step reports
	}{
		{
			name:   "recv idle",
			client: []Step{connectPeer, recvAny},
			server: []Step{listen80, accept, {Action: Recv, Timeout: 75 * time.Second}, closeStep},
			step:   2, at: 75*time.Second + 30*time.Millisecond,
			result: "timed out after 75s", next: 75*time.Second + 30*time.Millisecond,
		},
		{
			name:   "recv partial",
			client: []Step{connectPeer, ping},
			server: []Step{listen80, accept, {Action: Recv, Bytes: 10, Timeout: 5 * time.Second}, closeStep},
			step:   2, at: 5*time.Second + 30*time.Millisecond,
			result: "timed out after 5s, received 4 bytes", next: 5*time.Second + 30*time.Millisecond,
		},
		{
			name:   "wait",
			client: []Step{connectPeer, {Action: Sleep, For: 10 * time.Second}},
			server: []Step{listen80, accept, {Action: Wait, Until: EventPeerClosed, Timeout: 2 * time.Second}, closeStep},
			step:   2, at: 2*time.Second + 30*time.Millisecond,
			result: "timed out after 2s", next: 2*time.Second + 30*time.Millisecond,
		},
		{
			name:   "data in time",
			client: []Step{connectPeer, sleep1s, ping},
			server: []Step{listen80, accept, {Action: Recv, Timeout: 5 * time.Second}, {Action: Sleep, For: 4500 * time.Millisecond}},
			step:   2, at: 1030 * time.Millisecond,
			result: `received 4 bytes "ping"`, next: 5530 * time.Millisecond, // the stale timeout at 5.03s changes nothing
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := world(t, 0, clientHost(tt.client...), serverHost(tt.server...))
			got := rec.app(t, "server", tt.step)
			if got.result != tt.result || got.err != "" || got.at != tt.at {
				t.Errorf("server step %d (%s) = %v %q, %q, want %v %q, \"\"", tt.step, got.step, got.at, got.result, got.err, tt.at, tt.result)
			}
			if next := rec.app(t, "server", tt.step+1); next.at != tt.next || next.err != "" {
				t.Errorf("server step %d (%s) = %v %q, %q, want at %v without error: a timeout does not end the script", tt.step+1, next.step, next.at, next.result, next.err, tt.next)
			}
		})
	}
}

// TestAcceptEach serves three clients (copies of one app) with one
// per-connection script each.
func TestAcceptEach(t *testing.T) {
	each := Step{Action: Accept, Each: []Step{{Action: Recv, Bytes: 4}, pong, {Action: Recv}, closeStep}}
	rec, res := world(t, 0,
		Config{Name: "client", IPv4: clientAddr, Apps: []App{{
			Name:   "c",
			Copies: 3,
			Steps:  []Step{connectPeer, ping, {Action: Recv, Bytes: 4}, closeStep},
		}}},
		serverHost(listen80, each),
	)
	accepts := rec.find("server", "accept each (4 steps)")
	if len(accepts) != 3 {
		t.Fatalf("server accept rows = %+v, want 3\n%s", accepts, rec)
	}
	ports := map[string]bool{}
	for _, a := range accepts {
		ports[a.result] = true
		if !strings.HasPrefix(a.result, "accepted connection from 10.0.0.1:") {
			t.Errorf("accept = %q, want accepted connection from 10.0.0.1:…", a.result)
		}
	}
	if len(ports) != 3 {
		t.Errorf("accepted %v, want three different peers", ports)
	}
	for k := 1; k <= 3; k++ {
		conn := fmt.Sprintf("[conn%d] ", k)
		want := []string{conn + "recv 4 bytes", conn + "send \"pong\"", conn + "recv", conn + "close"}
		var got []string
		for _, a := range rec.find("server", conn) {
			if a.err != "" {
				t.Errorf("%s = error %q", a.step, a.err)
			}
			got = append(got, a.step)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("server rows of %s = %q, want %q", conn, got, want)
		}
		c := fmt.Sprintf("[c#%d] ", k)
		if r := rec.find("client", c+"recv"); len(r) != 1 || r[0].result != `received 4 bytes "pong"` {
			t.Errorf("client rows %s recv = %+v, want one with received 4 bytes \"pong\"", c, r)
		}
		if r := rec.find("client", c+"connect server:80"); len(r) != 1 || r[0].at != 20*time.Millisecond {
			t.Errorf("client rows %s connect = %+v, want one at 20ms (the copies start together)", c, r)
		}
	}
	if got := rec.find("server", "[conn1] recv 4 bytes"); len(got) != 1 || got[0].result != `received 4 bytes "ping"` {
		t.Errorf("server [conn1] recv = %+v, want received 4 bytes \"ping\"", got)
	}
	if res.Reason != topology.Idle {
		t.Errorf("Run() reason = %v, want idle: the accepting step waits without events", res.Reason)
	}
}

func TestRepeat(t *testing.T) {
	rec, _ := world(t, 0,
		Config{Name: "client", IPv4: clientAddr, Apps: []App{{
			Repeat: 3,
			Steps:  []Step{connectPeer, ping, {Action: Recv, Bytes: 4}, closeStep, {Action: Sleep, For: time.Second}},
		}}},
		serverHost(listen80, Step{Action: Accept, Each: []Step{{Action: Recv, Bytes: 4}, pong, {Action: Recv}, closeStep}}),
	)
	connects := rec.find("client", "connect")
	if len(connects) != 3 {
		t.Fatalf("client connect rows = %+v, want 3 (one per round)\n%s", connects, rec)
	}
	seen := map[string]bool{}
	for i, c := range connects {
		if c.step != "connect server:80" {
			t.Errorf("round %d step = %q, want \"connect server:80\" (one app: no label)", i+1, c.step)
		}
		if want := time.Duration(i)*(time.Second+40*time.Millisecond) + 20*time.Millisecond; c.at != want {
			t.Errorf("round %d connected at %v, want %v", i+1, c.at, want)
		}
		seen[c.result] = true
	}
	if len(seen) != 3 {
		t.Errorf("connect results %v, want three fresh sockets with different ports", seen)
	}
	if n := rec.steps("client"); n != 15 {
		t.Errorf("client reported %d steps, want 15 (5 steps × 3 rounds)", n)
	}
}

func TestRepeatStopsAtError(t *testing.T) {
	rec, _ := world(t, 0, Config{Name: "client", IPv4: clientAddr, Apps: []App{{Repeat: 3, Steps: []Step{connectPeer}}}}, serverHost())
	if n := rec.steps("client"); n != 1 {
		t.Errorf("client reported %d steps, want 1: an error ends all rounds\n%s", n, rec)
	}
}

func TestSeveralApps(t *testing.T) {
	rec, _ := world(t, 0,
		Config{Name: "client", IPv4: clientAddr, Steps: []Step{connectPeer, closeStep}, Apps: []App{
			{Name: "late", Steps: []Step{{Action: Connect, At: time.Second, Addr: netip.AddrPortFrom(serverAddr, 80), Target: "server:80"}}},
			{Steps: []Step{{Action: Wait, At: 2 * time.Second}}},
		}},
		serverHost(listen80, Step{Action: Accept, Each: []Step{recvAny}}),
	)
	want := []appResult{
		{at: 20 * time.Millisecond, host: "client", step: "[app1] connect server:80"},
		{at: 20 * time.Millisecond, host: "client", step: "[app1] close", result: "closed"},
		{at: 1020 * time.Millisecond, host: "client", step: "[late] connect server:80"},
		{at: 2 * time.Second, host: "client", step: "[app3] wait", result: "waited until 2s"},
	}
	got := rec.find("client", "")
	if len(got) != len(want) {
		t.Fatalf("client rows = %+v, want %d\n%s", got, len(want), rec)
	}
	for i := range want {
		g := got[i]
		if g.at != want[i].at || g.step != want[i].step || g.err != "" || (want[i].result != "" && g.result != want[i].result) {
			t.Errorf("client row %d = %+v, want %+v", i, g, want[i])
		}
	}
}

func TestAppConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		apps []App
		want string
	}{
		{name: "steps and model", apps: []App{{Name: "x", Steps: []Step{accept}, Model: EchoServer{Port: 7}}}, want: "host h: app x: an app runs steps or a model, not both"},
		{name: "negative copies", apps: []App{{Copies: -1}}, want: "host h: app app1: copies -1 is negative"},
		{name: "repeated model", apps: []App{{Repeat: 2, Model: Sink{Port: 9}}}, want: "host h: app app1: a model cannot repeat"},
		{name: "a step's rule", apps: []App{{Steps: []Step{accept, {Action: Listen}}}}, want: "host h: app app1: steps.1: listen needs a port: port = 80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &topology.Scheduler{}
			cfg := Config{Name: "h", IPv4: clientAddr, Apps: tt.apps}
			h, err := New(cfg, 0, s.Clock(0), s, nil, nil)
			if err == nil {
				h.Close()
			}
			if fmt.Sprint(err) != tt.want {
				t.Errorf("New(%+v) = %v, want %q", cfg, err, tt.want)
			}
		})
	}
}

func TestParseEvent(t *testing.T) {
	for _, name := range EventNames() {
		e, ok := ParseEvent(name)
		if !ok || e.String() != name {
			t.Errorf("ParseEvent(%q) = %v, %v, want %q, true", name, e, ok, name)
		}
	}
	if got := strings.Join(EventNames(), ","); got != "connected,peer-closed,closed,readable,error" {
		t.Errorf("EventNames() = %q", got)
	}
	if _, ok := ParseEvent("connect"); ok {
		t.Errorf("ParseEvent(%q) ok, want not ok", "connect")
	}
	if a, ok := ParseAction("wait"); !ok || a != Wait {
		t.Errorf("ParseAction(%q) = %v, %v, want wait, true", "wait", a, ok)
	}
	if Event(42).String() != "Event(42)" {
		t.Errorf("Event(42).String() = %q", Event(42).String())
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, n := range EventNames() {
		f.Add(n)
	}
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		e, ok := ParseEvent(s)
		if ok != (e != 0) || (ok && e.String() != s) {
			t.Errorf("ParseEvent(%q) = %v, %v", s, e, ok)
		}
	})
}

func TestWaitStepString(t *testing.T) {
	tests := []struct {
		step Step
		want string
	}{
		{Step{Action: Wait}, "wait"},
		{Step{Action: Wait, Until: EventPeerClosed, Timeout: 75 * time.Second}, "wait peer-closed timeout 75s"},
		{Step{Action: Recv, Timeout: 1500 * time.Millisecond}, "recv timeout 1.5s"},
		{Step{Action: Accept, Each: []Step{recvAny}}, "accept each (1 step)"},
	}
	for _, tt := range tests {
		if got := tt.step.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.step, got, tt.want)
		}
	}
}
