// Package event is the vocabulary of a lab run's ground truth: what each
// host sent and why, what the switch did with every packet and where, when
// it reached the receiving host and what that host's stack did with it,
// which stack timer fired, every state change with its cause, and every
// application call with its result. The switch (topology) and the hosts
// (hosts) report these events to an Observer; the tap records and explains
// them. Events carry typed values only; text is made from them where output
// is written.
package event

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// Ref names one packet on its way through the network: the frame number it
// got when it entered the switch (1-based, as in Wireshark and the pcapng)
// and which copy it is (0 for the packet itself, 1, 2 ... for copies that a
// link or a fault rule made of it).
type Ref struct {
	Frame int
	Copy  int
}

// String renders the reference as "frame 12" or "frame 12 (copy 1)".
func (r Ref) String() string {
	if r.Copy == 0 {
		return fmt.Sprintf("frame %d", r.Frame)
	}
	return fmt.Sprintf("frame %d (copy %d)", r.Frame, r.Copy)
}

// CauseKind says what made a host act.
type CauseKind uint8

// What can make a host act.
const (
	// ByNothing: no cause is known.
	ByNothing CauseKind = iota
	// ByApp: an application call (Cause.Op).
	ByApp
	// ByArrival: the arrival of a packet (Cause.Ref).
	ByArrival
	// ByTimer: one of the stack's timers fired (Cause.Timer).
	ByTimer
	// ByInjection: an [[inject]] rule forged the packet (Cause.Rule).
	ByInjection
	// ByCrash: the host crashed ([[crashes]]): its endpoints are gone
	// without a word on the wire.
	ByCrash
)

// Cause is why a host sent a packet or why an endpoint changed state.
type Cause struct {
	Kind CauseKind
	// Op is the socket call of ByApp: "listen", "connect", "accept",
	// "send", "recv", "shutdown", "close", "abort", "set".
	Op string
	// Why is what made the application call Op, when it was not a step
	// of a script: a model's own reason, WhyIdleTimeout.
	Why string
	// Ref is the packet of ByArrival.
	Ref Ref
	// Timer is the timer of ByTimer.
	Timer TimerKind
	// Rule is the injection rule of ByInjection.
	Rule string
	// Emu says what tcplab did in place of netstack to behave as Linux
	// does (the linux profile): zero when netstack acted alone.
	Emu Emulation
	// Diff says where Linux would have acted otherwise and tcplab does
	// not emulate it (the linux profile): zero when no difference is
	// known.
	Diff Difference
	// Inferred says that the cause was inferred from a capture (tcplab
	// explain) rather than reported by a host, and how; zero for the ground
	// truth of a lab run.
	Inferred Inference
	// Delay is, for an arrival inferred beyond the capture point
	// (InferFar), how long after the capture saw the packet it is
	// estimated to have reached the host; with EmuDelayedAck, how long
	// the ACK was held.
	Delay time.Duration
	// Nagle is, for a data segment whose bytes Nagle's algorithm held
	// back (the sender had unacknowledged data and less than a full
	// segment to send), how long they waited since the application wrote
	// them; zero otherwise.
	Nagle time.Duration
}

// Difference is something Linux would have done otherwise, which tcplab
// does not emulate; the rows it shows on say so.
type Difference uint8

// Differences tcplab knows.
const (
	// DiffNone: none known.
	DiffNone Difference = iota
	// DiffDSACK: Linux would have put a D-SACK block in this ACK of data
	// that arrived again (tcp_dsack).
	DiffDSACK
	// DiffSegmentSize: Linux would have put more data in this full-sized
	// segment: MSS minus the options it carries, where netstack leaves
	// room for 40 bytes of options.
	DiffSegmentSize
	// DiffRetries2: the connection gave up after tcp_retries2
	// retransmissions, where Linux gives up when their time budget runs
	// out.
	DiffRetries2
)

