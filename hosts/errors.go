package hosts

import "gvisor.dev/gvisor/pkg/tcpip"

// errorText converts a netstack error into the message an application on
// Linux would print for the same errno, so that tcpip.Error never leaves
// this package.
func errorText(err tcpip.Error) string {
	switch err.(type) {
	case *tcpip.ErrConnectionRefused:
		return "connection refused"
	case *tcpip.ErrConnectionReset:
		return "connection reset by peer"
	case *tcpip.ErrTimeout:
		return "connection timed out"
	case *tcpip.ErrConnectionAborted:
		return "connection aborted"
	case *tcpip.ErrClosedForSend:
		return "broken pipe"
	case *tcpip.ErrNotConnected:
		return "transport endpoint is not connected"
	case *tcpip.ErrPortInUse:
		return "address already in use"
	case *tcpip.ErrHostUnreachable:
		return "no route to host"
	case *tcpip.ErrNetworkUnreachable:
		return "network is unreachable"
	case *tcpip.ErrAlreadyConnected:
		return "transport endpoint is already connected"
	case *tcpip.ErrInvalidEndpointState:
		return "invalid socket state"
	}
	return err.String()
}
