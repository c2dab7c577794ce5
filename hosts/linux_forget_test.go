package hosts

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
)

// linuxKept returns how many connections the linux profile's emulation
// keeps state for on h (delayed ACK, SYN-ACK).
func linuxKept(h *Host) (acks, synAcks int) {
	return len(h.linux.acks), len(h.linux.synAcks)
}

// TestLinuxForgetsClosedConnections: the emulation's per-connection state
// goes with the connection, so that 300 connections one after the other
// leave nothing behind (it used to keep every connection's delayed-ACK
// state and SYN-ACK, the SYN-ACK holding a 32 KB block of the NIC's).
func TestLinuxForgetsClosedConnections(t *testing.T) {
	const rounds = 300
	var hosts map[string]*Host
	short := tuned(func(s *Settings) { s.TimeWait = time.Second })
	rec, res := network{
		hosts: []netHost{
			{Config{Name: "client", IPv4: clientAddr, Settings: short, Apps: []App{{
				Repeat: rounds,
				Steps:  []Step{connectPeer, ping, {Action: Recv, Bytes: 4}, closeStep, sleep1s},
			}}}, topology.Link{Out: topology.Direction{Latency: time.Millisecond}}},
			{serverHost(listen80, Step{Action: Accept, Each: []Step{{Action: Recv, Bytes: 4}, pong, {Action: Recv}, closeStep}}), topology.Link{}},
		},
		limit:  time.Hour,
		before: func(_ *topology.Network, hs map[string]*Host) { hosts = hs },
	}.run(t)
	if res.Reason != topology.Idle {
		t.Fatalf("run ended by %v at %v, want idle", res.Reason, res.End)
	}
	if n := len(rec.find("client", "connect")); n != rounds {
		t.Fatalf("client connected %d times, want %d", n, rounds)
	}
	for _, name := range []string{"client", "server"} {
		acks, synAcks := linuxKept(hosts[name])
		if acks != 0 || synAcks != 0 {
			t.Errorf("%s keeps the delayed-ACK state of %d connections and the SYN-ACK of %d after %d closed ones, want none", name, acks, synAcks, rounds)
		}
	}
}

// TestLinuxSweepsStrays: segments that never reach a socket (SYNs to a
// closed port) leave delayed-ACK state that no endpoint's end can forget;
// it is swept once quiet for linuxForgetAfter, and only then.
func TestLinuxSweepsStrays(t *testing.T) {
	const syns = 400
	var hosts map[string]*Host
	network{
		hosts: []netHost{
			{clientHost(), topology.Link{}},
			{serverHost(), topology.Link{}},
		},
		limit: time.Hour,
		before: func(net *topology.Network, hs map[string]*Host) {
			hosts = hs
			err := net.AddInjection(topology.Injection{
				Via: "client", At: time.Second, Count: syns, Interval: time.Second,
				SrcPrefix: netip.MustParsePrefix("192.0.2.0/24"), Src: netip.AddrPortFrom(netip.Addr{}, 0),
				Dst: netip.AddrPortFrom(serverAddr, 81), Flags: segment.SYN,
			})
			if err != nil {
				t.Fatalf("AddInjection = %v", err)
			}
		},
	}.run(t)
	acks, _ := linuxKept(hosts["server"])
	// One SYN a second: the last minute's SYNs are kept, and a sweep runs
	// at linuxSweepMin entries.
	if quiet := int(linuxForgetAfter / time.Second); acks < quiet || acks >= linuxSweepMin {
		t.Errorf("server keeps delayed-ACK state for %d port pairs after %d SYNs to a closed port, one a second; want the last minute's (%d) and fewer than %d", acks, syns, quiet, linuxSweepMin)
	}
}
