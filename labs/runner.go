package labs

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/tcplab/tcplab/hosts"
	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/tap"
	"github.com/tcplab/tcplab/topology"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// RunOptions adjust a run.
type RunOptions struct {
	// Seed, when non-nil, replaces the lab's seed.
	Seed *uint64
	// MaxEvents bounds the run; zero means topology.DefaultMaxEvents.
	MaxEvents int
	// Log receives debug logs; nil discards them.
	Log *slog.Logger
	// KeepRows keeps every row of the timeline in Run.Rows. A run's rows
	// are otherwise only passed to the tap's sinks as they are released,
	// so that memory follows live connections rather than traffic.
	KeepRows bool
	// Timelines renders the text timeline in each of these languages as
	// the run goes, as golden files hold it, for Timeline.
	Timelines []i18n.Lang
	// MaxMemory stops the run (Run.Cause is then ErrMemoryLimit) once the
	// process's heap objects take more than this many bytes: 0 means
	// DefaultMaxMemory, a negative value no limit. The heap is the whole
	// process's, so runs at the same time share the limit.
	MaxMemory int64

	// observe, when set, wraps the tap as the network's observer: the
	// tests record a run's events through it (BenchmarkTapReplay).
	observe func(event.Observer) event.Observer
}

// DefaultMaxMemory is the heap size at which a run stops unless
// RunOptions.MaxMemory says otherwise: a lab that needs this much is a
// runaway (a run holds what its live connections need, a few KB each).
const DefaultMaxMemory = 4 << 30

// ErrMemoryLimit is Run.Cause when a run was stopped at its memory limit.
var ErrMemoryLimit = errors.New("the run reached its memory limit")

// Run is a lab run: the network built from a lab, what it recorded, and
// how it ended.
type Run struct {
	// Lab is the lab that ran.
	Lab *Lab
	// Seed is the seed the run used.
	Seed uint64
	// Tap records and explains everything the run does. Add sinks to it
	// (writers) between Prepare and Go.
	Tap *tap.Tap
	// Result tells how far the run got and why it stopped.
	Result topology.Result
	// Counters holds each host's TCP counters at the end of the run, by
	// host name and counter name.
	Counters map[string]map[string]uint64
	// Rows is the whole timeline, with RunOptions.KeepRows.
	Rows []*tap.Row
	// Frames is the number of packets that entered the switch.
	Frames int
	// Cause is why an interrupted run (Result.Reason Interrupted) stopped:
	// the cause of its context's cancellation (context.Canceled for
	// Ctrl-C), or ErrMemoryLimit.
	Cause error

	net       *topology.Network
	obs       *event.Async // the tap, on its own goroutine during Go
	maxMemory int64
	hosts     []*hosts.Host
	check     *checker
	keep      *tap.Collector
	timelines map[i18n.Lang]*timeline
	done      bool
}

// timeline is a text timeline rendered as the run goes.
type timeline struct {
	buf bytes.Buffer
	w   *tap.TextWriter
}

// Prepare builds the lab's network, ready to run: hosts, links, faults and
// injections, and a tap that checks the lab's expectations as rows are
// released. Add the writers you want to run.Tap, then call Go.
func Prepare(lab *Lab, opts RunOptions) (*Run, error) {
	return PrepareContext(context.Background(), lab, opts)
}

