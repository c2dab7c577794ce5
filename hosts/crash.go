package hosts

import (
	"net/netip"
	"strconv"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// A host that crashes and reboots ([[crashes]], topology.Crasher).
//
// At the crash the host forgets everything without a word on the wire:
// every endpoint is reported CLOSED (cause: the crash), the stack is
// destroyed with whatever it would still send (the RSTs netstack sends
// when it closes connected endpoints) thrown away, its applications stop,
// and a fresh stack with the host's addresses and settings takes its
// place. While the host is down the network drops what reaches it
// (event.HostDown), so the fresh stack sees nothing until the reboot. At
// the reboot the host's applications start again from their first step,
// as services started at boot do (a script's `at` times are absolute, so
// steps whose time has passed run at once). Segments of connections the
// host held at the crash then meet a stack that has no record of them,
// which answers them with a RST as a rebooted Linux host does; their
// receipt says so (event.Forgotten).
//
// Every timer and application wake-up belongs to one boot of the host: a
// timer of the destroyed stack, or a wake-up of a stopped application,
// that comes due later does nothing. The fresh stack draws its random
// numbers (ISNs, ports) from a seed of its own boot, and its counters
// start from zero, as a rebooted kernel's do.

// fourTuple names a connection from the host's side.
type fourTuple struct {
	local, remote netip.AddrPort
}

// Crash implements topology.Crasher.
func (h *Host) Crash() {
	h.checkStates() // what happened before the crash keeps its own cause
	h.setCause(event.Cause{Kind: event.ByCrash})
	var conns, listeners int
	if h.forgotten == nil {
		h.forgotten = map[fourTuple]bool{}
	}
	for _, t := range h.tracked {
		if t.gone || t.state == event.Closed {
			continue
		}
		if t.state == event.Listen {
			listeners++
		} else {
			conns++
			h.forgotten[fourTuple{t.local, t.remote}] = true
		}
		h.obs.StateChange(&event.StateChange{At: h.now(), Host: h.name, Local: t.local, Remote: t.remote, From: t.state, To: event.Closed, Cause: h.cause})
	}
	h.obs.World(&event.World{At: h.now(), Kind: event.HostCrashed, Host: h.name, Conns: conns, Listeners: listeners})
	h.boot++ // from now on, the old stack's timers and the apps' wake-ups do nothing
	old := h.stack
	old.Destroy()
	h.nic.take() // what the dying stack sent never leaves the host
	h.mu.Lock()
	clear(h.pending)
	h.pending = h.pending[:0]
	h.mu.Unlock()
	if err := h.freshStack(); err != nil {
		// The configuration built a stack at the start; it cannot fail now.
		panic("hosts: rebuilding the stack of " + h.name + ": " + err.Error())
	}
}

// Reboot implements topology.Crasher.
func (h *Host) Reboot() {
	h.setCause(event.Cause{})
	h.starts = nil
	if err := h.newApps(h.cfg); err != nil {
		panic("hosts: restarting the applications of " + h.name + ": " + err.Error())
	}
	h.obs.World(&event.World{At: h.now(), Kind: event.HostRebooted, Host: h.name, Apps: len(h.starts)})
	for _, start := range h.starts {
		h.at(h.now(), start)
	}
}

// freshStack gives the host a new stack with its addresses and settings,
// for its first boot (New) or a reboot, and forgets what the host tracked
// of the old one. The stack's random numbers come from a seed of its boot.
func (h *Host) freshStack() error {
	seed := h.cfg.Name
	if h.boot > 1 {
		seed += "#boot" + strconv.Itoa(h.boot)
	}
	secure, insecure := newRNGs(h.cfg.Seed, seed)
	h.nic = &nic{mtu: h.nic.mtu, snap: h.senderState}
	h.stack = stack.New(h.stackOptions(secure, insecure))
	h.tcp = h.stack.TransportProtocolInstance(tcp.ProtocolNumber)
	h.addrs = nil
	h.arrival = nil
	h.inEP, h.outEP = epCache{}, epCache{}
	h.tracked, h.dirty, h.spareDirty, h.listeners = nil, nil, nil, nil
	h.known = map[tcpip.Endpoint]*trackedEP{}
	h.allDirty, h.removed = false, 0
	h.counters = nil
	h.linux = linuxEdge{}
	h.nagle = nil
	h.emu = event.EmuNone
	if err := h.configure(h.cfg); err != nil {
		return err
	}
	h.watchCounters()
	return nil
}

// stackOptions returns the options of the host's stacks.
func (h *Host) stackOptions(secure *secureRNG, insecure *randSource) stack.Options {
	return stack.Options{
		NetworkProtocols: networkProtocols(),
		// No processor goroutine: a host's segments are processed when it
		// settles, on the loop goroutine, in the order they arrived (a
		// patch in third_party/gvisor, PATCHES.md).
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocolSynchronous},
		Clock:              h.clock,
		SecureRNG:          secure,
		RandSource:         insecure,
	}
}

// forgottenVerdict turns the verdict of a segment no socket took into
// Forgotten when the segment belongs to a connection the host forgot in a
// crash.
func (h *Host) forgottenVerdict(a *arrival, v event.Verdict) event.Verdict {
	if (v != event.NoSocket && v != event.Refused) || a.seg == nil || len(h.forgotten) == 0 {
		return v
	}
	if h.forgotten[fourTuple{a.seg.Dst, a.seg.Src}] {
		return event.Forgotten
	}
	return v
}

// reopened forgets that a crash forgot the connection of an arriving SYN:
// the 4-tuple is opened again.
func (h *Host) reopened(seg *segment.Segment) {
	if len(h.forgotten) > 0 && seg.Flags&(segment.SYN|segment.ACK) == segment.SYN {
		delete(h.forgotten, fourTuple{seg.Dst, seg.Src})
	}
}
