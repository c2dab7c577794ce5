package hosts

import (
	"math"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// What a script reads from its sockets and how it gives up on them: a
// connect's timeout, getsockopt(SO_ERROR) and getsockopt(TCP_INFO).

// abandon gives up on a connect whose Timeout ran out, as an application
// with a connect timeout does (Go's Dialer.Timeout, curl's
// --connect-timeout): it closes the socket. A socket still in SYN_SENT
// goes to CLOSED without sending anything (netstack and Linux alike); a
// SYN-ACK that arrives later finds no socket and is answered with a RST.
// The socket's name is free again for a new connect, with the options set
// on it kept.
func (s *script) abandon(st *Step) outcome {
	err := &appErr{"ETIMEDOUT", i18n.M("app.err.connecttimeout", durText(st.Timeout))}
	sk := s.sockets[st.socketName()]
	if sk == nil || sk.ep == nil {
		return failedWith(err)
	}
	s.h.act(Connect.String(), event.WhyConnectTimeout)
	s.h.touch(sk.ep)
	sk.unwatch()
	sk.ep.Close()
	s.h.forget(sk.ep)
	s.h.checkStates()
	sk.ep, sk.wq, sk.err = nil, nil, nil
	return failedWith(err)
}

// soError reads and clears the socket's pending error, as
// getsockopt(SO_ERROR) does: the error a failure left that no step has
// been handed yet (a step that failed with it, such as a connect or a
// recv that returned it, consumed it, as the system call does on Linux).
// A wait that saw the error did not consume it.
func (s *script) soError(sk *socket) outcome {
	err := sk.failure()
	if err == nil {
		if e := sk.ep.LastError(); e != nil {
			err = errnoErr(e)
		}
	}
	sk.err = nil
	if err != nil {
		sk.cleared = true
	}
	switch {
	case err == nil:
		return succeeded(i18n.M("app.soerror.none"))
	case err.errno == "":
		return succeeded(i18n.M("app.soerror.other", err.msg))
	}
	return succeeded(i18n.M("app.soerror", err.errno, err.msg))
}

// tcpInfo reads a snapshot of the socket's TCP state: what netstack's
// TCP_INFO gives (state, congestion state, RTT, RTO, cwnd, ssthresh),
// completed from its sender and receiver (sender_state.go) and its
// per-endpoint counters.
func (s *script) tcpInfo(sk *socket) outcome {
	var o tcpip.TCPInfoOption
	if e := sk.ep.GetSockOpt(&o); e != nil {
		return failedWith(errnoErr(e))
	}
	info := &event.TCPInfo{
		State:       linuxState(tcp.EndpointState(o.State)),
		CAState:     caState(o.CcState),
		RTT:         o.RTT,
		RTTVar:      o.RTTVar,
		RTO:         o.RTO,
		Cwnd:        int(o.SndCwnd),
		ReorderSeen: o.ReorderSeen,
	}
	if st, ok := sk.ep.Stats().(*tcp.Stats); ok {
		info.TotalRetrans = st.SendErrors.Retransmits.Value()
		info.SegsOut = st.SegmentsSent.Value()
		info.SegsIn = st.SegmentsReceived.Value()
	}
	if ep, ok := sk.ep.(*tcp.Endpoint); ok {
		if l, ok := senderLayout(); ok {
			ep.LockUser()
			ss := l.read(ep)
			ep.UnlockUser()
			if ss != nil {
				info.Sender = true
				info.RTTValid = ss.RTTValid
				info.Cwnd, info.Ssthresh, info.MSS = ss.Cwnd, ss.Ssthresh, ss.MSS
				if ss.Ssthresh >= math.MaxInt32 {
					info.Ssthresh = -1
				}
				info.Unacked, info.Sacked = ss.Outstanding, ss.SackedOut
				info.SndWnd, info.RcvWnd = ss.SndWnd, ss.RcvWnd
			}
		}
	}
	o2 := succeeded(tcpInfoMsg(info))
	o2.info = info
	return o2
}

// caState names netstack's congestion control state as Linux's
// tcpi_ca_state does: netstack's RTO recovery is Linux's Loss, its fast
// and SACK recovery Linux's Recovery. netstack has no CWR state (no ECN).
func caState(s tcpip.CongestionControlState) string {
	switch s {
	case tcpip.Open:
		return "Open"
	case tcpip.Disorder:
		return "Disorder"
	case tcpip.FastRecovery, tcpip.SACKRecovery:
		return "Recovery"
	case tcpip.RTORecovery:
		return "Loss"
	}
	return "Open"
}

// tcpInfoMsg renders a snapshot as the result of a tcp_info step.
func tcpInfoMsg(in *event.TCPInfo) i18n.Msg {
	if !in.Sender {
		return i18n.M("app.tcpinfo.nosender", in.State.String(), in.SegsOut, in.SegsIn)
	}
	rtt := i18n.M("app.tcpinfo.nortt")
	if in.RTTValid {
		rtt = i18n.M("app.tcpinfo.rtt", in.RTT, in.RTTVar)
	}
	ssthresh := i18n.M("app.tcpinfo.infinite")
	if in.Ssthresh >= 0 {
		ssthresh = i18n.M("app.tcpinfo.n", in.Ssthresh)
	}
	return i18n.M("app.tcpinfo", in.State.String(), in.CAState, rtt, in.RTO, in.Cwnd, ssthresh,
		in.Unacked, in.Sacked, in.MSS, int(in.SndWnd), int(in.RcvWnd), in.TotalRetrans, in.SegsOut, in.SegsIn)
}

// reusable reports whether a connect may open a new socket under sk's
// name: the script closed sk, or sk failed (its connect was refused,
// reset or timed out), as a program closes a socket whose connect failed
// and makes a new one to try again.
func (sk *socket) reusable() bool {
	if sk.ep == nil || sk.closed {
		return true
	}
	st := tcp.EndpointState(sk.ep.State())
	return st == tcp.StateError || st == tcp.StateClose
}

// release lets go of sk's endpoint before the name gets a new one: a
// failed endpoint is closed, one the script closed is left to finish its
// close. The options set on the name are kept.
func (s *script) release(sk *socket) {
	if sk.ep == nil {
		return
	}
	sk.unwatch()
	if !sk.closed {
		sk.ep.Close()
		s.h.forget(sk.ep)
	}
	sk.ep, sk.wq, sk.err, sk.closed, sk.cleared = nil, nil, nil, false, false
}
