package topology

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tcplab/tcplab/internal/field"
	"github.com/tcplab/tcplab/internal/segment"
)

// FaultAction is what a Fault does to the segments it selects.
type FaultAction int

// Fault actions.
const (
	// FaultDrop drops the segment at the switch.
	FaultDrop FaultAction = iota
	// FaultDelay keeps the segment at the switch for Fault.Delay before it
	// crosses the receiver's link.
	FaultDelay
	// FaultDuplicate forwards the segment and, Fault.Delay later, an
	// identical copy (a replayed old segment when the delay is large).
	FaultDuplicate
	// FaultHold keeps the segment at the switch until the absolute virtual
	// time Fault.Until.
	FaultHold
)

var faultActionNames = []string{"drop", "delay", "duplicate", "hold"}

// String returns the action's name: "drop", "delay", "duplicate" or "hold".
func (a FaultAction) String() string {
	if a >= 0 && int(a) < len(faultActionNames) {
		return faultActionNames[a]
	}
	return fmt.Sprintf("FaultAction(%d)", int(a))
}

// ParseFaultAction parses an action name as String renders it,
// case-insensitively.
func ParseFaultAction(s string) (FaultAction, error) {
	for i, name := range faultActionNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return FaultAction(i), nil
		}
	}
	return 0, fmt.Errorf("unknown fault action %q (want %s)", s, strings.Join(faultActionNames, ", "))
}

// Fault is a rule the switch applies to selected TCP segments as they pass
// through it: after the sender's Out direction and before the receiver's In
// direction. Packets that are not TCP segments are never selected.
//
// A segment is a match when it satisfies every selector (From, To, Flags,
// Port, Connection, After and Before). Each rule counts its own matches,
// whether or not it or another rule then acts. Nth and Count choose which
// matches the rule acts on; when several rules want to act on one segment
// the one added first wins and the others do not act (a rule with Count
// and no Nth only spends its Count on segments it actually acted on).
// A copy made by a link's Duplicate is a segment like any other; a copy made
// by FaultDuplicate, and a segment released by FaultDelay or FaultHold, goes
// on to the receiver's link without meeting the rules again.
type Fault struct {
	// Name is how notes name the rule, such as "faults[2]" or a user's
	// label; AddFault fills in "faults[N]" (1-based, in order added) when
	// it is empty.
	Name string
	// Action is what the rule does to the segments it acts on.
	Action FaultAction
	// From and To select by sender and receiver host, each found by the
	// packet's source or destination address; "" matches any. A packet
	// from or to an address no host owns has host "", which only "" matches.
	From, To string
	// Flags selects by TCP flags; the zero value matches every segment.
	Flags segment.FlagMatch
	// Port selects segments whose source or destination port is Port; 0
	// matches any.
	Port uint16
	// Connection selects the Nth distinct connection the switch has seen
	// (1-based, numbered in order of first segment; a connection is an
	// unordered pair of address:port endpoints); 0 matches any.
	Connection int
	// Nth makes the rule act on the Nth match only (1-based); 0 makes it act
	// on every match.
	Nth int
	// Count, with Nth, is the number of consecutive matches to act on,
	// starting at the Nth (0 means 1); without Nth it bounds the number of
	// segments acted on (0 means unlimited).
	Count int
	// After and Before bound the virtual time at which a segment reaches
	// the switch: After <= t < Before. Before == 0 means no end.
	After, Before time.Duration
	// Delay is FaultDelay's extra delay, or how long after the original
	// FaultDuplicate's copy is released.
	Delay time.Duration
	// Until is the absolute virtual time at which FaultHold releases the
	// segment (which then crosses the receiver's link). A hold rule selects
	// only segments that reach the switch before Until.
	Until time.Duration
}

