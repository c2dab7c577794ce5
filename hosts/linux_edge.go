package hosts

import (
	"reflect"
	"slices"
	"sync"
	"unsafe"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// The host's edge under the linux profile: what arrives before netstack
// sees it, and what netstack sends before the switch does.
//
// On arrival (linuxDeliver):
//   - a SYN to a listener is measured against Linux's SYN queue: Linux
//     keeps up to backlog+1 handshakes half-open where netstack keeps
//     backlog (its capacity − 1); beyond that Linux sends a cookie
//     (tcp_syncookies = 1) or drops the SYN (0), where netstack would
//     start another handshake. The host lets netstack's listener see the
//     capacity that makes it do what Linux does for this one SYN;
//   - with tcp_window_scaling = 0 the window scale option is removed from
//     an arriving SYN, so netstack answers without one.
//
// On departure (linuxOutbound):
//   - netstack's RST,ACK for data that reached a socket its application
//     has closed becomes Linux's bare RST (tcp_v4_send_reset: no ACK flag,
//     no options, seq = the segment's ACK);
//   - with tcp_window_scaling = 0 the window scale option is removed from
//     the host's own SYNs.

// linuxDeliver looks at an arriving packet before netstack does. It
// returns the packet to deliver (pkt itself, or a changed copy), or nil
// when tcplab drops it as Linux would, with the verdict in a.
func (h *Host) linuxDeliver(pkt []byte, a *arrival) []byte {
	if !h.settings.emulates() || a.seg == nil {
		return pkt
	}
	s := a.seg
	if s.Flags&(segment.SYN|segment.ACK|segment.RST) == segment.SYN && a.toEP != nil && a.before == event.Listen {
		if ep, ok := a.toEP.(*tcp.Endpoint); ok && !h.linuxSynQueue(ep, a) {
			return nil
		}
	}
	h.linuxArrived(a)
	if s.Flags&(segment.SYN|segment.ACK) == segment.SYN && a.before == event.SynRcvd {
		// A repeated SYN to a half-open connection. Copied with its option
		// lists (CopyTo), so as not to keep the packet's memory.
		s.CopyTo(&h.linux.lastSyn)
		h.linux.lastSynRef = a.ref
	}
	if s.Flags&segment.ACK != 0 && s.Len > 0 || s.Flags&segment.FIN != 0 {
		// For the bare RST that may answer it: the endpoint is gone from
		// the tracked ones by the time the RST leaves.
		s.CopyTo(&h.linux.lastData)
		h.linux.lastDataClosed = a.to != nil && a.to.done
	}
	if !h.settings.Linux.WindowScaling && s.Flags&segment.SYN != 0 && s.Opts.WS >= 0 {
		p := slices.Clone(pkt)
		c := *s
		stripWindowScale(p, &c)
		return p
	}
	return pkt
}

// linuxSynQueue applies Linux's SYN queue to a SYN for listener ep: it
// reports false when the SYN is to be dropped (tcp_syncookies = 0, queue
// full), and otherwise sets the listener's capacity for this SYN so that
// netstack answers it as Linux would (linuxReceipt restores it).
func (h *Host) linuxSynQueue(ep *tcp.Endpoint, a *arrival) bool {
	waiting, capacity, pending, ok := acceptQueue(ep)
	if !ok || h.settings.SynCookies == 2 || waiting >= capacity {
		return true // netstack does as Linux: cookies always, or a drop on a full accept queue
	}
	switch {
	case pending < capacity-1:
		return true // room in both: a handshake, as Linux
	case pending == capacity-1:
		// Linux keeps backlog+1 (= capacity) half-open; netstack would
		// send a cookie at capacity−1.
		h.setListenCapacity(ep, capacity+1, capacity)
	case h.settings.SynCookies == 0:
		a.linuxVerdict = event.HalfOpenOverflow
		return false
	default:
		// Linux's SYN queue is full: a cookie, which netstack sends only
		// when the count is exactly capacity−1.
		h.setListenCapacity(ep, pending+1, capacity)
	}
	return true
}

// listenLayout holds the offset of a listener's accept queue capacity.
var listenLayout struct {
	once sync.Once
	off  uintptr
	ok   bool
}

// setListenCapacity sets the capacity of ep's accept queue until the
// arrival is settled, when it goes back to restore.
func (h *Host) setListenCapacity(ep *tcp.Endpoint, capacity, restore int) {
	listenLayout.once.Do(func() {
		q, ok := reflect.TypeFor[tcp.Endpoint]().FieldByName("acceptQueue")
		if !ok || q.Type.Kind() != reflect.Struct {
			return
		}
		c, ok := q.Type.FieldByName("capacity")
		if !ok || c.Type.Kind() != reflect.Int {
			return
		}
		listenLayout.off, listenLayout.ok = q.Offset+c.Offset, true
	})
	if !listenLayout.ok {
		return
	}
	p := (*int)(unsafe.Add(unsafe.Pointer(ep), listenLayout.off))
	*p = capacity
	h.linux.restore = func() { *p = restore }
}

// linuxOutbound changes what netstack sent, as Linux would have sent it.
func (h *Host) linuxOutbound(out []outbound) []outbound {
	if !h.settings.emulates() {
		return out
	}
	kept := out[:0]
	for i := range out {
		p := &out[i]
		s := &p.seg
		if err := segment.ParseInto(s, p.data); err != nil {
			kept = keep(kept, out, i)
			continue
		}
		if h.linuxSent(p, s) {
			continue // held back: Linux delays this ACK (linux_delack.go)
		}
		data, changed := p.data, false
		switch {
		case s.Flags&(segment.SYN|segment.ACK) == segment.SYN|segment.ACK:
			if h.linux.synAcks == nil {
				h.linux.synAcks = map[connKey]sentSynAck{}
			}
			// A copy: p.data lives in a slab of the NIC with other packets.
			h.linux.synAcks[connKey{s.Src, s.Dst}] = sentSynAck{data: slices.Clone(p.data), at: h.now()}
			h.linuxSweep()
		case s.Flags&segment.RST != 0:
			h.linuxRST(p, s)
		case s.Len == 0 && s.Flags == segment.ACK && p.cause.Kind == event.ByArrival:
			h.linuxSynAgain(p, s)
		case !h.settings.Linux.WindowScaling && s.Flags&segment.SYN != 0:
			changed = stripWindowScale(p.data, s)
		}
		// The switch takes this parse instead of parsing the packet again,
		// unless what was parsed is no longer what is sent.
		p.parsed = !changed && len(p.data) == len(data) && (len(data) == 0 || &p.data[0] == &data[0])
		kept = keep(kept, out, i)
	}
	clear(out[len(kept):]) // what was held keeps nothing alive
	return kept
}

// keep appends out[i] to kept, a prefix of out, moving it only when
// packets before it were held back.
func keep(kept, out []outbound, i int) []outbound {
	n := len(kept)
	if n != i {
		out[n] = out[i]
	}
	return out[:n+1]
}

// linuxRST turns netstack's RST,ACK answering data that reached a socket
// its application has closed into Linux's bare RST.
func (h *Host) linuxRST(p *outbound, s *segment.Segment) {
	d := &h.linux.lastData
	if p.cause.Kind != event.ByArrival || s.Flags&segment.ACK == 0 || d.Len == 0 && d.Flags&segment.FIN == 0 ||
		d.Dst != s.Src || d.Src != s.Dst || d.Flags&segment.ACK == 0 {
		return
	}
	if !h.linux.lastDataClosed {
		return // not closed by its application (done is set by close and abort)
	}
	p.data = rstPacket(s.Src, s.Dst, uint32(d.Ack), nil, 0)
	p.cause.Emu = event.EmuBareRST
}

// linuxSynAgain turns netstack's bare ACK answering a repeated SYN in
// SYN_RCVD into Linux's answer, its SYN-ACK again (tcp_check_req:
// inet_rtx_syn_ack).
func (h *Host) linuxSynAgain(p *outbound, s *segment.Segment) {
	d := &h.linux.lastSyn
	if d.Flags&(segment.SYN|segment.ACK) != segment.SYN || d.Dst != s.Src || d.Src != s.Dst || h.linux.lastSynRef != p.cause.Ref {
		return
	}
	synAck, ok := h.linux.synAcks[connKey{s.Src, s.Dst}]
	if !ok {
		return
	}
	p.data = slices.Clone(synAck.data)
	p.cause.Emu = event.EmuSynAckAgain
}

// linuxRestore puts back what linuxDeliver changed for the packet just
// processed (a listener's capacity), before anything reads it.
func (h *Host) linuxRestore() {
	if h.linux.restore != nil {
		h.linux.restore()
		h.linux.restore = nil
	}
}
