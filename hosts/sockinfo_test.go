package hosts

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
)

// TestConnectTimeout checks that a connect with a timeout is abandoned at
// that virtual time: the socket goes from SYN_SENT to CLOSED, caused by the
// connect's timeout, no SYN is sent from then on, and the step fails with
// ETIMEDOUT.
func TestConnectTimeout(t *testing.T) {
	for _, prof := range []Profile{Netstack, Linux} {
		t.Run(prof.String(), func(t *testing.T) {
			s := DefaultSettings(prof)
			nowhere := Step{Action: Connect, Addr: netip.MustParseAddrPort("10.0.0.9:80"), Target: "10.0.0.9:80", Timeout: 3 * time.Second}
			c := clientHost(nowhere, sleep1s)
			c.Settings = &s
			rec, _ := world(t, time.Minute, c)
			a := rec.app(t, "client", 0)
			if a.at != 3*time.Second || a.ev.Errno != "ETIMEDOUT" || !strings.Contains(a.err, "connect timed out after 3s") {
				t.Errorf("connect = %v, error %q (%s); want 3s, connect timed out after 3s (ETIMEDOUT)", a.at, a.err, a.ev.Errno)
			}
			if a.ev.OnError != event.OnErrorStop || a.ev.Skipped != 1 {
				t.Errorf("connect's on_error = %v, skipped %d; want stop, 1", a.ev.OnError, a.ev.Skipped)
			}
			if n := rec.steps("client"); n != 1 {
				t.Errorf("client reported %d steps, want 1 (the script stops)", n)
			}
			syns := rec.sentBy("client", segment.SYN)
			if len(syns) == 0 {
				t.Fatal("no SYN sent")
			}
			for _, p := range rec.packets {
				if p.at >= 3*time.Second {
					t.Errorf("frame %d sent at %v by %s (%v), after the connect was abandoned", p.ref.Frame, p.at, p.host, p.flags)
				}
			}
			var closed *stateChange
			for i, sc := range rec.states {
				if sc.host == "client" && sc.from == "SYN_SENT" && sc.to == "CLOSED" {
					closed = &rec.states[i]
				}
			}
			if closed == nil || closed.at != 3*time.Second || closed.cause.Why != event.WhyConnectTimeout || closed.cause.Op != "connect" {
				t.Fatalf("SYN_SENT → CLOSED = %+v; want at 3s, caused by the connect's timeout", closed)
			}
		})
	}
}

// TestConnectTimeoutLateSynAck checks what becomes of the half-open
// connection: the server's SYN-ACK, held until after the client gave up,
// finds no socket and is answered with a RST, which resets the server's
// half-open connection. The same socket name then connects again.
func TestConnectTimeoutLateSynAck(t *testing.T) {
	connect := connectPeer
	connect.Timeout = 2 * time.Second
	connect.OnError = Continue
	w := network{
		limit: time.Minute,
		hosts: []netHost{
			{clientHost(connect, connectPeer, closeStep), topology.Link{}},
			{serverHost(listen80, accept, accept), topology.Link{}},
		},
		faults: []topology.Fault{{Name: "late", Action: topology.FaultHold, From: "server", Before: 2 * time.Second, Until: 2500 * time.Millisecond}},
	}
	rec, _ := w.run(t)
	a := rec.app(t, "client", 0)
	if a.ev.Errno != "ETIMEDOUT" || a.ev.OnError != event.OnErrorContinue || a.ev.Skipped != 0 {
		t.Errorf("first connect: error %q (%s), on_error %v, skipped %d; want ETIMEDOUT, continue, 0", a.err, a.ev.Errno, a.ev.OnError, a.ev.Skipped)
	}
	if b := rec.app(t, "client", 1); b.err != "" || !strings.HasPrefix(b.result, "connected from") {
		t.Errorf("second connect = %q, error %q; want connected (the socket name is free again)", b.result, b.err)
	}
	var rst *packet
	for i, p := range rec.packets {
		if p.host == "client" && p.flags&segment.RST != 0 && p.at >= 2500*time.Millisecond {
			rst = &rec.packets[i]
			break
		}
	}
	if rst == nil {
		t.Fatalf("the client did not answer the late SYN-ACK with a RST:\n%v", rec)
	}
	reset := false
	for _, sc := range rec.states {
		if sc.host == "server" && sc.from == "SYN_RCVD" && sc.to == "CLOSED" && sc.cause.Kind == event.ByArrival && sc.cause.Ref == rst.ref {
			reset = true
		}
	}
	if !reset {
		t.Errorf("the server's half-open connection was not reset by frame %d:\n%v", rst.ref.Frame, rec)
	}
}

