package tap

import (
	"net/netip"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

// TestKeepsNoPacket: once a connection's rows are out, the tap keeps none
// of its packets alive, neither their parsed segments nor their bytes,
// however long the connection lives: in a run the bytes are in 32 KB
// blocks of the sender's NIC and the segment in the switch's allocation of
// the packet, so one packet kept keeps dozens (a conn used to keep its
// SYN's options, whose list of option kinds is inside the segment).
func TestKeepsNoPacket(t *testing.T) {
	d := newDriver(t)
	c := newConv()
	syn, synAck, ack := d.handshake(c, 0, optMSS(1460), optSACKPerm(), optWS(7))
	data := d.send(30*ms, "client", c.c2s(fACK|fPSH, 1, 1, "hello"), event.AppCause("send"))
	d.deliver(data, 40*ms, "server")
	var segs []weak.Pointer[byte]
	var segAt []weak.Pointer[segment.Segment]
	for _, ref := range []event.Ref{syn, synAck, ack, data} {
		e := d.sent[ref.Frame]
		segs = append(segs, weak.Make(&e.Data[0]))
		segAt = append(segAt, weak.Make(e.Seg))
	}
	// The driver keeps what it sent; the tap must not.
	clear(d.sent)
	clear(d.data)
	runtime.GC()
	for i := range segs {
		if segs[i].Value() != nil {
			t.Errorf("the bytes of packet %d are still alive after its rows are out", i+1)
		}
		if segAt[i].Value() != nil {
			t.Errorf("the segment of packet %d is still alive after its rows are out", i+1)
		}
	}
	runtime.KeepAlive(d.tap)
	if len(d.tap.conns) != 1 {
		t.Fatalf("the tap knows %d connections, want 1 (still live)", len(d.tap.conns))
	}
}

// TestEndCacheForgets: endOf's cache forgets what a sweep forgets.
func TestEndCacheForgets(t *testing.T) {
	tp := New()
	tp.AddHost("client", []netip.Addr{addrClient})
	k := endKey{"client", epClient, epServer}
	e := &endState{state: event.Closed}
	tp.ends[k] = e
	tp.conns[keyOfEnds(epClient, epServer)] = &conn{}
	if got := tp.endOf("client", epClient, epServer); got != e {
		t.Fatalf("endOf = %p, want %p", got, e)
	}
	tp.sweep(time.Minute)
	if len(tp.ends) != 0 {
		t.Fatalf("the sweep kept %d endpoints, want 0", len(tp.ends))
	}
	if got := tp.endOf("client", epClient, epServer); got != nil {
		t.Errorf("endOf after the sweep = %+v, want nil (forgotten)", got)
	}
}
