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
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/tap"
	"github.com/tcplab/tcplab/topology"
)

// runOptions are the flags of `tcplab run`.
type runOptions struct {
	lab       string
	seed      uint64
	seedSet   bool
	pcap      string
	format    string
	maxEvents int
}

var runFormats = []string{"text"}

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
its packet comment.`,
		Example: `  tcplab run handshake
  tcplab run close --pcap close.pcapng && tshark -r close.pcapng -N n
  tcplab run ./labs/my-incident.toml --seed 42`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.lab = args[0]
			opts.seedSet = cmd.Flags().Changed("seed")
			return runRun(cmd.Context(), e, opts)
		},
	}
	cmd.Flags().Uint64Var(&opts.seed, "seed", 0, "seed for every random choice (default: the lab's seed)")
	cmd.Flags().StringVar(&opts.pcap, "pcap", "", "also write a pcapng capture to `FILE`")
	cmd.Flags().StringVar(&opts.format, "format", "text", "timeline format: "+strings.Join(runFormats, ", "))
	cmd.Flags().IntVar(&opts.maxEvents, "max-events", 0, "stop a runaway lab after `N` events (default 20000000)")
	return cmd
}

func runRun(ctx context.Context, e env, opts *runOptions) error {
	if !slices.Contains(runFormats, opts.format) {
		return &exitError{exitInvalid, fmt.Errorf("unknown format %q (valid: %s)", opts.format, strings.Join(runFormats, ", "))}
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

	if err := writeTimeline(e, r); err != nil {
		return &exitError{exitFailure, err}
	}
	if opts.pcap != "" {
		if err := writePcap(opts.pcap, r); err != nil {
			return &exitError{exitFailure, err}
		}
	}
	failed := 0
	if len(lab.Expect) > 0 && r.Result.Reason != topology.Interrupted {
		outs := labs.Check(r)
		failed = labs.Failed(outs)
		if err := writeOutcomes(e, r, outs); err != nil {
			return &exitError{exitFailure, err}
		}
	}
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

// writeOutcomes prints the lab's expectations after the timeline: a count,
// then each failure with what was found and the rows that show it.
func writeOutcomes(e env, r *labs.Run, outs []labs.Outcome) error {
	w := bufio.NewWriter(e.stdout)
	failed := labs.Failed(outs)
	fmt.Fprintf(w, "expectations: %d of %d passed\n", len(outs)-failed, len(outs))
	for _, o := range outs {
		if o.OK {
			continue
		}
		writeFailure(w, r, o)
	}
	return w.Flush()
}

// writeFailure describes one failed expectation.
func writeFailure(w *bufio.Writer, r *labs.Run, o labs.Outcome) {
	fmt.Fprintf(w, "  FAIL %s: %s\n", o.Exp.Where, o.Exp)
	if o.Exp.Why != "" {
		fmt.Fprintf(w, "       why: %s\n", o.Exp.Why)
	}
	fmt.Fprintf(w, "       %s\n", o.Message)
	for _, row := range o.Rows {
		fmt.Fprintf(w, "         %s\n", r.Tap.RowText(row))
	}
}

// writeTimeline prints the text timeline with the lab's header and an end line.
func writeTimeline(e env, r *labs.Run) error {
	h := tap.Header{Title: r.Lab.Name}
	if r.Lab.Title != "" {
		h.Title += " — " + r.Lab.Title
	}
	if d := strings.TrimSpace(r.Lab.Description); d != "" {
		h.Lines = append(h.Lines, strings.Split(d, "\n")...)
		h.Lines = append(h.Lines, "")
	}
	h.Lines = append(h.Lines, fmt.Sprintf("seed %d", r.Seed))
	w := bufio.NewWriter(e.stdout)
	if err := r.Tap.WriteText(w, h); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nend of run at %s: %s\n", fmtVirtual(r.Result.End), stopText(r))
	return w.Flush()
}

func stopText(r *labs.Run) string {
	switch r.Result.Reason {
	case topology.Idle:
		return "nothing left to happen"
	case topology.TimeLimit:
		return fmt.Sprintf("time limit reached, more was scheduled at %s", fmtVirtual(r.Result.Next))
	case topology.EventLimit:
		return "event budget exhausted (runaway lab)"
	case topology.Interrupted:
		return "interrupted"
	}
	return r.Result.Reason.String()
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
func fmtVirtual(d time.Duration) string {
	us := d / time.Microsecond
	return fmt.Sprintf("%d.%06d s", us/1_000_000, us%1_000_000)
}

// plural renders a count with its noun: "1 frame", "3 frames".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
