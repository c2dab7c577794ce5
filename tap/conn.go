package tap

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
)

// connKey identifies a connection regardless of direction.
type connKey struct{ a, b netip.AddrPort }

func keyOf(s Segment) connKey { return keyOfEnds(s.Src, s.Dst) }

func keyOfEnds(a, b netip.AddrPort) connKey {
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return connKey{a, b}
}

// conn is what the tap knows of one connection, from its segments. Side 0
// is the end that sent the first segment seen (normally the SYN), side 1 its
// peer; arrays are indexed by side.
type conn struct {
	ends    [2]netip.AddrPort
	base    [2]uint32 // ISN, or first sequence number seen
	hasBase [2]bool
	synSeen [2]bool
	synOpts [2]Options // options of each side's SYN
	ws      [2]int     // window scale offered in the SYN, -1 if none
	high    [2]uint32  // highest relative sequence number sent + 1
	una     [2]uint32  // highest relative ack the peer sent for this side's data
	win     [2]int     // last window advertised by the side, scaled
	hasWin  [2]bool
	last    time.Duration // time of the last segment either way

	handshake  int  // handshake steps seen: 0–3
	simOpen    bool // both sides sent a bare SYN
	synAckSent [2]bool
	cookie     bool // the SYN-ACK was a SYN cookie

	finSent  [2]bool
	finSeq   [2]uint32 // relative sequence number of the FIN
	finAcked [2]bool
	firstFin int  // side that sent FIN first, -1 before
	simClose bool // each side sent FIN before it had the other's
	reset    bool

	sent       [2]map[uint32]*xmit // transmissions by relative start seq
	keepalives [2]int              // keep-alive probes sent since data last flowed
	kaPending  [2]bool             // the side's last probe is not answered yet
	lastFlags  [2]uint8            // flags of each side's last segment
	challenge  [2]i18n.Msg         // why the side owes a challenge ACK, if it does
	synDropped bool                // a SYN of side 0 was dropped by a full accept queue
	recoverTo  [2]uint32           // fast recovery lasts until this is acknowledged
}

// xmit records the transmissions of one sequence range.
type xmit struct {
	first, last time.Duration
	n           int // transmissions so far
}

// newConn starts tracking the connection of s.
func newConn(s Segment) *conn {
	c := &conn{ends: [2]netip.AddrPort{s.Src, s.Dst}, ws: [2]int{-1, -1}, firstFin: -1}
	c.sent[0], c.sent[1] = map[uint32]*xmit{}, map[uint32]*xmit{}
	return c
}

// over reports whether the connection has ended (both FINs acknowledged, or
// reset), so that a new SYN on the same port pair starts a new connection.
func (c *conn) over() bool { return c.reset || (c.finAcked[0] && c.finAcked[1]) }

func sideOf(c *conn, s Segment) int {
	if s.Src == c.ends[0] {
		return 0
	}
	return 1
}

// segInfo is what annotate works out about one segment before explaining it.
type segInfo struct {
	r        *Row
	c        *conn
	d, o     int    // sending side, receiving side
	from, to string // host names
	segLen   uint32 // sequence space the segment occupies
	retrans  *xmit  // earlier transmissions of the same start seq, if any
	spoofed  bool   // the source address is not the sending host's
}

