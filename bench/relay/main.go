// Package main is the relay command, the baseline of bench/peer.sh's
// overhead figure: two bare gVisor netstack stacks joined by a relay
// goroutine, no virtual time, no switch, no tap, no capture, transferring
// the same 10 MB as bench/peer/bulk.toml over a 1 MiB buffer. It prints
// its CPU time and the packets it relayed, so that tcplab's CPU for the
// same transfer can be put over it.
//
// By default netstack's processor goroutines take the segments the relay
// hands them in batches, and the receiver acknowledges a batch at a time
// (about one ACK in twenty). With -one-by-one each stack processes every
// segment before the relay hands it the next (the synchronous dispatcher of
// third_party/gvisor, paused after each packet), as over tcplab's links,
// where segments arrive spaced out and each gets its ACK: the packets
// netstack alone exchanges (tcplab's linux profile holds back the ACKs
// Linux delays, about a quarter of them).
//
//	go run ./bench/relay                 # 10 MB
//	go run ./bench/relay -one-by-one     # 10 MB, every segment processed alone
//	go run ./bench/relay -bytes 100000000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

func main() {
	size := flag.Int("bytes", 10_000_000, "bytes to transfer")
	oneByOne := flag.Bool("one-by-one", false, "process every segment before relaying the next, as over tcplab's links")
	flag.Parse()
	a, la := newStack(tcpip.AddrFrom4([4]byte{10, 1, 1, 1}), *oneByOne)
	b, lb := newStack(tcpip.AddrFrom4([4]byte{10, 1, 1, 2}), *oneByOne)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pa, pb *stack.Stack // the stack to pause after each packet
	if *oneByOne {
		pa, pb = a, b
	}
	go relay(ctx, la, lb, pb)
	go relay(ctx, lb, la, pa)

	ln, err := gonet.ListenTCP(b, tcpip.FullAddress{NIC: 1, Port: 9000}, ipv4.ProtocolNumber)
	if err != nil {
		log.Fatal(err)
	}
	got := make(chan int64)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, c)
		got <- n
	}()
	start := time.Now()
	c, err := gonet.DialTCP(a, tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4([4]byte{10, 1, 1, 2}), Port: 9000}, ipv4.ProtocolNumber)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for sent := 0; sent < *size; {
		n, err := c.Write(buf[:min(len(buf), *size-sent)])
		if err != nil {
			log.Fatal(err)
		}
		sent += n
	}
	c.Close()
	n := <-got
	wall := time.Since(start)
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("relay: %d bytes in %.3fs wall, %.3fs CPU, %d packets\n", n, wall.Seconds(), cpu.Seconds(), relayed.Load())
	if n != int64(*size) {
		os.Exit(1)
	}
}

// newStack makes a stack with one channel NIC holding addr, whose TCP
// segments are processed by processor goroutines or, synchronous, when the
// stack is paused.
func newStack(addr tcpip.Address, synchronous bool) (*stack.Stack, *channel.Endpoint) {
	proto := tcp.NewProtocol
	if synchronous {
		proto = tcp.NewProtocolSynchronous
	}
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{proto},
	})
	l := channel.New(1024, 1500, "")
	if err := s.CreateNIC(1, l); err != nil {
		log.Fatal(err)
	}
	if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr, PrefixLen: 24}}, stack.AddressProperties{}); err != nil {
		log.Fatal(err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: tcpip.AddressWithPrefix{Address: addr, PrefixLen: 24}.Subnet(), NIC: 1}})
	for _, o := range []tcpip.SettableTransportProtocolOption{
		&tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 4 << 20},
		&tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 4 << 20},
	} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			log.Fatal(err)
		}
	}
	return s, l
}

// relayed counts the packets relayed, both ways.
var relayed atomic.Int64

// relay moves every packet from's NIC sends to to's NIC; with a stack to
// pause, it has each packet processed before it moves the next.
func relay(ctx context.Context, from, to *channel.Endpoint, pause *stack.Stack) {
	for {
		pkt := from.Read()
		if pkt == nil {
			wait, cancel := ctx, context.CancelFunc(func() {})
			if pause != nil {
				// Idle: pause now and then anyway, for an endpoint a
				// pause left because an application held it.
				wait, cancel = context.WithTimeout(ctx, time.Millisecond)
			}
			pkt = from.ReadContext(wait)
			cancel()
		}
		if pkt == nil {
			if ctx.Err() != nil {
				return
			}
			pause.Pause() // only a pausing relay's wait times out
			pause.Resume()
			continue
		}
		relayed.Add(1)
		v := pkt.ToView()
		pkt.DecRef()
		in := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: bufferFrom(v.AsSlice())})
		v.Release()
		to.InjectInbound(ipv4.ProtocolNumber, in)
		in.DecRef()
		if pause != nil {
			pause.Pause() // processes the segment (synchronous dispatcher)
			pause.Resume()
		}
	}
}

// bufferFrom copies b into a netstack buffer (MakeWithData copies), once,
// as tcplab's NIC copies an arriving packet.
func bufferFrom(b []byte) buffer.Buffer { return buffer.MakeWithData(b) }
