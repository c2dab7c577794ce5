package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/topology"
)

// runOptions are the flags of `tcplab run`.
type runOptions struct {
	lab       string
	seed      uint64
	seedSet   bool
	pcap      string
	format    string
	lang      string
	color     bool
	noColor   bool
	notes     bool
	explain   bool
	maxEvents int
}

// runFormats are the values of --format, in the order help lists them.
var runFormats = []string{"text", "json", "mermaid"}

func newRunCmd(e env) *cobra.Command {
	opts := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run LAB",
		Short: "Run a lab and print its annotated timeline",
		Long: `Run a lab and print its annotated timeline on standard output.

LAB is the name of a built-in lab (see tcplab list) or the path to a lab
file (.toml). The run ends when nothing is left to happen, or at the lab's
time limit, which is reported. A summary with the wall time goes to
standard error. With --pcap, every segment is also written to a pcapng file
with one interface per host, host names, and each segment's explanation as
its packet comment.

--format picks the form of the timeline:

  text     an aligned listing like Wireshark's packet list, then the end
           line and the expectations' results (the default)
  json     JSON Lines: a "lab" object, one object per row, an "end" object
           (the shape is in docs/OUTPUT.md)
  mermaid  a Mermaid sequence diagram: one arrow per segment, notes for state
           changes and application steps

With json and mermaid, standard output holds nothing else: the end line and
the expectations' results go to standard error. The exit status is the same
in every form.

--explain prints what the lab shows and what it checks before the
timeline: its title, its description and, under "What to look for:", one
bullet per expectation with its reason and the check itself. In the text
form this is part of the header on standard output; with json and mermaid
it goes to standard error, so standard output stays machine-readable.

The text form is in colour when standard output is a terminal and NO_COLOR
is not set; --color and --no-color decide instead. --lang zh prints notes,
column headings and the end line in Chinese.`,
		Example: `  tcplab run handshake
  tcplab run handshake --explain
  tcplab run close --pcap close.pcapng && tshark -r close.pcapng -N n
  tcplab run ./labs/my-incident.toml --seed 42
  tcplab run handshake --format json | jq -r 'select(.kind == "segment") | "\(.no) \(.flags | join(","))"'
  tcplab run close --format mermaid > close.mmd
  tcplab run close --format mermaid --notes
  tcplab run handshake --lang zh
  tcplab run handshake --color | less -R
  tcplab run handshake --no-color`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.lab = args[0]
			opts.seedSet = cmd.Flags().Changed("seed")
			return runRun(cmd.Context(), e, opts)
		},
	}
	cmd.Flags().Uint64Var(&opts.seed, "seed", 0, "seed for every random choice (default: the lab's seed)")
	cmd.Flags().StringVar(&opts.pcap, "pcap", "", "also write a pcapng capture to `FILE`")
	cmd.Flags().StringVar(&opts.format, "format", "text", "print the timeline in `FORMAT`: "+strings.Join(runFormats, ", "))
	cmd.Flags().StringVar(&opts.lang, "lang", "en", "write notes, headings and the end line in `LANG`: "+strings.Join(i18n.Langs, ", "))
	cmd.Flags().BoolVar(&opts.color, "color", false, "colour the text timeline even when standard output is not a terminal")
	cmd.Flags().BoolVar(&opts.noColor, "no-color", false, "never colour the text timeline")
	cmd.Flags().BoolVar(&opts.notes, "notes", false, "with --format mermaid: draw each segment's note too")
	cmd.Flags().BoolVar(&opts.explain, "explain", false, "first print what the lab shows and what to look for (on stderr with json and mermaid)")
	cmd.Flags().IntVar(&opts.maxEvents, "max-events", 0, "stop a runaway lab after `N` events (default 20000000)")
	return cmd
}

