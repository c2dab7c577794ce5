package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
)

func newManCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write tcplab's manual pages",
		Long: `Write a manual page for tcplab and for each of its commands into DIR
(tcplab.1, tcplab-run.1, ...), generated from the same help text --help
prints. Install them where man looks, for example:

  tcplab man /usr/local/share/man/man1`,
		Example: `  tcplab man ./man && man ./man/tcplab-run.1
  sudo tcplab man /usr/local/share/man/man1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return &exitError{exitFailure, err}
			}
			// Dated by the commit tcplab was built from, so the pages are the
			// same from build to build.
			date := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			if t, err := time.Parse(time.RFC3339, readBuildInfo().time); err == nil {
				date = t
			}
			h := manHeader{title: "TCPLAB", section: "1", date: date.Format(time.DateOnly), source: readBuildInfo().line(), manual: "tcplab manual"}
			if err := writeManPages(cmd.Root(), h, dir); err != nil {
				return &exitError{exitFailure, err}
			}
			fmt.Fprintf(e.stderr, "tcplab: wrote the manual pages into %s\n", dir)
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
	}
}