// annotate fills in a segment row's relative numbers and notes and updates
// the connection's tracking.
func (t *Tap) annotate(r *Row) {
	s := r.Seg
	k := keyOf(s)
	c := t.conns[k]
	isSYN := s.Flags&SYN != 0 && s.Flags&ACK == 0
	reused := false
	if c != nil && isSYN && c.over() && !(c.synSeen[sideOf(c, s)] && c.base[sideOf(c, s)] == s.Seq) {
		c, reused = nil, true
	}
	if c == nil {
		c = newConn(s)
		t.conns[k] = c
	}
	in := &segInfo{r: r, c: c, d: sideOf(c, s), from: t.Name(s.Src.Addr()), to: t.Name(s.Dst.Addr())}
	in.o = 1 - in.d
	in.spoofed = r.Host != "" && r.Host != in.from
	t.number(in)
	if reused {
		r.Notes = append(r.Notes, i18n.M("seg.reuse", s.Src, s.Dst))
	}
	switch {
	case in.spoofed && s.Flags&(RST|SYN) == 0:
		r.Notes = append(r.Notes, i18n.M("seg.forged", FlagString(s.Flags), in.from))
	case s.Flags&RST != 0:
		t.explainRST(in)
	case s.Flags&SYN != 0:
		t.explainSYN(in)
	default:
		t.explainOther(in)
	}
	c.last = r.At
	if !in.spoofed {
		c.lastFlags[in.d] = s.Flags
	}
}

// number computes the row's relative numbers, window and bytes in flight,
// and records the transmission.
func (t *Tap) number(in *segInfo) {
	r, c, d, o := in.r, in.c, in.d, in.o
	s := r.Seg
	if s.Flags&SYN != 0 && !c.synSeen[d] && !in.spoofed || !c.hasBase[d] {
		if s.Flags&SYN != 0 && !c.synSeen[d] {
			c.synSeen[d] = true
			c.synOpts[d] = s.Opts
			c.ws[d] = s.Opts.WS
		}
		c.base[d], c.hasBase[d] = s.Seq, true
	}
	r.RelSeq = s.Seq - c.base[d]
	if s.Flags&ACK != 0 && c.hasBase[o] {
		r.RelAck = s.Ack - c.base[o]
		r.HasAck = true
	}
	r.Window = int(s.Win)
	if s.Flags&SYN == 0 && c.ws[0] >= 0 && c.ws[1] >= 0 {
		r.Window = int(s.Win) << c.ws[d]
	}
	r.sackBase = c.base[o]

	in.segLen = uint32(s.Len)
	if s.Flags&SYN != 0 {
		in.segLen++
	}
	if s.Flags&FIN != 0 {
		in.segLen++
	}
	if in.spoofed {
		return // a forged segment says nothing about the real sender
	}
	if r.HasAck && seqGT(r.RelAck, c.una[o]) {
		c.una[o] = r.RelAck
	}
	if s.Flags&RST == 0 {
		c.win[d], c.hasWin[d] = r.Window, true
	}
	end := r.RelSeq + in.segLen
	if in.segLen > 0 {
		x := c.sent[d][r.RelSeq]
		if x != nil && seqLT(r.RelSeq, c.high[d]) {
			in.retrans = &xmit{first: x.first, last: x.last, n: x.n}
			x.last = r.At
			x.n++
		} else {
			c.sent[d][r.RelSeq] = &xmit{first: r.At, last: r.At, n: 1}
		}
		if in.retrans == nil && seqLT(r.RelSeq, c.high[d]) {
			// A resend that starts inside an earlier segment.
			in.retrans = &xmit{first: r.At, last: r.At, n: 1}
		}
	}
	if seqGT(end, c.high[d]) && r.Analysis&ZeroWindowProbe == 0 {
		c.high[d] = end // a zero-window probe's byte is sent again later, as Wireshark counts it
	}
	r.InFlight = int(c.high[d] - c.una[d])
	if !c.synSeen[d] && c.una[d] == 0 {
		r.InFlight = int(c.high[d] - r.RelSeq)
	}
}

