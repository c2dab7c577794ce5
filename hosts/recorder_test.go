package hosts

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// recorder observes both the switch and the hosts (event.Observer), like
// tap.Tap does in a real run, and keeps every event.
type recorder struct {
	packets  []packet // by frame number - 1
	fates    []*event.Fate
	receipts []*event.Receipt
	states   []stateChange
	timers   []*event.Timer
	apps     []appResult
	queues   []*event.Queue
	counters []*event.Counter
	stalls   []*event.Stall
	worlds   []*event.World
}

var _ event.Observer = (*recorder)(nil)

// packet is a packet that entered the switch.
type packet struct {
	ref      event.Ref
	at       time.Duration
	host     string           // sender
	seg      *segment.Segment // nil when not TCP
	flags    segment.Flags
	payload  int
	src, dst netip.AddrPort
	cause    event.Cause // why the host sent it
	dropped  string      // why the network dropped it; "" if it did not
	sender   *event.SenderState
}

type stateChange struct {
	at            time.Duration
	host          string
	local, remote netip.AddrPort
	from, to      string
	cause         event.Cause
}

type appResult struct {
	at                 time.Duration
	host, step, result string
	err                string
	ev                 *event.App
}

// Sent implements event.Observer.
func (r *recorder) Sent(s *event.Sent) {
	if s.Frame != len(r.packets)+1 || s.Copy != 0 {
		panic(fmt.Sprintf("Sent(%v) after %d frames", s.Ref, len(r.packets)))
	}
	p := packet{ref: s.Ref, at: s.At, host: s.From, seg: s.Seg, cause: s.Cause, sender: s.Sender}
	if s.Seg != nil {
		p.flags, p.payload, p.src, p.dst = s.Seg.Flags, s.Seg.Len, s.Seg.Src, s.Seg.Dst
	}
	r.packets = append(r.packets, p)
}

// Fate implements event.Observer.
func (r *recorder) Fate(f *event.Fate) {
	r.fates = append(r.fates, f)
	if f.Kind == event.Dropped && f.Ref.Copy == 0 {
		r.packets[f.Ref.Frame-1].dropped = f.Reason.String()
	}
}

// Receipt implements event.Observer.
func (r *recorder) Receipt(rc *event.Receipt) { r.receipts = append(r.receipts, rc) }

// StateChange implements event.Observer.
func (r *recorder) StateChange(s *event.StateChange) {
	r.states = append(r.states, stateChange{s.At, s.Host, s.Local, s.Remote, s.From.String(), s.To.String(), s.Cause})
}

// Timer implements event.Observer.
func (r *recorder) Timer(t *event.Timer) { r.timers = append(r.timers, t) }

// App implements event.Observer. Rows keep the form hosts used to report:
// the step prefixed with "[label] ", the result and error in English.
func (r *recorder) App(a *event.App) {
	step := a.Step.Text(i18n.EN, nil)
	if a.Label != "" {
		step = "[" + a.Label + "] " + step
	}
	r.apps = append(r.apps, appResult{a.At, a.Host, step, a.Result.Text(i18n.EN, nil), a.Err.Text(i18n.EN, nil), a})
}

// Queue implements event.Observer.
func (r *recorder) Queue(q *event.Queue) { r.queues = append(r.queues, q) }

// Counter implements event.Observer.
func (r *recorder) Counter(c *event.Counter) { r.counters = append(r.counters, c) }

// Stall implements event.Observer.
func (r *recorder) Stall(s *event.Stall) { r.stalls = append(r.stalls, s) }

// World implements event.Observer.
func (r *recorder) World(w *event.World) { r.worlds = append(r.worlds, w) }

// app returns the result of host's n-th step (0-based), failing if it did
// not report one.
func (r *recorder) app(t *testing.T, host string, n int) appResult {
	t.Helper()
	var mine []appResult
	for _, a := range r.apps {
		if a.host == host {
			mine = append(mine, a)
		}
	}
	if n >= len(mine) {
		t.Fatalf("%s reported %d steps, want at least %d; all steps: %+v", host, len(mine), n+1, r.apps)
	}
	return mine[n]
}

// steps returns how many step results host reported.
func (r *recorder) steps(host string) int {
	n := 0
	for _, a := range r.apps {
		if a.host == host {
			n++
		}
	}
	return n
}

// transitions returns "FROM→TO" for every state change of host's endpoints
// whose local address matches local (any port when local.Port() is 0).
func (r *recorder) transitions(host string, local netip.AddrPort) []string {
	var out []string
	for _, s := range r.states {
		if s.host != host || s.local.Addr() != local.Addr() || (local.Port() != 0 && s.local.Port() != local.Port()) {
			continue
		}
		out = append(out, s.from+"→"+s.to)
	}
	return out
}

