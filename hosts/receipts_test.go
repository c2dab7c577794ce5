package hosts

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
)

// arrivedAt returns when the packet ref reached a host, or -1.
func (r *recorder) arrivedAt(ref event.Ref) time.Duration {
	for _, f := range r.fates {
		if f.Kind == event.Arrived && f.Ref == ref {
			return f.At
		}
	}
	return -1
}

// checkReceipt checks the receipt of the packet p: host reported it, when
// it arrived, with verdict v, and with counter moved among its counters
// when counter is not "".
func checkReceipt(t *testing.T, rec *recorder, p packet, host string, v event.Verdict, counter string) {
	t.Helper()
	rc := rec.receipt(p.ref)
	if rc == nil {
		t.Errorf("no receipt for %v (%v from %s)\n%s", p.ref, p.flags, p.host, rec)
		return
	}
	if rc.Host != host || rc.Verdict != v {
		t.Errorf("receipt of %v (%v from %s) = %s by %s, want %s by %s\n%s", p.ref, p.flags, p.host, rc.Verdict, rc.Host, v, host, rec)
	}
	if at := rec.arrivedAt(p.ref); rc.At != at {
		t.Errorf("receipt of %v at %v, want when it arrived, %v", p.ref, rc.At, at)
	}
	if counter != "" && !slices.ContainsFunc(rc.Counters, func(m event.CounterMove) bool { return m.Name == counter && m.Delta == 1 }) {
		t.Errorf("receipt of %v counters = %+v, want %s +1", p.ref, rc.Counters, counter)
	}
}

// TestReceiptNoSocket: a SYN to a port nobody listens on is answered with a
// RST, caused by the SYN's arrival; the RST then closes the client's
// connection.
func TestReceiptNoSocket(t *testing.T) {
	tests := []struct {
		name   string
		server []Step
	}{
		{name: "no listener"},
		{name: "wrong port", server: []Step{listen80}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := lab{client: []Step{{Action: Connect, Addr: netip.AddrPortFrom(serverAddr, 81)}}, server: tt.server}.run(t)
			syn := rec.sentBy("client", segment.SYN)
			rst := rec.sentBy("server", segment.RST)
			if len(syn) != 1 || len(rst) != 1 {
				t.Fatalf("client sent %d SYNs, server %d RSTs, want 1 each\n%s", len(syn), len(rst), rec)
			}
			checkReceipt(t, rec, syn[0], "server", event.NoSocket, "")
			if want := event.Arrival(syn[0].ref); rst[0].cause != want {
				t.Errorf("server's RST cause = %+v, want %+v (the SYN's arrival)", rst[0].cause, want)
			}
			checkReceipt(t, rec, rst[0], "client", event.Processed, "")
			if got, want := rec.causes("client", netip.AddrPortFrom(clientAddr, 0)), []string{"CLOSED→SYN_SENT: app connect", "SYN_SENT→CLOSED: RST-ACK from server"}; !slices.Equal(got, want) {
				t.Errorf("client transitions = %q, want %q", got, want)
			}
		})
	}
}

// TestReceiptBadChecksum: a link that corrupts every packet in one
// direction makes the receiver drop them all for their checksum.
func TestReceiptBadChecksum(t *testing.T) {
	tests := []struct {
		name     string
		link     topology.Link // the server's
		sender   string        // whose packets are corrupted
		receiver string
		flags    segment.Flags // what they are
	}{
		{name: "toward the server", link: topology.Link{In: topology.Direction{Corrupt: 1}}, sender: "client", receiver: "server", flags: segment.SYN},
		{name: "from the server", link: topology.Link{Out: topology.Direction{Corrupt: 1}}, sender: "server", receiver: "client", flags: segment.SYN | segment.ACK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link := topology.Link{Out: topology.Direction{Latency: 5 * time.Millisecond}, In: topology.Direction{Latency: 5 * time.Millisecond}}
			rec, _ := network{
				hosts: []netHost{
					{clientHost(connectPeer), link},
					{serverHost(listen80, accept), tt.link},
				},
				limit: 3500 * time.Millisecond, // SYNs at 0, 1, 2, 3 s (Linux's schedule), each delivered 5 ms later
			}.run(t)
			sent := rec.sentBy(tt.sender, tt.flags)
			if len(sent) < 2 {
				t.Fatalf("%s sent %d %v, want a retransmission at least\n%s", tt.sender, len(sent), tt.flags, rec)
			}
			for _, p := range sent {
				corrupted := slices.ContainsFunc(rec.fates, func(f *event.Fate) bool { return f.Kind == event.Corrupted && f.Ref == p.ref })
				if !corrupted {
					t.Errorf("%v (%v) has no Corrupted fate", p.ref, p.flags)
				}
				checkReceipt(t, rec, p, tt.receiver, event.BadChecksum, "ChecksumErrors")
			}
			if got := rec.transitions(tt.receiver, netip.AddrPortFrom(serverAddr, 80)); len(got) != 0 && tt.receiver == "server" {
				t.Errorf("server connection transitions = %q, want none: no SYN got through", got)
			}
		})
	}
}