// Emulation is something tcplab does at a host's edge, in place of
// netstack, to behave as Linux does under the linux profile
// (hosts/linux_*.go). The rows it shows on say so.
type Emulation uint8

// What tcplab emulates.
const (
	// EmuNone: netstack acted alone.
	EmuNone Emulation = iota
	// EmuSynSchedule: a SYN or SYN-ACK retransmission timer on Linux's
	// schedule (tcp_syn_linear_timeouts, tcp_syn_retries,
	// tcp_synack_retries).
	EmuSynSchedule
	// EmuBareRST: Linux's bare RST (no ACK flag, no options, seq = the
	// segment's ACK) for a segment that reaches a socket its application
	// has closed; netstack sends RST,ACK.
	EmuBareRST
	// EmuAbortOnOverflow: a RST for a handshake's final ACK that found
	// the accept queue full (tcp_abort_on_overflow = 1).
	EmuAbortOnOverflow
	// EmuSynAckAgain: the SYN-ACK repeated in answer to a repeated SYN in
	// SYN_RCVD, where netstack sends a bare ACK.
	EmuSynAckAgain
	// EmuDelayedAck: Linux's delayed ACK (hosts/linux_delack.go). netstack
	// acknowledges every segment at once; tcplab held back the ACKs Linux
	// would have delayed. On an ACK, the delayed ACK Linux sends when its
	// timer fires (Cause.Timer TimerDelayedAck) or the application reads
	// (ByApp); on data or a FIN, the segment carries a held ACK. Cause.Delay
	// is how long the ACK was held.
	EmuDelayedAck
	// EmuFinWait2: FIN_WAIT_1 → FIN_WAIT_2 reported on the way to
	// TIME_WAIT, when one segment acknowledged the host's FIN and carried
	// the peer's: Linux passes through FIN_WAIT_2 (tcp_rcv_state_process,
	// then tcp_fin), netstack goes straight to TIME_WAIT.
	EmuFinWait2
)

var emuNames = []string{"", "syn_schedule", "bare_rst", "abort_on_overflow", "syn_ack_again", "delayed_ack", "fin_wait_2"}

// String returns the emulation's short name: "syn_schedule".
func (e Emulation) String() string {
	if int(e) < len(emuNames) {
		return emuNames[e]
	}
	return fmt.Sprintf("Emulation(%d)", int(e))
}

// Inference says how a cause was inferred from a capture, which shows only
// the packets that passed one point of the network.
type Inference uint8

// How a cause can be inferred.
const (
	// Observed: not inferred, the host reported it.
	Observed Inference = iota
	// InferSeen: inferred from a packet the capture saw at the time it
	// happened: one this host sent, or one that reached it where the
	// capture was taken.
	InferSeen
	// InferFar: inferred from a packet that reached this host beyond the
	// capture point, at a time estimated from the round trips the capture
	// shows.
	InferFar
	// InferBefore: the state held before the capture began (its first
	// segment is not a SYN).
	InferBefore
	// InferLinux: inferred from Linux's default timers (TIME_WAIT lasts
	// 60 s; a SYN or SYN-ACK is given up after its retries).
	InferLinux
)

var inferenceNames = []string{"", "seen", "far", "before", "linux"}

// String returns the inference's short name: "seen", "far"; "" for
// Observed.
func (i Inference) String() string {
	if int(i) < len(inferenceNames) {
		return inferenceNames[i]
	}
	return fmt.Sprintf("Inference(%d)", int(i))
}

// WhyIdleTimeout is Cause.Why of a model closing a connection that was
// idle for its idle timeout (an nginx keepalive_timeout, a pool's
// IdleConnTimeout).
const WhyIdleTimeout = "idle_timeout"

// AppCause returns the cause "the application called op".
func AppCause(op string) Cause { return Cause{Kind: ByApp, Op: op} }

// Arrival returns the cause "packet ref arrived".
func Arrival(ref Ref) Cause { return Cause{Kind: ByArrival, Ref: ref} }