func runRun(ctx context.Context, e env, opts *runOptions) error {
	if !slices.Contains(runFormats, opts.format) {
		return &exitError{exitInvalid, fmt.Errorf("unknown format %q (valid: %s)", opts.format, strings.Join(runFormats, ", "))}
	}
	lang, err := i18n.ParseLang(opts.lang)
	if err != nil {
		return &exitError{exitInvalid, fmt.Errorf("--lang: %w", err)}
	}
	if opts.color && opts.noColor {
		return &exitError{exitInvalid, fmt.Errorf("--color and --no-color contradict each other")}
	}
	if opts.maxEvents < 0 {
		return &exitError{exitInvalid, fmt.Errorf("--max-events must not be negative")}
	}
	if opts.notes && opts.format != "mermaid" {
		return &exitError{exitInvalid, fmt.Errorf("--notes needs --format mermaid (the %s form always has the notes)", opts.format)}
	}
	lab, err := labs.Open(opts.lab)
	if err != nil {
		return &exitError{exitInvalid, err}
	}
	ro := labs.RunOptions{MaxEvents: opts.maxEvents}
	if opts.seedSet {
		ro.Seed = &opts.seed
	}
	// A lab runs on one loop goroutine that hands each host's stack its work
	// and waits for it at a barrier: the work is sequential, and with one P
	// the handoffs are cheaper (about 1.5x faster on the bulk benchmark).
	// GOMAXPROCS in the environment still wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	start := time.Now() // wall time for the summary on stderr only
	r, err := labs.Execute(ctx, lab, ro)
	if err != nil {
		return &exitError{exitFailure, err}
	}
	wall := time.Since(start)
	r.Tap.Lang = lang

	var outs []labs.Outcome
	checked := len(lab.Expect) > 0 && r.Result.Reason != topology.Interrupted
	if checked {
		outs = labs.Check(r)
	}
	out := output{e: e, r: r, lang: lang, outs: outs, checked: checked, explain: opts.explain}
	switch opts.format {
	case "text":
		err = out.text(useColor(e, opts))
	case "json":
		err = out.json()
	case "mermaid":
		err = out.mermaid(opts.notes)
	}
	if err != nil {
		return &exitError{exitFailure, err}
	}
	if opts.pcap != "" {
		if err := writePcap(opts.pcap, r); err != nil {
			return &exitError{exitFailure, err}
		}
	}
	failed := labs.Failed(outs)
	fmt.Fprintf(e.stderr, "tcplab: %s: %s of virtual time in %s (%s, %s)\n",
		lab.Name, fmtVirtual(r.Result.End), wall.Round(10*time.Microsecond), plural(r.Result.Events, "event"), plural(len(r.Tap.Segments()), "frame"))
	switch r.Result.Reason {
	case topology.TimeLimit:
		fmt.Fprintf(e.stderr, "tcplab: stopped at the lab's time limit (%s); more was scheduled at %s\n", fmtVirtual(lab.TimeLimit), fmtVirtual(r.Result.Next))
	case topology.EventLimit:
		return &exitError{exitFailure, fmt.Errorf("%s: %w; output was written up to %s", lab.Name, labs.ErrRunaway, fmtVirtual(r.Result.End))}
	case topology.Interrupted:
		return &exitError{exitInterrupted, fmt.Errorf("%s: interrupted at %s of virtual time; output was written up to there", lab.Name, fmtVirtual(r.Result.End))}
	}
	if failed > 0 {
		return &exitError{exitFailure, fmt.Errorf("%s: %s failed", lab.Name, plural(failed, "expectation"))}
	}
	return nil
}

// useColor decides whether the text timeline is in colour: --color and
// --no-color decide; otherwise colour when standard output is a terminal,
// NO_COLOR is unset or empty (no-color.org) and TERM is not "dumb".
func useColor(e env, opts *runOptions) bool {
	switch {
	case opts.color:
		return true
	case opts.noColor:
		return false
	}
	return e.terminal && e.lookup("NO_COLOR") == "" && e.lookup("TERM") != "dumb"
}

// writePcap writes the capture to path, flushing it even on error.
func writePcap(path string, r *labs.Run) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	werr := r.Tap.WritePcapng(w, topology.Epoch)
	ferr := w.Flush()
	cerr := f.Close()
	for _, err := range []error{werr, ferr, cerr} {
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// fmtVirtual renders virtual time as seconds: "60.011000 s".
func fmtVirtual(d time.Duration) string { return fmtSeconds(d) + " s" }

// plural renders a count with its noun: "1 frame", "3 frames".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
