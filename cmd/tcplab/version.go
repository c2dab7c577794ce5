package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the tcplab release; set with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func newVersionCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tcplab, Go and gVisor versions",
		Long: `Print the version of tcplab, of the Go toolchain that built it, and of the
gVisor netstack it runs. A lab's timeline depends on all three: quote them
when you report a difference.`,
		Example: "  tcplab version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(e.stdout, "tcplab %s\n%s\n", version, runtime.Version())
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					if d.Path == "gvisor.dev/gvisor" {
						fmt.Fprintf(e.stdout, "gvisor %s\n", d.Version)
					}
				}
			}
			return nil
		},
	}
}