// TimerCause returns the cause "a timer of kind k fired".
func TimerCause(k TimerKind) Cause { return Cause{Kind: ByTimer, Timer: k} }

// TimerKind says which of a stack's timers fired.
type TimerKind uint8

// The timers of a TCP endpoint in netstack.
const (
	TimerUnknown TimerKind = iota
	// TimerRTO is the retransmission timer. In netstack it also sends
	// zero-window probes and decides when to give up (retries, user
	// timeout).
	TimerRTO
	// TimerTLP is the tail loss probe timer (RACK-TLP).
	TimerTLP
	// TimerRACK is the RACK reorder timer, which marks segments lost.
	TimerRACK
	// TimerCork is the TCP_CORK timer.
	TimerCork
	// TimerKeepalive is the keep-alive timer: idle time, then probes.
	TimerKeepalive
	// TimerHandshake retransmits a SYN (client) or SYN-ACK (server).
	TimerHandshake
	// TimerFinWait2 ends an orphaned FIN_WAIT_2 (tcp_fin_timeout).
	TimerFinWait2
	// TimerTimeWait ends TIME_WAIT.
	TimerTimeWait
	// TimerGuard is tcplab's own RTO guard (hosts/rtoguard.go), which
	// fires netstack's retransmission timer when netstack left a sender
	// with unacknowledged data and no timer at all.
	TimerGuard
	// TimerDelayedAck is Linux's delayed-ACK timer, which netstack lacks:
	// the linux profile's (hosts/linux_delack.go).
	TimerDelayedAck
)

var timerNames = []string{"unknown", "rto", "tlp", "rack", "cork", "keepalive", "handshake", "fin_wait_2", "time_wait", "rto_guard", "delayed_ack"}

// String returns the timer's short name: "rto", "keepalive", "time_wait".
func (k TimerKind) String() string {
	if int(k) < len(timerNames) {
		return timerNames[k]
	}
	return fmt.Sprintf("TimerKind(%d)", int(k))
}

// State is a TCP endpoint's state, with Linux's names (tcp_states.h).
// netstack's internal states are mapped by hosts: its states before a
// connection exists and its ERROR state are Closed.
type State uint8

// TCP states.
const (
	Closed State = iota
	Listen
	SynSent
	SynRcvd
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
)

var stateNames = []string{"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"}

// String returns the state's Linux name: "SYN_SENT".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// StateNames lists every state's name, in the order of the constants.
func StateNames() []string { return append([]string(nil), stateNames...) }

// ParseState returns the state with Linux name s ("TIME_WAIT").
func ParseState(s string) (State, bool) {
	for i, n := range stateNames {
		if n == s {
			return State(i), true
		}
	}
	return 0, false
}

// Sent is a packet entering the switch: sent by a host, or forged by an
// injection rule through a host's port.
type Sent struct {
	Ref
	At time.Duration
	// From is the host whose port the packet entered by.
	From string
	// Data is the raw IP packet. Nobody modifies it afterwards.
	Data []byte
	// Seg is the parsed TCP segment; nil when the packet is not one, and
	// then ParseErr says why.
	Seg      *segment.Segment
	ParseErr error
	// Cause is why the host sent it.
	Cause Cause
	// Injected describes a forged packet; nil for a packet a stack sent.
	Injected *Injected
	// Box is the middlebox that forged the packet (a RST for a flow it
	// has no state for); nil otherwise. From is then the host on whose
	// link the middlebox sits, and the packet entered the network at the
	// switch end of that link.
	Box *Box
	// Sender is the sending endpoint's own state when its stack wrote the
	// segment (congestion window, RTT estimate, windows); nil for a forged
	// packet, and for a segment of an endpoint that has no sender yet (a
	// SYN, a SYN-ACK, a RST for no socket).
	Sender *SenderState
}

