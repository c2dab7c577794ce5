package hosts

import (
	"sync"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
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
	taken      []outbound // what take returned last
	// snap reads the sending endpoint's state for a packet being written
	// (sender_state.go); nil reads nothing.
	snap func(pkt []byte, s *event.SenderState) bool
	// slab is where outbound packets are copied to (alloc).
	slab []byte
}

// slabSize is the size of the blocks outbound packets are copied into:
// one allocation for dozens of packets instead of one each. A block lives
// as long as its longest-lived packet; the tap releases packets in about
// the order they were sent, so a block's packets die together.
const slabSize = 32 << 10

// alloc returns an empty slice with capacity size for one packet's bytes,
// carved from the slab; its capacity is exactly size, so appending to it
// never writes into the next packet.
func (n *nic) alloc(size int) []byte {
	if size > slabSize/8 {
		return make([]byte, 0, size)
	}
	if cap(n.slab)-len(n.slab) < size {
		n.slab = make([]byte, 0, slabSize)
	}
	at := len(n.slab)
	n.slab = n.slab[:at+size]
	return n.slab[at : at : at+size]
}

// outbound is a packet the stack sent and why.
type outbound struct {
	data  []byte
	cause event.Cause
	// sender is the sending endpoint's state, when hasSender.
	sender    event.SenderState
	hasSender bool
	// seg is the packet's segment as linuxOutbound parsed it, when parsed
	// (the switch then does not parse it again).
	seg    segment.Segment
	parsed bool
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

// queued returns how many packets wait in the outbound queue.
func (n *nic) queued() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.out)
}

// take returns and clears the outbound queue. The slice is the caller's
// until the next take, which reuses its array.
func (n *nic) take() []outbound {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.out
	clear(n.taken) // drained: let its packets go
	n.out, n.taken = n.taken[:0], out
	return out
}

// WritePackets implements stack.LinkWriter.
func (n *nic) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, pkt := range pkts.AsSlice() {
		b := n.alloc(pkt.Size())
		// The packet's bytes are its views' after the unused header
		// room, as AsSlices gives them, without its slice of slices.
		vl, skip := pkt.AsViewList()
		for v := vl.Front(); v != nil; v = v.Next() {
			part := v.AsSlice()
			if skip >= len(part) {
				skip -= len(part)
				continue
			}
			b = append(b, part[skip:]...)
			skip = 0
		}
		n.out = append(n.out, outbound{data: b, cause: n.cause})
		if n.snap != nil {
			o := &n.out[len(n.out)-1]
			o.hasSender = n.snap(b, &o.sender)
		}
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