// explainSYN explains a SYN or SYN-ACK.
func (t *Tap) explainSYN(in *segInfo) {
	r, c, o := in.r, in.c, in.o
	s := r.Seg
	notes := &r.Notes
	if s.Flags&ACK == 0 {
		switch {
		case in.spoofed:
			*notes = append(*notes, i18n.M("seg.syn.spoofed", s.Src.Addr(), in.to))
		case in.retrans != nil:
			*notes = append(*notes, i18n.M("seg.syn.retrans", in.retrans.n, r.At-in.retrans.last, in.to))
			if c.synDropped {
				*notes = append(*notes, i18n.M("seg.syn.retrans.dropped", in.to))
			}
		case c.synSeen[o] && c.handshake == 1 && !c.simOpen:
			c.simOpen = true
			*notes = append(*notes, i18n.M("seg.simopen.syn", in.from, in.to))
		default:
			c.handshake = 1
			*notes = append(*notes, i18n.M("seg.hs1", in.from, in.to, s.Seq), i18n.M("seg.opts.offer", optList(s.Opts)))
		}
		return
	}
	first := !c.synAckSent[in.d]
	c.synAckSent[in.d] = true
	switch {
	case c.simOpen && first:
		*notes = append(*notes, i18n.M("seg.simopen.synack", in.from, in.to, s.Ack, s.Ack-1))
	case in.retrans != nil:
		*notes = append(*notes, i18n.M("seg.synack.retrans", in.retrans.n, r.At-in.retrans.last, in.to))
	case c.simOpen:
		*notes = append(*notes, i18n.M("seg.simopen.synack", in.from, in.to, s.Ack, s.Ack-1))
	case c.over() || c.handshake >= 3:
		*notes = append(*notes, i18n.M("seg.synack.old", in.from, s.Ack-1))
	case t.takeCookie(r.Host):
		c.cookie = true
		c.handshake = 2
		*notes = append(*notes, i18n.M("seg.synack.cookie", in.from, s.Seq, in.to), i18n.M("diff.cookie"))
	default:
		c.handshake = 2
		*notes = append(*notes, i18n.M("seg.hs2", in.from, in.to, s.Ack, s.Ack-1, s.Seq), negotiated(c.synOpts[o], s.Opts))
	}
}

// explainRST explains a reset: who sent it and the most likely reason.
func (t *Tap) explainRST(in *segInfo) {
	r, c, o := in.r, in.c, in.o
	notes := &r.Notes
	if in.spoofed {
		c.explainForgedRST(in)
		return
	}
	c.reset = true
	prev := t.endOf(r.Host, r.Seg.Src, r.Seg.Dst)
	switch {
	case c.lastFlags[in.d]&RST != 0:
		// The sender reset this connection already: what it answers now
		// (the peer's FIN, a retransmission) has no connection left.
		*notes = append(*notes, i18n.M("seg.rst.noconn", in.from, in.to))
	case c.handshake == 1 && !c.synSeen[in.d]:
		*notes = append(*notes, i18n.M("seg.rst.refused", in.from, r.Seg.Src.Port(), in.to))
	case prev != nil && prev.at == r.At && prev.state == "CLOSED" && causeIs(prev.cause, "abort"):
		*notes = append(*notes, i18n.M("seg.rst.abort", in.from, in.to))
	case prev != nil && prev.at == r.At && prev.state == "CLOSED" && prev.closedByApp && prev.was != "ESTABLISHED" && prev.was != "CLOSE_WAIT":
		*notes = append(*notes, i18n.M("seg.rst.closed", in.from, prev.was, in.to))
	case prev != nil && prev.at == r.At && prev.state == "CLOSED" && causeIs(prev.cause, "close"):
		*notes = append(*notes, i18n.M("seg.rst.unread", in.from, in.to))
	case c.lastFlags[o]&(SYN|ACK) == SYN|ACK:
		*notes = append(*notes, i18n.M("seg.rst.synack", in.from, in.to))
	case prev != nil && prev.at == r.At && prev.state == "CLOSED" && causeIs(prev.cause, "timer"):
		*notes = append(*notes, i18n.M("seg.rst.timeout", in.from, in.to))
	case prev != nil && prev.closedByApp && prev.state != "CLOSED":
		*notes = append(*notes, i18n.M("seg.rst.closed", in.from, prev.state, in.to))
	case prev == nil || prev.state == "CLOSED":
		*notes = append(*notes, i18n.M("seg.rst.noconn", in.from, in.to))
	default:
		*notes = append(*notes, i18n.M("seg.rst", in.from, in.to))
	}
}

