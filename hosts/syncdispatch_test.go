package hosts

import (
	"bytes"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// TestSynchronousDispatcher exercises netstack's synchronous dispatcher
// (third_party/gvisor patch 2) on its own: a connection between two stacks is
// made, and data delivered, only when the stacks are paused; and a pause that
// finds an endpoint's lock held returns (upstream's processor goroutine
// would wait for the holder; here the holder is the caller, so looping would
// hang the run) and leaves the segments for the next pause.
func TestSynchronousDispatcher(t *testing.T) {
	newStack := func(last byte) (*stack.Stack, *channel.Endpoint, tcpip.Address) {
		s := stack.New(stack.Options{
			NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
			TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocolSynchronous},
		})
		t.Cleanup(s.Close)
		l := channel.New(64, 1500, "")
		if err := s.CreateNIC(1, l); err != nil {
			t.Fatal(err)
		}
		addr := tcpip.AddrFrom4([4]byte{10, 0, 0, last})
		if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr, PrefixLen: 24}}, stack.AddressProperties{}); err != nil {
			t.Fatal(err)
		}
		s.SetRouteTable([]tcpip.Route{{Destination: tcpip.AddressWithPrefix{Address: addr, PrefixLen: 24}.Subnet(), NIC: 1}})
		return s, l, addr
	}
	cs, cl, _ := newStack(1)
	ss, sl, saddr := newStack(2)
	// pause moves what each stack sent to the other and pauses the
	// receiver, until nothing moves; it fails the test if a pause hangs,
	// after calling unblock (if not nil) so that the stacks can close.
	pause := func(what string, unblock func()) {
		t.Helper()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for moved := true; moved; {
				moved = false
				for _, hop := range []struct {
					from, to *channel.Endpoint
					s        *stack.Stack
				}{{cl, sl, ss}, {sl, cl, cs}} {
					for {
						pkt := hop.from.Read()
						if pkt == nil {
							break
						}
						v := pkt.ToView()
						pkt.DecRef()
						in := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(v.AsSlice())})
						v.Release()
						hop.to.InjectInbound(ipv4.ProtocolNumber, in)
						in.DecRef()
						hop.s.Pause()
						hop.s.Resume()
						moved = true
					}
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			if unblock != nil {
				unblock()
				<-done
			}
			t.Fatalf("%s: Pause did not return", what)
		}
	}

	var lwq, cwq waiter.Queue
	l, e := ss.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &lwq)
	if e != nil {
		t.Fatal(e)
	}
	if e := l.Bind(tcpip.FullAddress{Addr: saddr, Port: 80}); e != nil {
		t.Fatal(e)
	}
	if e := l.Listen(1); e != nil {
		t.Fatal(e)
	}
	c, e := cs.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &cwq)
	if e != nil {
		t.Fatal(e)
	}
	if e := c.Connect(tcpip.FullAddress{Addr: saddr, Port: 80}); e != nil {
		if _, ok := e.(*tcpip.ErrConnectStarted); !ok {
			t.Fatal(e)
		}
	}
	// Deliver the SYN without pausing: it waits in the listener's queue.
	pkt := cl.Read()
	if pkt == nil {
		t.Fatal("the client sent no SYN")
	}
	sl.InjectInbound(ipv4.ProtocolNumber, stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: pkt.ToBuffer()}))
	pkt.DecRef()
	if sl.NumQueued() != 0 {
		t.Fatal("the server answered the SYN before its stack was paused: segments were processed on delivery")
	}
	ss.Pause()
	ss.Resume()
	pause("handshake", nil)
	srv, _, e := l.Accept(nil)
	if e != nil {
		t.Fatalf("no connection to accept after the handshake: %v", e)
	}
	if got := tcp.EndpointState(c.State()); got != tcp.StateEstablished {
		t.Fatalf("client in %v after the handshake, want ESTABLISHED", got)
	}

	// Hold the server endpoint's lock while its data arrives: the pause
	// must return, and the data be there after the next one.
	sep := srv.(*tcp.Endpoint)
	var r bytes.Reader
	r.Reset([]byte("hello"))
	if _, e := c.Write(&r, tcpip.WriteOptions{}); e != nil {
		t.Fatal(e)
	}
	sep.StopWork() // takes the endpoint's lock, as a holder would
	pause("the server endpoint's lock held", sep.ResumeWork)
	sep.ResumeWork()
	var got bytes.Buffer
	if _, e := srv.Read(&got, tcpip.ReadOptions{}); e == nil {
		t.Fatalf("read %q before the pause after the lock was released: processed while locked?", got.String())
	}
	ss.Pause()
	ss.Resume()
	pause("after the lock was released", nil)
	if _, e := srv.Read(&got, tcpip.ReadOptions{}); e != nil || got.String() != "hello" {
		t.Fatalf("read %q, %v after the next pause, want \"hello\"", got.String(), e)
	}
}
