package capture

import (
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/internal/segment"
)

// The lookahead window: packets read but not yet explained, in capture
// order, each linked to the next packet of its port pair, so that a
// decision about one packet can look at what its connection does next
// without scanning the others.

// Window limits: the Explainer explains a packet once the window holds
// lookahead of capture time after it, or is full.
const (
	lookahead   = 3 * time.Second
	windowCount = 50_000
	windowBytes = 64 << 20
)

// connKey identifies a port pair regardless of direction.
type connKey struct{ a, b netip.AddrPort }

func keyOf(s *segment.Segment) connKey {
	a, b := s.Src, s.Dst
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return connKey{a, b}
}

// item is one packet in the window.
type item struct {
	p    *Packet
	at   time.Duration // capture time relative to the first packet
	key  connKey
	next *item // the next packet of the same port pair, once read
}

// size is what the packet holds in memory, about.
func (it *item) size() int { return len(it.p.Frame) + len(it.p.IP) + 256 }

// window is the lookahead queue.
type window struct {
	q     []*item
	head  int
	last  map[connKey]*item
	bytes int
}

func newWindow() *window { return &window{last: map[connKey]*item{}} }

// push adds a packet at the end.
func (w *window) push(it *item) {
	if it.p.Seg != nil {
		if prev := w.last[it.key]; prev != nil {
			prev.next = it
		}
		w.last[it.key] = it
	}
	w.q = append(w.q, it)
	w.bytes += it.size()
}

// len returns the number of packets held.
func (w *window) len() int { return len(w.q) - w.head }

// ready reports whether the first packet may be explained: the window
// holds enough capture time after it, or is full.
func (w *window) ready() bool {
	n := w.len()
	if n == 0 {
		return false
	}
	first, last := w.q[w.head], w.q[len(w.q)-1]
	return last.at-first.at >= lookahead || n >= windowCount || w.bytes >= windowBytes
}

// done forgets what a packet explained after pop links to, so that a
// packet once explained keeps no later one alive.
func (it *item) done() { it.next = nil }

// pop removes and returns the first packet.
func (w *window) pop() *item {
	it := w.q[w.head]
	w.q[w.head] = nil
	w.head++
	if w.head > 4096 && w.head*2 > len(w.q) {
		n := copy(w.q, w.q[w.head:])
		clear(w.q[n:]) // no stale item may keep the chain after it alive
		w.q, w.head = w.q[:n], 0
	}
	w.bytes -= it.size()
	if it.p.Seg != nil && w.last[it.key] == it {
		delete(w.last, it.key)
	}
	return it
}