// explainForgedRST explains a RST whose source address the sender does not
// own, by where its sequence number falls in the receiver's window (RFC
// 5961).
func (c *conn) explainForgedRST(in *segInfo) {
	r, d, o := in.r, in.d, in.o
	next := c.high[d] // what the receiver expects next from the claimed sender
	rel := r.RelSeq
	win := uint32(max(c.win[o], 0))
	switch {
	case rel == next:
		c.reset = true
		r.Notes = append(r.Notes, i18n.M("seg.rst.forged.exact", in.from, in.to, rel))
	case c.hasWin[o] && seqGE(rel, next) && seqLT(rel, next+win):
		c.challenge[o] = i18n.M("seg.challenge.rst", rel, next)
		r.Notes = append(r.Notes, i18n.M("seg.rst.forged.window", in.from, in.to, rel, next))
	default:
		r.Notes = append(r.Notes, i18n.M("seg.rst.forged.outside", in.from, in.to, rel, next, next+win))
	}
}

// explainOther explains a segment without SYN or RST: the handshake's last
// step, data, FIN, or an ACK of some kind.
func (t *Tap) explainOther(in *segInfo) {
	r, c, d, o := in.r, in.c, in.d, in.o
	s := r.Seg
	notes := &r.Notes
	a := r.Analysis

	// The handshake's third step.
	if s.Flags&ACK != 0 && c.handshake == 2 && c.synSeen[o] && r.RelAck == 1 && s.Flags&FIN == 0 && !in.spoofed {
		c.handshake = 3
		if c.cookie {
			*notes = append(*notes, i18n.M("seg.hs3.cookie", in.from, in.to, s.Ack, s.Ack-1))
		} else {
			*notes = append(*notes, i18n.M("seg.hs3", in.from, in.to, s.Ack, s.Ack-1))
		}
		if s.Len == 0 {
			return
		}
	}
	if c.simOpen && c.handshake < 3 && s.Len == 0 && s.Flags&FIN == 0 {
		*notes = append(*notes, i18n.M("seg.simopen.ack", in.from, in.to))
		if d == 1 {
			c.handshake = 3
		}
		return
	}
	if c.synSeen[0] && c.synSeen[1] && c.handshake < 3 {
		c.handshake = 3
	}

	// Close steps: a FIN, and the ACK that covers it.
	acksFin := s.Flags&ACK != 0 && c.finSent[o] && !c.finAcked[o] && seqGE(r.RelAck, c.finSeq[o]+1)
	if acksFin {
		c.finAcked[o] = true
	}

	switch {
	case s.Len > 0:
		t.explainData(in)
	case a&KeepAlive != 0 || (s.Flags&FIN == 0 && c.synSeen[d] && r.RelSeq+1 == c.high[d] && c.handshake >= 3 && !c.finSent[d]):
		c.keepalives[d]++
		c.kaPending[d] = true
		*notes = append(*notes, i18n.M("seg.keepalive", c.keepalives[d], in.from, r.At-c.last, r.RelSeq, in.to))
		return
	}

	switch {
	case s.Flags&FIN != 0:
		t.explainFIN(in, acksFin)
	case acksFin && c.simClose:
		*notes = append(*notes, i18n.M("seg.simclose.ack", in.from, in.to))
	case acksFin && o == c.firstFin:
		*notes = append(*notes, i18n.M("seg.close2", in.from, in.to, r.RelAck))
	case acksFin:
		*notes = append(*notes, i18n.M("seg.close4", in.from, in.to))
	case s.Len > 0:
		// explained as data
	case !c.challenge[d].IsZero():
		*notes = append(*notes, i18n.M("seg.challenge", in.from, c.challenge[d], r.RelAck))
		c.challenge[d] = i18n.Msg{}
	case a&KeepAliveAck != 0 || c.kaPending[o]:
		c.kaPending[o] = false
		*notes = append(*notes, i18n.M("seg.keepalive.ack", in.from, r.RelAck))
	case a&ZeroWindowProbeAck != 0:
		*notes = append(*notes, i18n.M("seg.zwp.ack", in.from, r.Window))
	case s.Win == 0:
		*notes = append(*notes, i18n.M("seg.zerowin", in.from, in.to))
	case c.finAcked[o] && c.finAcked[d] && c.finSent[d] && c.finSent[o]:
		*notes = append(*notes, i18n.M("seg.close4.again", in.from, in.to))
	case a&DupAck != 0:
		*notes = append(*notes, i18n.M("seg.dupack", r.DupAckNum, r.DupAckOf, in.from, r.RelAck))
	case a&WindowUpdate != 0:
		*notes = append(*notes, i18n.M("seg.winupdate", in.from, r.Window, in.to))
	default:
		*notes = append(*notes, i18n.M("seg.ack", in.from, r.RelAck))
	}
	if s.Flags&FIN == 0 && len(s.Opts.SACK) > 0 {
		*notes = append(*notes, sackNote(r))
	}
}