// TestOnError checks that a failed step ends its script unless its
// on_error is Continue, and what each failed row says about it.
func TestOnError(t *testing.T) {
	refused := Step{Action: Connect, Addr: netip.AddrPortFrom(serverAddr, 81), Target: "server:81"}
	tests := []struct {
		name    string
		on      OnError
		steps   int // rows the client reports
		onError event.OnError
		skipped int
	}{
		{"stop", Stop, 1, event.OnErrorStop, 3},
		{"continue", Continue, 4, event.OnErrorContinue, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := refused
			r.OnError = tc.on
			rec, _ := world(t, time.Minute, clientHost(r, connectPeer, ping, closeStep), serverHost(listen80, accept, recvAny))
			a := rec.app(t, "client", 0)
			if a.ev.Errno != "ECONNREFUSED" || a.ev.OnError != tc.onError || a.ev.Skipped != tc.skipped {
				t.Errorf("refused connect: %q (%s), on_error %v, skipped %d; want ECONNREFUSED, %v, %d", a.err, a.ev.Errno, a.ev.OnError, a.ev.Skipped, tc.onError, tc.skipped)
			}
			if n := rec.steps("client"); n != tc.steps {
				t.Errorf("client reported %d steps, want %d", n, tc.steps)
			}
			for _, a := range rec.find("client", "") {
				if a.err == "" && a.ev.OnError != event.OnErrorNone {
					t.Errorf("%s succeeded with on_error %v, want none", a.step, a.ev.OnError)
				}
			}
		})
	}
}

// TestSoError checks that so_error reports the error a reset left, once,
// as getsockopt(SO_ERROR) reads and clears it, and 0 on a healthy socket.
func TestSoError(t *testing.T) {
	soError := Step{Action: SoError}
	rec, _ := world(t, time.Minute,
		clientHost(connectPeer, soError, Step{Action: Sleep, For: 2 * time.Second}, soError, soError, recvAny),
		serverHost(listen80, accept, sleep1s, abortStep))
	for i, want := range map[int]string{1: "SO_ERROR = 0 (no error pending)", 3: "SO_ERROR = ECONNRESET (connection reset by peer)", 4: "SO_ERROR = 0 (no error pending)"} {
		if a := rec.app(t, "client", i); a.result != want || a.err != "" {
			t.Errorf("step %d (%s) = %q, error %q; want %q", i, a.step, a.result, a.err, want)
		}
	}
	if a := rec.app(t, "client", 5); a.err != "" || !strings.Contains(a.result, "so_error already took its error") {
		t.Errorf("recv after so_error = %q, error %q; want end of stream, the error taken", a.result, a.err)
	}
	if a := rec.app(t, "client", 1); a.ev.Op != "so_error" {
		t.Errorf("so_error's op = %q, want so_error", a.ev.Op)
	}
	// A wait that saw the reset keeps the error for the recv that fails
	// with it; that recv hands it out, so so_error then reads 0.
	rec, _ = world(t, time.Minute,
		clientHost(connectPeer, Step{Action: Wait, Until: EventError, Timeout: 5 * time.Second}, Step{Action: Recv, OnError: Continue}, soError),
		serverHost(listen80, accept, sleep1s, abortStep))
	if a := rec.app(t, "client", 2); a.ev.Errno != "ECONNRESET" {
		t.Errorf("recv after the wait = %q, error %q; want ECONNRESET", a.result, a.err)
	}
	if a := rec.app(t, "client", 3); a.result != "SO_ERROR = 0 (no error pending)" || a.err != "" {
		t.Errorf("so_error after the failed recv = %q, error %q; want SO_ERROR = 0", a.result, a.err)
	}
}

