package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is the tcplab release when set with -ldflags "-X main.version=...";
// otherwise the version comes from the build information Go records: the
// module version (a tag, or a pseudo-version from the commit) and the
// revision.
var version = ""

// buildInfo is what the binary knows of how it was built.
type buildInfo struct {
	version  string // "v1.2.0", a pseudo-version, or "(devel)"
	revision string // the VCS commit, "" when unknown
	time     string // the commit's time
	modified bool   // the work tree had changes
	gvisor   string
}

// readBuildInfo reads the build information, with main.version first.
func readBuildInfo() buildInfo {
	b := buildInfo{version: version}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if b.version == "" {
			b.version = "(unknown)"
		}
		return b
	}
	if b.version == "" {
		b.version = bi.Main.Version
	}
	if b.version == "" {
		b.version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.time":
			b.time = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		if d.Path == "gvisor.dev/gvisor" {
			b.gvisor = d.Version
		}
	}
	return b
}

// line is the first line of tcplab version and the output of --version:
// "tcplab v0.2.0 (revision 1a2b3c4d5e6f, 2026-12-01T10:00:00Z, modified)".
func (b buildInfo) line() string {
	var extra []string
	if b.revision != "" {
		extra = append(extra, "revision "+b.revision[:min(12, len(b.revision))])
	}
	if b.time != "" {
		extra = append(extra, b.time)
	}
	if b.modified {
		extra = append(extra, "modified")
	}
	if len(extra) == 0 {
		return "tcplab " + b.version
	}
	return fmt.Sprintf("tcplab %s (%s)", b.version, strings.Join(extra, ", "))
}

// versionLine is the version line of this binary.
func versionLine() string { return readBuildInfo().line() }

func newVersionCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tcplab, Go and gVisor versions",
		Long: `Print the version of tcplab with the revision it was built from, the Go
toolchain that built it, and the gVisor netstack it runs. A lab's timeline
depends on all three: quote them when you report a difference.

The version comes from the build: a release's tag, or for a build from a
clone the commit it was built from ("modified" when the work tree had
changes). tcplab --version prints the first line only.`,
		Example: "  tcplab version\n  tcplab --version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b := readBuildInfo()
			fmt.Fprintf(e.stdout, "%s\n%s\n", b.line(), runtime.Version())
			if b.gvisor != "" {
				fmt.Fprintf(e.stdout, "gvisor %s\n", b.gvisor)
			}
			return nil
		},
	}
}