// explainData explains a segment that carries data.
func (t *Tap) explainData(in *segInfo) {
	r, c, d, o := in.r, in.c, in.d, in.o
	s := r.Seg
	a := r.Analysis
	notes := &r.Notes
	from, to := r.RelSeq, r.RelSeq+uint32(s.Len)
	c.keepalives[d] = 0
	switch {
	case a&ZeroWindowProbe != 0 || (c.hasWin[o] && c.win[o] == 0 && s.Len == 1 && (a&KeepAlive != 0 || r.RelSeq == c.high[d]-1 && in.retrans == nil)):
		*notes = append(*notes, i18n.M("seg.zwp", in.to, in.from))
		if a&KeepAlive != 0 {
			*notes = append(*notes, i18n.M("diff.zwp"))
		}
		return
	case a&OutOfOrder != 0:
		*notes = append(*notes, i18n.M("seg.ooo", from, to))
	case a&FastRetransmission != 0 || (in.retrans != nil && t.movedNow(r, "FastRetransmit") && !seqLT(c.una[d], c.recoverTo[d])):
		c.recoverTo[d] = c.high[d]
		*notes = append(*notes, i18n.M("seg.retrans.fast", from, to, in.from))
	case a&SpuriousRetransmission != 0:
		*notes = append(*notes, i18n.M("seg.retrans.spurious", from, to, in.to))
	case in.retrans != nil && in.retrans.n > 0 && t.movedNow(r, "Timeouts"):
		*notes = append(*notes, i18n.M("seg.retrans.rto", in.retrans.n, from, to, r.At-in.retrans.last))
	case (in.retrans != nil || a&Retransmission != 0) && seqLT(c.una[d], c.recoverTo[d]):
		*notes = append(*notes, i18n.M("seg.retrans.recovery", from, to))
	case in.retrans != nil && to == c.high[d]:
		*notes = append(*notes, i18n.M("seg.retrans.tlp", from, to))
	case in.retrans != nil || a&Retransmission != 0:
		*notes = append(*notes, i18n.M("seg.retrans", from, to))
	case c.finSent[o] && !c.finSent[d]:
		if e := t.endOf(in.to, s.Dst, s.Src); e == nil || e.state == "CLOSED" || e.closedByApp {
			*notes = append(*notes, i18n.M("seg.data.orphan", s.Len, in.from, from, to, in.to))
		} else {
			*notes = append(*notes, i18n.M("seg.data.halfclose", s.Len, in.from, from, to, in.to))
		}
	case s.Flags&PSH != 0:
		*notes = append(*notes, i18n.M("seg.data.psh", s.Len, in.from, from, to))
	default:
		*notes = append(*notes, i18n.M("seg.data", s.Len, in.from, from, to))
	}
	if a&WindowFull != 0 {
		*notes = append(*notes, i18n.M("seg.winfull", in.from, in.to, r.InFlight))
	} else if r.InFlight > s.Len && in.retrans == nil {
		*notes = append(*notes, i18n.M("seg.inflight", r.InFlight))
	}
}

