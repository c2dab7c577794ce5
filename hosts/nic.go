package hosts

import (
	"sync"

	"github.com/tcplab/tcplab/internal/event"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// nic is a host's network interface: an IP-level link (no link-layer header,
// no address resolution) whose outbound packets are copied into an unbounded
// queue that the loop drains after each barrier. Unlike channel.Endpoint it
// never drops a packet because a queue is full.
type nic struct {
	mtu uint32

	mu         sync.Mutex
	dispatcher stack.NetworkDispatcher
	cause      event.Cause // what the host is doing: outbound packets get it
	out        []outbound
	// snap reads the sending endpoint's state for a packet being written
	// (sender_state.go); nil reads nothing.
	snap func(pkt []byte) *event.SenderState
}

// outbound is a packet the stack sent and why.
type outbound struct {
	data   []byte
	cause  event.Cause
	sender *event.SenderState
}

// setCause sets the cause of the packets written from now on.
func (n *nic) setCause(c event.Cause) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cause = c
}

var _ stack.LinkEndpoint = (*nic)(nil)

// deliver injects a raw IP packet as if it arrived on the wire.
func (n *nic) deliver(data []byte) {
	n.mu.Lock()
	d := n.dispatcher
	n.mu.Unlock()
	if d == nil || len(data) == 0 {
		return
	}
	var proto tcpip.NetworkProtocolNumber
	switch header.IPVersion(data) {
	case header.IPv4Version:
		proto = header.IPv4ProtocolNumber
	case header.IPv6Version:
		proto = header.IPv6ProtocolNumber
	default:
		return
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(data)})
	d.DeliverNetworkPacket(proto, pkt)
	pkt.DecRef()
}

// send queues a packet the host itself makes (the linux profile's
// emulation), as if the stack had written it.
func (n *nic) send(data []byte, c event.Cause) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.out = append(n.out, outbound{data: data, cause: c})
}

// take returns and clears the outbound queue.
func (n *nic) take() []outbound {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.out
	n.out = nil
	return out
}

// WritePackets implements stack.LinkWriter.
func (n *nic) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, pkt := range pkts.AsSlice() {
		b := make([]byte, 0, pkt.Size())
		for _, part := range pkt.AsSlices() {
			b = append(b, part...)
		}
		o := outbound{data: b, cause: n.cause}
		if n.snap != nil {
			o.sender = n.snap(b)
		}
		n.out = append(n.out, o)
	}
	return pkts.Len(), nil
}

// MTU implements stack.NetworkLinkEndpoint.
func (n *nic) MTU() uint32 { return n.mtu }

// SetMTU implements stack.NetworkLinkEndpoint.
func (n *nic) SetMTU(mtu uint32) { n.mtu = mtu }

// MaxHeaderLength implements stack.NetworkLinkEndpoint: there is no link header.
func (*nic) MaxHeaderLength() uint16 { return 0 }

// LinkAddress implements stack.NetworkLinkEndpoint.
func (*nic) LinkAddress() tcpip.LinkAddress { return "" }

// SetLinkAddress implements stack.NetworkLinkEndpoint.
func (*nic) SetLinkAddress(tcpip.LinkAddress) {}

// Capabilities implements stack.NetworkLinkEndpoint. No offloads: every
// checksum is computed, so captures show valid checksums.
func (*nic) Capabilities() stack.LinkEndpointCapabilities { return 0 }

// Attach implements stack.NetworkLinkEndpoint.
func (n *nic) Attach(d stack.NetworkDispatcher) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dispatcher = d
}

// IsAttached implements stack.NetworkLinkEndpoint.
func (n *nic) IsAttached() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dispatcher != nil
}

// Wait implements stack.NetworkLinkEndpoint.
func (*nic) Wait() {}

// ARPHardwareType implements stack.NetworkLinkEndpoint.
func (*nic) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareNone }

// AddHeader implements stack.NetworkLinkEndpoint.
func (*nic) AddHeader(*stack.PacketBuffer) {}

// ParseHeader implements stack.NetworkLinkEndpoint.
func (*nic) ParseHeader(*stack.PacketBuffer) bool { return true }

// Close implements stack.NetworkLinkEndpoint.
func (n *nic) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.out = nil
}

// SetOnCloseAction implements stack.NetworkLinkEndpoint.
func (*nic) SetOnCloseAction(func()) {}
