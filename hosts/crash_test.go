package hosts

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// crashLab is a server that listens and serves each connection with a
// recv loop, crashing at 10s and rebooting at 15s; the client connects at
// 0, sends at 1s, sends again at 12s (while the server is down) and
// connects once more at 30s.
func crashLab(t *testing.T, crash topology.Crash) *recorder {
	t.Helper()
	rec, _ := network{
		hosts: []netHost{
			{Config{Name: "client", IPv4: clientAddr, Steps: []Step{
				connect,
				{Action: Send, At: time.Second, Data: []byte("one")},
				{Action: Send, At: 12 * time.Second, Data: []byte("two")},
				{Action: Recv, Timeout: 30 * time.Second},
			}, Apps: []App{{Name: "later", Steps: []Step{
				{Action: Connect, At: 30 * time.Second, Addr: netip.AddrPortFrom(serverAddr, 80), Target: "server:80"},
			}}}}, topology.Link{Out: topology.Direction{Latency: 10 * time.Millisecond}}},
			{Config{Name: "server", IPv4: serverAddr, Steps: []Step{
				listen80,
				{Action: Accept, Each: []Step{{Action: Recv}, {Action: Recv}}},
			}}, topology.Link{}},
		},
		before: func(net *topology.Network, _ map[string]*Host) {
			if err := net.AddCrash(crash); err != nil {
				t.Fatalf("AddCrash(%+v) = %v, want nil", crash, err)
			}
		},
		limit: 2 * time.Minute,
	}.run(t)
	return rec
}

func TestCrashForgetsSilently(t *testing.T) {
	rec := crashLab(t, topology.Crash{Host: "server", At: 10 * time.Second, RebootAfter: 5 * time.Second})

	// The crash: one row saying what was forgotten, and every endpoint
	// CLOSED with the crash as its cause.
	if len(rec.worlds) != 2 {
		t.Fatalf("world events = %d, want 2 (crash, reboot)", len(rec.worlds))
	}
	c, r := rec.worlds[0], rec.worlds[1]
	if c.Kind != event.HostCrashed || c.Host != "server" || c.At != 10*time.Second || c.Conns != 1 || c.Listeners != 1 {
		t.Errorf("crash = %+v, want server crashed at 10s forgetting 1 connection and 1 listener", c)
	}
	if r.Kind != event.HostRebooted || r.At != 15*time.Second || r.Apps != 1 {
		t.Errorf("reboot = %+v, want server rebooted at 15s with 1 application", r)
	}
	closed := 0
	for _, s := range rec.states {
		if s.host == "server" && s.at == 10*time.Second {
			if s.to != "CLOSED" || s.cause.Kind != event.ByCrash {
				t.Errorf("server %s→%s at 10s, cause %v; want CLOSED by the crash", s.from, s.to, s.cause)
			}
			closed++
		}
	}
	if closed != 2 {
		t.Errorf("server endpoints closed by the crash = %d, want 2 (the connection and the listener)", closed)
	}
	// Silently: nothing leaves the server between the crash and the
	// reboot.
	for _, p := range rec.packets {
		if p.host == "server" && p.at >= 10*time.Second && p.at < 15*time.Second {
			t.Errorf("server sent %v at %v while down", p.flags, p.at)
		}
	}
	// While down, what reaches it is dropped as host_down.
	down := 0
	for _, f := range rec.fates {
		if f.Kind == event.Dropped && f.Reason == event.HostDown {
			if f.At < 10*time.Second || f.At >= 15*time.Second || f.Down != 10*time.Second || f.Place.Host != "server" {
				t.Errorf("host_down drop %+v, want one at the server between 10s and 15s", f)
			}
			down++
		}
	}
	if down == 0 {
		t.Error("no segment was dropped because the server was down; the client sent at 12s")
	}
	// After the reboot, the client's retransmission meets a stack that
	// forgot the connection: verdict forgotten, answered with a RST.
	var forgotten *event.Receipt
	for _, rc := range rec.receipts {
		if rc.Host == "server" && rc.Verdict == event.Forgotten {
			forgotten = rc
			break
		}
	}
	if forgotten == nil {
		t.Fatal("no receipt at the server with verdict forgotten")
	}
	if forgotten.At < 15*time.Second {
		t.Errorf("forgotten verdict at %v, before the reboot", forgotten.At)
	}
	rst := rec.sentBy("server", segment.RST)
	if len(rst) == 0 || rst[0].cause.Kind != event.ByArrival || rst[0].cause.Ref != forgotten.Ref {
		t.Errorf("server RSTs %v, want the first to answer %v", rst, forgotten.Ref)
	}
	if got := rec.app(t, "client", 3); got.err != "connection reset by peer" {
		t.Errorf("client recv after the reboot = %q, %q; want connection reset by peer", got.result, got.err)
	}
	// The rebooted server listens again: the later connection succeeds.
	later := false
	for _, a := range rec.apps {
		if a.host == "client" && a.step == "[later] connect server:80" && a.err == "" {
			later = true
		}
	}
	if !later {
		t.Errorf("the connection at 30s did not succeed after the reboot: %v", rec.apps)
	}
}

func TestCrashWithoutReboot(t *testing.T) {
	rec := crashLab(t, topology.Crash{Host: "server", At: 10 * time.Second})
	if len(rec.worlds) != 1 || rec.worlds[0].Kind != event.HostCrashed {
		t.Fatalf("world events = %v, want one crash", rec.worlds)
	}
	for _, p := range rec.packets {
		if p.host == "server" && p.at >= 10*time.Second {
			t.Errorf("server sent %v at %v after crashing for good", p.flags, p.at)
		}
	}
	for _, rc := range rec.receipts {
		if rc.Host == "server" && rc.At >= 10*time.Second {
			t.Errorf("server received %v at %v after crashing for good", rc.Ref, rc.At)
		}
	}
}

func TestAddCrashErrors(t *testing.T) {
	net := topology.New(1, nil, nil)
	if _, err := net.Attach("server", []netip.Addr{serverAddr}, topology.Link{}, func(index int, clock tcpip.Clock) (topology.Node, error) {
		return New(Config{Name: "server", IPv4: serverAddr, Seed: 1}, index, clock, net.Scheduler(), nil, nil)
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []topology.Crash{
		{Host: "nobody", At: time.Second},
		{Host: "server", At: -time.Second},
		{Host: "server", At: time.Second, RebootAfter: -1},
	} {
		if err := net.AddCrash(c); err == nil {
			t.Errorf("AddCrash(%+v) = nil, want an error", c)
		}
	}
	if err := net.AddCrash(topology.Crash{Host: "server", At: time.Second, RebootAfter: 5 * time.Second}); err != nil {
		t.Fatalf("AddCrash = %v, want nil", err)
	}
	if err := net.AddCrash(topology.Crash{Host: "server", At: 3 * time.Second, RebootAfter: time.Second}); err == nil {
		t.Error("AddCrash of an overlapping crash = nil, want an error")
	}
}