// SenderState is a snapshot of a TCP endpoint's own sending and receiving
// state, read from its stack at the moment it wrote a segment. Windows are
// in bytes, the congestion window and slow-start threshold in segments, as
// the stack keeps them (multiply by MSS for bytes).
type SenderState struct {
	// Cwnd is the congestion window and Ssthresh the slow-start threshold,
	// in segments.
	Cwnd, Ssthresh int
	// MSS is the largest payload the sender puts in a segment.
	MSS int
	// Outstanding is the number of segments the stack counts as in flight,
	// SackedOut those of them the peer has selectively acknowledged.
	Outstanding, SackedOut int
	// SndUna and SndNxt are SND.UNA and SND.NXT when the segment was
	// written (SND.NXT before it, for new data).
	SndUna, SndNxt seqnum.Value
	// SndWnd is the peer's receive window the sender may fill, in bytes.
	SndWnd uint32
	// SRTT and RTTVar are the smoothed round-trip time and its variation
	// (RFC 6298), valid once RTTValid; RTO is the retransmission timeout.
	SRTT, RTTVar, RTO time.Duration
	RTTValid          bool
	// RcvWnd is the receive window this endpoint offers its peer (RCV.ACC −
	// RCV.NXT), in bytes.
	RcvWnd uint32
	// Recovery says the sender is in fast recovery (SACK or NewReno).
	Recovery bool
}

// Injected says how an injection rule made a packet.
type Injected struct {
	Rule string
	// Spoofed is set when the source address is not the via host's own.
	Spoofed bool
	// NoSeq and NoAck say that seq = "next"/"isn" or ack = "next" found
	// nothing observed on the 4-tuple, so the number counts from 0.
	NoSeq, NoAck bool
}

// Dir is a place on a packet's way: a host's link toward the switch, the
// switch itself, or a host's link from the switch.
type Dir uint8

// Places on a packet's way.
const (
	// Out is the sending host's link, host → switch.
	Out Dir = iota + 1
	// Switch is the switch, where fault rules act.
	Switch
	// In is the receiving host's link, switch → host.
	In
)

// Place is where something happened to a packet: a direction of a host's
// link, or the switch (Host "").
type Place struct {
	Host string
	Dir  Dir
}

// String renders the place as "client→switch", "switch" or
// "switch→server".
func (p Place) String() string {
	switch p.Dir {
	case Out:
		return p.Host + "→switch"
	case In:
		return "switch→" + p.Host
	}
	return "switch"
}

// FateKind says what happened to a packet on its way.
type FateKind uint8

// What can happen to a packet.
const (
	// Dropped: the packet (or copy) is gone; Reason says why.
	Dropped FateKind = iota + 1
	// Delayed: a fault rule kept it at the switch for Delay.
	Delayed
	// Held: a fault rule kept it at the switch until Until.
	Held
	// Duplicated: a link or a fault rule made copy number Copy of it,
	// arriving Delay after it (fault rules) or right after it (links).
	Duplicated
	// Reordered: a link held it back by Delay, so later packets pass it.
	Reordered
	// Corrupted: a link flipped one bit of its TCP segment.
	Corrupted
	// Arrived: it reached host To; Data is what was delivered.
	Arrived
	// Unseen: only for a capture (tcplab explain): whether it reached its
	// receiver cannot be told from the capture (no answer to it was
	// captured, or it was sent again before one was).
	Unseen
)

var fateNames = []string{"", "dropped", "delayed", "held", "duplicated", "reordered", "corrupted", "arrived", "unseen"}

// String returns the fate's name: "dropped", "arrived".
func (k FateKind) String() string {
	if int(k) < len(fateNames) && k > 0 {
		return fateNames[k]
	}
	return fmt.Sprintf("FateKind(%d)", int(k))
}

// DropReason says why the network dropped a packet.
type DropReason uint8

