package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/labs"
)

func newNewCmd(e env) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Write a commented starting lab to NAME.toml",
		Long: `Write a commented starting lab to NAME.toml in the current directory: a
client and a server that exchange a message and close, a link with latency,
commented-out examples of TCP settings and faults, and two expectations.
It runs as written; change it into your own scenario. An existing file is
kept unless --force is given. To start from a built-in lab instead, copy
its source: tcplab show NAME > my-lab.toml.`,
		Example: `  tcplab new keepalive-incident
  tcplab run keepalive-incident.toml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNew(e, args[0], force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}

func runNew(e env, name string, force bool) error {
	name = strings.TrimSuffix(name, ".toml")
	if err := labs.ValidName(name); err != nil {
		return &exitError{exitInvalid, err}
	}
	file := name + ".toml"
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(file, flag, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return &exitError{exitInvalid, fmt.Errorf("%s already exists (use --force to overwrite it)", file)}
	}
	if err != nil {
		return &exitError{exitFailure, err}
	}
	_, werr := f.WriteString(labs.Template(name))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return &exitError{exitFailure, werr}
	}
	fmt.Fprintf(e.stdout, "wrote %s; run it with: tcplab run %s\n", file, file)
	return nil
}
