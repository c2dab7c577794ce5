// Package main is the tcplab command. It runs TCP labs: virtual hosts with
// real gVisor netstack TCP stacks, joined by a virtual switch, in virtual
// time, with an annotated timeline and a pcapng capture of everything that
// happened. This package is only the cobra wiring: one file per command,
// each with an options struct and a run function.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	// A run's live heap is small and bounded (per-connection state), and
	// it allocates quickly: collecting at 4x the live heap instead of 2x
	// halves the collector's work for a few more MB. GOGC still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(run())
}
