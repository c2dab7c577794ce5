package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/tcplab/tcplab/labs"
)

// Flag values that check what they are given and say what is wanted, in
// place of pflag's raw strconv errors ("strconv.ParseUint: parsing "-1":
// invalid syntax").

// seedValue is --seed: a whole number from 0 to 2^64-1.
type seedValue struct {
	n   *uint64
	set *bool
}

var _ pflag.Value = seedValue{}

// String implements pflag.Value.
func (v seedValue) String() string { return strconv.FormatUint(*v.n, 10) }

// Type implements pflag.Value; help shows it as the value's name.
func (v seedValue) Type() string { return "N" }

// Set implements pflag.Value.
func (v seedValue) Set(s string) error {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return fmt.Errorf("a seed is a whole number from 0 to %d", uint64(1<<64-1))
	}
	*v.n, *v.set = n, true
	return nil
}

// eventsValue is --max-events: at least 1 and at most labs.MaxEvents, as
// the lab file's max_events.
type eventsValue struct{ n *int }

var _ pflag.Value = eventsValue{}

// String implements pflag.Value.
func (v eventsValue) String() string { return strconv.Itoa(*v.n) }

// Type implements pflag.Value.
func (v eventsValue) Type() string { return "N" }

// Set implements pflag.Value.
func (v eventsValue) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 1 || n > labs.MaxEvents {
		return fmt.Errorf("the event budget is a whole number from 1 to %d", int64(labs.MaxEvents))
	}
	*v.n = int(n)
	return nil
}

// sizeValue is --max-memory: a size such as "4GiB".
type sizeValue struct{ n *int64 }

var _ pflag.Value = sizeValue{}

// String implements pflag.Value.
func (v sizeValue) String() string {
	if *v.n == 0 {
		return ""
	}
	return strconv.FormatInt(*v.n, 10)
}

// Type implements pflag.Value.
func (v sizeValue) Type() string { return "SIZE" }

// Set implements pflag.Value.
func (v sizeValue) Set(s string) error {
	n, err := labs.ParseSize(s)
	if err != nil {
		return err
	}
	if n < 16<<20 {
		return fmt.Errorf("a memory limit below 16MiB leaves no room for a run")
	}
	*v.n = n
	return nil
}

// addRunFlags adds the flags run and test share: --seed, --max-events and
// --max-memory.
func addRunFlags(fs *pflag.FlagSet, seed *uint64, seedSet *bool, maxEvents *int, maxMemory *int64, seedHelp string) {
	fs.Var(seedValue{seed, seedSet}, "seed", seedHelp)
	fs.Var(eventsValue{maxEvents}, "max-events", fmt.Sprintf("stop a runaway lab after N events (default %d)", 20_000_000))
	fs.Var(sizeValue{maxMemory}, "max-memory", fmt.Sprintf("stop a run when tcplab's heap passes SIZE, such as 2GiB (default %dGiB)", labs.DefaultMaxMemory>>30))
}
