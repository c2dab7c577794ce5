package tap

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// The tests of this package drive a Tap with scripted ground-truth events,
// as topology and hosts do in a run: a driver numbers the frames, parses
// what is sent once, and hands every event to the tap in the order the
// script gives. The script is responsible for the order a real run would
// have (state changes and queue rows of an arrival before its receipt, the
// answer after it).

const ms = time.Millisecond

var (
	addrClient = netip.MustParseAddr("10.0.0.1")
	addrServer = netip.MustParseAddr("10.0.0.2")
	// epClient and epServer are the endpoints of the usual connection;
	// epListener is the server's listening socket.
	epClient   = netip.AddrPortFrom(addrClient, 40000)
	epServer   = netip.AddrPortFrom(addrServer, 80)
	epListener = netip.AddrPortFrom(netip.IPv4Unspecified(), 80)
	// baseTime is the wall-clock instant of virtual time zero in captures.
	baseTime = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
)

// Places on a packet's way between the client and the server.
var (
	outClient = event.Place{Host: "client", Dir: event.Out}
	outServer = event.Place{Host: "server", Dir: event.Out}
	inClient  = event.Place{Host: "client", Dir: event.In}
	inServer  = event.Place{Host: "server", Dir: event.In}
	atSwitch  = event.Place{Dir: event.Switch}
)

// Flags, for short.
const (
	fSYN = segment.SYN
	fACK = segment.ACK
	fFIN = segment.FIN
	fRST = segment.RST
	fPSH = segment.PSH
)

// tcpOpt is one TCP option, encoded.
type tcpOpt []byte

func optMSS(n uint16) tcpOpt {
	return binary.BigEndian.AppendUint16([]byte{header.TCPOptionMSS, 4}, n)
}
func optWS(shift byte) tcpOpt { return tcpOpt{header.TCPOptionWS, 3, shift} }
func optSACKPerm() tcpOpt     { return tcpOpt{header.TCPOptionSACKPermitted, 2} }
func optTS(val, ecr uint32) tcpOpt {
	b := binary.BigEndian.AppendUint32([]byte{header.TCPOptionTS, 10}, val)
	return binary.BigEndian.AppendUint32(b, ecr)
}

// optSACK is a SACK option with blocks given as absolute start, end pairs.
func optSACK(edges ...uint32) tcpOpt {
	b := []byte{header.TCPOptionSACK, byte(2 + 4*len(edges))}
	for _, e := range edges {
		b = binary.BigEndian.AppendUint32(b, e)
	}
	return b
}

// tcpSpec is one TCP segment to build.
type tcpSpec struct {
	src, dst netip.AddrPort
	flags    segment.Flags
	seq, ack uint32
	win      uint16
	opts     []tcpOpt
	payload  string
}

// build returns the segment as a raw IPv4 or IPv6 packet with correct
// checksums; options are padded with NOPs to a multiple of four bytes.
func (p tcpSpec) build() []byte {
	var opts []byte
	for _, o := range p.opts {
		opts = append(opts, o...)
	}
	for len(opts)%4 != 0 {
		opts = append(opts, header.TCPOptionNOP)
	}
	tcpLen := header.TCPMinimumSize + len(opts) + len(p.payload)
	srcA, dstA := tcpip.AddrFromSlice(p.src.Addr().AsSlice()), tcpip.AddrFromSlice(p.dst.Addr().AsSlice())
	var b, seg []byte
	if p.src.Addr().Is4() {
		b = make([]byte, header.IPv4MinimumSize+tcpLen)
		ip := header.IPv4(b)
		ip.Encode(&header.IPv4Fields{
			TotalLength: uint16(len(b)), TTL: 64, Protocol: uint8(header.TCPProtocolNumber),
			SrcAddr: srcA, DstAddr: dstA,
		})
		ip.SetChecksum(^ip.CalculateChecksum())
		seg = b[header.IPv4MinimumSize:]
	} else {
		b = make([]byte, header.IPv6MinimumSize+tcpLen)
		header.IPv6(b).Encode(&header.IPv6Fields{
			PayloadLength: uint16(tcpLen), TransportProtocol: header.TCPProtocolNumber,
			HopLimit: 64, SrcAddr: srcA, DstAddr: dstA,
		})
		seg = b[header.IPv6MinimumSize:]
	}
	tcp := header.TCP(seg)
	tcp.Encode(&header.TCPFields{
		SrcPort: p.src.Port(), DstPort: p.dst.Port(), SeqNum: p.seq, AckNum: p.ack,
		DataOffset: uint8(header.TCPMinimumSize + len(opts)), Flags: header.TCPFlags(p.flags), WindowSize: p.win,
	})
	copy(seg[header.TCPMinimumSize:], opts)
	copy(seg[header.TCPMinimumSize+len(opts):], p.payload)
	xsum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, srcA, dstA, uint16(tcpLen))
	xsum = checksum.Checksum([]byte(p.payload), xsum)
	tcp.SetChecksum(^tcp.CalculateChecksum(xsum))
	return b
}

