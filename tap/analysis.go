package tap

import (
	"net/netip"
	"strings"
)

// Analysis is a set of the flags Wireshark's TCP analysis
// (tcp.analysis.*) sets on a segment. The tap computes them itself, with
// Wireshark's rules, so that its explanations and Wireshark agree.
type Analysis uint32

// Analysis flags, named after Wireshark's tcp.analysis fields.
const (
	Retransmission Analysis = 1 << iota
	FastRetransmission
	SpuriousRetransmission
	OutOfOrder
	LostSegment // a segment before this one was not captured
	DupAck
	KeepAlive
	KeepAliveAck
	ZeroWindow
	ZeroWindowProbe
	ZeroWindowProbeAck
	WindowUpdate
	WindowFull
	AckedUnseen
	PortsReused
)

var analysisNames = []string{
	"retransmission",
	"fast_retransmission",
	"spurious_retransmission",
	"out_of_order",
	"lost_segment",
	"duplicate_ack",
	"keep_alive",
	"keep_alive_ack",
	"zero_window",
	"zero_window_probe",
	"zero_window_probe_ack",
	"window_update",
	"window_full",
	"ack_lost_segment",
	"reused_ports",
}

// Names returns the Wireshark field names (without "tcp.analysis.") of the
// flags in a, in bit order.
func (a Analysis) Names() []string {
	var out []string
	for i, n := range analysisNames {
		if a&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// String returns the flags' names joined by commas.
func (a Analysis) String() string { return strings.Join(a.Names(), ",") }

// flowKey identifies one direction of a connection.
type flowKey struct{ src, dst netip.AddrPort }

// flowAnalysis is the analysis state of one direction of a connection.
type flowAnalysis struct{}

// analyze sets r.Analysis, r.DupAckNum and r.DupAckOf for segment row r,
// which has just been captured.
func (t *Tap) analyze(r *Row) {
	// TODO(analysis): Wireshark's tcp_analyze_sequence_number.
	_ = r
}
