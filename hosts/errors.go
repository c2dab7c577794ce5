package hosts

import (
	"github.com/tcplab/tcplab/i18n"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// appErr is an error an application met: its message and, when it is a
// system call's error, the name of the errno Linux returns for it.
// tcpip.Error never leaves this package; an appErr leaves it as an
// event.App's Err and Errno.
type appErr struct {
	// errno is the errno's name ("ECONNRESET"), "" for an error that is
	// none (a socket name the script does not know).
	errno string
	msg   i18n.Msg
}

// errMsg returns an error that is no errno.
func errMsg(m i18n.Msg) *appErr { return &appErr{msg: m} }

// wrapped returns e's errno with the message m, which quotes e's message
// the way a library wraps a system call's error ("dial tcp ...: connect:
// connection refused").
func (e *appErr) wrapped(m i18n.Msg) *appErr { return &appErr{errno: e.errno, msg: m} }

// errnoErr converts a netstack error into the errno an application on
// Linux sees for the same condition (as gVisor's syserr translates it), with
// that errno's message. A netstack error without an entry keeps netstack's
// own text.
func errnoErr(err tcpip.Error) *appErr {
	switch err.(type) {
	case *tcpip.ErrConnectionRefused:
		return &appErr{"ECONNREFUSED", i18n.M("errno.ECONNREFUSED")}
	case *tcpip.ErrConnectionReset:
		return &appErr{"ECONNRESET", i18n.M("errno.ECONNRESET")}
	case *tcpip.ErrTimeout:
		return &appErr{"ETIMEDOUT", i18n.M("errno.ETIMEDOUT")}
	case *tcpip.ErrConnectionAborted:
		return &appErr{"ECONNABORTED", i18n.M("errno.ECONNABORTED")}
	case *tcpip.ErrClosedForSend:
		return &appErr{"EPIPE", i18n.M("errno.EPIPE")}
	case *tcpip.ErrNotConnected:
		return &appErr{"ENOTCONN", i18n.M("errno.ENOTCONN")}
	case *tcpip.ErrPortInUse:
		return &appErr{"EADDRINUSE", i18n.M("errno.EADDRINUSE")}
	case *tcpip.ErrHostUnreachable:
		return &appErr{"EHOSTUNREACH", i18n.M("errno.EHOSTUNREACH")}
	case *tcpip.ErrNetworkUnreachable:
		return &appErr{"ENETUNREACH", i18n.M("errno.ENETUNREACH")}
	case *tcpip.ErrAlreadyConnected:
		return &appErr{"EISCONN", i18n.M("errno.EISCONN")}
	case *tcpip.ErrInvalidEndpointState:
		return &appErr{"EINVAL", i18n.M("errno.EINVAL")}
	}
	return errMsg(i18n.M("app.err.netstack", err.String()))
}
