package topology

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tcplab/tcplab/internal/field"
)

// Crash is a host crashing at virtual time At and, unless RebootAfter is
// zero, rebooting RebootAfter later. While it is down every packet that
// reaches the end of its link is dropped (event.HostDown); what the host
// does at the crash and at the reboot is the node's business (Crasher).
type Crash struct {
	// Host is the name of the host that crashes.
	Host string
	// At is when it crashes.
	At time.Duration
	// RebootAfter is how long it stays down; zero means it never comes
	// back during the run.
	RebootAfter time.Duration
}

// Validate reports the configuration errors of c, a field.List naming
// each problem's field as a lab file writes it ("reboot_after").
func (c Crash) Validate() error {
	var l field.List
	if c.At < 0 {
		l.Add("at", "crash time %v is negative", c.At)
	}
	if c.RebootAfter < 0 {
		l.Add("reboot_after", "reboot_after %v is negative", c.RebootAfter)
	}
	return l.Err()
}

// Overlaps reports whether c and o are crashes of one host whose downtimes
// share an instant (a crash without reboot lasts until the end).
func (c Crash) Overlaps(o Crash) bool {
	return c.Host == o.Host && c.window().overlaps(o.window())
}

// Downtime renders the span the host is down: "10s–15s", "10s–end".
func (c Crash) Downtime() string { return c.window().String() }

// window is the span the host is down.
func (c Crash) window() Window {
	w := Window{From: c.At}
	if c.RebootAfter > 0 {
		w.To = c.At + c.RebootAfter
	}
	return w
}

// Crasher is a Node that can crash and reboot. Crash runs at the crash
// time: the node forgets everything silently and its applications stop.
// Reboot runs when it comes back.
type Crasher interface {
	Node
	Crash()
	Reboot()
}

// errNotCrasher is returned by AddCrash for a node that cannot crash.
var errNotCrasher = errors.New("this node cannot crash")

// AddCrash schedules a host's crash and reboot. Two crashes of one host
// must not overlap (a host that never reboots cannot crash again).
func (n *Network) AddCrash(c Crash) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("crash of %s: %w", c.Host, err)
	}
	i := slices.IndexFunc(n.ports, func(p *port) bool { return p.name == c.Host })
	if i < 0 {
		return fmt.Errorf("crash: no host %q", c.Host)
	}
	p := n.ports[i]
	node, ok := p.node.(Crasher)
	if !ok {
		return fmt.Errorf("crash of %s: %w", c.Host, errNotCrasher)
	}
	w := c.window()
	for _, o := range p.crashed {
		if o.overlaps(w) {
			return fmt.Errorf("crash of %s: %w", c.Host, field.List{{Field: "at", Msg: fmt.Sprintf("the host is already down %v", o)}})
		}
	}
	// Overlaps is the same rule for a lab file's crashes.
	p.crashed = append(p.crashed, w)
	n.sched.At(c.At, i, node.Crash)
	if w.To != 0 {
		n.sched.At(w.To, i, node.Reboot)
	}
	return nil
}

// hostDown returns the crash window the host of port p is down in at t.
func (p *port) hostDown(t time.Duration) (Window, bool) {
	return outage(p.crashed, t)
}
