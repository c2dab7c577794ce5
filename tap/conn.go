package tap

import (
	"fmt"
	"net/netip"

	"github.com/tcplab/tcplab/i18n"
)

// connKey identifies a connection regardless of direction.
type connKey struct{ a, b netip.AddrPort }

func keyOf(s Segment) connKey {
	a, b := s.Src, s.Dst
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return connKey{a, b}
}

// conn is what the tap knows of one connection. Side 0 is the host that sent
// the first segment seen (normally the SYN), side 1 its peer.
type conn struct {
	ends     [2]netip.AddrPort
	base     [2]uint32 // ISN, or first sequence number seen
	hasBase  [2]bool
	synSeen  [2]bool
	ws       [2]int    // window scale offered in the SYN, -1 if none
	high     [2]uint32 // highest relative sequence number sent + 1
	finSent  [2]bool
	finSeq   [2]uint32 // relative sequence number of the FIN
	finAcked [2]bool
	firstFin int // side that sent FIN first, -1 before
	est      bool
}

// annotate fills in a segment row's relative numbers, options and notes.
func (t *Tap) annotate(r *Row) {
	s := r.Seg
	k := keyOf(s)
	c := t.conns[k]
	if c == nil || (s.Flags&SYN != 0 && s.Flags&ACK == 0 && c.synSeen[sideOf(c, s)] && c.base[sideOf(c, s)] != s.Seq && c.finishedOrReset()) {
		c = &conn{ends: [2]netip.AddrPort{s.Src, s.Dst}, ws: [2]int{-1, -1}, firstFin: -1}
		t.conns[k] = c
	}
	d := sideOf(c, s)
	o := 1 - d
	if s.Flags&SYN != 0 && !c.synSeen[d] {
		c.synSeen[d] = true
		c.base[d], c.hasBase[d] = s.Seq, true
		c.ws[d] = s.Opts.WS
	}
	if !c.hasBase[d] {
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

	from, to := t.Name(s.Src.Addr()), t.Name(s.Dst.Addr())
	segLen := uint32(s.Len)
	if s.Flags&(SYN) != 0 {
		segLen++
	}
	if s.Flags&FIN != 0 {
		segLen++
	}
	end := r.RelSeq + segLen
	retrans := segLen > 0 && seqLT(r.RelSeq, c.high[d]) && !(s.Flags&SYN != 0 && r.RelSeq == 0 && c.high[d] == 0)
	if seqGT(end, c.high[d]) {
		c.high[d] = end
	}
	notes := &r.Notes

	switch {
	case s.Flags&RST != 0:
		*notes = append(*notes, raw(fmt.Sprintf("RST: %s resets the connection; %s drops it at once, without the close handshake", from, to)))
		c.finAcked = [2]bool{true, true}
		return
	case s.Flags&SYN != 0 && s.Flags&ACK == 0:
		if retrans {
			*notes = append(*notes, raw(fmt.Sprintf("SYN retransmitted: %s got no SYN-ACK in time", from)))
			return
		}
		*notes = append(*notes, raw(fmt.Sprintf("handshake 1/3: %s asks %s to connect and picks its initial sequence number ISN=%d (relative seq 0)", from, to, s.Seq)))
		return
	case s.Flags&SYN != 0:
		if retrans {
			*notes = append(*notes, raw(fmt.Sprintf("SYN-ACK retransmitted: %s got no final ACK in time", from)))
			return
		}
		*notes = append(*notes, raw(fmt.Sprintf("handshake 2/3: %s acknowledges ISN+1 (ack=%d=%d+1) and sends its own ISN=%d", from, s.Ack, s.Ack-1, s.Seq)))
		return
	}

	if s.Flags&ACK != 0 && !c.est && d == 0 && c.synSeen[1] && r.RelAck == 1 && s.Len == 0 && s.Flags&FIN == 0 {
		c.est = true
		*notes = append(*notes, raw(fmt.Sprintf("handshake 3/3: %s acknowledges %s's ISN+1 (ack=%d=%d+1); the connection is established", from, to, s.Ack, s.Ack-1)))
		return
	}
	if s.Flags&ACK != 0 && c.synSeen[0] && c.synSeen[1] {
		c.est = true
	}

	// Close steps: a FIN, and the ACK that covers it.
	acksFin := s.Flags&ACK != 0 && c.finSent[o] && !c.finAcked[o] && seqGE(r.RelAck, c.finSeq[o]+1)
	if acksFin {
		c.finAcked[o] = true
	}
	if s.Len > 0 {
		if retrans {
			*notes = append(*notes, raw(fmt.Sprintf("retransmission of %d bytes (seq %d–%d)", s.Len, r.RelSeq, r.RelSeq+uint32(s.Len))))
		} else {
			*notes = append(*notes, raw(fmt.Sprintf("data: %d bytes from %s (seq %d–%d)", s.Len, from, r.RelSeq, r.RelSeq+uint32(s.Len))))
		}
	}
	switch {
	case s.Flags&FIN != 0 && c.finSent[d]:
		*notes = append(*notes, raw(fmt.Sprintf("FIN retransmitted: %s's FIN was not acknowledged in time", from)))
	case s.Flags&FIN != 0:
		c.finSent[d] = true
		c.finSeq[d] = r.RelSeq + uint32(s.Len)
		switch {
		case c.firstFin < 0:
			c.firstFin = d
			*notes = append(*notes, raw(fmt.Sprintf("close 1/4: %s sends FIN: it has nothing more to send (active close)", from)))
		case acksFin:
			*notes = append(*notes, raw(fmt.Sprintf("close 2/4 and 3/4 at once: %s acknowledges %s's FIN and sends its own FIN", from, to)))
		case !c.finAcked[o]:
			*notes = append(*notes, raw(fmt.Sprintf("simultaneous close: %s sends FIN while its own FIN to %s is unacknowledged", from, from)))
		default:
			*notes = append(*notes, raw(fmt.Sprintf("close 3/4: %s sends its own FIN (passive close)", from)))
		}
	case acksFin && o == c.firstFin:
		*notes = append(*notes, raw(fmt.Sprintf("close 2/4: %s acknowledges %s's FIN (ack=%d); %s may still send data", from, to, r.RelAck, from)))
	case acksFin:
		*notes = append(*notes, raw(fmt.Sprintf("close 4/4: %s acknowledges %s's FIN; %s waits in TIME_WAIT", from, to, from)))
	case s.Len == 0 && s.Flags&ACK != 0 && c.finAcked[o] && c.finAcked[d] && c.finSent[d] && c.finSent[o]:
		*notes = append(*notes, raw(fmt.Sprintf("ACK of %s's FIN again", to)))
	case s.Len == 0 && s.Flags&ACK != 0:
		*notes = append(*notes, raw(fmt.Sprintf("ACK: %s has received everything up to seq %d", from, r.RelAck)))
	}
}

// finishedOrReset reports whether the connection is over, so that a new SYN
// on the same port pair starts a new connection.
func (c *conn) finishedOrReset() bool { return c.finAcked[0] && c.finAcked[1] }

func sideOf(c *conn, s Segment) int {
	if s.Src == c.ends[0] {
		return 0
	}
	return 1
}

func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
func seqGE(a, b uint32) bool { return int32(a-b) >= 0 }

// raw wraps an English text (temporary).
func raw(s string) i18n.Msg { return i18n.M("raw", s) }

func (t *Tap) explainState(r *Row)                          {}
func (t *Tap) explainQueue(r *Row)                          {}
func (t *Tap) explainCounter(r *Row, name string, d uint64) {}

// endKey identifies one endpoint of one host.
type endKey struct {
	host          string
	local, remote netip.AddrPort
}

// endState is what the tap knows of one endpoint from its state rows.
type endState struct{}
