package labs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/tcplab/tcplab/hosts"
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
}

// Run is the outcome of running a lab.
type Run struct {
	// Lab is the lab that ran.
	Lab *Lab
	// Seed is the seed the run used.
	Seed uint64
	// Tap holds everything the run recorded.
	Tap *tap.Tap
	// Result tells how far the run got and why it stopped.
	Result topology.Result
	// Counters holds each host's TCP counters at the end of the run, by
	// host name and counter name.
	Counters map[string]map[string]uint64
}

// Execute builds the lab's network, runs it in virtual time until nothing is
// left to happen, the lab's time limit, the event budget or cancellation of
// ctx, and returns what was recorded. Whatever stopped the run, the returned
// Run holds a complete, consistent timeline up to that point.
func Execute(ctx context.Context, lab *Lab, opts RunOptions) (*Run, error) {
	seed := lab.Seed
	if opts.Seed != nil {
		seed = *opts.Seed
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tp := tap.New()
	net := topology.New(seed, tp, log)
	net.MaxEvents = cmp.Or(opts.MaxEvents, lab.MaxEvents)
	var hs []*hosts.Host
	defer func() {
		for _, h := range hs {
			h.Close()
		}
	}()
	for i, cfg := range lab.Hosts {
		cfg.Seed = seed
		var addrs []netip.Addr
		for _, a := range []netip.Addr{cfg.IPv4, cfg.IPv6} {
			if a.IsValid() {
				addrs = append(addrs, a)
			}
		}
		_, err := net.Attach(cfg.Name, addrs, lab.Links[i], func(index int, clock tcpip.Clock) (topology.Node, error) {
			h, err := hosts.New(cfg, index, clock, net.Scheduler(), tp, log)
			if err != nil {
				return nil, err
			}
			hs = append(hs, h)
			return h, nil
		})
		if err != nil {
			return nil, fmt.Errorf("lab %s: %w", lab.Name, err)
		}
		tp.AddHost(cfg.Name, addrs)
	}
	for _, f := range lab.Faults {
		if err := net.AddFault(f); err != nil {
			return nil, fmt.Errorf("lab %s: %w", lab.Name, err)
		}
	}
	for _, in := range lab.Injections {
		if err := net.AddInjection(in); err != nil {
			return nil, fmt.Errorf("lab %s: %w", lab.Name, err)
		}
	}
	for _, h := range hs {
		h.Start()
	}
	res, err := net.Run(ctx, lab.TimeLimit)
	if err != nil {
		return nil, err
	}
	run := &Run{Lab: lab, Seed: seed, Tap: tp, Result: res, Counters: map[string]map[string]uint64{}}
	for _, h := range hs {
		c := map[string]uint64{}
		for _, name := range hosts.CounterNames() {
			c[name], _ = h.Counter(name)
		}
		run.Counters[h.Name()] = c
	}
	return run, nil
}

// ErrRunaway describes a run that used its whole event budget.
var ErrRunaway = errors.New("the lab ran out of its event budget (a runaway lab?)")