// sentBy returns the packets host sent that have all of flags set.
func (r *recorder) sentBy(host string, flags segment.Flags) []packet {
	var out []packet
	for _, p := range r.packets {
		if p.host == host && p.flags.Has(flags) {
			out = append(out, p)
		}
	}
	return out
}

// receipt returns the receipt of the packet ref, or nil.
func (r *recorder) receipt(ref event.Ref) *event.Receipt {
	for _, rc := range r.receipts {
		if rc.Ref == ref {
			return rc
		}
	}
	return nil
}

// find returns host's rows whose step contains step, in order.
func (r *recorder) find(host, step string) []appResult {
	var out []appResult
	for _, a := range r.apps {
		if a.host == host && strings.Contains(a.step, step) {
			out = append(out, a)
		}
	}
	return out
}

// causeText renders a cause for logs: "app close (idle timeout)",
// "arrival frame 3", "timer rto".
func causeText(c event.Cause) string {
	switch c.Kind {
	case event.ByApp:
		s := "app " + c.Op
		if c.Why != "" {
			s += " (" + c.Why + ")"
		}
		return s
	case event.ByArrival:
		return "arrival " + c.Ref.String()
	case event.ByTimer:
		return "timer " + c.Timer.String()
	case event.ByInjection:
		return "injection " + c.Rule
	}
	return "nothing"
}

// String renders everything observed, one line each, for diffs and logs.
func (r *recorder) String() string {
	var b strings.Builder
	for _, a := range r.apps {
		fmt.Fprintf(&b, "%v %s app %q -> %q err %q\n", a.at, a.host, a.step, a.result, a.err)
	}
	for _, s := range r.states {
		fmt.Fprintf(&b, "%v %s %v-%v %s->%s (%s)\n", s.at, s.host, s.local, s.remote, s.from, s.to, causeText(s.cause))
	}
	for _, p := range r.packets {
		fmt.Fprintf(&b, "%v %v %s %v->%v %s len %d (%s) %s\n", p.at, p.ref, p.host, p.src, p.dst, p.flags.Spoken(), p.payload, causeText(p.cause), p.dropped)
	}
	for _, t := range r.timers {
		fmt.Fprintf(&b, "%v %s timer %s %v-%v %v rto %v\n", t.At, t.Host, t.Kind, t.Local, t.Remote, t.State, t.RTO)
	}
	for _, rc := range r.receipts {
		fmt.Fprintf(&b, "%v %s receipt %v %s %+v\n", rc.At, rc.Host, rc.Ref, rc.Verdict, rc.Counters)
	}
	for _, c := range r.counters {
		fmt.Fprintf(&b, "%v %s counters (%s) %+v\n", c.At, c.Host, causeText(c.Cause), c.Counters)
	}
	for _, q := range r.queues {
		fmt.Fprintf(&b, "%v %s queue %v waiting %d of %d, half-open %d\n", q.At, q.Host, q.Listener, q.Waiting, q.Capacity, q.HalfOpen)
	}
	for _, s := range r.stalls {
		fmt.Fprintf(&b, "%v %s stall %v-%v %v una %v nxt %v\n", s.At, s.Host, s.Local, s.Remote, s.State, s.SndUna, s.SndNxt)
	}
	return b.String()
}

// netHost is one host of a test network and its link to the switch.
type netHost struct {
	cfg  Config
	link topology.Link
}

// network is a test world: hosts on one switch, fault rules, a seed (1
// when zero) and a time limit (5 minutes when zero). before, when set, runs
// after the hosts are built and started, before the run.
type network struct {
	seed   uint64
	hosts  []netHost
	faults []topology.Fault
	limit  time.Duration
	before func(net *topology.Network, hosts map[string]*Host)
}

