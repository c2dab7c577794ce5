package capture

import (
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// conn is what the Explainer infers of one connection. Side 0 is the end
// that sent the first segment captured (the client, when the capture has
// the SYN), side 1 its peer; arrays are indexed by side.
type conn struct {
	id       int // 1-based, in order of first appearance
	key      connKey
	ends     [2]netip.AddrPort
	host     [2]string
	selected bool // explained (--conn); otherwise only followed

	st     [2]event.State
	isn    [2]seqnum.Value // first sequence number each side sent
	hasISN [2]bool
	nxt    [2]seqnum.Value // the sequence number after the highest each side sent
	sent   [2]bool         // the side sent a segment with sequence space
	synSeq [2]seqnum.Value // each side's SYN
	syns   [2]int          // SYNs (with or without ACK) each side sent
	fin    [2]bool         // the side sent a FIN
	finSeq [2]seqnum.Value
	ackOut [2]seqnum.Value // highest ACK each side sent (of its peer's space)
	// lastAckOut is the ACK of the last segment each side sent with one.
	lastAckOut [2]seqnum.Value
	hasAck     [2]bool

	// pend are the segments on their way to each side whose arrival
	// awaits evidence (an ACK, an answer) or a deadline, in capture
	// order.
	pend [2][]*delivery
	// timed are the segments on their way to each side whose arrival is
	// decided by its estimated time (ACKs, probes, RSTs).
	timed [2][]*delivery
	// arr is the last segment that reached each side, and answered
	// whether the side sent anything since.
	arr      [2]arrival
	answered [2]bool
	// dupacks counts duplicate ACKs that reached each side since its
	// acknowledged point last moved; acked is that point.
	dupacks [2]int
	acked   [2]seqnum.Value
	// resp is the shortest time each side took to answer at the capture
	// point (an arrival it must answer at once, to its answer).
	resp    [2]time.Duration
	hasResp [2]bool
	last    time.Duration // capture time of the last segment

	idle time.Duration // capture time since the segment before the current one

	// dataIn and dataOut are when payload last reached and left each
	// side; sentSynAck says the side sent its SYN-ACK.
	dataIn, dataOut [2]time.Duration
	sentSynAck      [2]bool
	// closeOp is the call that sent each side's first FIN: close or
	// shutdown.
	closeOp [2]string
	// twTimer is each side's TIME_WAIT (or orphaned FIN_WAIT_2) timer,
	// while it waits.
	twTimer [2]*delivery

	closer  int // side that sent the first FIN or RST, -1 before
	midOpen bool
	oldDup  bool // opened by an old duplicate SYN of a connection that is over
	simOpen bool
	finAck  [2]bool // side's FIN was acknowledged by its peer (on the wire)
	rstBy   int     // side that sent a RST, -1 before

	// For the summary and the patterns.
	bytes      [2]int64
	pkts       [2]int
	retrans    [2]int
	history    []byte
	synRetx    int  // SYN retransmissions with no answer captured
	synAckRtx  int  // SYN-ACK retransmissions after a final ACK
	finalAck   bool // the client's final ACK was captured
	halfOpen   bool // counted in the half-open total
	patterns   []string
	finData    [2]bool // the side sent data after its peer's FIN
	refused    bool
	noAnswer   bool
	summarized bool
	firstSeen  time.Duration
}

// arrival is a segment that reached a side.
type arrival struct {
	ref      event.Ref
	at       time.Duration
	flags    segment.Flags
	end      seqnum.Value // the sequence number after it
	data     bool         // it carried payload
	span     bool         // it occupied sequence space
	ack      seqnum.Value // its ACK, when ackValid
	ackValid bool
	valid    bool
}

// delivery is a segment on its way to a side: its arrival is decided by
// evidence, a deadline or its estimated time.
type delivery struct {
	ref  event.Ref
	c    *conn
	to   int // receiving side
	seg  *segment.Segment
	data []byte
	at   time.Duration // capture time
	// due is when it reaches its receiver, as estimated; deadline when
	// the default decision applies to one that awaits evidence.
	due, deadline time.Duration
	evidence      bool
	// timer makes the delivery an inferred timer of side to (TIME_WAIT).
	timer bool
	// dropped is set, before the decision, by a look ahead that showed
	// the segment did not take (the receiver resent what it answers).
	dropped bool
	// resets says the receiver answers it with a RST (closing on it).
	resets bool
	done   bool
	seq    int // insertion order, to break ties in the heap
	index  int // position in the heap, -1 when not in it
}

// key returns the heap key: the time the delivery is decided by.
func (d *delivery) key() time.Duration {
	if d.evidence {
		return d.deadline
	}
	return d.due
}

// end returns the sequence number after the segment.
func (d *delivery) end() seqnum.Value { return d.seg.End() }

// side returns the side that sends from src.
func (c *conn) side(src netip.AddrPort) int {
	if src == c.ends[0] {
		return 0
	}
	return 1
}

// over reports whether the connection has ended on both sides, so that a
// new SYN on its port pair starts a new connection.
func (c *conn) over() bool {
	done := func(s event.State) bool { return s == event.Closed || s == event.TimeWait }
	return done(c.st[0]) && done(c.st[1]) && (c.sent[0] || c.sent[1])
}

// delay returns the estimated time a segment takes from the capture point
// to side d: half its shortest answer time, 0 for the side the capture was
// taken near.
func (c *conn) delay(d int) time.Duration {
	if !c.hasResp[d] || c.near(d) {
		return 0
	}
	return c.resp[d] / 2
}

// farAnswer is the answer time from which a side counts as far from the
// capture point: below it, scheduling noise on one host (a veth pair, the
// loopback) swamps the time a segment takes.
const farAnswer = time.Millisecond

// near reports whether the capture was taken near side d: its answers
// follow arrivals much faster than its peer's, which is far.
func (c *conn) near(d int) bool {
	return c.hasResp[d] && c.hasResp[1-d] && c.resp[d]*4 < c.resp[1-d] && c.resp[1-d] >= farAnswer
}

// noteResp records that side d answered at the capture point after took.
func (c *conn) noteResp(d int, took time.Duration) {
	if took < 0 {
		took = 0
	}
	if !c.hasResp[d] || took < c.resp[d] {
		c.resp[d], c.hasResp[d] = took, true
	}
}

// hist appends a letter to the connection's history, as Zeek writes it
// (upper case for side 0, lower case for side 1), each letter once.
func (c *conn) hist(d int, letter byte) {
	if d == 1 {
		letter += 'a' - 'A'
	}
	for _, h := range c.history {
		if h == letter {
			return
		}
	}
	c.history = append(c.history, letter)
}

// rstExact reports whether a RST reaching side d has the sequence number d
// expects next, as Linux requires (RFC 5961): what its peer has sent, or
// what d last acknowledged. Any other RST in the window draws a challenge
// ACK, and one outside it is ignored.
func (c *conn) rstExact(d int, s *segment.Segment) bool {
	o := 1 - d
	return !c.sent[o] || s.Seq == c.nxt[o] || c.hasAck[d] && (s.Seq == c.ackOut[d] || s.Seq == c.lastAckOut[d])
}

// rstPlausible reports whether side d's own stack could have sent RST s:
// its sequence number is the next d would send, or the ACK of what d last
// received (the answer to a segment without a connection). Any other RST
// in d's name was not made by d's stack as the capture saw it (forged, or
// from a middlebox).
func (c *conn) rstPlausible(d int, s *segment.Segment) bool {
	return !c.sent[d] || s.Seq == c.nxt[d] || c.arr[d].valid && c.arr[d].ackValid && s.Seq == c.arr[d].ack || s.Seq == 0
}

// transition is a state change the state machine infers.
type transition struct {
	from, to event.State
}

// receive runs side d's state machine on the arrival of segment s with
// the receiving stack's verdict; it returns the state changes.
func (c *conn) receive(d int, s *segment.Segment, verdict event.Verdict) []transition {
	if verdict != event.Processed {
		return nil
	}
	var out []transition
	move := func(to event.State) {
		if c.st[d] != to {
			out = append(out, transition{c.st[d], to})
			c.st[d] = to
		}
	}
	ackOurFin := s.Flags&segment.ACK != 0 && c.fin[d] && c.finSeq[d].Add(1).LessThanEq(s.Ack)
	ackOurSyn := s.Flags&segment.ACK != 0 && c.syns[d] > 0 && c.synSeq[d].Add(1).LessThanEq(s.Ack)
	if s.Flags&segment.RST != 0 {
		switch c.st[d] {
		case event.Closed, event.Listen:
		case event.SynSent:
			if ackOurSyn {
				move(event.Closed)
			}
		default:
			if c.rstExact(d, s) {
				move(event.Closed)
			}
		}
		return out
	}
	fin := s.Flags&segment.FIN != 0
	switch c.st[d] {
	case event.Closed, event.Listen:
		if s.Flags&(segment.SYN|segment.ACK) == segment.SYN {
			c.st[d] = event.Listen
			move(event.SynRcvd)
		}
	case event.SynSent:
		switch {
		case s.Flags&(segment.SYN|segment.ACK) == segment.SYN|segment.ACK && ackOurSyn:
			move(event.Established)
		case s.Flags&(segment.SYN|segment.ACK) == segment.SYN:
			c.simOpen = true
			move(event.SynRcvd)
		}
	case event.SynRcvd:
		if ackOurSyn && s.Flags&segment.SYN == 0 || c.simOpen && s.Flags&segment.SYN != 0 && ackOurSyn {
			move(event.Established)
			if fin {
				move(event.CloseWait)
			}
		}
	case event.Established:
		if fin {
			move(event.CloseWait)
		}
	case event.FinWait1:
		switch {
		case ackOurFin && fin:
			move(event.FinWait2)
			move(event.TimeWait)
		case ackOurFin:
			move(event.FinWait2)
		case fin:
			move(event.Closing)
		}
	case event.FinWait2:
		if fin {
			move(event.TimeWait)
		}
	case event.Closing:
		if ackOurFin {
			move(event.TimeWait)
		}
	case event.LastAck:
		if ackOurFin {
			move(event.Closed)
		}
	}
	if ackOurFin {
		c.finAck[d] = true
	}
	return out
}
