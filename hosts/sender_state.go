package hosts

import (
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/tcplab/tcplab/internal/event"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Reading a sender's congestion and RTT state.
//
// Every segment a host's stack writes carries a snapshot of its endpoint's
// own state (event.SenderState): the congestion window and slow-start
// threshold, the RTT estimate and RTO, the windows. netstack exports none of
// it per segment (tcp.NewProtocolProbe runs only on inbound segments, on
// its own goroutine), so, as layout.go does for the timers, the fields are
// found once by reflection on netstack's types, checked against the types
// they must have, and then read at their offsets whenever the NIC is handed
// a segment. The NIC is called synchronously from the endpoint's send path
// with the endpoint's lock held, so the fields are read in the state that
// produced the segment. If netstack's layout changes, snapshots are simply
// absent (TestSenderStateLayout fails).

// sndLayout holds the offsets of what a snapshot reads, from the start of
// the struct named in each comment.
type sndLayout struct {
	snd, rcv uintptr // in tcp.Endpoint: *sender, *receiver

	// in sender (through its embedded TCPSenderState)
	cwnd, ssthresh, mss, outstanding, sackedOut uintptr
	sndWnd, sndUna, sndNxt, rto, srtt, rttVar   uintptr
	rttInited, recovery                         uintptr

	rcvNxt, rcvAcc uintptr // in receiver (TCPReceiverState)
}

var (
	sndLay     sndLayout
	sndLayOK   bool
	sndLayOnce sync.Once
)

// senderLayout finds the offsets once.
func senderLayout() (*sndLayout, bool) {
	sndLayOnce.Do(func() { sndLayOK = findSenderLayout(&sndLay) })
	return &sndLay, sndLayOK
}

// fieldOffset returns the offset of the field at path (names of nested
// fields, embedded ones included) from the start of t, checking the last
// one's type.
func fieldOffset(t reflect.Type, want reflect.Type, path ...string) (uintptr, bool) {
	var off uintptr
	for i, name := range path {
		if t.Kind() != reflect.Struct {
			return 0, false
		}
		f, ok := t.FieldByName(name)
		if !ok {
			return 0, false
		}
		// FieldByName gives the offset within the innermost struct that
		// declares the field: add those of the embedded structs on the way.
		cur := t
		for _, idx := range f.Index {
			sf := cur.Field(idx)
			off += sf.Offset
			cur = sf.Type
		}
		t = f.Type
		if i == len(path)-1 && t != want {
			return 0, false
		}
	}
	return off, true
}

// findSenderLayout fills l from netstack's types and reports whether every
// field was found with the expected type.
func findSenderLayout(l *sndLayout) bool {
	ep := reflect.TypeFor[tcp.Endpoint]()
	snd, ok := ep.FieldByName("snd")
	if !ok || snd.Type.Kind() != reflect.Pointer || len(snd.Index) != 1 {
		return false
	}
	rcv, ok := ep.FieldByName("rcv")
	if !ok || rcv.Type.Kind() != reflect.Pointer || len(rcv.Index) != 1 {
		return false
	}
	l.snd, l.rcv = snd.Offset, rcv.Offset
	sender, receiver := snd.Type.Elem(), rcv.Type.Elem()
	intT := reflect.TypeFor[int]()
	seqT := reflect.TypeFor[seqnum.Value]()
	sizeT := reflect.TypeFor[seqnum.Size]()
	durT := reflect.TypeFor[time.Duration]()
	boolT := reflect.TypeFor[bool]()
	for _, f := range []struct {
		off  *uintptr
		in   reflect.Type
		typ  reflect.Type
		path []string
	}{
		{&l.cwnd, sender, intT, []string{"SndCwnd"}},
		{&l.ssthresh, sender, intT, []string{"Ssthresh"}},
		{&l.mss, sender, intT, []string{"MaxPayloadSize"}},
		{&l.outstanding, sender, intT, []string{"Outstanding"}},
		{&l.sackedOut, sender, intT, []string{"SackedOut"}},
		{&l.sndWnd, sender, sizeT, []string{"SndWnd"}},
		{&l.sndUna, sender, seqT, []string{"SndUna"}},
		{&l.sndNxt, sender, seqT, []string{"SndNxt"}},
		{&l.rto, sender, durT, []string{"RTO"}},
		// TCPSenderState.RTTState is the copy of the sender's RTT state
		// that netstack refreshes on every RTT sample (snd.go updateRTO);
		// the live one sits behind a mutex.
		{&l.srtt, sender, durT, []string{"TCPSenderState", "RTTState", "SRTT"}},
		{&l.rttVar, sender, durT, []string{"TCPSenderState", "RTTState", "RTTVar"}},
		{&l.rttInited, sender, boolT, []string{"TCPSenderState", "RTTState", "SRTTInited"}},
		{&l.recovery, sender, boolT, []string{"FastRecovery", "Active"}},
		{&l.rcvNxt, receiver, seqT, []string{"RcvNxt"}},
		{&l.rcvAcc, receiver, seqT, []string{"RcvAcc"}},
	} {
		off, ok := fieldOffset(f.in, f.typ, f.path...)
		if !ok {
			return false
		}
		*f.off = off
	}
	return true
}

// read returns the snapshot of ep, or nil when ep has no sender yet.
func (l *sndLayout) read(ep *tcp.Endpoint) *event.SenderState {
	s := &event.SenderState{}
	if !l.readInto(ep, s) {
		return nil
	}
	return s
}

// readInto is read into *s; it reports false, leaving *s alone, when the
// endpoint has no sender.
func (l *sndLayout) readInto(ep *tcp.Endpoint, s *event.SenderState) bool {
	snd := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(ep), l.snd))
	if snd == nil {
		return false
	}
	at := func(off uintptr) unsafe.Pointer { return unsafe.Add(snd, off) }
	*s = event.SenderState{
		Cwnd:        *(*int)(at(l.cwnd)),
		Ssthresh:    *(*int)(at(l.ssthresh)),
		MSS:         *(*int)(at(l.mss)),
		Outstanding: *(*int)(at(l.outstanding)),
		SackedOut:   *(*int)(at(l.sackedOut)),
		SndUna:      *(*seqnum.Value)(at(l.sndUna)),
		SndNxt:      *(*seqnum.Value)(at(l.sndNxt)),
		SndWnd:      uint32(*(*seqnum.Size)(at(l.sndWnd))),
		SRTT:        *(*time.Duration)(at(l.srtt)),
		RTTVar:      *(*time.Duration)(at(l.rttVar)),
		RTO:         *(*time.Duration)(at(l.rto)),
		RTTValid:    *(*bool)(at(l.rttInited)),
		Recovery:    *(*bool)(at(l.recovery)),
	}
	if _, wnd, ok := l.receiveWindow(ep); ok {
		s.RcvWnd = uint32(wnd)
	}
	return true
}