// Why the network drops packets.
const (
	// Loss: the link's random loss.
	Loss DropReason = iota + 1
	// QueueFull: the link's queue (queue_limit) was full.
	QueueFull
	// LinkDown: the link was in an outage (Outage).
	LinkDown
	// FaultDrop: a fault rule dropped it (Rule).
	FaultDrop
	// NoHost: no host owns the destination address (Addr).
	NoHost
	// Unroutable: the packet has no usable destination (Detail).
	Unroutable
	// TooBig: the packet is larger than the link's MTU (MTU).
	TooBig
	// HostDown: the receiving host had crashed and not yet rebooted
	// (Down says when it went down).
	HostDown
	// Middlebox: a stateful middlebox had no state for the packet's flow
	// (Box says which, and whether it forgot the flow or never knew it).
	Middlebox
)

var dropNames = []string{"", "loss", "queue_full", "link_down", "fault", "no_host", "unroutable", "too_big", "host_down", "middlebox"}

// String returns the reason's short name: "loss", "queue_full".
func (r DropReason) String() string {
	if int(r) < len(dropNames) && r > 0 {
		return dropNames[r]
	}
	return fmt.Sprintf("DropReason(%d)", int(r))
}

// Rule is a fault rule that acted on a packet, and which of its matches
// the packet was.
type Rule struct {
	Name  string
	Flags segment.FlagMatch
	Match int
}

// Window is a span of virtual time; To == 0 means no end.
type Window struct {
	From, To time.Duration
}

// Fate is something that happened to a packet (or one of its copies) on its
// way: dropped, delayed, held, duplicated, reordered, corrupted, arrived.
type Fate struct {
	Kind FateKind
	Ref  Ref
	At   time.Duration
	// Place is where it happened (for Arrived: the receiver's link).
	Place Place
	// Reason is why a Dropped packet was dropped.
	Reason DropReason
	// Rule is the fault rule that dropped, delayed, held or duplicated it.
	Rule *Rule
	// Delay: how long Delayed or Reordered kept it; for Duplicated, how
	// long after it the copy follows.
	Delay time.Duration
	// Until is when a Held packet is released.
	Until time.Duration
	// Outage is the outage of a LinkDown drop.
	Outage Window
	// MTU is the MTU of the link a TooBig packet did not fit.
	MTU int
	// Queued is the number of packets waiting in a QueueFull queue.
	Queued int
	// Addr is the destination nobody owns (NoHost).
	Addr netip.Addr
	// Detail says why a packet is Unroutable.
	Detail string
	// Copy is the number of the copy a Duplicated fate made.
	Copy int
	// Down is when the receiving host of a HostDown drop crashed.
	Down time.Duration
	// Box is the middlebox of a Middlebox drop.
	Box *Box
	// To is the host an Arrived packet reached (for Unseen, the host it
	// was meant for), and Data the bytes it was given (a Corrupted packet
	// arrives with its flipped bit).
	To   string
	Data []byte
}

// Verdict says what a receiving stack did with a packet that arrived.
type Verdict uint8

// What a receiving stack can do with a packet.
const (
	// Processed: the stack took the segment (whatever the connection then
	// did with it: data queued or duplicate, an ACK, a FIN, a RST).
	Processed Verdict = iota + 1
	// BadChecksum: dropped, its checksum is wrong (ChecksumErrors).
	BadChecksum
	// NoSocket: nothing listens or is connected there; a RST answers it
	// unless it is a RST itself.
	NoSocket
	// SynQueueOverflow is a SYN to a listener whose accept queue is full:
	// dropped (ListenOverflowSynDrop).
	SynQueueOverflow
	// AckQueueOverflow is a handshake's final ACK dropped because the
	// listener's accept queue is full: the connection stays SYN_RCVD.
	AckQueueOverflow
	// CookieAccepted is a final ACK whose SYN cookie was valid: the
	// connection is rebuilt from it.
	CookieAccepted
	// CookieInvalid is an ACK to a listener that matches no connection and
	// is no valid SYN cookie.
	CookieInvalid
	// Discarded: the stack dropped it for another reason (a RST or an
	// unexpected segment to a listener, a full segment queue ...;
	// DroppedPackets moved).
	Discarded
	// NotTCP: the packet is not a TCP segment.
	NotTCP
	// Refused: a listener had no connection for it (an ACK or data for a
	// connection that is gone) and answered it with a RST.
	Refused
	// HalfOpenOverflow is a SYN to a listener whose SYN queue (its
	// half-open connections) is full, with tcp_syncookies = 0: dropped,
	// as Linux does (emulated by tcplab; netstack would send a cookie).
	HalfOpenOverflow
	// Forgotten is NoSocket for a segment of a connection the host held
	// when it crashed: the rebooted host has no record of it and answers
	// with a RST (unless the segment is a RST itself).
	Forgotten
)

