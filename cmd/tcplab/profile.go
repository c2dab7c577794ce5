package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// addProfileFlag adds the hidden --cpuprofile flag to cmd: it writes a Go
// CPU profile of the command to a file, for `go tool pprof` (bench/peer.sh's
// scenarios are profiled this way; see ARCHITECTURE.md's speed part). It
// wraps cmd's RunE, so it must be called after RunE is set.
func addProfileFlag(cmd *cobra.Command) {
	var file string
	cmd.Flags().StringVar(&file, "cpuprofile", "", "write a CPU profile to `FILE`")
	if err := cmd.Flags().MarkHidden("cpuprofile"); err != nil {
		panic(err)
	}
	inner := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if file == "" {
			return inner(c, args)
		}
		f, err := os.Create(file)
		if err != nil {
			return &exitError{exitInvalid, fmt.Errorf("--cpuprofile: %w", err)}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return &exitError{exitInvalid, fmt.Errorf("--cpuprofile: %w", err)}
		}
		err = inner(c, args)
		pprof.StopCPUProfile()
		if cerr := f.Close(); err == nil && cerr != nil {
			err = &exitError{exitFailure, fmt.Errorf("--cpuprofile: %w", cerr)}
		}
		return err
	}
}