// TestTCPInfo checks tcp_info snapshots: none of a sender before the
// handshake, then the sender's RTT, window and MSS, and a retransmission
// counted after a lost segment.
func TestTCPInfo(t *testing.T) {
	info := Step{Action: TCPInfo}
	w := network{
		limit: time.Minute,
		hosts: []netHost{
			{clientHost(Step{Action: Set, Options: Options{NoDelay: new(true)}}, connectPeer, info, ping, Step{Action: Recv, Bytes: 4}, info, closeStep), fiveMs},
			{serverHost(listen80, accept, Step{Action: Recv, Bytes: 4}, pong, recvAny, closeStep), fiveMs},
		},
		// The client's first data segment is lost once.
		faults: []topology.Fault{{Name: "lose ping", Action: topology.FaultDrop, From: "client", Flags: segment.FlagMatch{Set: segment.PSH}, Nth: 1, Count: 1}},
	}
	rec, _ := w.run(t)
	first := rec.app(t, "client", 2).ev.TCPInfo
	if first == nil {
		t.Fatal("tcp_info reported no snapshot")
	}
	if first.State != event.Established || !first.Sender || first.TotalRetrans != 0 || first.Ssthresh != -1 || first.CAState != "Open" {
		t.Errorf("first snapshot = %+v; want ESTABLISHED, a sender, no retransmission, infinite ssthresh, Open", first)
	}
	if first.MSS != 1420 || first.Cwnd < 10 || first.SndWnd == 0 || first.RcvWnd == 0 || first.SegsOut != 2 || first.SegsIn != 1 {
		t.Errorf("first snapshot = %+v; want MSS 1420, cwnd ≥ 10, windows open, 2 segments out (SYN, ACK), 1 in", first)
	}
	second := rec.app(t, "client", 5).ev.TCPInfo
	if second == nil {
		t.Fatal("second tcp_info reported no snapshot")
	}
	if second.TotalRetrans != 1 || !second.RTTValid || second.RTT < 15*time.Millisecond || second.RTT > 25*time.Millisecond || second.Unacked != 0 {
		t.Errorf("second snapshot = %+v; want 1 retransmission, an RTT near 20ms, nothing unacknowledged", second)
	}
	if second.RTO < 200*time.Millisecond {
		t.Errorf("second snapshot's RTO = %v, want at least rto_min 200ms", second.RTO)
	}
	rec2, _ := world(t, time.Minute, clientHost(Step{Action: Connect, Addr: netip.MustParseAddrPort("10.0.0.9:80"), Target: "10.0.0.9:80", Timeout: 500 * time.Millisecond, OnError: Continue}, Step{Action: Listen, Port: 90, Socket: "l"}, Step{Action: TCPInfo, Socket: "l"}))
	if in := rec2.app(t, "client", 2).ev.TCPInfo; in == nil || in.Sender || in.State != event.Listen {
		t.Errorf("listener's snapshot = %+v, want LISTEN without a sender", in)
	}
	if a := rec2.app(t, "client", 0); a.ev.Errno != "ETIMEDOUT" {
		t.Errorf("connect = %q, want ETIMEDOUT", a.err)
	}
}

var fiveMs = topology.Link{Out: topology.Direction{Latency: 5 * time.Millisecond}, In: topology.Direction{Latency: 5 * time.Millisecond}}

// TestMTU checks that a host's MSS derives from its NIC's MTU: the SYN
// advertises MTU − 40 (IPv4) or MTU − 60 (IPv6), and the peer's data
// segments fit in it.
func TestMTU(t *testing.T) {
	v6c, v6s := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	tests := []struct {
		name     string
		six      bool
		mtu      uint32
		mss      int
		maxBytes int // largest data segment the server sends: MSS − 40 in netstack
	}{
		{"IPv4 default", false, 0, 1460, 1420},
		{"IPv4 1280", false, 1280, 1240, 1200},
		{"IPv4 9000", false, 9000, 8960, 8920},
		{"IPv6 1280", true, 1280, 1220, 1180},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			to := netip.AddrPortFrom(serverAddr, 80)
			c := Config{Name: "client", IPv4: clientAddr, MTU: tc.mtu}
			s := Config{Name: "server", IPv4: serverAddr, MTU: 9000}
			if tc.six {
				to = netip.AddrPortFrom(v6s, 80)
				c = Config{Name: "client", IPv6: v6c, MTU: tc.mtu}
				s = Config{Name: "server", IPv6: v6s, MTU: 9000}
			}
			c.Steps = []Step{{Action: Connect, Addr: to}, recvAny, closeStep}
			s.Steps = []Step{listen80, accept, {Action: Send, Bytes: 20000}, closeStep}
			rec, _ := world(t, time.Minute, c, s)
			syns := rec.sentBy("client", segment.SYN)
			if len(syns) == 0 || syns[0].seg.Opts.MSS != tc.mss {
				t.Fatalf("client's SYNs = %v, want MSS %d", syns, tc.mss)
			}
			biggest := 0
			for _, p := range rec.packets {
				if p.host == "server" {
					biggest = max(biggest, p.payload)
				}
			}
			if biggest != tc.maxBytes {
				t.Errorf("server's largest segment carries %d bytes, want %d", biggest, tc.maxBytes)
			}
		})
	}
}
