package capture

import (
	"container/heap"
	"net/netip"
	"slices"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/tap"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// Options adjust an Explainer.
type Options struct {
	// Names names hosts by address (--names); they win over the names the
	// capture's Name Resolution Blocks give. Other hosts are known by
	// their address.
	Names map[netip.Addr]string
	// Select picks the connections to explain (--conn): it is given each
	// connection's index (1-based, in order of first appearance) and its
	// endpoints (the first sender first). Nil explains every connection.
	Select func(id int, a, b netip.AddrPort) bool
	// HalfOpenFlood is the number of connections half-open at once
	// (SYN_RCVD, never completed) at which the SYN flood pattern is
	// named; 0 means 16.
	HalfOpenFlood int
}

// Explainer explains a capture: give it the capture's packets in order
// (Packet), then call Finish. It feeds its tap the inferred events, so the
// tap's sinks get the timeline as it goes.
type Explainer struct {
	tap   *tap.Tap
	opts  Options
	win   *window
	conns map[connKey]*conn
	ids   int // connections seen

	heap    deliveryHeap
	seq     int
	lastT   time.Duration // time of the last event given to the tap
	start   time.Time     // capture time of the first packet
	started bool
	named   map[netip.Addr]bool

	// extra are notes for segment rows, by frame, that the tap does not
	// make (patterns, what the capture cannot tell); Notes hands them to
	// the sinks.
	extra map[int][]i18n.Msg

	sweepAt      int // the number of connections at which to sweep
	halfOpen     int // connections half-open now
	peakHalfOpen int
	floodNoted   bool
	fan          *fanout
	stats        Stats
	summaries    []Summary
	summaryDrop  int
}

// Stats counts what the capture held.
type Stats struct {
	// Packets is the number of frames; TCP those with a TCP segment.
	Packets, TCP int
	// Truncated counts TCP segments cut short by the snap length.
	Truncated int
	// Skipped counts the frames without a TCP segment, by what they are
	// ("UDP", "ARP", ...).
	Skipped map[string]int
	// Conns is the number of connections (port pairs and incarnations),
	// Explained those explained (--conn).
	Conns, Explained int
	// First and Last are the capture times of the first and last frames;
	// End is the last, relative to the first.
	First, Last time.Time
	End         time.Duration
}

// New returns an Explainer that feeds t.
func New(t *tap.Tap, opts Options) *Explainer {
	if opts.HalfOpenFlood <= 0 {
		opts.HalfOpenFlood = 16
	}
	x := &Explainer{tap: t, opts: opts, win: newWindow(), conns: map[connKey]*conn{}, named: map[netip.Addr]bool{}, extra: map[int][]i18n.Msg{}}
	x.stats.Skipped = map[string]int{}
	for _, a := range sortedAddrs(opts.Names) {
		x.name(a, opts.Names[a])
	}
	return x
}

// sortedAddrs returns a map's addresses in order.
func sortedAddrs(m map[netip.Addr]string) []netip.Addr {
	var out []netip.Addr
	for a := range m {
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// name registers a host name for an address with the tap, once.
func (x *Explainer) name(a netip.Addr, name string) {
	if x.named[a] || name == "" {
		return
	}
	x.named[a] = true
	x.tap.AddHost(name, []netip.Addr{a})
}

// AddNames registers names the capture itself gives (tcplab's Name
// Resolution Blocks) for addresses Options.Names does not name. Call it
// before the first packet is explained.
func (x *Explainer) AddNames(names map[netip.Addr]string) {
	for _, a := range sortedAddrs(names) {
		x.name(a, names[a])
	}
}

// Stats returns what the capture held so far.
func (x *Explainer) Stats() Stats { return x.stats }

// Packet takes the capture's next packet. Packets are explained once the
// lookahead window holds enough of what follows them.
func (x *Explainer) Packet(p *Packet) {
	if !x.started {
		x.started, x.start = true, p.Time
		x.stats.First = p.Time
	}
	x.stats.Packets++
	x.stats.Last = p.Time
	at := p.Time.Sub(x.start)
	if at < 0 {
		at = 0
	}
	if p.Seg == nil {
		x.stats.Skipped[p.Skip]++
		return
	}
	x.stats.TCP++
	if p.Truncated {
		x.stats.Truncated++
	}
	x.win.push(&item{p: p, at: at, key: keyOf(p.Seg)})
	for x.win.ready() {
		it := x.win.pop()
		x.explain(it)
		it.done()
	}
}

// Finish explains the packets still in the window, decides what is still
// undecided as of the end of the capture and finishes the tap.
func (x *Explainer) Finish() error {
	for x.win.len() > 0 {
		it := x.win.pop()
		x.explain(it)
		it.done()
	}
	end := x.lastT
	if x.started {
		end = max(end, x.stats.Last.Sub(x.start))
	}
	x.stats.End = end
	// What is due by the end happens; what awaits evidence is decided
	// by default; timers due later never show.
	for x.heap.Len() > 0 {
		d := heap.Pop(&x.heap).(*delivery)
		if d.done {
			continue
		}
		if d.timer {
			if d.due <= end {
				x.fire(d)
			}
		} else if d.evidence {
			x.byDefault(d, true)
		} else {
			// It reaches its receiver after the capture ends.
			x.deliver(d, d.due, event.Processed)
		}
	}
	keys := make([]*conn, 0, len(x.conns))
	for _, c := range x.conns {
		keys = append(keys, c)
	}
	slices.SortFunc(keys, func(a, b *conn) int { return a.id - b.id })
	for _, c := range keys {
		x.summarize(c)
	}
	return x.tap.Finish(end)
}

// Notes returns and forgets the extra notes of frame no.
func (x *Explainer) Notes(no int) []i18n.Msg {
	n := x.extra[no]
	delete(x.extra, no)
	return n
}

// note adds an extra note to frame no's row.
func (x *Explainer) note(no int, m i18n.Msg) {
	x.extra[no] = append(x.extra[no], m)
}

// clamp keeps the times given to the tap in order.
func (x *Explainer) clamp(t time.Duration) time.Duration {
	if t < x.lastT {
		return x.lastT
	}
	x.lastT = t
	return t
}

// advance decides what is due at or before capture time now, except what
// is on its way to side d of c and due after its send time sendAt: that
// packet was sent before those arrived. Those are returned, to be put back
// after.
func (x *Explainer) advance(now time.Duration, c *conn, d int, sendAt time.Duration) []*delivery {
	var later []*delivery
	for x.heap.Len() > 0 && x.heap[0].key() <= now {
		dl := heap.Pop(&x.heap).(*delivery)
		if dl.done {
			continue
		}
		switch {
		case dl.timer:
			x.fire(dl)
		case dl.evidence:
			x.byDefault(dl, false)
		case dl.c == c && dl.to == d && dl.due > sendAt:
			later = append(later, dl)
		default:
			x.deliver(dl, dl.due, event.Processed)
		}
	}
	return later
}

// schedule puts a delivery in the heap.
func (x *Explainer) schedule(d *delivery) {
	x.seq++
	d.seq = x.seq
	heap.Push(&x.heap, d)
}

// explain explains one TCP packet.
func (x *Explainer) explain(it *item) {
	p, s := it.p, it.p.Seg
	c := x.connOf(it)
	d := c.side(s.Src)
	o := 1 - d
	x.sweep(it.at)
	c.idle, c.last = it.at-c.last, it.at
	sendAt := it.at - c.delay(d)
	later := x.advance(it.at, c, d, sendAt)
	if c.midOpen && c.pkts[0]+c.pkts[1] == 0 {
		x.midstream(c, it)
	}
	if c.selected {
		x.evidence(c, d, it)
		x.supersede(c, o, it)
	}
	ref := event.Ref{Frame: p.No}
	cause := x.sendSide(c, d, it)
	x.record(c, d, it)
	if c.selected {
		x.tap.Sent(&event.Sent{Ref: ref, At: x.clamp(it.at), From: c.host[d], Data: p.IP, Seg: s, Cause: cause})
	}
	for _, dl := range later {
		dl.due = max(dl.due, it.at)
		x.schedule(dl)
	}
	dl := &delivery{ref: ref, c: c, to: o, seg: s, data: p.IP, at: it.at, index: -1}
	x.plan(dl, it)
	if !c.selected {
		// Only followed: its state machine runs, nothing is written.
		x.quietly(dl)
		return
	}
	if dl.evidence {
		c.pend[o] = append(c.pend[o], dl)
	} else {
		c.timed[o] = append(live(c.timed[o]), dl)
	}
	x.schedule(dl)
}

// quietly decides an unselected connection's delivery at once.
func (x *Explainer) quietly(d *delivery) {
	d.done = true
	c := d.c
	c.receive(d.to, d.seg, event.Processed)
	c.arr[d.to] = arrival{ref: d.ref, at: d.at, flags: d.seg.Flags, end: d.end(), data: d.seg.Len > 0, span: d.seg.Span() > 0, valid: true}
	c.answered[d.to] = false
}

// connOf finds or starts the connection of a packet.
func (x *Explainer) connOf(it *item) *conn {
	s := it.p.Seg
	c := x.conns[it.key]
	oldDup := false
	if c != nil && s.Flags&(segment.SYN|segment.ACK) == segment.SYN && c.over() {
		// A SYN on a port pair whose connection is over starts a new one;
		// with the old SYN's ISN it is an old duplicate of it.
		d := c.side(s.Src)
		oldDup = c.syns[d] > 0 && c.synSeq[d] == s.Seq
		x.finishConn(c)
		for _, tw := range c.twTimer {
			if tw != nil {
				tw.done = true
			}
		}
		c = nil
	}
	if c != nil {
		return c
	}
	x.ids++
	c = &conn{id: x.ids, key: it.key, ends: [2]netip.AddrPort{s.Src, s.Dst}, closer: -1, rstBy: -1, firstSeen: it.at, oldDup: oldDup}
	for i, ap := range c.ends {
		c.host[i] = x.tap.Name(ap.Addr())
	}
	c.selected = x.opts.Select == nil || x.opts.Select(c.id, c.ends[0], c.ends[1])
	x.stats.Conns++
	if c.selected {
		x.stats.Explained++
	}
	x.conns[it.key] = c
	if s.Flags&segment.SYN == 0 {
		c.midOpen = true // its states are set once what is due before it is done
	} else {
		x.peekSide(c, it)
		if c.selected {
			x.noteSide(c, it.p.No)
		}
	}
	return c
}

// midstream starts a connection whose handshake the capture does not have:
// both ends are taken to be ESTABLISHED (or closing, if the first segment
// is a FIN or RST of one of them).
func (x *Explainer) midstream(c *conn, it *item) {
	for d := range 2 {
		c.st[d] = event.Established
		if c.selected {
			x.tap.StateChange(&event.StateChange{At: x.clamp(it.at), Host: c.host[d], Local: c.ends[d], Remote: c.ends[1-d],
				From: event.Closed, To: event.Established, Cause: event.Cause{Inferred: event.InferBefore}})
		}
	}
	if c.selected {
		x.note(it.p.No, i18n.M("cap.midstream"))
	}
}

// peekSide estimates from the handshake ahead in the window which side the
// capture was taken near: the time each side takes to answer (the server
// its SYN-ACK, the client its final ACK).
func (x *Explainer) peekSide(c *conn, it *item) {
	s := it.p.Seg
	if s.Flags&segment.ACK != 0 {
		return
	}
	synAt := it.at
	var synAckAt time.Duration
	haveSynAck := false
	for n := it.next; n != nil; n = n.next {
		ns := n.p.Seg
		switch {
		case ns.Src == s.Src && ns.Flags&(segment.SYN|segment.ACK) == segment.SYN && ns.Seq == s.Seq:
			synAt = n.at // a retransmitted SYN: the answer may be to it
		case !haveSynAck && ns.Src == s.Dst && ns.Flags&(segment.SYN|segment.ACK) == segment.SYN|segment.ACK && ns.Ack == s.Seq.Add(1):
			c.noteResp(1, n.at-synAt)
			synAckAt, haveSynAck = n.at, true
		case haveSynAck && ns.Src == s.Src && ns.Flags&(segment.SYN|segment.ACK|segment.RST) == segment.ACK:
			c.noteResp(0, n.at-synAckAt)
			return
		case ns.Src == s.Dst && ns.Flags&segment.RST != 0:
			c.noteResp(1, n.at-synAt)
			return
		}
		if n.at-it.at > lookahead {
			return
		}
	}
}

// noteSide says on frame no which side the capture was taken near, when
// the handshake shows it.
func (x *Explainer) noteSide(c *conn, no int) {
	switch {
	case !c.hasResp[0] || !c.hasResp[1]:
	case c.near(0):
		x.note(no, i18n.M("cap.side", c.host[0], c.resp[0], c.host[1], c.resp[1]))
	case c.near(1):
		x.note(no, i18n.M("cap.side", c.host[1], c.resp[1], c.host[0], c.resp[0]))
	default:
		x.note(no, i18n.M("cap.side.both", max(c.resp[0], c.resp[1])))
	}
}

// record updates what the wire shows of the sender after packet it.
func (x *Explainer) record(c *conn, d int, it *item) {
	s := it.p.Seg
	c.pkts[d]++
	if !c.hasISN[d] {
		c.isn[d], c.hasISN[d] = s.Seq, true
	}
	if s.Flags&segment.SYN != 0 && s.Flags&segment.RST == 0 {
		if c.syns[d] == 0 {
			c.synSeq[d] = s.Seq
		}
		c.syns[d]++
	}
	if s.Flags&segment.RST == 0 && s.Span() > 0 {
		end := s.End()
		if !c.sent[d] || c.nxt[d].LessThan(end) {
			if c.sent[d] && s.Len > 0 {
				c.bytes[d] += int64(c.nxt[d].Size(end))
				if s.Flags&segment.FIN != 0 {
					c.bytes[d]--
				}
			} else if s.Len > 0 {
				c.bytes[d] += int64(s.Len)
			}
			c.nxt[d], c.sent[d] = end, true
		}
	}
	if s.Flags&segment.FIN != 0 && !c.fin[d] {
		c.fin[d] = true
		c.finSeq[d] = s.Seq.Add(seqnum.Size(s.Len))
		if c.closer < 0 {
			c.closer = d
		}
	}
	if s.Flags&segment.ACK != 0 && s.Flags&segment.RST == 0 {
		c.lastAckOut[d] = s.Ack
		if !c.hasAck[d] || c.ackOut[d].LessThan(s.Ack) {
			c.ackOut[d], c.hasAck[d] = s.Ack, true
		}
	}
	switch {
	case s.Flags&segment.RST != 0:
		c.hist(d, 'R')
		if c.closer < 0 {
			c.closer = d
		}
		if c.rstBy < 0 {
			c.rstBy = d
		}
	case s.Flags&(segment.SYN|segment.ACK) == segment.SYN:
		c.hist(d, 'S')
	case s.Flags&segment.SYN != 0:
		c.hist(d, 'H')
	default:
		if s.Len > 0 {
			c.hist(d, 'D')
		} else {
			c.hist(d, 'A')
		}
		if s.Flags&segment.FIN != 0 {
			c.hist(d, 'F')
		}
	}
	c.answered[d] = true
}

// How long the Explainer keeps a connection after its last segment: one
// closed on both sides (a late segment still belongs to it), one that is
// over (TIME_WAIT counts), and one that never got past its handshake
// (Linux gives up a SYN after 127 s).
const (
	keepClosed   = 10 * time.Second
	keepOver     = timeWait + 10*time.Second
	keepHalfOpen = 130 * time.Second
	sweepMin     = 256
)

// sweep forgets the connections that are over, so that memory follows the
// live connections: their summaries are taken first. Sweeps are amortised:
// one runs when the number of connections has doubled since the last.
func (x *Explainer) sweep(now time.Duration) {
	if len(x.conns) < x.sweepAt {
		return
	}
	for k, c := range x.conns {
		idle := now - c.last
		closed := c.st[0] == event.Closed && c.st[1] == event.Closed
		opening := c.st[0] <= event.SynRcvd && c.st[1] <= event.SynRcvd
		if len(c.pend[0])+len(c.pend[1]) > 0 || c.twTimer[0] != nil && c.twTimer[0].due > now || c.twTimer[1] != nil && c.twTimer[1].due > now {
			continue
		}
		if closed && idle >= keepClosed || c.over() && idle >= keepOver || opening && idle >= keepHalfOpen {
			x.finishConn(c)
			delete(x.conns, k)
		}
	}
	x.sweepAt = 2*len(x.conns) + sweepMin
}

// finishConn ends a connection: its summary is taken.
func (x *Explainer) finishConn(c *conn) {
	x.summarize(c)
	if c.halfOpen {
		c.halfOpen = false
		x.halfOpen--
	}
}

// deliveryHeap orders deliveries by the time they are decided.
type deliveryHeap []*delivery

func (h deliveryHeap) Len() int { return len(h) }
func (h deliveryHeap) Less(i, j int) bool {
	if h[i].key() != h[j].key() {
		return h[i].key() < h[j].key()
	}
	return h[i].seq < h[j].seq
}
func (h deliveryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *deliveryHeap) Push(v any) {
	d := v.(*delivery)
	d.index = len(*h)
	*h = append(*h, d)
}
func (h *deliveryHeap) Pop() any {
	old := *h
	n := len(old)
	d := old[n-1]
	old[n-1] = nil
	d.index = -1
	*h = old[:n-1]
	return d
}