// PrepareContext is Prepare, stopped with ctx's error when ctx is cancelled
// while the network is built.
func PrepareContext(ctx context.Context, lab *Lab, opts RunOptions) (*Run, error) {
	seed := lab.Seed
	if opts.Seed != nil {
		seed = *opts.Seed
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tp := tap.New()
	run := &Run{Lab: lab, Seed: seed, Tap: tp, Counters: map[string]map[string]uint64{}, maxMemory: cmp.Or(opts.MaxMemory, DefaultMaxMemory)}
	// The tap explains and writes on a goroutine of its own while the
	// loop runs the network (Go starts it, and waits for it before the
	// tap finishes).
	var obs event.Observer = tp
	if opts.observe != nil {
		obs = opts.observe(tp)
	}
	run.obs = event.NewAsync(obs)
	run.net = topology.New(seed, run.obs, log)
	run.net.MaxEvents = cmp.Or(opts.MaxEvents, lab.MaxEvents)
	for i, cfg := range lab.Hosts {
		if err := ctx.Err(); err != nil {
			run.close()
			return nil, err
		}
		cfg.Seed = seed
		cfg.MTU = uint32(lab.Links[i].EffectiveMTU()) // the NIC has its link's MTU
		var addrs []netip.Addr
		for _, a := range []netip.Addr{cfg.IPv4, cfg.IPv6} {
			if a.IsValid() {
				addrs = append(addrs, a)
			}
		}
		_, err := run.net.Attach(cfg.Name, addrs, lab.Links[i], func(index int, clock tcpip.Clock) (topology.Node, error) {
			h, err := hosts.New(cfg, index, clock, run.net.Scheduler(), run.obs, log)
			if err != nil {
				return nil, err
			}
			run.hosts = append(run.hosts, h)
			return h, nil
		})
		if err != nil {
			run.close()
			return nil, fmt.Errorf("lab %s: %w", lab.Name, err)
		}
		tp.AddHost(cfg.Name, addrs)
	}
	for _, f := range lab.Faults {
		if err := run.net.AddFault(f); err != nil {
			run.close()
			return nil, fmt.Errorf("lab %s: %w", lab.Name, err)
		}
	}
	for _, in := range lab.Injections {
		if err := run.net.AddInjection(in); err != nil {
			run.close()
			return nil, fmt.Errorf("lab %s: %w", lab.Name, err)
		}
	}
	if err := run.addWorld(); err != nil { // crashes and middleboxes
		run.close()
		return nil, fmt.Errorf("lab %s: %w", lab.Name, err)
	}
	run.check = newChecker(run)
	tp.AddSink(run.check)
	if opts.KeepRows {
		run.keep = &tap.Collector{}
		tp.AddSink(run.keep)
	}
	for _, lang := range opts.Timelines {
		if run.timelines == nil {
			run.timelines = map[i18n.Lang]*timeline{}
		}
		tl := &timeline{}
		tl.w = tp.NewTextWriter(&tl.buf, tap.Header{Title: lab.Name, Lang: lang, MaxTime: lab.TimeLimit})
		run.timelines[lang] = tl
		tp.AddSink(tl.w)
	}
	return run, nil
}

// Go runs the prepared lab in virtual time until nothing is left to happen,
// the lab's time limit, the event budget or cancellation of ctx. When
// nothing was left to happen, every connection still holding
// unacknowledged data is reported as stuck. Whatever stopped the run, the
// tap then releases every row it holds and the hosts are closed; run.Tap's
// sinks have the whole timeline up to that point. Go returns the first
// error a sink returned.
func (run *Run) Go(ctx context.Context) error {
	if run.done {
		return errors.New("labs: the run has already run")
	}
	run.done = true
	err := run.goRun(ctx)
	// Not deferred: a panic in a stack leaves its endpoint locked, and
	// closing the stack would wait for that lock for ever instead of
	// letting the panic end the process with its message.
	run.close()
	return err
}

// goRun is Go's run, before the hosts are closed.
func (run *Run) goRun(ctx context.Context) error {
	run.obs.Start()
	defer run.obs.Close() // at the latest; the tap needs every event before Finish
	for _, h := range run.hosts {
		h.Start()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if run.maxMemory > 0 {
		defer watchMemory(run.maxMemory, cancel)()
	}
	res, err := run.net.Run(ctx, run.Lab.TimeLimit)
	if err != nil {
		return err
	}
	run.Result = res
	if res.Reason == topology.Interrupted {
		run.Cause = context.Cause(ctx)
	}
	if res.Reason == topology.Idle {
		for _, h := range run.hosts {
			h.ReportStalls(res.End)
		}
	}
	for _, h := range run.hosts {
		c := map[string]uint64{}
		for _, name := range hosts.CounterNames() {
			c[name], _ = h.Counter(name)
		}
		run.Counters[h.Name()] = c
	}
	run.Frames = run.net.Frames()
	run.obs.Close()
	err = run.Tap.Finish(res.End)
	if run.keep != nil {
		run.Rows = run.keep.Rows
	}
	for _, tl := range run.timelines {
		if ferr := tl.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// close stops the hosts' stacks.
func (run *Run) close() {
	for _, h := range run.hosts {
		h.Close()
	}
	run.hosts = nil
}

// Execute prepares the lab's network and runs it (PrepareContext, then
// Go), and returns what was recorded: with opts.KeepRows, the whole timeline
// in Rows. Whatever stopped the run, the returned Run holds a complete,
// consistent record up to that point.
func Execute(ctx context.Context, lab *Lab, opts RunOptions) (*Run, error) {
	run, err := PrepareContext(ctx, lab, opts)
	if err != nil {
		return nil, err
	}
	if err := run.Go(ctx); err != nil {
		return nil, err
	}
	return run, nil
}

// Segments returns the segment rows a run kept (RunOptions.KeepRows), in
// frame order.
func (run *Run) Segments() []*tap.Row {
	var out []*tap.Row
	for _, r := range run.Rows {
		if r.Kind == tap.KindSegment {
			out = append(out, r)
		}
	}
	return out
}

// ErrRunaway describes a run that used its whole event budget.
var ErrRunaway = errors.New("the lab ran out of its event budget (a runaway lab?)")

// addWorld adds the lab's crashes and middleboxes to the network.
func (run *Run) addWorld() error {
	for _, c := range run.Lab.Crashes {
		if err := run.net.AddCrash(c); err != nil {
			return err
		}
	}
	for _, m := range run.Lab.Middleboxes {
		if err := run.net.AddMiddlebox(m); err != nil {
			return err
		}
	}
	return nil
}
