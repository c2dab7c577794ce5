package hosts

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/topology"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// TestRTOGuard runs the lab in which netstack strands a sender (the
// truth-bulk-orphan lab under seed 1110: 200 KB over a lossy 1 Mbit/s link,
// close right after the send; seed 136, where it was found, no longer stalls
// since the RACK tie-break patch, see third_party/gvisor/PATCHES.md; both
// hosts acknowledge every segment, delayed_ack = false): the guard fires once, netstack's own
// retransmission timer then expires and is reported as such, what it
// resends carries it as cause, and everything is delivered.
func TestRTOGuard(t *testing.T) {
	d := topology.Direction{Latency: 50 * time.Millisecond, Rate: 1_000_000, Loss: 0.01}
	target := netip.AddrPortFrom(serverAddr, 9000)
	// Without delayed ACKs, as when the case was found: with them no
	// seed of 1-4000 strands this sender (fewer ACKs change the recovery).
	quick := DefaultSettings(Linux)
	quick.Linux.DelayedAck = false
	server, client := modelHost("server", serverAddr, Sink{Port: 9000}), modelHost("client", clientAddr, BulkSender{Target: target, TargetName: "server:9000", Bytes: 200000})
	server.Settings, client.Settings = &quick, &quick
	rec, res := network{seed: 1110, hosts: []netHost{
		{server, topology.Link{}},
		{client, topology.Link{Out: d, In: d}},
	}}.run(t)
	var guards []*event.Timer
	for _, tm := range rec.timers {
		if tm.Kind == event.TimerGuard {
			guards = append(guards, tm)
		}
	}
	if len(guards) != 1 {
		t.Fatalf("guard fired %d times, want once (if never, netstack no longer strands this sender under seed 1110: find another case or drop the guard)", len(guards))
	}
	g := guards[0]
	if g.Host != "client" || g.Remote != target || g.State != event.FinWait1 || g.RTO <= 0 {
		t.Errorf("guard = %+v, want the client's connection in FIN_WAIT_1 with its RTO", g)
	}
	rto := false
	for _, tm := range rec.timers {
		rto = rto || (tm.Kind == event.TimerRTO && tm.At == g.At && tm.Host == g.Host && tm.Local == g.Local)
	}
	resent := false
	for _, p := range rec.packets {
		resent = resent || (p.host == "client" && p.at == g.At && p.cause == event.TimerCause(event.TimerRTO))
	}
	if !rto || !resent {
		t.Errorf("at the guard (%v): rto timer reported %v, client resent with cause rto %v; want both", g.At, rto, resent)
	}
	if got := rec.find("server", "close"); len(got) != 1 || got[0].result != "received 200000 bytes, then end of stream: closing" {
		t.Errorf("server close rows = %+v, want all 200000 bytes received", got)
	}
	if res.Reason != topology.Idle || len(rec.stalls) != 0 {
		t.Errorf("run ended %v with stalls %+v, want idle and none", res.Reason, rec.stalls)
	}
}

// TestRTOGuardFields checks that the netstack fields hosts read (layout.go)
// exist with the types it expects, and read sensible values on a
// connection with data in flight.
func TestRTOGuardFields(t *testing.T) {
	if _, ok := netstackLayout(); !ok {
		t.Fatal("netstack's layout changed: a field of tcp.Endpoint, its sender, its handshake or tcp.timer that hosts read is gone or has another type (hosts/layout.go)")
	}
	checked := false
	network{
		hosts: []netHost{
			{clientHost(connectPeer, Step{Action: Send, At: time.Second, Bytes: 5000}, sleep1s, closeStep), topology.Link{Out: topology.Direction{Latency: 10 * time.Millisecond}}},
			{serverHost(listen80, accept, recvAny), topology.Link{}},
		},
		before: func(_ *topology.Network, hs map[string]*Host) {
			h := hs["client"]
			h.at(time.Second+time.Millisecond, func() {
				for _, tr := range h.tracked {
					ep, ok := tr.ep.(*tcp.Endpoint)
					if !ok || tr.state != event.Established {
						continue
					}
					checked = true
					una, nxt, ok := sendSpace(ep)
					if !ok || nxt-una != 5000 {
						t.Errorf("sendSpace = [%d, %d) ok %v, want 5000 bytes in flight", una, nxt, ok)
					}
					if rto := senderRTO(ep); rto < 200*time.Millisecond || rto > time.Second {
						t.Errorf("senderRTO = %v, want netstack's RTO (200ms–1s here)", rto)
					}
					l, _ := netstackLayout()
					for _, f := range []timerField{resendTimer, probeTimer, reorderTimer, corkTimer, keepaliveTimer} {
						tm, ok := l.timerOf(ep, f)
						if st := tm.state(); !ok || st < timerUninitialized || st > timerOrphaned {
							t.Errorf("timer %d: state %d, want one of tcp/timer.go's states", f, st)
						}
					}
					if _, _, stalled := stalledSender(ep); stalled {
						t.Errorf("stalledSender = stalled with data in flight and the RTO armed")
					}
				}
			})
		},
	}.run(t)
	if !checked {
		t.Fatalf("no established client endpoint at 1.001s")
	}
}
