package tap

import (
	"net/netip"
	"slices"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// The explainer's knowledge of a connection. It follows both what was on
// the wire (what each side sent) and the ground truth of what each side
// received (what arrived and what its stack did with it), so that a note
// can say what a sender knew when it acted, and what really became of a
// segment, rather than what a capture point could guess.

// connKey identifies a connection regardless of direction.
type connKey struct{ a, b netip.AddrPort }

func keyOf(s *segment.Segment) connKey { return keyOfEnds(s.Src, s.Dst) }

func keyOfEnds(a, b netip.AddrPort) connKey {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return connKey{a, b}
}

// conn is what the explainer knows of one connection. Side 0 is the end
// that sent the first segment seen (normally the SYN), side 1 its peer;
// arrays are indexed by side. Sequence numbers are relative to the
// sending side's ISN.
type conn struct {
	ends    [2]netip.AddrPort
	base    [2]seqnum.Value // ISN, or first sequence number seen
	hasBase [2]bool
	synSeen [2]bool
	synOpts [2]segment.Options // options of each side's SYN
	ws      [2]int             // window scale offered in the SYN, -1 if none
	high    [2]uint32          // highest sequence number the side sent + 1
	una     [2]uint32          // highest ACK of the side's data the peer sent
	known   [2]uint32          // highest ACK of the side's data that reached the side
	win     [2]int             // last window the side advertised, scaled
	hasWin  [2]bool
	last    time.Duration // time of the last segment either way

	// What each side received of its peer, from the ground truth.
	rcv      [2]recvState
	heard    [2]time.Duration // when the side last received a segment of the peer
	hasHeard [2]bool
	// arrived is the last segment that reached each side, and how it fit
	// what the side had received: what an ACK the side sends answers.
	arrived [2]arrivalInfo
	// lastAck is the last segment each side sent with an ACK, and its fate.
	lastAck [2]*tx
	// lastRst is the last RST each side sent, and its fate.
	lastRst [2]*tx
	// dupSeen counts the duplicate ACKs of the peer that reached each
	// side since its una last moved (RFC 5681: no data, the same ACK and
	// window, data outstanding), and winSeen is the last window of the
	// peer that reached it.
	dupSeen  [2]int
	winSeen  [2]int
	winKnown [2]bool

	handshake  int  // handshake steps seen: 0–3
	simOpen    bool // both sides sent a bare SYN
	oldSyn     bool // the connection was opened by an old duplicate SYN
	forgedOnly bool // only forged segments were seen on it
	synAckSent [2]bool
	cookie     bool        // the SYN-ACK was a SYN cookie
	synAck     *tx         // the last SYN-ACK sent and its fate
	synTxs     [2][2][]*tx // each side's SYN and SYN-ACK transmissions
	finalAck   *tx         // side 0's last ACK of the SYN-ACK and its fate

	finSent  [2]bool
	finSeq   [2]uint32 // relative sequence number of the FIN
	finAcked [2]bool
	firstFin int  // side that sent FIN first, -1 before
	simClose bool // each side sent FIN before it had the other's
	reset    bool

	xmits      [2]xmitList // transmissions of each side's sequence space
	keepalives [2]int      // keep-alive probes since the side last heard its peer
	zwps       [2]int      // zero-window probes since the side last saw its peer's window open
	lastFlags  [2]segment.Flags
	challenge  [2]i18n.Msg // why the side owes a challenge ACK, if it does
}

// newConn starts tracking the connection of s.
func newConn(s *segment.Segment) *conn {
	return &conn{ends: [2]netip.AddrPort{s.Src, s.Dst}, ws: [2]int{-1, -1}, firstFin: -1}
}

// oldSynIncarnation starts tracking the connection that SYN-ACK s opens
// in answer to an old duplicate SYN of connection c, which is over: side 0
// is the end that sent that SYN.
func (c *conn) oldSynIncarnation(s *segment.Segment) *conn {
	n := &conn{ends: [2]netip.AddrPort{s.Dst, s.Src}, ws: [2]int{-1, -1}, firstFin: -1, handshake: 1, oldSyn: true}
	old := c.sideOf(s.Dst)
	n.base[0], n.hasBase[0], n.synSeen[0] = s.Ack-1, true, true
	n.synOpts[0], n.ws[0] = c.synOpts[old], c.ws[old]
	return n
}

// over reports whether the connection has ended (both FINs acknowledged, or
// reset), so that a new SYN on the same port pair starts a new connection.
func (c *conn) over() bool { return c.reset || (c.finAcked[0] && c.finAcked[1]) }

// finHeard reports whether side d has received its peer's FIN (and
// everything before it).
func (c *conn) finHeard(d int) bool {
	r := &c.rcv[d]
	return c.finSent[1-d] && r.started && seqGT(r.nxt, c.finSeq[1-d])
}

// sideOf returns the side that sends from endpoint src.
func (c *conn) sideOf(src netip.AddrPort) int {
	if src == c.ends[0] {
		return 0
	}
	return 1
}

// tx is one transmission of a range of sequence space (or of an ACK), and
// what became of it.
type tx struct {
	frame int
	at    time.Duration
	ack   uint32 // the relative ACK it carried, for ACKs
	// fate: dropped (drop, when), or arrived (when, and the verdict), or
	// neither yet (in flight).
	drop    *event.Fate
	unseen  bool // a capture does not show whether it arrived
	arrived bool
	arrival time.Duration
	verdict event.Verdict
	ahead   bool // it arrived beyond the next byte its receiver expected
}

// fate describes what became of the transmission so far, as a message:
// "dropped at 1.2 s: loss on client→switch", "reached server at 1.25 s",
// "still on its way".
func (x *tx) fate(t *Tap, to string) i18n.Msg {
	switch {
	case x.drop != nil:
		return i18n.M("fate.dropped", x.frame, t.dropReason(x.drop))
	case x.unseen:
		return i18n.M("cap.fate.unseen", x.frame, to)
	case x.arrived && isDrop(x.verdict):
		return i18n.M("fate.stackdrop", x.frame, to, verdictMsg(x.verdict))
	case x.arrived:
		return i18n.M("fate.arrived", x.frame, to, fmtTime(x.arrival))
	}
	return i18n.M("fate.inflight", x.frame)
}

// delivered reports whether the transmission reached its receiver and was
// processed there.
func (x *tx) delivered() bool { return x.arrived && !isDrop(x.verdict) }

// xmit is a range of a side's sequence space [start, end) and its
// transmissions, oldest first.
type xmit struct {
	start, end uint32
	txs        []*tx
}

// xmitList is a side's ranges in sequence order, from the oldest one its
// sender has not seen acknowledged.
type xmitList []*xmit

// find returns the range that contains seq, or nil.
func (l xmitList) find(seq uint32) *xmit {
	i, _ := slices.BinarySearchFunc(l, seq, func(x *xmit, s uint32) int {
		switch {
		case seqLE(x.end, s):
			return -1
		case seqGT(x.start, s):
			return 1
		}
		return 0
	})
	if i < len(l) && !seqGT(l[i].start, seq) && seqGT(l[i].end, seq) {
		return l[i]
	}
	return nil
}

// add records a transmission of [start, end): it returns the range's
// earlier transmissions when it repeats one that starts at start, and the
// range that contains start when it resends part of one.
func (l *xmitList) add(start, end uint32, x *tx) (prev *xmit, partial bool) {
	if old := l.find(start); old != nil {
		if old.start == start {
			prev = &xmit{start: old.start, end: old.end, txs: slices.Clone(old.txs)}
			old.txs = append(old.txs, x)
			if seqGT(end, old.end) {
				old.end = end
			}
			return prev, false
		}
		return &xmit{start: old.start, end: old.end, txs: slices.Clone(old.txs)}, true
	}
	n := &xmit{start: start, end: end, txs: []*tx{x}}
	i := len(*l)
	for i > 0 && seqGT((*l)[i-1].start, start) {
		i--
	}
	*l = slices.Insert(*l, i, n)
	return nil, false
}

// prune forgets the ranges that end at or before ack: their sender has seen
// them acknowledged.
func (l *xmitList) prune(ack uint32) {
	n := 0
	for n < len(*l) && seqLE((*l)[n].end, ack) {
		n++
	}
	if n > 0 {
		clear((*l)[:n])
		*l = (*l)[n:]
	}
}

// recvState is what a side has received of its peer's sequence space: all
// of it before nxt, and the ranges in ooo beyond it.
type recvState struct {
	started bool
	nxt     uint32
	ooo     []span
}

// span is a range of sequence space [start, end).
type span struct{ start, end uint32 }

// fit is how an arriving segment's sequence space fits what its receiver
// already had.
type fit int

const (
	fitNone      fit = iota // no sequence space (a pure ACK)
	fitInOrder              // starts at the next expected byte
	fitDuplicate            // everything in it was received before
	fitAhead                // starts beyond the next expected byte: a gap
	fitOverlap              // starts before the next expected byte, ends after
	fitOutside              // beyond the receiver's window: not taken
)

// arrivalInfo is the last segment that reached a side.
type arrivalInfo struct {
	ref        event.Ref
	fit        fit
	start, end uint32 // its sequence space, relative
	nxt        uint32 // what the side expected next when it arrived
	flags      segment.Flags
	verdict    event.Verdict
	cookie     bool   // the stack answered it with a SYN cookie
	sack       bool   // it carried SACK blocks
	sackHigh   uint32 // the end of its highest SACK block, relative
	ack        uint32 // its relative ACK, when it had one
	probe      probe  // it was a keep-alive or zero-window probe
}

// receive records that [start, end) reached the receiver, whose receive
// window (as it last advertised it) is win bytes, or unknown when win < 0,
// and how it fit. Data beyond the window is not taken.
func (r *recvState) receive(start, end uint32, win int, fin bool) (fit, uint32) {
	if !r.started {
		r.started, r.nxt = true, start
	}
	nxt := r.nxt
	if win >= 0 && start != end && !seqLT(start, r.nxt) {
		if limit := r.nxt + uint32(win); seqGT(end, limit) {
			end = limit
			if !seqGT(end, start) {
				return fitOutside, nxt
			}
		}
	}
	switch {
	case start == end:
		return fitNone, nxt
	case seqLE(end, r.nxt) || r.covered(start, end):
		return fitDuplicate, nxt
	case seqGT(start, r.nxt):
		// netstack keeps out-of-order data but not a FIN that comes
		// before the data it ends (its ACKs show it).
		if fin {
			end--
		}
		if seqGT(end, start) {
			r.insert(span{start, end})
		}
		return fitAhead, nxt
	}
	f := fitInOrder
	if seqLT(start, r.nxt) {
		f = fitOverlap
	}
	r.nxt = end
	for len(r.ooo) > 0 && seqLE(r.ooo[0].start, r.nxt) {
		if seqGT(r.ooo[0].end, r.nxt) {
			r.nxt = r.ooo[0].end
		}
		r.ooo = r.ooo[1:]
	}
	if len(r.ooo) == 0 {
		r.ooo = nil
	}
	return f, nxt
}

// sync sets what the receiver has to what an ACK it sent says: in order up
// to nxt, and, when SACK is in use, out of order exactly the SACK blocks
// (relative, given in sack); out-of-order ranges at or below nxt are
// forgotten.
func (r *recvState) sync(nxt uint32, sackOK bool, sack []span) {
	if sackOK {
		r.ooo = r.ooo[:0]
		for _, b := range sack {
			if seqGT(b.end, nxt) {
				r.insert(span{max32(b.start, nxt), b.end})
			}
		}
	}
	if r.started && r.nxt == nxt {
		return
	}
	r.started, r.nxt = true, nxt
	for len(r.ooo) > 0 && seqLE(r.ooo[0].end, nxt) {
		r.ooo = r.ooo[1:]
	}
	if len(r.ooo) > 0 && seqLT(r.ooo[0].start, nxt) {
		r.ooo[0].start = nxt
	}
	if len(r.ooo) == 0 {
		r.ooo = nil
	}
}

// has reports whether the receiver has [start, end): before nxt, or within
// one out-of-order range.
func (r *recvState) has(start, end uint32) bool {
	return r.started && (seqLE(end, r.nxt) || r.covered(start, end))
}

// hole returns the first missing range [nxt, start of the first
// out-of-order range), and whether there is one.
func (r *recvState) hole() (span, bool) {
	if len(r.ooo) == 0 {
		return span{}, false
	}
	return span{r.nxt, r.ooo[0].start}, true
}

// covered reports whether [start, end) lies within one out-of-order range.
func (r *recvState) covered(start, end uint32) bool {
	for _, s := range r.ooo {
		if seqLE(s.start, start) && seqLE(end, s.end) {
			return true
		}
	}
	return false
}

// insert adds a range beyond nxt, merging it with those it touches.
func (r *recvState) insert(n span) {
	i := 0
	for i < len(r.ooo) && seqLT(r.ooo[i].end, n.start) {
		i++
	}
	j := i
	for j < len(r.ooo) && seqLE(r.ooo[j].start, n.end) {
		if seqLT(r.ooo[j].start, n.start) {
			n.start = r.ooo[j].start
		}
		if seqGT(r.ooo[j].end, n.end) {
			n.end = r.ooo[j].end
		}
		j++
	}
	r.ooo = slices.Replace(r.ooo, i, j, n)
}

// max32 returns the later of two sequence numbers.
func max32(a, b uint32) uint32 {
	if seqGT(a, b) {
		return a
	}
	return b
}

func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
func seqGE(a, b uint32) bool { return int32(a-b) >= 0 }

// endKey identifies one endpoint of one host.
type endKey struct {
	host          string
	local, remote netip.AddrPort
}

// endState is what the tap knows of one endpoint from its state rows.
type endState struct {
	state       event.State
	was         event.State   // the state before
	at          time.Duration // when the endpoint entered state
	cause       event.Cause   // why
	closedByApp bool          // the application closed or aborted it
	twRestarts  int           // FINs that reached it in TIME_WAIT
}

// endOf returns what the tap knows of host's endpoint local–remote, or nil.
func (t *Tap) endOf(host string, local, remote netip.AddrPort) *endState {
	k := endKey{host, local, remote}
	c := &t.endCache
	for i := range c.keys {
		if c.ends[i] != nil && c.keys[i] == k {
			return c.ends[i]
		}
	}
	e := t.ends[k]
	if e != nil {
		c.keys[c.next], c.ends[c.next] = k, e
		c.next = 1 - c.next
	}
	return e
}

// endCache holds the last two endpoints endOf found: a transfer looks up
// its two ends in turn, several times per segment, and an endKey is slow
// to hash. An endpoint forgotten (evict.go) empties it.
type endCache struct {
	keys [2]endKey
	ends [2]*endState
	next int
}

// stateOf returns the state of host's endpoint local–remote as the tap
// knows it: CLOSED when it knows nothing.
func (t *Tap) stateOf(host string, local, remote netip.AddrPort) event.State {
	if e := t.endOf(host, local, remote); e != nil {
		return e.state
	}
	return event.Closed
}
