package hosts

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// epCache remembers the connected endpoint a 4-tuple was last found to be,
// so that a host looking up every segment of a transfer (an arriving one's
// receiver, an outgoing one's sender for its snapshot) asks the stack's
// demultiplexer, with its locks and hashing, once per connection instead
// of once per segment.
//
// The answer stays right while the endpoint is connected: netstack
// registers a connected endpoint under its 4-tuple, and unregisters it
// (cleanupLocked) only under the endpoint's lock, just before moving it
// to CLOSED or ERROR, so whenever a connected endpoint is seen here the
// demultiplexer returns it for its 4-tuple. A listener, or an endpoint
// still in its handshake, is not remembered: a SYN's 4-tuple finds the
// listener until the handshake's endpoint takes it over. The cache goes
// with the stack (freshStack).
type epCache struct {
	proto tcpip.NetworkProtocolNumber
	id    stack.TransportEndpointID
	ep    *tcp.Endpoint // nil: nothing remembered
}

// find returns the TCP endpoint the stack's demultiplexer gives for id,
// or nil.
func (c *epCache) find(s *stack.Stack, proto tcpip.NetworkProtocolNumber, id stack.TransportEndpointID) *tcp.Endpoint {
	if c.ep != nil && c.id == id && c.proto == proto && connected(c.ep.EndpointState()) {
		return c.ep
	}
	ep, _ := s.FindTransportEndpoint(proto, tcp.ProtocolNumber, id, nicID).(*tcp.Endpoint)
	c.ep = nil
	if ep != nil && connected(ep.EndpointState()) {
		c.proto, c.id, c.ep = proto, id, ep
	}
	return ep
}
