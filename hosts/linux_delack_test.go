package hosts

import (
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
)

// delackExchange is labs/testdata/linux/linux-delack.toml: three small
// requests, answered after 20, 10 and 100 ms; the client's link delays
// what it sends by 5 ms.
func delackExchange(t *testing.T, delayed bool) *recorder {
	t.Helper()
	s := DefaultSettings(Linux)
	s.Linux.DelayedAck = delayed
	send := func(data string) Step { return Step{Action: Send, Data: []byte(data)} }
	sleep := func(d time.Duration) Step { return Step{Action: Sleep, For: d} }
	server := serverHost(listen80, Step{Action: Accept},
		recvAny, sleep(20*time.Millisecond), send("one!"),
		recvAny, sleep(10*time.Millisecond), send("two!"),
		recvAny, sleep(100*time.Millisecond), send("three!"),
		recvAny, closeStep)
	client := clientHost(connectPeer, sleep(100*time.Millisecond), send("one"), recvAny, send("two"), recvAny, send("three"), recvAny, closeStep)
	server.Settings, client.Settings = &s, &s
	link := topology.Link{Out: topology.Direction{Latency: 5 * time.Millisecond}}
	rec, _ := network{hosts: []netHost{{client, link}, {server, topology.Link{}}}}.run(t)
	return rec
}

// serverAcks returns the server's pure ACKs and its data segments, in order.
func serverAcks(rec *recorder) (acks, data []packet) {
	for _, p := range rec.packets {
		switch {
		case p.host != "server" || p.flags&(segment.SYN|segment.FIN|segment.RST) != 0:
		case p.payload > 0:
			data = append(data, p)
		default:
			acks = append(acks, p)
		}
	}
	return acks, data
}

// TestLinuxDelayedAck: the first request is acknowledged at once
// (quick-ack mode), the second's ACK rides on the answer 10 ms later
// (ping-pong mode: the server answered the first within the ACK timeout),
// and the third's is sent by the delayed-ACK timer after 40 ms, as the
// kernel does (reference: linux-delack). With delayed_ack = false, every
// request gets its own ACK at once.
func TestLinuxDelayedAck(t *testing.T) {
	rec := delackExchange(t, true)
	acks, data := serverAcks(rec)
	// The ACK of the client's FIN rides on the server's FIN.
	if len(acks) != 2 || len(data) != 3 {
		t.Fatalf("server sent %d pure ACKs and %d data segments, want 2 and 3:\n%s", len(acks), len(data), rec)
	}
	if c := acks[0].cause; c.Kind != event.ByArrival || c.Emu != event.EmuNone {
		t.Errorf("first ACK cause = %+v, want the request's arrival, not emulated (quick-ack)", c)
	}
	if c := data[0].cause; c.Emu != event.EmuNone {
		t.Errorf("first answer cause = %+v, want no held ACK in it", c)
	}
	if c := data[1].cause; c.Emu != event.EmuDelayedAck || c.Delay != 10*time.Millisecond {
		t.Errorf("second answer cause = %+v, want it to carry the ACK held for 10ms", c)
	}
	third := data[1].at + 5*time.Millisecond // the client answers at once; its link delays 5 ms
	if c := acks[1].cause; acks[1].at != third+delackMin || c.Kind != event.ByTimer || c.Timer != event.TimerDelayedAck || c.Emu != event.EmuDelayedAck || c.Delay != delackMin {
		t.Errorf("second pure ACK at %v cause %+v, want the delayed-ACK timer's at %v, held %v", acks[1].at, c, third+delackMin, delackMin)
	}
	timers := 0
	for _, tm := range rec.timers {
		if tm.Kind == event.TimerDelayedAck {
			timers++
			if tm.At != acks[1].at || tm.Host != "server" || tm.State != event.Established {
				t.Errorf("delayed-ACK timer = %+v, want the server's at %v in ESTABLISHED", tm, acks[1].at)
			}
		}
	}
	if timers != 1 {
		t.Errorf("%d delayed-ACK timers reported, want 1", timers)
	}

	rec = delackExchange(t, false)
	acks, data = serverAcks(rec)
	// One for each request, one for the client's FIN.
	if len(acks) != 4 || len(data) != 3 {
		t.Fatalf("delayed_ack = false: server sent %d pure ACKs and %d data segments, want 4 and 3:\n%s", len(acks), len(data), rec)
	}
	for _, a := range acks {
		if a.cause.Kind != event.ByArrival || a.cause.Emu != event.EmuNone {
			t.Errorf("delayed_ack = false: ACK cause %+v, want an arrival's, not emulated", a.cause)
		}
	}
}

