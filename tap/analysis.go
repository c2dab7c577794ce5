package tap

import (
	"net/netip"
	"strings"
	"time"

	"github.com/tcplab/tcplab/internal/segment"
)

// Analysis is a set of the flags Wireshark's TCP analysis
// (tcp.analysis.*) sets on a  The tap computes them itself, with
// Wireshark's rules, so that its explanations and Wireshark agree.
//
// The set mirrors the fields Wireshark shows rather than its internal bits:
// a fast or spurious retransmission also has Retransmission, as it also has
// the field tcp.analysis.retransmission.
type Analysis uint32

// Analysis flags, named after Wireshark's tcp.analysis fields.
const (
	// Retransmission: the segment carries sequence space (data, SYN or
	// FIN) below the highest already sent ("TCP Retransmission"); also set
	// with FastRetransmission and SpuriousRetransmission.
	Retransmission Analysis = 1 << iota
	// FastRetransmission: a retransmission of the sequence number that two
	// or more duplicate ACKs asked for, within 20 ms of the last of them.
	FastRetransmission
	// SpuriousRetransmission: data the receiver had already acknowledged.
	SpuriousRetransmission
	// OutOfOrder: sequence space below the highest sent, less than one
	// round trip (3 ms before the first RTT is known) after it.
	OutOfOrder
	// LostSegment: the segment starts beyond the highest sequence number
	// captured so far; a segment before it was not captured ("TCP Previous
	// segment not captured").
	LostSegment
	// DupAck: a pure ACK that repeats the previous segment's ACK number and
	// window; Row.DupAckNum and Row.DupAckOf count and locate it.
	DupAck
	// KeepAlive: zero or one byte at one below the next sequence number.
	KeepAlive
	// KeepAliveAck: the answer to a keepalive, repeating ACK and window.
	KeepAliveAck
	// ZeroWindow: the sender advertises a zero receive window.
	ZeroWindow
	// ZeroWindowProbe: one byte at the next sequence number while the
	// receiver advertises a zero window.
	ZeroWindowProbe
	// ZeroWindowProbeAck: the answer to a zero-window probe, still with a
	// zero window.
	ZeroWindowProbeAck
	// WindowUpdate: a pure ACK that changes only the advertised window.
	WindowUpdate
	// WindowFull: the segment's data reaches the right edge of the window
	// the receiver last advertised.
	WindowFull
	// AckedUnseen: the segment acknowledges data that was not captured
	// ("TCP ACKed unseen segment").
	AckedUnseen
	// PortsReused: a SYN with a new ISN on a port pair that already
	// carried a conversation ("TCP Port numbers reused"), or a SYN-ACK
	// whose ISN differs from an earlier one.
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

// The analysis below follows tcp_analyze_sequence_number and the
// conversation handling of dissect_tcp in Wireshark 4.0
// (epan/dissectors/packet-tcp.c), with its default preferences: sequence
// analysis and relative sequence numbers on, window scaling calculated from
// the handshake, fast retransmission taking precedence over out-of-order.
// The comments name the Wireshark fields each piece of state mirrors; the
// rules keep Wireshark's order and its quirks, because the point is to agree
// with it frame by frame.

// Wireshark's limits and thresholds.
const (
	// maxUnacked is TCP_MAX_UNACKED_SEGMENTS: Wireshark stops tracking
	// unacknowledged segments beyond this many.
	maxUnacked = 10000
	// fastRetransmitWindow is how soon after the last duplicate ACK a
	// retransmission counts as fast.
	fastRetransmitWindow = 20 * time.Millisecond
	// defaultOutOfOrderWindow is the out-of-order threshold while the
	// first round trip time is unknown.
	defaultOutOfOrderWindow = 3 * time.Millisecond
	// never stands for a time Wireshark has not recorded (zero in
	// Wireshark, i.e. 1970, long before any capture time).
	never = time.Duration(-1 << 62)
)

// Window scale states (tcp_flow_t.win_scale).
const (
	scaleUnknown = -1 // no SYN seen yet
	scaleNone    = -2 // the handshake did not agree on scaling
)

// flowKey identifies one direction of a connection.
type flowKey struct{ src, dst netip.AddrPort }

// convAnalysis is the analysis state Wireshark keeps per conversation
// (struct tcp_analysis); a new SYN on a used port pair starts a new one.
type convAnalysis struct {
	lastSYN    time.Duration // ts_mru_syn: the most recent SYN without ACK
	hasLastSYN bool
	firstRTT   time.Duration // ts_first_rtt; zero until measured
}

// unacked is a segment not yet acknowledged (tcp_unacked_t).
type unacked struct{ seq, next uint32 }

// flowAnalysis is the analysis state of one direction of a connection
// (tcp_flow_t and its tcp_analyze_seq_flow_info_t). Zero sequence numbers
// mean "not seen yet", as in Wireshark.
type flowAnalysis struct {
	conv *convAnalysis
	rev  *flowAnalysis // the opposite direction

	baseSet bool   // TCP_S_BASE_SEQ_SET
	baseSeq uint32 // base_seq: the ISN, or seq-1 or ack-1 when unseen

	winScale   int    // win_scale: a shift, scaleUnknown or scaleNone
	window     uint32 // window: the raw window of the last segment
	isFirstAck bool   // is_first_ack: a SYN seen, no pure ACK since

	nextSeq     uint32        // nextseq: highest sequence number sent + 1
	nextSeqTime time.Duration // nextseqtime
	maxToBeAck  uint32        // maxseqtobeacked: end of contiguous data
	lastAck     uint32        // lastack: the last segment's ACK number
	lastAckTime time.Duration // lastacktime: when the last segment was sent
	dupAcks     int           // dupacknum: duplicate ACKs in a row
	lastNonDup  int           // lastnondupack: frame that changed the ACK
	lastFlags   Analysis      // lastsegmentflags
	unacked     []unacked     // segments, not yet acknowledged
	// disordered says some segment in unacked starts before the one
	// ahead of it (a retransmission of older data): forget must then
	// look at every one.
	disordered bool
}

func ltSeq(a, b uint32) bool { return int32(a-b) < 0 }  // LT_SEQ
func gtSeq(a, b uint32) bool { return int32(a-b) > 0 }  // GT_SEQ
func leSeq(a, b uint32) bool { return int32(a-b) <= 0 } // LE_SEQ

// analyzer is Wireshark's TCP analysis of one capture: it sees segments in
// capture order and flags each as Wireshark would. The tap runs one over
// what was sent and one over what was received.
type analyzer struct {
	flows map[flowKey]*flowAnalysis
	// bases are the base sequence numbers of forgotten conversations
	// (evict.go), by direction.
	bases map[flowKey]uint32
}

func newAnalyzer() *analyzer {
	return &analyzer{flows: map[flowKey]*flowAnalysis{}, bases: map[flowKey]uint32{}}
}

// newConversation starts the analysis of a conversation whose first segment
// goes from src to dst, replacing any earlier one on the same port pair.
func (t *analyzer) newConversation(src, dst netip.AddrPort) *flowAnalysis {
	c := &convAnalysis{}
	fwd := &flowAnalysis{conv: c}
	rev := &flowAnalysis{conv: c}
	for _, f := range []*flowAnalysis{fwd, rev} {
		f.winScale = scaleUnknown
		f.window = ^uint32(0)
		f.nextSeqTime, f.lastAckTime = never, never
	}
	fwd.rev, rev.rev = rev, fwd
	t.flows[flowKey{src, dst}] = fwd
	t.flows[flowKey{dst, src}] = rev
	return fwd
}

// segIn is one segment as the analysis sees it: its frame number in the
// capture, its capture time, the
type segIn struct {
	no  int
	at  time.Duration
	seg *segment.Segment
}

// analyze returns the flags Wireshark sets on segment s, captured as frame
// no at time at, and for a duplicate ACK its number and the frame it
// repeats.
func (t *analyzer) analyze(no int, at time.Duration, s *segment.Segment) (a Analysis, dupNum, dupOf int) {
	r := &segIn{no: no, at: at, seg: s}
	fwd := t.flows[flowKey{s.Src, s.Dst}]
	if fwd == nil {
		fwd = t.newConversation(s.Src, s.Dst)
		if base, ok := t.bases[flowKey{s.Src, s.Dst}]; ok {
			// A conversation on this port pair was forgotten: only its
			// base sequence number matters now.
			delete(t.bases, flowKey{s.Src, s.Dst})
			if s.Flags&segment.SYN != 0 {
				fwd.baseSeq, fwd.baseSet = base, true
			}
		}
	}
	// A SYN with a new ISN on a port pair already seen starts a new
	// conversation. A SYN with the same ISN is a retransmission; nextseq
	// is rewound to the end of the contiguous data, so that an RST sent in
	// between (whose sequence number may be anything) does not make the
	// rest of the conversation look retransmitted.
	if s.Flags&(segment.SYN|segment.ACK) == segment.SYN && fwd.baseSet {
		if uint32(s.Seq) != fwd.baseSeq {
			fwd = t.newConversation(s.Src, s.Dst)
			a |= PortsReused
		} else {
			fwd.nextSeq = fwd.maxToBeAck
		}
	}
	// A SYN-ACK with a new ISN takes over the conversation.
	if s.Flags&(segment.SYN|segment.ACK) == segment.SYN|segment.ACK && fwd.baseSet && uint32(s.Seq) != fwd.baseSeq {
		fwd.baseSeq = uint32(s.Seq)
		a |= PortsReused
	}

	a, dupNum, dupOf = fwd.analyzeSeq(r, a)
	if a&(FastRetransmission|SpuriousRetransmission) != 0 {
		a |= Retransmission
	}

	// What dissect_tcp does after the sequence analysis.
	c := fwd.conv
	if s.Flags&segment.SYN != 0 {
		if s.Flags&segment.ACK == 0 {
			c.lastSYN, c.hasLastSYN = at, true
		}
		fwd.isFirstAck = true
	}
	if s.Flags&(segment.SYN|segment.ACK) == segment.ACK {
		if c.hasLastSYN && c.firstRTT == 0 {
			c.firstRTT = at - c.lastSYN
		}
		fwd.isFirstAck = false
	}
	if s.Opts.WS >= 0 {
		fwd.winScale = min(s.Opts.WS, 14)
	}
	if s.Flags&segment.SYN != 0 {
		fwd.verifyScaling(s.Flags&segment.ACK != 0)
	}
	return a, dupNum, dupOf
}

// verifyScaling turns window scaling off unless both SYNs offered it
// (verify_tcp_window_scaling).
func (fwd *flowAnalysis) verifyScaling(synAck bool) {
	switch {
	case fwd.winScale == scaleUnknown:
		fwd.winScale, fwd.rev.winScale = scaleNone, scaleNone
	case synAck && fwd.rev.winScale == scaleNone:
		fwd.winScale = scaleNone
	}
}

// analyzeSeq is tcp_analyze_sequence_number for a segment sent in direction
// fwd: it adds flags to a, returns them, and updates both directions' state.
func (fwd *flowAnalysis) analyzeSeq(r *segIn, a Analysis) (_ Analysis, dupNum, dupOf int) {
	rev := fwd.rev
	s := r.seg
	seq, ack, flags := uint32(s.Seq), uint32(s.Ack), s.Flags
	seglen := uint32(s.Len)
	window := uint32(s.Win) // raw: Wireshark analyzes before scaling
	now := r.at
	synFinRst := flags&(segment.SYN|segment.FIN|segment.RST) != 0

	if !fwd.baseSet {
		fwd.baseSeq = seq - 1
		if flags&segment.SYN != 0 {
			fwd.baseSeq = seq
		}
		fwd.baseSet = true
	}
	if !rev.baseSet && flags&segment.ACK != 0 {
		rev.baseSeq, rev.baseSet = ack-1, true
	}

	// The order of these checks, and where they stop, is Wireshark's.
	switch {
	case seglen == 1 && seq == fwd.nextSeq && rev.window == 0:
		a |= ZeroWindowProbe
	default:
		if window == 0 && !synFinRst {
			a |= ZeroWindow
		}
		if fwd.nextSeq != 0 && gtSeq(seq, fwd.nextSeq) && flags&segment.RST == 0 {
			a |= LostSegment
		}
		if seglen <= 1 && seq == fwd.nextSeq-1 && !synFinRst {
			a |= KeepAlive
		}
		// Below, "repeats" means: no data, the next sequence number and
		// the same ACK number as the previous segment in this direction.
		repeats := seglen == 0 && seq == fwd.nextSeq && ack == fwd.lastAck && !synFinRst
		if repeats && window != 0 && window != fwd.window {
			a |= WindowUpdate
		}
		if seglen > 0 && rev.winScale != scaleUnknown && !synFinRst {
			shift := rev.winScale
			if rev.isFirstAck || shift == scaleNone {
				shift = 0
			}
			if seq+seglen == rev.lastAck+rev.window<<shift {
				a |= WindowFull
			}
		}
		switch {
		case repeats && window != 0 && window == fwd.window && rev.lastFlags&KeepAlive != 0:
			a |= KeepAliveAck
		case repeats && window == 0 && fwd.window == 0 && rev.lastFlags&ZeroWindowProbe != 0:
			a |= ZeroWindowProbeAck
		case repeats && window != 0 && window == fwd.window:
			fwd.dupAcks++
			a |= DupAck
			dupNum, dupOf = fwd.dupAcks, fwd.lastNonDup
		}
	}
	if ack != fwd.lastAck {
		fwd.lastNonDup, fwd.dupAcks = r.no, 0
	}

	// An ACK beyond the contiguous data seen the other way acknowledges a
	// segment that was not captured; flagged once per gap.
	if rev.maxToBeAck != 0 && gtSeq(ack, rev.maxToBeAck) && flags&segment.ACK != 0 {
		a |= AckedUnseen
		rev.maxToBeAck = rev.nextSeq
	}

	if seglen > 0 || flags&(segment.SYN|segment.FIN) != 0 {
		a = fwd.retransmission(a, seq, seglen, flags, now)
	}

	next := seq + seglen
	if (seglen > 0 || flags&(segment.SYN|segment.FIN) != 0) && len(fwd.unacked) < maxUnacked {
		if flags&(segment.SYN|segment.FIN) != 0 {
			next++
		}
		fwd.track(unacked{seq: seq, next: next})
	}
	// A zero-window probe does not advance nextseq.
	if a&ZeroWindowProbe == 0 {
		if gtSeq(next, fwd.nextSeq) || fwd.nextSeq == 0 {
			fwd.nextSeq, fwd.nextSeqTime = next, now
		}
		if seq == fwd.maxToBeAck || fwd.maxToBeAck == 0 {
			fwd.maxToBeAck = fwd.nextSeq
		}
	}
	fwd.window = window
	fwd.lastAck, fwd.lastAckTime = ack, now
	fwd.lastFlags = a

	// Forget the other direction's segments this one acknowledges (with
	// the raw ACK field, even without the ACK flag, as Wireshark does).
	rev.forget(ack)
	return a, dupNum, dupOf
}

// track adds a segment sent to the ones not yet acknowledged.
func (f *flowAnalysis) track(u unacked) {
	if n := len(f.unacked); n > 0 && ltSeq(u.seq, f.unacked[n-1].seq) {
		f.disordered = true
	}
	f.unacked = append(f.unacked, u)
}

// forget drops the segments ack acknowledges in full and trims those it
// acknowledges in part. A segment that starts at or after ack is left as
// it is; when the segments are in the order of their starts (no
// retransmission of older data among them), those come last, and only the
// ones before them are looked at, instead of every segment in flight on
// every ACK.
func (f *flowAnalysis) forget(ack uint32) {
	if !f.disordered {
		i := 0
		for i < len(f.unacked) && ltSeq(f.unacked[i].seq, ack) {
			i++
		}
		// Keep the ones of f.unacked[:i] ack leaves, in order, at the
		// end of that prefix, and cut the prefix off in front of them.
		w := i
		for j := i - 1; j >= 0; j-- {
			if u := f.unacked[j]; gtSeq(u.next, ack) {
				u.seq = ack // partly acknowledged
				w--
				f.unacked[w] = u
			}
		}
		f.unacked = f.unacked[w:]
		return
	}
	kept := f.unacked[:0]
	f.disordered = false
	for _, u := range f.unacked {
		if ack != u.next && gtSeq(ack, u.seq) && leSeq(ack, u.next) {
			u.seq = ack // partly acknowledged
		}
		if ack != u.next && gtSeq(u.next, ack) {
			if n := len(kept); n > 0 && ltSeq(u.seq, kept[n-1].seq) {
				f.disordered = true
			}
			kept = append(kept, u)
		}
	}
	f.unacked = kept
}

// retransmission classifies a segment that carries sequence space:
// spurious, fast retransmission, out-of-order or plain retransmission.
func (fwd *flowAnalysis) retransmission(a Analysis, seq, seglen uint32, flags segment.Flags, now time.Duration) Analysis {
	rev := fwd.rev
	if a&KeepAlive != 0 {
		return a
	}
	notAdvanced := fwd.nextSeq != 0 && ltSeq(seq, fwd.nextSeq)
	// New data starting one below nextseq follows a zero-window probe.
	if seglen > 1 && fwd.nextSeq-1 == seq {
		notAdvanced = false
	}
	if seglen > 0 && rev.lastAck != 0 && leSeq(seq+seglen, rev.lastAck) {
		return a | SpuriousRetransmission
	}
	if notAdvanced && rev.dupAcks >= 2 && rev.lastAck == seq && now-rev.lastAckTime < fastRetransmitWindow {
		return a | FastRetransmission
	}
	oooWindow := fwd.conv.firstRTT
	if oooWindow == 0 {
		oooWindow = defaultOutOfOrderWindow
	}
	end := seq + seglen
	if flags&(segment.SYN|segment.FIN) != 0 {
		end++
	}
	if notAdvanced && now-fwd.nextSeqTime < oooWindow && fwd.nextSeq != end {
		return a | OutOfOrder
	}
	if notAdvanced {
		a |= Retransmission
	}
	return a
}
