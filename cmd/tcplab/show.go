package main

import (
	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/labs"
)

func newShowCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Print the TOML source of a built-in lab",
		Long: `Print the TOML source of a built-in lab, to read it or to copy it as the
start of your own lab.`,
		Example: `  tcplab show close
  tcplab show close > my-close.toml && tcplab run my-close.toml`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeBuiltins,
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := labs.BuiltinSource(args[0])
			if err != nil {
				return &exitError{exitInvalid, err}
			}
			_, err = e.stdout.Write(src)
			return err
		},
	}
}