// TestLinuxDelayedAckReset: an ACK held for a FIN is not owed once the
// peer resets the connection: no timer fires for it, and nothing is sent.
func TestLinuxDelayedAckReset(t *testing.T) {
	client := clientHost(connectPeer, ping, recvAny, Step{Action: Shutdown}, Step{Action: Sleep, For: 10 * time.Millisecond}, abortStep)
	server := serverHost(listen80, Step{Action: Accept}, recvAny, pong, recvAny, sleep1s, closeStep)
	link := topology.Link{Out: topology.Direction{Latency: 5 * time.Millisecond}}
	rec, _ := network{hosts: []netHost{{client, link}, {server, topology.Link{}}}}.run(t)
	var fin, rst time.Duration = -1, -1
	for _, p := range rec.packets {
		switch {
		case p.host == "client" && p.flags&segment.FIN != 0 && fin < 0:
			fin = p.at
		case p.host == "client" && p.flags&segment.RST != 0:
			rst = p.at
		}
	}
	if fin < 0 || rst < 0 {
		t.Fatalf("client sent FIN at %v and RST at %v, want both:\n%s", fin, rst, rec)
	}
	for _, p := range rec.packets {
		if p.host == "server" && p.at > fin && p.flags&(segment.FIN|segment.RST) == 0 && p.payload == 0 {
			t.Errorf("server sent a bare ACK at %v (cause %+v): the ACK of the FIN should have waited, then died with the connection", p.at, p.cause)
		}
	}
	for _, tm := range rec.timers {
		if tm.Kind == event.TimerDelayedAck {
			t.Errorf("delayed-ACK timer reported at %v in %v: nothing was owed after the RST", tm.At, tm.State)
		}
	}
}

// TestNagleHeld: the body of a request written in two pieces waits for
// the ACK of its header (Nagle's algorithm), and the segment that carries
// it says how long; with TCP_NODELAY nothing waits. The server's ACK of
// the header is the delayed-ACK timer's (labs/nagle-delayed-ack.toml).
func TestNagleHeld(t *testing.T) {
	for _, nagle := range []bool{true, false} {
		s := DefaultSettings(Linux)
		s.Nagle = nagle
		send := Step{Action: Send, Bytes: 100}
		client := clientHost(connectPeer, Step{Action: Sleep, For: 100 * time.Millisecond}, send, Step{Action: Recv, Bytes: 100}, send, send, Step{Action: Recv, Bytes: 100}, closeStep)
		client.Settings = &s
		server := serverHost(listen80, Step{Action: Accept}, Step{Action: Recv, Bytes: 100}, send, Step{Action: Recv, Bytes: 200}, send, recvAny, closeStep)
		link := topology.Link{Out: topology.Direction{Latency: 10 * time.Millisecond}}
		rec, _ := network{hosts: []netHost{{client, link}, {server, topology.Link{}}}}.run(t)
		var data []packet
		for _, p := range rec.packets {
			if p.host == "client" && p.payload > 0 {
				data = append(data, p)
			}
		}
		if len(data) != 3 {
			t.Fatalf("nagle %v: client sent %d data segments, want 3:\n%s", nagle, len(data), rec)
		}
		body := data[2]
		switch {
		case nagle && (body.cause.Nagle != 50*time.Millisecond || body.cause.Kind != event.ByArrival || body.at-data[1].at != 50*time.Millisecond):
			t.Errorf("nagle on: body sent %v after the header, cause %+v; want 50ms later (the header's 10ms to the server, then its 40ms delayed ACK), released by the ACK, Nagle 50ms", body.at-data[1].at, body.cause)
		case !nagle && (body.cause.Nagle != 0 || body.at != data[1].at):
			t.Errorf("nagle off: body sent %v after the header, cause %+v; want at once, no Nagle", body.at-data[1].at, body.cause)
		}
		for _, p := range data[:2] {
			if p.cause.Nagle != 0 {
				t.Errorf("nagle %v: segment at %v cause %+v: nothing held it", nagle, p.at, p.cause)
			}
		}
	}
}