// TestReceiptQueueOverflow fills a listener's accept queue (the server
// never accepts) and checks what becomes of the next SYN and of final
// ACKs. With the netstack profile, listen(n) holds n connections, and a
// SYN that finds n-1 handshakes in progress is answered with a cookie, so
// listen(1) answers every SYN with a cookie: no SYN_RCVD endpoint exists.
func TestReceiptQueueOverflow(t *testing.T) {
	near := topology.Link{Out: topology.Direction{Latency: 5 * time.Millisecond}, In: topology.Direction{Latency: 5 * time.Millisecond}}
	far := topology.Link{Out: topology.Direction{Latency: 100 * time.Millisecond}, In: topology.Direction{Latency: 100 * time.Millisecond}}
	netstack := ptr(DefaultSettings(Netstack))
	server := func(backlog int) netHost {
		return netHost{Config{Name: "server", IPv4: serverAddr, Settings: netstack, Steps: []Step{{Action: Listen, Port: 80, Backlog: backlog}}}, topology.Link{}}
	}
	client := func(name string, addr netip.Addr, at time.Duration, link topology.Link) netHost {
		return netHost{Config{Name: name, IPv4: addr, Steps: []Step{{Action: Connect, At: at, Addr: server80}}}, link}
	}
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.3")

	t.Run("SYN", func(t *testing.T) {
		// a's connection fills the queue; b's SYNs are dropped.
		rec, _ := network{
			hosts: []netHost{server(1), client("a", a, 0, near), client("b", b, time.Second, near)},
			limit: 4500 * time.Millisecond, // b's SYNs at 1, 2, 3, 4 s (Linux's schedule)
		}.run(t)
		aSYN, aACK := rec.sentBy("a", segment.SYN), rec.sentBy("a", segment.ACK)
		if len(aSYN) != 1 || len(aACK) != 1 {
			t.Fatalf("a sent %d SYNs and %d ACKs, want 1 each\n%s", len(aSYN), len(aACK), rec)
		}
		checkReceipt(t, rec, aSYN[0], "server", event.Processed, "ListenOverflowSynCookieSent")
		checkReceipt(t, rec, aACK[0], "server", event.CookieAccepted, "ListenOverflowSynCookieRcvd")
		bSYN := rec.sentBy("b", segment.SYN)
		if len(bSYN) < 2 {
			t.Fatalf("b sent %d SYNs, want retransmissions\n%s", len(bSYN), rec)
		}
		for _, p := range bSYN {
			checkReceipt(t, rec, p, "server", event.SynQueueOverflow, "ListenOverflowSynDrop")
		}
		if got := rec.sentBy("server", segment.SYN|segment.ACK); len(got) != 1 {
			t.Errorf("server sent %d SYN-ACKs, want 1 (to a)", len(got))
		}
	})
	t.Run("ACK with a cookie", func(t *testing.T) {
		// Both SYNs find the queue empty and get cookies (a's at 5ms,
		// b's at 7ms); a's ACK fills the queue (15ms), b's is dropped
		// (21ms). The server holds no endpoint for b.
		seven := topology.Link{Out: topology.Direction{Latency: 7 * time.Millisecond}, In: topology.Direction{Latency: 7 * time.Millisecond}}
		rec, _ := network{
			hosts: []netHost{server(1), client("a", a, 0, near), client("b", b, 0, seven)},
			limit: 5 * time.Second,
		}.run(t)
		aACK, bACK := rec.sentBy("a", segment.ACK), rec.sentBy("b", segment.ACK)
		if len(aACK) != 1 || len(bACK) != 1 {
			t.Fatalf("a sent %d ACKs, b %d, want 1 each\n%s", len(aACK), len(bACK), rec)
		}
		checkReceipt(t, rec, aACK[0], "server", event.CookieAccepted, "ListenOverflowSynCookieRcvd")
		checkReceipt(t, rec, bACK[0], "server", event.AckQueueOverflow, "ListenOverflowAckDrop")
		for _, s := range rec.states {
			if s.host == "server" && s.remote.Addr() == b {
				t.Errorf("server state change %s→%s for b, want none: a cookie leaves no endpoint", s.from, s.to)
			}
		}
	})
	t.Run("ACK to a half-open connection", func(t *testing.T) {
		// listen(2): far's SYN makes a half-open connection (100ms);
		// near's two connections (cookies, as one handshake is in
		// progress) fill the queue (145ms) before far's final ACK
		// arrives (300ms), which is dropped: the server stays SYN_RCVD
		// and resends its SYN-ACK, and far's answer is dropped too.
		rec, _ := network{
			hosts: []netHost{
				server(2),
				client("far", a, 0, far),
				{Config{Name: "near", IPv4: b, Apps: []App{{Model: Holder{Target: server80, At: 110 * time.Millisecond, Count: 2, Interval: 20 * time.Millisecond}}}}, near},
			},
			limit: 3 * time.Second,
		}.run(t)
		farACK := rec.sentBy("far", segment.ACK)
		if len(farACK) < 2 {
			t.Fatalf("far sent %d ACKs, want the final ACK and its answer to a resent SYN-ACK\n%s", len(farACK), rec)
		}
		for _, p := range farACK {
			checkReceipt(t, rec, p, "server", event.AckQueueOverflow, "")
		}
		if got, want := rec.transitions("server", server80), []string{"LISTEN→SYN_RCVD", "LISTEN→ESTABLISHED", "LISTEN→ESTABLISHED"}; !slices.Equal(got, want) {
			t.Errorf("server connection transitions = %q, want %q: far's stays SYN_RCVD", got, want)
		}
		resent := 0
		for _, p := range rec.sentBy("server", segment.SYN|segment.ACK) {
			if p.dst.Addr() == a && p.cause == event.TimerCause(event.TimerHandshake) {
				resent++
			}
		}
		if resent == 0 {
			t.Errorf("server resent no SYN-ACK to far by its handshake timer\n%s", rec)
		}
	})
}

