package tap

import (
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
)

// Changes around the stacks: hosts that crash and reboot, middleboxes
// that forget flows, and the segments they drop or forge.

// World implements event.Observer.
func (t *Tap) World(e *event.World) {
	t.settleTimer(nil)
	r := &Row{Kind: KindWorld, At: e.At, Host: e.Host, World: e, done: true}
	switch e.Kind {
	case event.HostCrashed:
		if t.crashed == nil {
			t.crashed = map[string]time.Duration{}
		}
		t.crashed[e.Host] = e.At
		r.note("world.crash", e.Host, e.Conns, e.Listeners)
	case event.HostRebooted:
		if t.rebooted == nil {
			t.rebooted = map[string]time.Duration{}
		}
		t.rebooted[e.Host] = e.At
		r.note("world.reboot", e.Host, e.Apps)
	case event.FlowForgotten:
		b := e.Box
		r.Local, r.Remote = e.A, e.B
		r.note("world.forgot", b.Name, b.Kind, b.Host, e.A, e.B, b.Idle)
	}
	t.add(r)
}

// boxDrop says why a middlebox dropped a segment: it forgot the flow, or
// never saw it open.
func boxDrop(b *event.Box) i18n.Msg {
	if b.Idle > 0 {
		return i18n.M("sw.box.forgot", b.Name, b.Kind, b.Host, b.Forgot, b.Idle)
	}
	return i18n.M("sw.box.unknown", b.Name, b.Kind, b.Host)
}

// explainBoxRST explains a RST a middlebox forged for a segment of a flow
// it has no state for, in the name of the segment's destination.
func (t *Tap) explainBoxRST(in *segInfo) {
	r := in.r
	r.note("seg.rst.box", r.Box.Name, in.from, in.to, boxDrop(r.Box))
}
