package hosts

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
)

// TestTimerKinds runs one small lab per kind of netstack timer and checks
// that the host reports the timer when it fires (hosts/timers.go identifies
// each timer from its callback, which depends on netstack's code: this
// test is what notices when that breaks), with the endpoint it belongs to
// and its state then, and that what the stack sends when it fires carries
// the timer as its cause.
//
// Every kind netstack has is produced. Two need more than a lab file can
// say: the RACK reorder timer needs data segments sent at different
// instants (so that one delivered later than a lost one was sent after it)
// with Nagle off, and the cork timer needs TCP_CORK, which Options cannot
// set, so the test sets it on the client's endpoint directly.
func TestTimerKinds(t *testing.T) {
	// The client's link delays each way by 10ms: a round trip of 20ms.
	link := topology.Link{Out: topology.Direction{Latency: 10 * time.Millisecond}}
	two := func(client, server Config) []netHost {
		client.Name, client.IPv4 = "client", clientAddr
		server.Name, server.IPv4 = "server", serverAddr
		return []netHost{{client, link}, {server, topology.Link{}}}
	}
	noDelay := Step{Action: Set, Options: Options{NoDelay: ptr(true)}}
	psh := segment.FlagMatch{Set: segment.PSH}
	syn := segment.FlagMatch{Set: segment.SYN, Clear: segment.ACK}
	synAck := segment.FlagMatch{Set: segment.SYN | segment.ACK}
	serve := []Step{listen80, accept, recvAny, {Action: Sleep, For: time.Minute}, closeStep}

	tests := []struct {
		name string
		w    network
		kind event.TimerKind
		// host's endpoint local→remote (a zero port matches any) must
		// report the timer in state.
		host          string
		local, remote netip.AddrPort
		state         event.State
		// sends is what the stack sends when the timer fires; zero when
		// it sends nothing: then the endpoint moves from state to to,
		// with the timer as cause.
		sends segment.Flags
		to    event.State
	}{
		{
			// The data segment and the tail loss probe that resends it
			// are both lost: the RTO fires.
			name: "rto",
			w: network{
				hosts:  two(Config{Steps: []Step{connect, {Action: Send, Data: []byte("hello")}, {Action: Sleep, For: 5 * time.Second}, closeStep}}, Config{Steps: serve}),
				faults: []topology.Fault{{Action: topology.FaultDrop, From: "client", Flags: psh, Nth: 1, Count: 2}},
			},
			kind: event.TimerRTO, host: "client", local: netip.AddrPortFrom(clientAddr, 0), remote: server80,
			state: event.Established, sends: segment.PSH | segment.ACK,
		},
		{
			// The only segment in flight is lost: nothing comes back, and
			// the probe timeout (capped by the RTO) resends it. (The same
			// happens when the last segment of a burst is lost: no segment
			// sent after it is ever acknowledged, so RACK cannot mark it
			// lost. Before tcplab patched RACK's tie-break, netstack took it
			// for a segment sent before the acknowledged ones and its
			// reorder timer resent it.)
			name: "tlp",
			w: network{
				hosts:  two(Config{Steps: []Step{connect, {Action: Send, Data: []byte("hello")}, {Action: Sleep, For: 5 * time.Second}, closeStep}}, Config{Steps: serve}),
				faults: []topology.Fault{{Action: topology.FaultDrop, From: "client", Flags: psh, Nth: 1}},
			},
			kind: event.TimerTLP, host: "client", local: netip.AddrPortFrom(clientAddr, 0), remote: server80,
			state: event.Established, sends: segment.PSH | segment.ACK,
		},
		{
			// Three small segments 1ms apart; the first is lost. The
			// SACK of the second comes back within the reorder window
			// (min RTT / 4) of the first's expected ACK, so RACK arms its
			// reorder timer rather than marking the first lost at once,
			// and resends it when the timer fires.
			name: "rack reorder",
			w: network{
				hosts: two(Config{Steps: []Step{
					noDelay, connect,
					{Action: Sleep, For: time.Second},
					{Action: Send, Data: []byte("a")}, {Action: Sleep, For: time.Millisecond},
					{Action: Send, Data: []byte("b")}, {Action: Sleep, For: time.Millisecond},
					{Action: Send, Data: []byte("c")},
					{Action: Sleep, For: 5 * time.Second}, closeStep,
				}}, Config{Steps: serve}),
				faults: []topology.Fault{{Action: topology.FaultDrop, From: "client", Flags: psh, Nth: 1}},
			},
			kind: event.TimerRACK, host: "client", local: netip.AddrPortFrom(clientAddr, 0), remote: server80,
			state: event.Established, sends: segment.PSH | segment.ACK,
		},
		{
			// The middle segment of a burst (three segments sent in one
			// instant) is lost. The SACK of the third says a segment sent
			// at the same instant, and after the second in sequence, was
			// delivered (RFC 8985's tie-break, which tcplab's patch gives
			// netstack): RACK waits one reorder window for the second and
			// its reorder timer resends it.
			name: "rack burst",
			w: network{
				hosts: two(Config{Steps: []Step{connect, {Action: Send, Bytes: 4000}, {Action: Sleep, For: 5 * time.Second}, closeStep}}, Config{Steps: serve}),
				faults: []topology.Fault{{Action: topology.FaultDrop, From: "client",
					Flags: segment.FlagMatch{Set: segment.ACK, Clear: segment.SYN | segment.FIN | segment.PSH}, Nth: 3}},
			},
			kind: event.TimerRACK, host: "client", local: netip.AddrPortFrom(clientAddr, 0), remote: server80,
			state: event.Established, sends: segment.ACK,
		},
		{
			// TCP_CORK holds a small write back for at most 200ms.
			name: "cork",
			w: network{
				hosts: two(Config{Steps: []Step{connect, {Action: Sleep, For: time.Second}, {Action: Send, Data: []byte("hello")}, {Action: Sleep, For: 5 * time.Second}, closeStep}}, Config{Steps: serve}),
				before: func(_ *topology.Network, hs map[string]*Host) {
					h := hs["client"]
					h.at(500*time.Millisecond, func() {
						for _, tr := range h.tracked {
							if tr.state == event.Established {
								tr.ep.SocketOptions().SetCorkOption(true)
							}
						}
					})
				},
			},
			kind: event.TimerCork, host: "client", local: netip.AddrPortFrom(clientAddr, 0), remote: server80,
			state: event.Established, sends: segment.PSH | segment.ACK,
		},
		{
			// Keep-alive after 10s of silence; the server answers.
			name: "keepalive",
			w: network{
				hosts: two(Config{
					Steps:    []Step{connect, {Action: Send, Data: []byte("hi")}, {Action: Sleep, For: 15 * time.Second}, closeStep},
					Settings: tuned(func(s *Settings) { s.Keepalive, s.KeepaliveTime = true, 10*time.Second }),
				}, Config{Steps: serve}),
			},
			kind: event.TimerKeepalive, host: "client", local: netip.AddrPortFrom(clientAddr, 0), remote: server80,
			state: event.Established, sends: segment.ACK,
		},
		{
			name: "handshake: SYN lost",
			w: network{
				hosts:  two(Config{Steps: []Step{connect, closeStep}}, Config{Steps: serve}),
				faults: []topology.Fault{{Action: topology.FaultDrop, From: "client", Flags: syn, Nth: 1}},
			},
			kind: event.TimerHandshake, host: "client", local: netip.AddrPortFrom(clientAddr, 0), remote: server80,
			state: event.SynSent, sends: segment.SYN,
		},
		{
			// The SYN-ACK is lost, and so is the client's second SYN
			// (which would make the server resend its SYN-ACK at the same
			// instant its timer fires).
			name: "handshake: SYN-ACK lost",
			w: network{
				hosts: two(Config{Steps: []Step{connect, closeStep}}, Config{Steps: serve}),
				faults: []topology.Fault{
					{Action: topology.FaultDrop, From: "server", Flags: synAck, Nth: 1},
					{Action: topology.FaultDrop, From: "client", Flags: syn, Nth: 2},
				},
			},
			kind: event.TimerHandshake, host: "server", local: server80, remote: netip.AddrPortFrom(clientAddr, 0),
			state: event.SynRcvd, sends: segment.SYN | segment.ACK,
		},
		{
			// The client closes; the server never does. The orphaned
			// FIN_WAIT_2 ends after the fin timeout.
			name: "fin_wait_2",
			w: network{
				hosts: two(Config{
					Steps:    []Step{connect, closeStep},
					Settings: tuned(func(s *Settings) { s.FinTimeout = 5 * time.Second }),
				}, Config{Steps: []Step{listen80, accept, {Action: Sleep, For: time.Minute}}}),
			},
			kind: event.TimerFinWait2, host: "client", local: netip.AddrPortFrom(clientAddr, 0), remote: server80,
			state: event.FinWait2, to: event.Closed,
		},
		{
			name: "time_wait",
			w: network{
				hosts: two(Config{Steps: []Step{connect, closeStep}}, Config{Steps: []Step{listen80, accept, recvAny, closeStep}}),
			},
			kind: event.TimerTimeWait, host: "client", local: netip.AddrPortFrom(clientAddr, 0), remote: server80,
			state: event.TimeWait, to: event.Closed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := tt.w.run(t)
			cause := event.TimerCause(tt.kind)
			var fired []*event.Timer
			for _, tm := range rec.timers {
				if tm.Kind == tt.kind && tm.Host == tt.host {
					fired = append(fired, tm)
				}
			}
			if len(fired) == 0 {
				t.Fatalf("%s reported no %s timer\n%s", tt.host, tt.kind, rec)
			}
			// Every such timer is the connection's; at least one fires in
			// the expected state and sends what it should. (Later ones
			// may fire in other states: netstack keeps the keep-alive
			// timer running in FIN_WAIT_2 and even TIME_WAIT.)
			inState, sent := false, false
			for _, tm := range fired {
				if !addrMatch(tm.Local, tt.local) || !addrMatch(tm.Remote, tt.remote) {
					t.Errorf("%s timer at %v on %v→%v, want on %v→%v", tm.Kind, tm.At, tm.Local, tm.Remote, tt.local, tt.remote)
				}
				if tm.Kind == event.TimerRTO && tm.RTO <= 0 {
					t.Errorf("rto timer at %v reports RTO %v, want the timeout that expired", tm.At, tm.RTO)
				}
				if tm.State != tt.state {
					continue
				}
				inState = true
				for _, p := range rec.packets {
					if p.host == tt.host && p.at == tm.At && withoutEmu(p.cause) == cause {
						sent = true
						if p.flags != tt.sends || p.src != tm.Local || p.dst != tm.Remote {
							t.Errorf("%s sent %v %v→%v for the %s timer, want %v %v→%v", p.host, p.flags, p.src, p.dst, tm.Kind, tt.sends, tm.Local, tm.Remote)
						}
					}
				}
			}
			if !inState {
				t.Errorf("%s reported no %s timer in %v\n%s", tt.host, tt.kind, tt.state, rec)
			}
			if tt.sends != 0 && !sent {
				t.Errorf("%s sent nothing with cause %+v when its %s timer fired\n%s", tt.host, cause, tt.kind, rec)
			}
			if tt.sends == 0 {
				found := false
				for _, s := range rec.states {
					if s.host == tt.host && withoutEmu(s.cause) == cause && s.from == tt.state.String() && s.to == tt.to.String() {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: no %v→%v with cause %+v\n%s", tt.host, tt.state, tt.to, cause, rec)
				}
			}
		})
	}
}

// addrMatch reports whether got is want, any port when want's is 0.
func addrMatch(got, want netip.AddrPort) bool {
	return got.Addr() == want.Addr() && (want.Port() == 0 || got.Port() == want.Port())
}

// tuned returns the default (Linux) settings changed by set.
func tuned(set func(*Settings)) *Settings {
	s := DefaultSettings(Linux)
	set(&s)
	return &s
}

// withoutEmu returns a cause without its emulation mark: under the linux
// profile the handshake timer runs on Linux's schedule (linux_syn.go) and
// says so.
func withoutEmu(c event.Cause) event.Cause {
	c.Emu = event.EmuNone
	return c
}
