package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/labs"
)

func newListCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in labs",
		Long:  "List the built-in labs with a one-line summary each. Run one with tcplab run NAME.",
		Example: `  tcplab list
  tcplab run handshake`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runList(e)
		},
	}
}

func runList(e env) error {
	entries, err := labs.Catalogue()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, en := range entries {
		fmt.Fprintf(tw, "%s\t%s\n", en.Name, en.Title)
	}
	return tw.Flush()
}
