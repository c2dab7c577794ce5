package hosts

import (
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Nagle's algorithm, seen from the host.
//
// netstack, like Linux, holds back a segment smaller than the MSS while
// earlier data is unacknowledged (Nagle's algorithm, on unless the socket
// sets TCP_NODELAY: tcp/snd.go maybeSendSegment). The bytes leave later,
// usually when an ACK arrives, and that segment's row would otherwise say
// nothing of why they waited. After each write the host checks, from the
// sender's own state, whether netstack's Nagle test is what kept bytes
// back: some of what was written is unsent, the congestion window has
// room, the unsent bytes fit in the window and the MSS (a full segment
// would have gone), and data is outstanding, with TCP_NODELAY and
// TCP_CORK off. The next data segment of the connection that carries new
// bytes then says how long they waited (Cause.Nagle).

// write writes from r to ep as the application's write does, and notes
// bytes that Nagle's algorithm kept back.
func (h *Host) write(ep tcpip.Endpoint, r tcpip.Payloader) (int64, tcpip.Error) {
	e, ok := ep.(*tcp.Endpoint)
	if !ok {
		return ep.Write(r, tcpip.WriteOptions{})
	}
	_, before, known := sendSpace(ep)
	n, err := ep.Write(r, tcpip.WriteOptions{})
	if known && n > 0 {
		h.checkNagle(e, before, int(n))
	}
	return n, err
}

// checkNagle notes that Nagle's algorithm holds bytes of ep's write of n
// bytes, when it does; before was SND.NXT before the write.
func (h *Host) checkNagle(ep *tcp.Endpoint, before seqnum.Value, n int) {
	so := ep.SocketOptions()
	if !so.GetDelayOption() || so.GetCorkOption() {
		return
	}
	l, ok := senderLayout()
	if !ok {
		return
	}
	var s event.SenderState
	if !l.readInto(ep, &s) {
		return
	}
	unsent := n - int(before.Size(s.SndNxt))
	if unsent <= 0 || s.Outstanding == 0 || s.Outstanding >= s.Cwnd {
		return // all sent, nothing outstanding, or the congestion window is full
	}
	end := s.SndUna.Add(seqnum.Size(s.SndWnd)) // the window's right edge
	if end.LessThan(s.SndNxt) || unsent >= int(s.SndNxt.Size(end)) || unsent >= s.MSS {
		return // the window holds it back, or a full segment waits
	}
	t := h.known[ep]
	if t == nil {
		return
	}
	if h.nagle == nil {
		h.nagle = map[connKey]nagleHeld{}
	}
	k := connKey{t.local, t.remote}
	if _, held := h.nagle[k]; !held {
		h.nagle[k] = nagleHeld{since: h.now(), seq: s.SndNxt}
	}
}

// nagleHeld is what Nagle's algorithm holds on a connection: bytes from
// seq on, since the write that left them unsent.
type nagleHeld struct {
	since time.Duration
	seq   seqnum.Value
}

// nagleSent marks a data segment that carries bytes Nagle's algorithm
// held, with how long they waited.
func (h *Host) nagleSent(p *outbound) {
	s := &p.seg
	if !p.parsed {
		if segment.ParseInto(s, p.data) != nil {
			return
		}
	}
	if s.Len == 0 || s.Flags&(segment.SYN|segment.RST) != 0 {
		return
	}
	k := connKey{s.Src, s.Dst}
	held, ok := h.nagle[k]
	if !ok || held.seq.LessThan(s.Seq) || s.End().LessThanEq(held.seq) {
		return // not the segment that carries the first byte held
	}
	delete(h.nagle, k)
	p.cause.Nagle = h.now() - held.since
}
