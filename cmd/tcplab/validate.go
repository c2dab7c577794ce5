package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/labs"
)

func newValidateCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate LAB...",
		Short: "Check lab files without running them",
		Long: `Check lab files without running them: syntax, unknown keys, types,
hosts, addresses, links, faults, injections and expectations. Every problem
of every file is printed as file:line:col: message. The exit code is 0 when
all labs are valid and 2 otherwise. LAB is a path or a built-in lab's name.`,
		Example: `  tcplab validate my-lab.toml
  tcplab validate labs/*.toml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(e, args)
		},
	}
}

func runValidate(e env, refs []string) error {
	bad := 0
	for _, ref := range refs {
		lab, err := labs.Open(ref)
		if err != nil {
			bad++
			var el labs.ErrorList
			if errors.As(err, &el) {
				fmt.Fprintln(e.stderr, el.Error())
			} else {
				fmt.Fprintf(e.stderr, "%s: %v\n", ref, err)
			}
			continue
		}
		fmt.Fprintf(e.stdout, "ok  %s (%s, %s)\n", ref, plural(len(lab.Hosts), "host"), plural(len(lab.Expect), "expectation"))
	}
	if bad > 0 {
		return &exitError{exitInvalid, fmt.Errorf("%d of %d labs are invalid", bad, len(refs))}
	}
	return nil
}
