package event

import "time"

// OnError is what a script did after one of its steps failed.
type OnError uint8

// What a script does after a failed step.
const (
	// OnErrorNone: the step did not fail, or the row is a model's.
	OnErrorNone OnError = iota
	// OnErrorStop: the script ended at the failed step (on_error = "stop",
	// the default).
	OnErrorStop
	// OnErrorContinue: the script went on with its next step (on_error =
	// "continue").
	OnErrorContinue
)

// String returns the on_error value as a lab writes it: "stop",
// "continue"; "" for OnErrorNone.
func (o OnError) String() string {
	switch o {
	case OnErrorStop:
		return "stop"
	case OnErrorContinue:
		return "continue"
	}
	return ""
}

// TCPInfo is a snapshot of a socket's TCP state as a tcp_info step reads
// it: what getsockopt(TCP_INFO) gives on Linux, where netstack has it.
type TCPInfo struct {
	// State is the socket's state (tcpi_state).
	State State
	// CAState is the congestion-avoidance state in Linux's names
	// (tcpi_ca_state): "Open", "Disorder", "Recovery", "Loss".
	CAState string
	// Sender says the fields below it were read from a sender (a socket
	// that never completed a handshake has none, and they are zero).
	Sender bool
	// RTT and RTTVar are the smoothed round-trip time and its variation
	// (tcpi_rtt, tcpi_rttvar), valid once RTTValid; RTO is the
	// retransmission timeout (tcpi_rto).
	RTT, RTTVar, RTO time.Duration
	RTTValid         bool
	// Cwnd is the congestion window in segments (tcpi_snd_cwnd);
	// Ssthresh the slow-start threshold (tcpi_snd_ssthresh), or -1 while
	// it is still infinite (no loss yet).
	Cwnd, Ssthresh int
	// MSS is the largest payload the sender puts in a segment
	// (tcpi_snd_mss).
	MSS int
	// Unacked is the number of segments in flight (tcpi_unacked), Sacked
	// those of them selectively acknowledged (tcpi_sacked).
	Unacked, Sacked int
	// SndWnd is the peer's window the sender may fill (tcpi_snd_wnd),
	// RcvWnd the window this socket offers (tcpi_rcv_wnd), in bytes.
	SndWnd, RcvWnd uint32
	// TotalRetrans counts the segments the connection retransmitted
	// (tcpi_total_retrans); SegsOut and SegsIn the segments it sent and
	// received (tcpi_segs_out, tcpi_segs_in).
	TotalRetrans, SegsOut, SegsIn uint64
	// ReorderSeen says the sender has seen reordering (tcpi_reord_seen).
	ReorderSeen bool
}

// WhyConnectTimeout is Cause.Why of a script abandoning a connect whose
// timeout ran out: the application closes the half-open socket.
const WhyConnectTimeout = "connect_timeout"