var verdictNames = []string{"", "processed", "bad_checksum", "no_socket", "syn_queue_overflow", "ack_queue_overflow", "cookie_accepted", "cookie_invalid", "discarded", "not_tcp", "refused", "half_open_overflow", "forgotten"}

// String returns the verdict's short name: "processed", "bad_checksum".
func (v Verdict) String() string {
	if int(v) < len(verdictNames) && v > 0 {
		return verdictNames[v]
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Receipt is what a host's stack did with a packet that arrived, read once
// the stack has processed it.
type Receipt struct {
	Ref
	At      time.Duration
	Host    string
	Verdict Verdict
	// Counters are the stack counters that moved while it was processed.
	Counters []CounterMove
}

// CounterMove is one stack counter that moved.
type CounterMove struct {
	Name         string
	Delta, Total uint64
}

// StateChange is a TCP endpoint moving from one state to another.
type StateChange struct {
	At            time.Duration
	Host          string
	Local, Remote netip.AddrPort
	From, To      State
	Cause         Cause
}

// Timer is one of a stack's timers expiring (not a timer that only wakes up
// early to be re-armed, as netstack's lazy timers do).
type Timer struct {
	At            time.Duration
	Host          string
	Local, Remote netip.AddrPort
	Kind          TimerKind
	// State is the endpoint's state when the timer fired.
	State State
	// RTO is the retransmission timeout that expired (TimerRTO), before
	// the stack backs it off.
	RTO time.Duration
}

// App is the outcome of one application call or model action.
type App struct {
	At   time.Duration
	Host string
	// Label names the application when the host runs several ("client#2").
	Label string
	// Step is what the application did: a script's step as written, such
	// as `send "hello"` or `connect server:80` (code, the same in every
	// language), or a model's action ("request 2 on a reused connection").
	Step i18n.Msg
	// Op is the socket call ("connect", "send" ...), as Cause.Op.
	Op string
	// Result says what happened, on success.
	Result i18n.Msg
	// Err is the error the application saw, zero on success; Errno is
	// its errno name ("ECONNRESET") when it has one.
	Err   i18n.Msg
	Errno string
	// Bytes is the number of bytes sent or received, -1 when the call
	// moves none.
	Bytes int
	// OnError is what the script did after this step failed (Err set):
	// OnErrorStop or OnErrorContinue; zero for a step that succeeded and
	// for a model's action. Skipped is the number of steps a stopping
	// script leaves unrun (its remaining steps and rounds).
	OnError OnError
	Skipped int
	// TCPInfo is the snapshot a tcp_info step read; nil otherwise.
	TCPInfo *TCPInfo
}

// Queue is a listening socket's queues after they changed: connections
// waiting for accept(), the accept queue's capacity in netstack, and
// handshakes in progress (SYN_RCVD).
type Queue struct {
	At       time.Duration
	Host     string
	Listener netip.AddrPort
	Waiting  int
	Capacity int
	HalfOpen int
}

// Counter is a set of watched stack counters that moved at one instant on
// one host, outside the processing of an arriving packet (which a Receipt
// reports).
type Counter struct {
	At       time.Duration
	Host     string
	Cause    Cause
	Counters []CounterMove
}

// Stall is an endpoint left, when nothing was left to happen, with sequence
// space it sent and never saw acknowledged (data, a SYN or a FIN): no timer
// is armed to retransmit it, so the connection is stuck.
type Stall struct {
	At            time.Duration
	Host          string
	Local, Remote netip.AddrPort
	State         State
	// SndUna and SndNxt bound the unacknowledged sequence space.
	SndUna, SndNxt seqnum.Value
}

// Box is a stateful middlebox ([[middleboxes]]) acting on a packet: it
// dropped the packet, or forged a RST, because it had no state for the
// packet's flow.
type Box struct {
	// Name and Kind ("nat", "conntrack") name the middlebox; Host is the
	// host on whose link it sits.
	Name, Kind, Host string
	// Forgot is when it forgot the flow after Idle without a segment;
	// zero Idle means it never knew the flow (its first segment was not
	// a SYN it could track).
	Forgot, Idle time.Duration
}

// WorldKind says what changed in the world around the stacks.
type WorldKind uint8

// What can change around the stacks.
const (
	// HostCrashed: Host crashed; its stack forgot Conns connections and
	// Listeners listening sockets without a segment, and its
	// applications stopped.
	HostCrashed WorldKind = iota + 1
	// HostRebooted: Host came back with a fresh stack; Apps says how many
	// applications started again.
	HostRebooted
	// FlowForgotten: middlebox Box forgot the flow A ↔ B after Idle
	// without a segment.
	FlowForgotten
)

var worldNames = []string{"", "host_crashed", "host_rebooted", "flow_forgotten"}

// String returns the kind's short name: "host_crashed".
func (k WorldKind) String() string {
	if int(k) < len(worldNames) && k > 0 {
		return worldNames[k]
	}
	return fmt.Sprintf("WorldKind(%d)", int(k))
}

// World is a change in the lab's world outside the TCP stacks: a host
// crashing or rebooting ([[crashes]]), a middlebox forgetting a flow
// ([[middleboxes]]).
type World struct {
	At   time.Duration
	Kind WorldKind
	// Host is the host that crashed or rebooted, or the host on whose
	// link the middlebox sits.
	Host string
	// Conns and Listeners count what a crash forgot; Apps the
	// applications a reboot started again.
	Conns, Listeners, Apps int
	// Box names the middlebox of FlowForgotten (its Forgot is At).
	Box *Box
	// A and B are the flow a middlebox forgot, A the side that opened it.
	A, B netip.AddrPort
}

// Observer receives a run's events, in the order they happen, on the
// loop goroutine.
type Observer interface {
	Sent(*Sent)
	Fate(*Fate)
	Receipt(*Receipt)
	StateChange(*StateChange)
	Timer(*Timer)
	App(*App)
	Queue(*Queue)
	Counter(*Counter)
	Stall(*Stall)
	World(*World)
}

// Nop is an Observer that ignores every event; embed it to implement only
// some methods.
type Nop struct{}

var _ Observer = Nop{}

// Sent implements Observer.
func (Nop) Sent(*Sent) {}

// Fate implements Observer.
func (Nop) Fate(*Fate) {}

// Receipt implements Observer.
func (Nop) Receipt(*Receipt) {}

// StateChange implements Observer.
func (Nop) StateChange(*StateChange) {}

// Timer implements Observer.
func (Nop) Timer(*Timer) {}

// App implements Observer.
func (Nop) App(*App) {}

// Queue implements Observer.
func (Nop) Queue(*Queue) {}

// Counter implements Observer.
func (Nop) Counter(*Counter) {}

// Stall implements Observer.
func (Nop) Stall(*Stall) {}

// World implements Observer.
func (Nop) World(*World) {}