// conv builds the segments of one connection with relative numbers: seq
// counts from the sender's ISN, ack from the receiver's (and is put on the
// wire only with ACK).
type conv struct {
	cl, sv     netip.AddrPort
	isnC, isnS uint32
	win        uint16 // raw window field; 65535 when 0
}

// newConv is the usual connection, client:40000 → server:80.
func newConv() *conv { return &conv{cl: epClient, sv: epServer, isnC: 1000, isnS: 5000} }

func (c *conv) seg(fromClient bool, flags segment.Flags, seq, ack uint32, payload string, opts ...tcpOpt) []byte {
	p := tcpSpec{src: c.sv, dst: c.cl, flags: flags, seq: c.isnS + seq, win: c.win, opts: opts, payload: payload}
	if fromClient {
		p.src, p.dst, p.seq = c.cl, c.sv, c.isnC+seq
	}
	if flags&fACK != 0 {
		p.ack = c.isnC + ack
		if fromClient {
			p.ack = c.isnS + ack
		}
	}
	if p.win == 0 {
		p.win = 65535
	}
	return p.build()
}

// c2s and s2c build a segment of the client and of the server.
func (c *conv) c2s(flags segment.Flags, seq, ack uint32, payload string, opts ...tcpOpt) []byte {
	return c.seg(true, flags, seq, ack, payload, opts...)
}

func (c *conv) s2c(flags segment.Flags, seq, ack uint32, payload string, opts ...tcpOpt) []byte {
	return c.seg(false, flags, seq, ack, payload, opts...)
}

// driver feeds a Tap scripted events.
type driver struct {
	t      testing.TB
	tap    *Tap
	frames int
	sent   map[int]*event.Sent // by frame number
	copies map[int]int         // copies made of each frame
	data   map[event.Ref][]byte
}

// newDriver returns a driver on a new tap with the hosts client (10.0.0.1)
// and server (10.0.0.2) and the given sinks.
func newDriver(t testing.TB, sinks ...Sink) *driver {
	t.Helper()
	tp := New()
	tp.AddHost("client", []netip.Addr{addrClient})
	tp.AddHost("server", []netip.Addr{addrServer})
	for _, s := range sinks {
		tp.AddSink(s)
	}
	return &driver{t: t, tap: tp, sent: map[int]*event.Sent{}, copies: map[int]int{}, data: map[event.Ref][]byte{}}
}

// send reports that host from sent pkt at time at, for cause; it returns
// the packet's reference.
func (d *driver) send(at time.Duration, from string, pkt []byte, cause event.Cause) event.Ref {
	return d.sendEvent(&event.Sent{At: at, From: from, Data: pkt, Cause: cause})
}

// inject reports a packet forged by injection rule through host via.
func (d *driver) inject(at time.Duration, via string, pkt []byte, how event.Injected) event.Ref {
	return d.sendEvent(&event.Sent{At: at, From: via, Data: pkt, Cause: event.Cause{Kind: event.ByInjection, Rule: how.Rule}, Injected: &how})
}

