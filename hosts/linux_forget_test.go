package hosts

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
)

// linuxKept returns how many connections the linux profile's emulation
// keeps state for on h (delayed ACK, SYN-ACK).
func linuxKept(h *Host) (acks, synAcks int) {
	return len(h.linux.acks), len(h.linux.synAcks)
}

// synFlood runs server with count spoofed SYNs to its port, one a second
// from 1 s on, until nothing is left to happen, and returns the server.
func synFlood(t *testing.T, server Config, port uint16, count int) *Host {
	t.Helper()
	var hosts map[string]*Host
	network{
		hosts: []netHost{{clientHost(), topology.Link{}}, {server, topology.Link{}}},
		limit: time.Hour,
		before: func(net *topology.Network, hs map[string]*Host) {
			hosts = hs
			err := net.AddInjection(topology.Injection{
				Via: "client", At: time.Second, Count: count, Interval: time.Second,
				SrcPrefix: netip.MustParsePrefix("192.0.2.0/24"), Src: netip.AddrPortFrom(netip.Addr{}, 0),
				Dst: netip.AddrPortFrom(serverAddr, port), Flags: segment.SYN,
			})
			if err != nil {
				t.Fatalf("AddInjection = %v", err)
			}
		},
	}.run(t)
	return hosts["server"]
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
	server := synFlood(t, serverHost(), 81, syns)
	acks, _ := linuxKept(server)
	// One SYN a second: the last minute's SYNs are kept, and a sweep runs
	// at linuxSweepMin entries.
	if quiet := int(linuxForgetAfter / time.Second); acks < quiet || acks >= linuxSweepMin {
		t.Errorf("server keeps delayed-ACK state for %d port pairs after %d SYNs to a closed port, one a second; want the last minute's (%d) and fewer than %d", acks, syns, quiet, linuxSweepMin)
	}
}

// TestLinuxSuccessorKeepsState: closing a connection's socket late does
// not take the state of a newer connection on the same port pair with it.
// The server's first connection is reset at once but its application
// releases the socket only 2 s later; a SYN at 500 ms opens a new
// half-open connection on the pair, and a repeat of that SYN at 2.5 s
// must still get Linux's answer, the SYN-ACK again.
func TestLinuxSuccessorKeepsState(t *testing.T) {
	var hosts map[string]*Host
	conn := Step{Action: Connect, Addr: netip.AddrPortFrom(serverAddr, 80), Target: "server:80", Port: 5000}
	k := connKey{netip.AddrPortFrom(serverAddr, 80), netip.AddrPortFrom(clientAddr, 5000)}
	again := 2500 * time.Millisecond
	rec, _ := network{
		hosts: []netHost{
			{Config{Name: "client", IPv4: clientAddr, Steps: []Step{conn, abortStep, closeStep}}, topology.Link{Out: topology.Direction{Latency: time.Millisecond}}},
			{serverHost(listen80, Step{Action: Accept, Each: []Step{{Action: Sleep, For: 2 * time.Second}, closeStep}}), topology.Link{}},
		},
		limit:  again + 100*time.Millisecond,
		faults: []topology.Fault{{Action: topology.FaultDrop, To: "client", After: 400 * time.Millisecond}},
		before: func(net *topology.Network, hs map[string]*Host) {
			hosts = hs
			for _, at := range []time.Duration{500 * time.Millisecond, again} {
				if err := net.AddInjection(topology.Injection{Via: "client", At: at, Src: k.remote, Dst: k.local, Flags: segment.SYN, Seq: topology.SeqAbsolute, SeqValue: 12345}); err != nil {
					t.Fatal(err)
				}
			}
		},
	}.run(t)
	if _, ok := hosts["server"].linux.synAcks[k]; !ok {
		t.Errorf("the half-open connection's SYN-ACK was forgotten when the earlier connection's socket was released")
	}
	answered := false
	for _, p := range rec.packets {
		if p.at >= again && p.host == "server" && p.cause.Emu == event.EmuSynAckAgain {
			answered = true
		}
	}
	if !answered {
		t.Errorf("the SYN repeated at %v got no SYN-ACK again (Linux's answer in SYN_RCVD)", again)
	}
}

// TestLinuxReuseStartsAfresh: a SYN that reuses a port pair in TIME_WAIT
// opens a connection whose delayed-ACK state is its own: the peer MSS of
// its SYN, nothing of the connection before.
func TestLinuxReuseStartsAfresh(t *testing.T) {
	var hosts map[string]*Host
	conn := Step{Action: Connect, Addr: netip.AddrPortFrom(serverAddr, 80), Target: "server:80", Port: 5000}
	k := connKey{netip.AddrPortFrom(serverAddr, 80), netip.AddrPortFrom(clientAddr, 5000)}
	network{
		hosts: []netHost{
			{Config{Name: "client", IPv4: clientAddr, Steps: []Step{conn, ping, {Action: Recv, Bytes: 3000}, recvAny, closeStep}}, topology.Link{Out: topology.Direction{Latency: time.Millisecond}}},
			{serverHost(listen80, Step{Action: Accept, Each: []Step{{Action: Recv, Bytes: 4}, {Action: Send, Bytes: 3000}, closeStep}}), topology.Link{}},
		},
		limit: 501*time.Millisecond + 500*time.Microsecond,
		before: func(net *topology.Network, hs map[string]*Host) {
			hosts = hs
			if err := net.AddInjection(topology.Injection{Via: "client", At: 500 * time.Millisecond, Src: k.remote, Dst: k.local, Flags: segment.SYN, Seq: topology.SeqNext, SeqOffset: 100000}); err != nil {
				t.Fatal(err)
			}
		},
	}.run(t)
	d := hosts["server"].linux.acks[k]
	if d == nil || d.peerMSS == 0 || d.ato != 0 || d.sizeNoted {
		t.Errorf("the new connection's delayed-ACK state = %+v, want a fresh one with its SYN's MSS", d)
	}
}

// TestForgetsHalfOpen: a listener's half-open connections that give up
// (no final ACK: spoofed SYNs) are forgotten, with what the linux profile
// kept of them, instead of staying tracked as CLOSED.
func TestForgetsHalfOpen(t *testing.T) {
	const syns = 600
	h := synFlood(t, serverHost(listen80, Step{Action: Accept, Each: []Step{closeStep}}), 80, syns)
	acks, synAcks := linuxKept(h)
	t.Logf("server: %d endpoints tracked, %d delayed-ACK states, %d SYN-ACKs", len(h.known), acks, synAcks)
	if len(h.known) > 2 || acks >= linuxSweepMin || synAcks >= linuxSweepMin {
		t.Errorf("after %d spoofed SYNs (all given up), the server tracks %d endpoints (want the listener's 1) and keeps %d delayed-ACK states and %d SYN-ACKs (want fewer than %d)", syns, len(h.known), acks, synAcks, linuxSweepMin)
	}
}
