package tap

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// Kind says what a timeline row records.
type Kind int

// Row kinds.
const (
	// KindSegment is a TCP segment as it entered the switch.
	KindSegment Kind = iota + 1
	// KindState is a TCP state change of one endpoint.
	KindState
	// KindApp is the outcome of an application step.
	KindApp
	// KindPacket is a packet that is not TCP.
	KindPacket
	// KindQueue is a listening socket's queues after they changed.
	KindQueue
	// KindCounter is a set of stack counters that moved at one instant on
	// one host.
	KindCounter
	// KindCopy is a copy of a segment (made by a link or a fault rule)
	// reaching its receiver, or being dropped, at its own time.
	KindCopy
	// KindDrop is a segment the receiving host's stack dropped on arrival:
	// a bad checksum, a full accept queue, an invalid cookie.
	KindDrop
	// KindTimer is a stack timer that fired and made its stack send
	// nothing and change no state.
	KindTimer
	// KindStall is an endpoint left with unacknowledged data and nothing
	// left to happen: the connection is stuck.
	KindStall
	// KindWorld is a change around the stacks: a host crashed or
	// rebooted, a middlebox forgot a flow.
	KindWorld
)

var kindNames = []string{"", "segment", "state", "app", "packet", "queue", "counter", "copy", "drop", "timer", "stall", "world"}

// String returns the kind's name as the JSON form spells it.
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Row is one line of the timeline. A segment row stands at the time its
// sender emitted the segment; it is released to the writers once the
// segment's fate is known (dropped, or arrived and processed by the
// receiving stack), so that its notes can say what became of it.
type Row struct {
	Kind Kind
	// At is the virtual time of the row: when a segment was emitted,
	// when a copy arrived or was dropped, when a state changed.
	At time.Duration
	// No is the frame number of a segment, packet or copy (1-based, as in
	// Wireshark and the pcapng of what was sent), or 0.
	No int
	// Copy is the copy number of a copy row.
	Copy int
	// Host is the host a row belongs to; for a segment, the sending host
	// (whose port it entered the switch by).
	Host string

	// Seg is the segment of segment, copy and drop rows; Data the raw
	// packet as sent (segment and packet rows).
	Seg  *segment.Segment
	Data []byte
	// From and To name the segment's endpoints: "client:40000".
	From, To string
	// RelSeq and RelAck are relative to each side's initial sequence
	// number; HasAck says RelAck is meaningful (ACK set, the peer's ISN
	// known).
	RelSeq, RelAck uint32
	HasAck         bool
	// Window is the receive window the segment advertises, scaled.
	Window int
	// InFlight is the number of bytes the sender has sent and the receiver
	// has not yet acknowledged on the wire, after this segment (sequence
	// space: SYN and FIN count one each).
	InFlight int
	// Analysis holds what Wireshark's TCP analysis flags on this segment
	// in the capture of what was sent; DupAckNum counts duplicate ACKs and
	// DupAckOf is the frame number of the ACK they repeat.
	Analysis  Analysis
	DupAckNum int
	DupAckOf  int
	// Cause is why the host sent the segment, or why the state changed,
	// or what the host was doing when counters moved.
	Cause event.Cause
	// CauseMsg renders Cause for state, counter and timer rows.
	CauseMsg i18n.Msg
	// Injected says how an injection rule forged the segment; nil for a
	// segment a stack sent.
	Injected *event.Injected
	// Sender is the sending endpoint's own state (congestion window, RTT
	// estimate, windows) when its stack wrote the segment; nil when it
	// has none (a SYN, a SYN-ACK, a RST for no socket, a forged segment).
	Sender *event.SenderState
	// Dropped is the fate of a segment the network dropped; nil if it
	// was not dropped.
	Dropped *event.Fate
	// Arrival is the segment reaching its receiver and what the receiving
	// stack did with it; nil if it did not arrive (dropped, or still on
	// its way at the end of the run).
	Arrival *Arrival
	// Notes explain the row, in order.
	Notes    []i18n.Msg
	sackBase seqnum.Value

	// State rows.
	Local, Remote netip.AddrPort
	FromState     event.State
	ToState       event.State

	// App is the application call of an app row.
	App *event.App

	// Queue rows: connections waiting for accept(), the accept queue's
	// capacity, and handshakes in progress on listening socket Local.
	Waiting, Capacity, HalfOpen int

	// Counters of a counter or drop row.
	Counters []event.CounterMove

	// Timer is the timer of a timer row.
	Timer *event.Timer

	// Stall is the stuck endpoint of a stall row.
	Stall *event.Stall

	// World is the change of a world row.
	World *event.World
	// Box is the middlebox that forged a segment (a RST for a flow it has
	// no state for); nil for a segment a host or an injection sent.
	Box *event.Box

	done  bool  // the row's notes are final
	tx    *tx   // the segment's transmission record, for its fate
	probe probe // the segment is a probe that its receiver must answer
	early bool  // written before its fate was known (Tap.add)
	// spare is where the segment's arrival goes when it comes (segRow).
	spare *Arrival
}