func (d *driver) sendEvent(e *event.Sent) event.Ref {
	d.frames++
	e.Ref = event.Ref{Frame: d.frames}
	// As the switch parses: the option lists inside the segment.
	seg := new(segment.Segment)
	if err := segment.ParseInto(seg, e.Data); err == nil {
		e.Seg = seg
	} else {
		e.ParseErr = err
	}
	d.sent[e.Frame] = e
	d.data[e.Ref] = e.Data
	d.tap.Sent(e)
	return e.Ref
}

// fate reports a fate of a packet as given.
func (d *driver) fate(f event.Fate) { d.tap.Fate(&f) }

// drop reports that the network dropped ref at place.
func (d *driver) drop(ref event.Ref, at time.Duration, place event.Place, reason event.DropReason) {
	d.fate(event.Fate{Kind: event.Dropped, Ref: ref, At: at, Place: place, Reason: reason})
}

// duplicate reports that a link (rule nil) or a fault rule made a copy of
// ref; it returns the copy's reference.
func (d *driver) duplicate(ref event.Ref, at time.Duration, place event.Place, rule *event.Rule, delay time.Duration) event.Ref {
	d.copies[ref.Frame]++
	c := event.Ref{Frame: ref.Frame, Copy: d.copies[ref.Frame]}
	d.data[c] = d.data[ref]
	d.fate(event.Fate{Kind: event.Duplicated, Ref: ref, At: at, Place: place, Rule: rule, Delay: delay, Copy: c.Copy})
	return c
}

// corrupt reports that a link flipped a bit of ref: it arrives changed.
func (d *driver) corrupt(ref event.Ref, at time.Duration, place event.Place) {
	b := append([]byte(nil), d.data[ref]...)
	b[len(b)-1] ^= 1
	d.data[ref] = b
	d.fate(event.Fate{Kind: event.Corrupted, Ref: ref, At: at, Place: place})
}

// arrive reports that ref reached host to at time at.
func (d *driver) arrive(ref event.Ref, at time.Duration, to string) {
	d.fate(event.Fate{Kind: event.Arrived, Ref: ref, At: at, Place: event.Place{Host: to, Dir: event.In}, To: to, Data: d.data[ref]})
}

// receipt reports what host's stack did with ref.
func (d *driver) receipt(ref event.Ref, at time.Duration, host string, v event.Verdict, counters ...event.CounterMove) {
	d.tap.Receipt(&event.Receipt{Ref: ref, At: at, Host: host, Verdict: v, Counters: counters})
}

// deliver reports that ref reached host to and its stack processed it,
// with nothing in between.
func (d *driver) deliver(ref event.Ref, at time.Duration, to string) {
	d.arrive(ref, at, to)
	d.receipt(ref, at, to, event.Processed)
}

// state reports a state change.
func (d *driver) state(at time.Duration, host string, local, remote netip.AddrPort, from, to event.State, cause event.Cause) {
	d.tap.StateChange(&event.StateChange{At: at, Host: host, Local: local, Remote: remote, From: from, To: to, Cause: cause})
}

// app reports an application call that succeeded with result.
func (d *driver) app(at time.Duration, host, step, op string, bytes int, result i18n.Msg) {
	d.tap.App(&event.App{At: at, Host: host, Step: i18n.M("app.step", step), Op: op, Result: result, Bytes: bytes})
}

// appErr reports an application call that failed.
func (d *driver) appErr(at time.Duration, host, step, op, errno string, err i18n.Msg) {
	d.tap.App(&event.App{At: at, Host: host, Step: i18n.M("app.step", step), Op: op, Err: err, Errno: errno, Bytes: -1})
}

// queue reports a listener's queues.
func (d *driver) queue(at time.Duration, host string, listener netip.AddrPort, waiting, capacity, halfOpen int) {
	d.tap.Queue(&event.Queue{At: at, Host: host, Listener: listener, Waiting: waiting, Capacity: capacity, HalfOpen: halfOpen})
}

// counter reports counters that moved outside an arrival.
func (d *driver) counter(at time.Duration, host string, cause event.Cause, moves ...event.CounterMove) {
	d.tap.Counter(&event.Counter{At: at, Host: host, Cause: cause, Counters: moves})
}