// senderState reads into *s the snapshot of the endpoint that is writing
// the TCP segment in pkt (a raw IP packet), found by its 4-tuple; it
// reports false when the packet is not TCP, no connected endpoint owns it
// (a RST for no socket, a listener's SYN cookie) or the endpoint has no
// sender yet. It runs on whichever goroutine netstack sends from, with the
// endpoint's lock held, and only reads.
func (h *Host) senderState(pkt []byte, s *event.SenderState) bool {
	l, ok := senderLayout()
	if !ok {
		return false
	}
	var (
		proto    tcpip.NetworkProtocolNumber
		src, dst tcpip.Address
		payload  []byte
	)
	switch header.IPVersion(pkt) {
	case header.IPv4Version:
		ip := header.IPv4(pkt)
		if !ip.IsValid(len(pkt)) || ip.TransportProtocol() != header.TCPProtocolNumber || ip.FragmentOffset() != 0 {
			return false
		}
		proto, src, dst, payload = ipv4.ProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), ip.Payload()
	case header.IPv6Version:
		ip := header.IPv6(pkt)
		// netstack's TCP sends no IPv6 extension headers.
		if !ip.IsValid(len(pkt)) || tcpip.TransportProtocolNumber(ip.NextHeader()) != header.TCPProtocolNumber {
			return false
		}
		proto, src, dst, payload = ipv6.ProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), ip.Payload()
	default:
		return false
	}
	if len(payload) < header.TCPMinimumSize {
		return false
	}
	t := header.TCP(payload)
	id := stack.TransportEndpointID{LocalPort: t.SourcePort(), LocalAddress: src, RemotePort: t.DestinationPort(), RemoteAddress: dst}
	ep := h.outEP.find(h.stack, proto, id)
	if ep == nil {
		return false
	}
	return l.readInto(ep, s)
}

// senderSRTT returns the endpoint's smoothed RTT, 0 before its first
// sample.
func senderSRTT(ep *tcp.Endpoint) time.Duration {
	l, ok := senderLayout()
	if !ok {
		return 0
	}
	snd := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(ep), l.snd))
	if snd == nil || !*(*bool)(unsafe.Add(snd, l.rttInited)) {
		return 0
	}
	return *(*time.Duration)(unsafe.Add(snd, l.srtt))
}

// receiveWindow returns the endpoint's next expected sequence number and
// the window it last advertised (RcvAcc − RcvNxt); ok is false when it
// has no receiver yet.
func receiveWindow(ep *tcp.Endpoint) (nxt seqnum.Value, wnd seqnum.Size, ok bool) {
	l, found := senderLayout()
	if !found {
		return 0, 0, false
	}
	return l.receiveWindow(ep)
}

// receiveWindow is the package's receiveWindow, with the layout found.
func (l *sndLayout) receiveWindow(ep *tcp.Endpoint) (nxt seqnum.Value, wnd seqnum.Size, ok bool) {
	rcv := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(ep), l.rcv))
	if rcv == nil {
		return 0, 0, false
	}
	nxt = *(*seqnum.Value)(unsafe.Add(rcv, l.rcvNxt))
	acc := *(*seqnum.Value)(unsafe.Add(rcv, l.rcvAcc))
	if acc.LessThan(nxt) {
		return nxt, 0, true
	}
	return nxt, nxt.Size(acc), true
}