// segRow is a row of a segment as its sender emitted it, allocated with
// room for its arrival and its first two notes: nearly every segment
// arrives and has a note or two, so that is one allocation per segment
// instead of three or four (BenchmarkTapReplay).
type segRow struct {
	Row
	arrival Arrival
	notes   [2]i18n.Msg
}

// probe says whether a segment is a probe: a keep-alive probe or a
// zero-window probe, which its receiver answers with an ACK.
type probe int8

const (
	notProbe probe = iota
	keepaliveProbe
	zeroWindowProbe
)

// Arrival is a segment (or a copy of it) reaching its receiver.
type Arrival struct {
	Ref event.Ref
	At  time.Duration
	// Host is the receiving host.
	Host string
	// Data is the packet as it was delivered (a corrupted copy differs
	// from what was sent).
	Data []byte
	// Verdict says what the receiving stack did with it.
	Verdict event.Verdict
	// No is its frame number in the capture of what was received, and
	// Analysis, DupAckNum and DupAckOf what Wireshark's analysis flags on
	// it there.
	No        int
	Analysis  Analysis
	DupAckNum int
	DupAckOf  int
}

// OptText renders the segment's TCP options in wire order, with SACK blocks
// in relative numbers: "MSS=1460 SACK_PERM TSval=1 TSecr=0 WS=128".
func (r *Row) OptText() string {
	if r.Seg == nil {
		return ""
	}
	return r.Seg.Opts.Text(r.sackBase)
}

// SACKBlocks returns the segment's SACK blocks, in wire order, relative to
// the initial sequence number of the data they acknowledge, as OptText and
// the timeline show them.
func (r *Row) SACKBlocks() []segment.Block {
	if r.Seg == nil || len(r.Seg.Opts.SACK) == 0 {
		return nil
	}
	out := make([]segment.Block, len(r.Seg.Opts.SACK))
	for i, b := range r.Seg.Opts.SACK {
		out[i] = segment.Block{Start: seqnum.Value(uint32(b.Start - r.sackBase)), End: seqnum.Value(uint32(b.End - r.sackBase))}
	}
	return out
}

// SenderSeq returns a sequence number of the segment's sender relative to
// its initial sequence number, as RelSeq is: for the Sender snapshot's
// SND.UNA and SND.NXT.
func (r *Row) SenderSeq(v seqnum.Value) uint32 {
	if r.Seg == nil {
		return uint32(v)
	}
	isn := uint32(r.Seg.Seq) - r.RelSeq
	return uint32(v) - isn
}

// NoteKeys returns the catalogue keys of the row's notes, in order.
func (r *Row) NoteKeys() []string {
	keys := make([]string, 0, len(r.Notes))
	for _, m := range r.Notes {
		keys = append(keys, m.Key)
	}
	return keys
}

// HasNote reports whether one of the row's notes has the catalogue key.
func (r *Row) HasNote(key string) bool {
	for _, m := range r.Notes {
		if m.Key == key {
			return true
		}
	}
	return false
}

func (r *Row) note(key string, args ...any) { r.Notes = append(r.Notes, i18n.M(key, args...)) }