// explainFIN explains a FIN: which step of the close it is.
func (t *Tap) explainFIN(in *segInfo, acksFin bool) {
	r, c, d, o := in.r, in.c, in.d, in.o
	notes := &r.Notes
	if c.finSent[d] {
		if e := t.endOf(in.to, r.Seg.Dst, r.Seg.Src); e != nil && e.state == "TIME_WAIT" {
			e.twRestarts++
		}
		if x := c.sent[d][c.finSeq[d]]; x != nil && x.n > 1 && r.Seg.Len == 0 && in.retrans != nil {
			*notes = append(*notes, i18n.M("seg.fin.retrans", x.n-1, r.At-in.retrans.last, in.from))
		} else {
			*notes = append(*notes, i18n.M("seg.fin.again", in.from))
		}
		return
	}
	c.finSent[d] = true
	c.finSeq[d] = r.RelSeq + uint32(r.Seg.Len)
	switch {
	case c.firstFin < 0:
		c.firstFin = d
		*notes = append(*notes, i18n.M("seg.close1", in.from, in.to))
	case acksFin:
		*notes = append(*notes, i18n.M("seg.close23", in.from, in.to))
	case !c.finAcked[o] && !seqGE(r.RelAck, c.finSeq[o]+1):
		c.simClose = true
		*notes = append(*notes, i18n.M("seg.simclose.fin", in.from, in.to))
	default:
		*notes = append(*notes, i18n.M("seg.close3", in.from))
	}
}

// optList lists the options a SYN offers.
func optList(o Options) i18n.Msg {
	var parts i18n.List
	if o.MSS > 0 {
		parts = append(parts, i18n.M("opt.mss", o.MSS))
	}
	if o.WS >= 0 {
		parts = append(parts, i18n.M("opt.ws", 1<<min(o.WS, 14)))
	}
	if o.SACKPerm {
		parts = append(parts, i18n.M("opt.sack"))
	}
	if o.HasTS {
		parts = append(parts, i18n.M("opt.ts"))
	}
	if len(parts) == 0 {
		return i18n.M("opt.none")
	}
	return i18n.M("opt.list", parts)
}

// negotiated explains what a SYN-ACK agrees to, given the SYN's options.
func negotiated(syn, synack Options) i18n.Msg {
	mss := synack.MSS
	if syn.MSS > 0 && (mss == 0 || syn.MSS < mss) {
		mss = syn.MSS
	}
	ws := i18n.M("opt.off")
	if syn.WS >= 0 && synack.WS >= 0 {
		ws = i18n.M("opt.ws.on", 1<<min(syn.WS, 14), 1<<min(synack.WS, 14))
	}
	onOff := func(b bool) i18n.Msg {
		if b {
			return i18n.M("opt.on")
		}
		return i18n.M("opt.off")
	}
	return i18n.M("seg.negotiated", mss, ws, onOff(syn.SACKPerm && synack.SACKPerm), onOff(syn.HasTS && synack.HasTS))
}

// sackNote explains the SACK blocks of an ACK.
func sackNote(r *Row) i18n.Msg {
	var blocks []string
	for _, b := range r.Seg.Opts.SACK {
		blocks = append(blocks, fmt.Sprintf("%d–%d", b[0]-r.sackBase, b[1]-r.sackBase))
	}
	first := r.Seg.Opts.SACK[0][0] - r.sackBase
	return i18n.M("seg.sack", strings.Join(blocks, ", "), r.RelAck, first)
}

func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
func seqGE(a, b uint32) bool { return int32(a-b) >= 0 }