// run builds the network exactly as labs.Execute does (topology.New, Attach
// with hosts.New, the faults, Start), runs it and, when it ends idle,
// reports stalls as labs does. It returns what was observed and how the run
// ended.
func (w network) run(t *testing.T) (*recorder, topology.Result) {
	t.Helper()
	rec := &recorder{}
	seed := w.seed
	if seed == 0 {
		seed = 1
	}
	net := topology.New(seed, rec, nil)
	var hs []*Host
	byName := map[string]*Host{}
	t.Cleanup(func() {
		for _, h := range hs {
			h.Close()
		}
	})
	for _, nh := range w.hosts {
		cfg := nh.cfg
		if cfg.Seed == 0 {
			cfg.Seed = seed
		}
		addrs := []netip.Addr{}
		for _, a := range []netip.Addr{cfg.IPv4, cfg.IPv6} {
			if a.IsValid() {
				addrs = append(addrs, a)
			}
		}
		_, err := net.Attach(cfg.Name, addrs, nh.link, func(index int, clock tcpip.Clock) (topology.Node, error) {
			h, err := New(cfg, index, clock, net.Scheduler(), rec, nil)
			if err != nil {
				return nil, err
			}
			hs = append(hs, h)
			byName[cfg.Name] = h
			return h, nil
		})
		if err != nil {
			t.Fatalf("Attach(%q) = %v, want nil", cfg.Name, err)
		}
	}
	for _, f := range w.faults {
		if err := net.AddFault(f); err != nil {
			t.Fatalf("AddFault(%+v) = %v, want nil", f, err)
		}
	}
	for _, h := range hs {
		h.Start()
	}
	if w.before != nil {
		w.before(net, byName)
	}
	limit := w.limit
	if limit == 0 {
		limit = 5 * time.Minute
	}
	res, err := net.Run(context.Background(), limit)
	if err != nil {
		t.Fatalf("Run(ctx, %v) = %v, want nil error", limit, err)
	}
	if res.Reason == topology.Idle {
		for _, h := range hs {
			h.ReportStalls(res.End)
		}
	}
	checkCauses(t, rec)
	return rec, res
}

// checkCauses checks that the events of a run agree with one another:
// every packet that arrived has one receipt, from the host it reached,
// when it arrived; no timer is reported unrecognised; and every packet
// sent and state change is attributed to something that happened on that
// host at that instant: the arrival of the packet it names, or a timer of
// its kind that fired (a lazy timer that wakes up early does nothing, and
// a host's next activity must not inherit a past one's cause).
func checkCauses(t *testing.T, rec *recorder) {
	t.Helper()
	type key struct {
		at   time.Duration
		host string
		kind event.TimerKind
	}
	fired := map[key]bool{}
	for _, tm := range rec.timers {
		if tm.Kind == event.TimerUnknown {
			t.Errorf("%s reported an unrecognised timer at %v", tm.Host, tm.At)
		}
		fired[key{tm.At, tm.Host, tm.Kind}] = true
	}
	type arrival struct {
		ref  event.Ref
		at   time.Duration
		host string
	}
	arrived := map[arrival]bool{}
	for _, f := range rec.fates {
		if f.Kind == event.Arrived {
			arrived[arrival{f.Ref, f.At, f.To}] = true
		}
	}
	receipts := map[arrival]int{}
	for _, rc := range rec.receipts {
		receipts[arrival{rc.Ref, rc.At, rc.Host}]++
	}
	for a := range arrived {
		if receipts[a] != 1 {
			t.Errorf("%v arrived at %s at %v: %d receipts, want 1", a.ref, a.host, a.at, receipts[a])
		}
	}
	if len(receipts) != len(arrived) {
		t.Errorf("%d receipts for %d arrivals", len(rec.receipts), len(arrived))
	}
	check := func(what string, at time.Duration, host string, c event.Cause) {
		switch c.Kind {
		case event.ByTimer:
			if !fired[key{at, host, c.Timer}] {
				t.Errorf("%s %s at %v has cause timer %s, but no such timer fired then", host, what, at, c.Timer)
			}
		case event.ByArrival:
			if !arrived[arrival{c.Ref, at, host}] {
				t.Errorf("%s %s at %v has cause the arrival of %v, which did not arrive there then", host, what, at, c.Ref)
			}
		}
	}
	for _, p := range rec.packets {
		check(fmt.Sprintf("%v (%v)", p.ref, p.flags), p.at, p.host, p.cause)
	}
	for _, s := range rec.states {
		check(s.from+"→"+s.to, s.at, s.host, s.cause)
	}
}

// why describes a cause in terms a test can compare: "app close",
// "app close (idle timeout)", "timer time_wait", or, for an arrival, the
// arriving packet's flags and sender: "SYN-ACK from server".
func (r *recorder) why(c event.Cause) string {
	if c.Kind != event.ByArrival {
		return causeText(c)
	}
	if c.Ref.Frame < 1 || c.Ref.Frame > len(r.packets) {
		return "arrival of unknown " + c.Ref.String()
	}
	p := r.packets[c.Ref.Frame-1]
	return p.flags.Spoken() + " from " + p.host
}

// causes returns "FROM→TO: why" for every state change of host's
// endpoints whose local address matches local (any port when local.Port()
// is 0).
func (r *recorder) causes(host string, local netip.AddrPort) []string {
	var out []string
	for _, s := range r.states {
		if s.host != host || s.local.Addr() != local.Addr() || (local.Port() != 0 && s.local.Port() != local.Port()) {
			continue
		}
		out = append(out, s.from+"→"+s.to+": "+r.why(s.cause))
	}
	return out
}