// TestReportStalls: a connection that ends normally leaves nothing
// unacknowledged; one cut off with data in flight does (ReportStalls
// itself does not look at timers: called while a retransmission is still
// due, it reports the data).
func TestReportStalls(t *testing.T) {
	rec, res := lab{
		client: []Step{connect, {Action: Send, Bytes: 10000}, {Action: Recv}, closeStep},
		server: []Step{listen80, accept, {Action: Recv, Bytes: 10000}, closeStep},
	}.run(t)
	if res.Reason != topology.Idle {
		t.Fatalf("Run() reason = %v, want idle", res.Reason)
	}
	if len(rec.stalls) != 0 {
		t.Errorf("stalls after a normal close = %+v, want none", rec.stalls)
	}

	var hs map[string]*Host
	link := topology.Link{Out: topology.Direction{Latency: 10 * time.Millisecond}, In: topology.Direction{Latency: 10 * time.Millisecond}, Down: []topology.Window{{From: time.Second}}}
	rec, res = network{
		hosts: []netHost{
			{clientHost(connectPeer, Step{Action: Send, At: 2 * time.Second, Data: []byte("hello")}), link},
			{serverHost(listen80, accept, recvAny), topology.Link{}},
		},
		limit:  3 * time.Second,
		before: func(_ *topology.Network, m map[string]*Host) { hs = m },
	}.run(t)
	if res.Reason != topology.TimeLimit {
		t.Fatalf("Run() reason = %v, want time limit", res.Reason)
	}
	hs["client"].ReportStalls(res.End)
	if len(rec.stalls) != 1 {
		t.Fatalf("stalls = %+v, want one for the client's unacknowledged data", rec.stalls)
	}
	s := rec.stalls[0]
	if s.Host != "client" || s.State != event.Established || s.Remote != server80 || s.SndUna.Size(s.SndNxt) != 5 {
		t.Errorf("stall = %+v, want client ESTABLISHED to %v with 5 bytes unacknowledged", s, server80)
	}
}

// TestCounterCause: counters that move outside an arrival are reported
// with the call that moved them, even when the application makes another
// call before the host settles (here abort, then connect, in one wake-up).
func TestCounterCause(t *testing.T) {
	rec, _ := world(t, 0,
		clientHost(connectPeer, sleep1s, abortStep, Step{Action: Connect, Addr: server80, Socket: "c2"}, closeStep),
		serverHost(listen80, accept, recvAny, Step{Action: Sleep, For: 3 * time.Second}),
	)
	var got []string
	for _, c := range rec.counters {
		if c.Host != "client" {
			continue
		}
		for _, m := range c.Counters {
			got = append(got, m.Name+": "+causeText(c.Cause))
		}
	}
	if want := []string{"EstablishedResets: app abort"}; !slices.Equal(got, want) {
		t.Errorf("client counters = %q, want %q", got, want)
	}
}
