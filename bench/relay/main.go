// Package main is the relay command, the baseline of bench/peer.sh's
// overhead figure: two bare gVisor netstack stacks joined by a relay
// goroutine, no virtual time, no switch, no tap, no capture, transferring
// the same 10 MB as bench/peer/bulk.toml over a 1 MiB buffer. It prints
// its CPU time, so that tcplab's CPU for the same transfer can be put over
// it.
//
//	go run ./bench/relay            # 10 MB
//	go run ./bench/relay -bytes 100000000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
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
	flag.Parse()
	a, la := newStack(tcpip.AddrFrom4([4]byte{10, 1, 1, 1}))
	b, lb := newStack(tcpip.AddrFrom4([4]byte{10, 1, 1, 2}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go relay(ctx, la, lb)
	go relay(ctx, lb, la)

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
	fmt.Printf("relay: %d bytes in %.3fs wall, %.3fs CPU\n", n, wall.Seconds(), cpu.Seconds())
	if n != int64(*size) {
		os.Exit(1)
	}
}

// newStack makes a stack with one channel NIC holding addr.
func newStack(addr tcpip.Address) (*stack.Stack, *channel.Endpoint) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
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

// relay moves every packet from's NIC sends to to's NIC.
func relay(ctx context.Context, from, to *channel.Endpoint) {
	for {
		pkt := from.ReadContext(ctx)
		if pkt == nil {
			return
		}
		v := pkt.ToView()
		pkt.DecRef()
		in := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: bufferFrom(v.AsSlice())})
		v.Release()
		to.InjectInbound(ipv4.ProtocolNumber, in)
		in.DecRef()
	}
}

// bufferFrom copies b into a netstack buffer.
func bufferFrom(b []byte) buffer.Buffer { return buffer.MakeWithData(append([]byte(nil), b...)) }
