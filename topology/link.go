package topology

import (
	"math/rand/v2"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/field"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// Direction describes one direction of a link: what happens to a packet
// between the moment a host sends it and the moment it reaches the switch
// (a link's Out direction), or between the switch and the host (In).
type Direction struct {
	// Latency is the one-way propagation delay.
	Latency time.Duration
	// Jitter adds a uniformly distributed delay in [-Jitter, +Jitter] to
	// Latency. Packets still leave a direction in the order they entered it.
	Jitter time.Duration
	// Loss is the probability in [0, 1] that a packet is dropped.
	Loss float64
	// Rate is the line rate in bits per second; each packet is delayed by
	// its serialisation time. Zero means unlimited.
	Rate int64
	// QueueLimit is the number of packets that may wait for the line
	// (drop-tail) when Rate is set. Zero means unlimited.
	QueueLimit int
	// Duplicate is the probability in [0, 1] that a packet is delivered
	// twice: an identical copy arrives right after the original.
	Duplicate float64
	// Reorder is the probability in [0, 1] that a packet is held back by
	// ReorderDelay. A held-back packet escapes the FIFO rule: packets sent
	// after it are not held behind it, so they overtake it.
	Reorder float64
	// ReorderDelay is the extra delay of a reordered packet; zero means
	// max(Latency, 1ms).
	ReorderDelay time.Duration
	// Corrupt is the probability in [0, 1] that one bit of a packet's
	// transport segment (after the IP header) is flipped. The packet is
	// still delivered and the receiver's checksum check rejects it.
	Corrupt float64
}

// Validate reports every configuration error in d, as a field.List whose
// fields are named as a lab file writes them ("latency", "reorder_delay"),
// or nil.
func (d Direction) Validate() error {
	var l field.List
	if d.Latency < 0 {
		l.Add("latency", "latency %v is negative", d.Latency)
	}
	if d.Jitter < 0 {
		l.Add("jitter", "jitter %v is negative", d.Jitter)
	}
	if d.Jitter > d.Latency && d.Latency >= 0 {
		l.AddWhole([]string{"jitter", "latency"}, "jitter %v is larger than latency %v", d.Jitter, d.Latency)
	}
	prob := func(name string, p float64) {
		if !(p >= 0 && p <= 1) { // also rejects NaN
			l.Add(name, "%s %v is outside [0, 1]", name, p)
		}
	}
	prob("loss", d.Loss)
	if d.Rate < 0 {
		l.Add("rate", "rate %d is negative", d.Rate)
	}
	if d.QueueLimit < 0 {
		l.Add("queue_limit", "queue_limit %d is negative", d.QueueLimit)
	}
	prob("duplicate", d.Duplicate)
	prob("reorder", d.Reorder)
	if d.ReorderDelay < 0 {
		l.Add("reorder_delay", "reorder_delay %v is negative", d.ReorderDelay)
	}
	prob("corrupt", d.Corrupt)
	return l.Err()
}

// reorderDelay returns the extra delay of a reordered packet.
func (d Direction) reorderDelay() time.Duration {
	if d.ReorderDelay > 0 {
		return d.ReorderDelay
	}
	return max(d.Latency, time.Millisecond)
}

// Link attaches a host to the switch. A packet from host A to host B crosses
// A's Out direction and then B's In direction.
type Link struct {
	Out Direction
	In  Direction
	// Down lists scheduled outages: while one is in force the link is
	// down in both directions, and every packet the host sends, or the
	// switch sends toward the host, is dropped.
	Down []Window
	// MTU is the largest IP packet the link carries, in bytes, both ways;
	// zero means DefaultMTU. The attached host's NIC has this MTU, so its
	// TCP derives the MSS it advertises from it (MTU − 40 for IPv4, − 60
	// for IPv6); a larger packet (only a forged one can be) is dropped
	// (TooBig). See ValidateMTU.
	MTU int
}

// Window is a span of virtual time [From, To); To == 0 means "until the
// end of the run".
type Window struct {
	From, To time.Duration
}

// Validate reports every configuration error in w, as a field.List with
// fields "from" and "to", or nil.
func (w Window) Validate() error {
	var l field.List
	if w.From < 0 {
		l.Add("from", "from %v is negative", w.From)
	}
	switch {
	case w.To < 0:
		l.Add("to", "to %v is negative", w.To)
	case w.To != 0 && w.To <= w.From && w.From >= 0:
		l.Add("to", "impossible window: to %v is not after from %v", w.To, w.From)
	}
	return l.Err()
}

// String renders w as "1s–5s", or "1s–end" when it has no end.
func (w Window) String() string {
	if w.To == 0 {
		return w.From.String() + "–end"
	}
	return w.From.String() + "–" + w.To.String()
}

// contains reports whether virtual time t lies inside w.
func (w Window) contains(t time.Duration) bool {
	return t >= w.From && (w.To == 0 || t < w.To)
}

// overlaps reports whether w and o share an instant.
func (w Window) overlaps(o Window) bool {
	// w starts before o ends and o starts before w ends.
	return (o.To == 0 || w.From < o.To) && (w.To == 0 || o.From < w.To)
}

// Validate reports every configuration error in the link, as a field.List
// with fields "out.latency", "in.loss", "down.1.to" ..., or nil. An outage
// that overlaps an earlier one is reported at its index ("down.1").
func (k Link) Validate() error {
	var l field.List
	for _, d := range []struct {
		name string
		dir  Direction
	}{{"out", k.Out}, {"in", k.In}} {
		if errs, ok := d.dir.Validate().(field.List); ok {
			l.Append(d.name, errs)
		}
	}
	var valid []int // indices of the windows valid on their own
	for i, w := range k.Down {
		if errs, ok := w.Validate().(field.List); ok {
			l.Append(field.Index("down", i), errs)
			continue
		}
		for _, j := range valid {
			if o := k.Down[j]; o.overlaps(w) {
				l.Add(field.Index("down", i), "outage %v overlaps outage %d (%v)", w, j+1, o)
			}
		}
		valid = append(valid, i)
	}
	return l.Err()
}

// outage returns the window in force at t, if any.
func outage(ws []Window, t time.Duration) (Window, bool) {
	for _, w := range ws {
		if w.contains(t) {
			return w, true
		}
	}
	return Window{}, false
}

// cutWhile returns the outage that cut a link while a packet crossed it,
// from entered to now: one in force at now, or one that started after the
// packet entered (and may be over already).
func cutWhile(ws []Window, entered, now time.Duration) (Window, bool) {
	for _, w := range ws {
		if w.contains(now) || (w.From > entered && w.From <= now) {
			return w, true
		}
	}
	return Window{}, false
}

// pipe is the runtime state of one direction of one link.
type pipe struct {
	place event.Place // "client→switch"
	dir   Direction
	rng   *rand.Rand // loss and jitter

	// Each impairment draws from its own stream, so enabling one does not
	// change the draws of another.
	dupRng, reorderRng, corruptRng *rand.Rand

	busyUntil   time.Duration   // when the line finishes the last queued packet
	lastArrival time.Duration   // keeps delivery in FIFO order despite jitter
	departures  []time.Duration // serialisation end times of queued packets
}

// admit decides the fate of a packet of size bytes entering the pipe at now.
// It returns the arrival time at the far end, or a drop reason (and, for a
// full queue, how many packets wait in it).
func (p *pipe) admit(now time.Duration, size int) (arrive time.Duration, drop event.DropReason, queued int) {
	if p.dir.Loss > 0 && p.rng.Float64() < p.dir.Loss {
		return 0, event.Loss, 0
	}
	start := now
	if p.dir.Rate > 0 {
		i := 0
		for i < len(p.departures) && p.departures[i] <= now {
			i++
		}
		p.departures = p.departures[i:]
		if p.dir.QueueLimit > 0 && len(p.departures) >= p.dir.QueueLimit {
			return 0, event.QueueFull, len(p.departures)
		}
		start = max(now, p.busyUntil)
		p.busyUntil = start + time.Duration(int64(size)*8*int64(time.Second)/p.dir.Rate)
		p.departures = append(p.departures, p.busyUntil)
		start = p.busyUntil
	}
	arrive = start + p.dir.Latency
	if p.dir.Jitter > 0 {
		arrive += time.Duration(p.rng.Int64N(int64(2*p.dir.Jitter)+1)) - p.dir.Jitter
	}
	arrive = max(arrive, p.lastArrival, start)
	p.lastArrival = arrive
	return arrive, 0, 0
}

// impairment is what a pipe does to an admitted packet besides delaying it.
type impairment struct {
	duplicate bool          // deliver an identical copy right after it
	reorder   time.Duration // extra delay that escapes FIFO order; 0 for none
	corrupt   int           // byte offset in the packet of the flipped bit, or -1
	bit       uint8         // the flipped bit's mask within that byte
}

// impair draws the duplicate, reorder and corrupt outcomes for an admitted
// packet, in that order, each from its own stream.
func (p *pipe) impair(pkt []byte) impairment {
	im := impairment{corrupt: -1}
	if p.dir.Duplicate > 0 && p.dupRng.Float64() < p.dir.Duplicate {
		im.duplicate = true
	}
	if p.dir.Reorder > 0 && p.reorderRng.Float64() < p.dir.Reorder {
		im.reorder = p.dir.reorderDelay()
	}
	if p.dir.Corrupt > 0 && p.corruptRng.Float64() < p.dir.Corrupt {
		if lo, hi, skip := corruptible(pkt); hi > lo {
			n := (hi - lo) * 8
			if skip >= 0 {
				n -= 8
			}
			bit := p.corruptRng.IntN(n)
			im.corrupt, im.bit = lo+bit/8, 1<<(bit%8)
			if skip >= 0 && im.corrupt >= skip {
				im.corrupt++
			}
		}
	}
	return im
}

// corruptible returns the byte range [lo, hi) of pkt in which a bit may be
// flipped, and a byte inside it to leave alone (or -1): the transport segment
// after the IP header, but for TCP without the ports (so the receiver still
// attributes the segment to its connection) and without the data offset
// (a broken header length is rejected as malformed before the checksum is
// checked). The range is empty when nothing follows the IP header.
func corruptible(pkt []byte) (lo, hi, skip int) {
	off, tcp, ok := transport(pkt)
	if !ok || off >= len(pkt) {
		return 0, 0, -1
	}
	if tcp && len(pkt)-off >= header.TCPMinimumSize {
		return off + header.TCPSeqNumOffset, len(pkt), off + header.TCPDataOffset
	}
	return off, len(pkt), -1
}