// Validate reports every configuration error in f, as a field.List whose
// fields are named as a lab file writes them ("after", "until"), or nil.
func (f Fault) Validate() error {
	var l field.List
	if f.Action < FaultDrop || f.Action > FaultHold {
		l.Add("action", "unknown fault action %d", int(f.Action))
	}
	nonNeg := func(name string, d time.Duration) {
		if d < 0 {
			l.Add(name, "%s %v is negative", name, d)
		}
	}
	nonNeg("after", f.After)
	nonNeg("before", f.Before)
	if f.Before > 0 && f.After >= 0 && f.Before <= f.After {
		l.Add("before", "impossible time window: before %v is not after after %v", f.Before, f.After)
	}
	nonNeg("delay", f.Delay)
	nonNeg("until", f.Until)
	for _, c := range []struct {
		name string
		n    int
	}{{"connection", f.Connection}, {"nth", f.Nth}, {"count", f.Count}} {
		if c.n < 0 {
			l.Add(c.name, "%s %d is negative", c.name, c.n)
		}
	}
	if err := f.Flags.Validate(); err != nil {
		l.Add("flags", "%v", err)
	}
	switch f.Action {
	case FaultDelay:
		if f.Delay == 0 {
			l.Add("delay", "a delay fault needs delay = \"500ms\"")
		}
	case FaultHold:
		switch {
		case f.Until == 0:
			l.Add("until", "a hold fault needs until = \"30s\" (when the switch releases the segment)")
		case f.Until > 0 && f.After >= 0 && f.Until <= f.After:
			l.Add("until", "impossible hold: until %v is not after after %v", f.Until, f.After)
		}
	}
	if f.Delay != 0 && f.Action != FaultDelay && f.Action != FaultDuplicate {
		l.AddKey("delay", "only delay and duplicate faults take delay")
	}
	if f.Until != 0 && f.Action != FaultHold {
		l.AddKey("until", "only hold faults take until")
	}
	return l.Err()
}

// fault is a Fault with its runtime counters.
type fault struct {
	Fault
	matches int // segments that matched the selectors
	acted   int // segments the rule acted on
}

// AddFault adds a rule to the switch. Rules are checked in the order added.
func (n *Network) AddFault(f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if f.Name == "" {
		f.Name = fmt.Sprintf("faults[%d]", len(n.faults)+1)
	}
	n.faults = append(n.faults, &fault{Fault: f})
	n.maxConn = max(n.maxConn, f.Connection)
	return nil
}

// selects reports whether the segment matches f's selectors; from and to are
// the host names of its addresses ("" for none), conn its connection number.
func (f *fault) selects(now time.Duration, s *segment.Segment, from, to string, conn int) bool {
	return (f.From == "" || f.From == from) &&
		(f.To == "" || f.To == to) &&
		f.Flags.Match(s.Flags) &&
		(f.Port == 0 || s.Src.Port() == f.Port || s.Dst.Port() == f.Port) &&
		(f.Connection == 0 || f.Connection == conn) &&
		now >= f.After && (f.Before == 0 || now < f.Before) &&
		(f.Action != FaultHold || now < f.Until)
}

// wants reports whether f would act on its current (latest) match.
func (f *fault) wants() bool {
	if f.Nth > 0 {
		return f.matches >= f.Nth && f.matches < f.Nth+max(f.Count, 1)
	}
	return f.Count == 0 || f.acted < f.Count
}

// applyFaults counts the segment against every rule and returns the rule
// that acts on it, or nil.
func (n *Network) applyFaults(now time.Duration, s *segment.Segment, conn int) *fault {
	if len(n.faults) == 0 {
		return nil
	}
	from, to := n.hostOf(s.Src.Addr()), n.hostOf(s.Dst.Addr())
	var winner *fault
	for _, f := range n.faults {
		if !f.selects(now, s, from, to, conn) {
			continue
		}
		f.matches++
		if winner == nil && f.wants() {
			f.acted++
			winner = f
		}
	}
	return winner
}

// hostOf returns the name of the host that owns addr, or "".
func (n *Network) hostOf(addr netip.Addr) string {
	if i, ok := n.byAddr[addr]; ok {
		return n.ports[i].name
	}
	return ""
}