// timer reports that a timer of host's endpoint local–remote fired.
func (d *driver) timer(at time.Duration, host string, local, remote netip.AddrPort, kind event.TimerKind, st event.State, rto time.Duration) {
	d.tap.Timer(&event.Timer{At: at, Host: host, Local: local, Remote: remote, Kind: kind, State: st, RTO: rto})
}

// stall reports a stuck endpoint.
func (d *driver) stall(e event.Stall) { d.tap.Stall(&e) }

// finish ends the run at end.
func (d *driver) finish(end time.Duration) {
	d.t.Helper()
	if err := d.tap.Finish(end); err != nil {
		d.t.Fatalf("Finish(%v) = %v, want nil", end, err)
	}
}

// handshake plays a three-way handshake of c starting at start, with a
// one-way delay of 10 ms, and the state changes it makes; the SYN and the
// SYN-ACK carry opts. It returns the three frames.
func (d *driver) handshake(c *conv, start time.Duration, opts ...tcpOpt) (syn, synAck, ack event.Ref) {
	d.state(start, "client", c.cl, c.sv, event.Closed, event.SynSent, event.AppCause("connect"))
	syn = d.send(start, "client", c.c2s(fSYN, 0, 0, "", opts...), event.AppCause("connect"))
	d.arrive(syn, start+10*ms, "server")
	d.state(start+10*ms, "server", c.sv, c.cl, event.Listen, event.SynRcvd, event.Arrival(syn))
	d.receipt(syn, start+10*ms, "server", event.Processed)
	synAck = d.send(start+10*ms, "server", c.s2c(fSYN|fACK, 0, 1, "", opts...), event.Arrival(syn))
	d.arrive(synAck, start+20*ms, "client")
	d.state(start+20*ms, "client", c.cl, c.sv, event.SynSent, event.Established, event.Arrival(synAck))
	d.receipt(synAck, start+20*ms, "client", event.Processed)
	ack = d.send(start+20*ms, "client", c.c2s(fACK, 1, 1, ""), event.Arrival(synAck))
	d.arrive(ack, start+30*ms, "server")
	d.state(start+30*ms, "server", c.sv, c.cl, event.SynRcvd, event.Established, event.Arrival(ack))
	d.receipt(ack, start+30*ms, "server", event.Processed)
	return syn, synAck, ack
}

// released records every row as the tap releases it, with what was known
// of the row at that moment (a sink may keep a row, but the tests check
// that nothing about it changes after release).
type released struct {
	rows  []*Row
	snaps []rowSnap
	// arrivals are the ArrivalSink calls, in order.
	arrivals []arrivalSnap
}

var _ ArrivalSink = (*released)(nil)

// rowSnap is what a row held when it was released.
type rowSnap struct {
	kind    Kind
	no      int
	copy    int
	at      time.Duration
	host    string
	keys    []string
	dropped bool
	arrived bool
	verdict event.Verdict
}

// arrivalSnap is one ArrivalSink call.
type arrivalSnap struct {
	frame, copy int // the row's frame, the arrival's copy
	no          int // the frame number in the capture of what was received
	at          time.Duration
	host        string
	verdict     event.Verdict
	keys        []string
}

func snap(r *Row) rowSnap {
	s := rowSnap{kind: r.Kind, no: r.No, copy: r.Copy, at: r.At, host: r.Host, keys: r.NoteKeys(), dropped: r.Dropped != nil, arrived: r.Arrival != nil}
	if r.Arrival != nil {
		s.verdict = r.Arrival.Verdict
	}
	return s
}

// Row implements Sink.
func (s *released) Row(r *Row) error {
	s.rows = append(s.rows, r)
	s.snaps = append(s.snaps, snap(r))
	return nil
}

// Arrival implements ArrivalSink.
func (s *released) Arrival(r *Row, a *Arrival) error {
	s.arrivals = append(s.arrivals, arrivalSnap{frame: r.No, copy: a.Ref.Copy, no: a.No, at: a.At, host: a.Host, verdict: a.Verdict, keys: r.NoteKeys()})
	return nil
}
