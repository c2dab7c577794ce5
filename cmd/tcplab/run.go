package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/i18n"
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
	pcapAt    string
	format    string
	lang      string
	color     bool
	noColor   bool
	notes     bool
	explain   bool
	quiet     bool
	maxEvents int
	maxMemory int64
	// pcapSet says --pcap was given, even as "".
	pcapSet  bool
	width    int
	widthSet bool
	compact  bool
}

// runFormats are the values of --format, in the order help lists them.
var runFormats = []string{"text", "json", "mermaid", "html"}

// pcapPoints are the values of --pcap-at.
var pcapPoints = []string{"send", "recv", "both"}

func newRunCmd(e env) *cobra.Command {
	opts := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run LAB",
		Short: "Run a lab and print its annotated timeline",
		Long: `Run a lab and print its annotated timeline on standard output.

LAB is the name of a built-in lab (see tcplab list) or the path to a lab
file (.toml). The run ends when nothing is left to happen, or at the lab's
time limit, which is reported. A summary with the wall time goes to
standard error. The timeline is written as the run goes: each row as soon
as what it says is known (a segment once it was dropped or processed by its
receiver), so a long run shows progress and an interrupted one keeps what
it wrote. A run that lasts over a second also draws a progress line on
standard error (virtual time, frames) when that is a terminal, unless the
rows stream to the same terminal; with no terminal, nothing.

With --pcap, the capture is written to a pcapng file as the run goes, with
one interface per host, host names, and each segment's explanation as its
packet comment. --pcap-at says where it is captured: send (the default)
records every packet as its sender emitted it, including those the network
then dropped, as a tcpdump on each sender would; recv records every packet
as it reached its receiver, after loss, delay, reordering, duplication and
corruption, as a tcpdump on each receiver would; both writes the sent view
to FILE and the received view beside it, with ".recv" before the
extension. Keep one capture point per file for Wireshark's TCP analysis:
the same segment seen twice looks like a retransmission to it.

--format picks the form of the timeline:

  text     an aligned listing like Wireshark's packet list, then the end
           line and the expectations' results (the default)
  json     JSON Lines: a "lab" object, one object per row, an "end" object
           (the shape is in docs/OUTPUT.md)
  mermaid  a Mermaid sequence diagram: one arrow per segment (--x when
           dropped, a RST on a red band), notes for state changes and
           application steps; a lab whose hosts form several connection
           groups gets Markdown with one fenced mermaid block per group
  html     one self-contained HTML page, written when the run ends: a ladder
           diagram with state bands, per-connection graphs (time-sequence,
           cwnd, bytes in flight, RTT, windows, queues), the expectations,
           and an English/Chinese switch; it needs no network to open

With json, mermaid and html, standard output holds nothing else: the end line and
the expectations' results go to standard error. The exit status is the same
in every form.

--explain prints what the lab shows and what it checks before the
timeline: its title, its description and, under "What to look for:", one
bullet per expectation with its reason and the check itself. In the text
form this is part of the header on standard output; with json and mermaid
it goes to standard error, so standard output stays machine-readable.

--quiet prints no timeline: only the end line and the expectations'
results (with --pcap, the capture is still written). It is the fastest
way to check a lab or to capture a long run.

The text form is in colour when standard output is a terminal and NO_COLOR
is not set; --color and --no-color decide instead. It fits the terminal's
width (else $COLUMNS, else 100 columns): notes wrap under their row,
aligned, and when the columns themselves do not fit, each row becomes No.,
Time and one text that wraps. --width N sets the width (0: no limit, one
line per row); --compact keeps one line per row, cut to the width, with a
segment's first note. A listener's queue rows at one instant are merged
into one, and a counter row is folded into the segment its cause sent. --lang zh prints notes,
column headings and the end line in Chinese.`,
		Example: `  tcplab run handshake
  tcplab run handshake --explain
  tcplab run close --pcap close.pcapng && tshark -r close.pcapng -N n
  tcplab run loss-recovery --pcap loss.pcapng --pcap-at both
  tcplab run ./labs/my-incident.toml --seed 42
  tcplab run handshake --format json | jq -r 'select(.kind == "segment") | "\(.no) \(.flags | join(","))"'
  tcplab run close --format mermaid > close.mmd
  tcplab run close --format mermaid --notes
  tcplab run keepalive-mismatch --format html > keepalive.html
  tcplab run handshake --lang zh
  tcplab run handshake --color | less -R
  tcplab run loss-recovery --quiet --pcap loss.pcapng
  tcplab run handshake --no-color
  tcplab run backlog-overflow --width 80
  tcplab run loss-recovery --compact
  tcplab run handshake --width 0 > handshake.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.lab = args[0]
			opts.pcapSet = cmd.Flags().Changed("pcap")
			opts.widthSet = cmd.Flags().Changed("width")
			return runRun(cmd.Context(), e, opts)
		},
	}
	addRunFlags(cmd.Flags(), &opts.seed, &opts.seedSet, &opts.maxEvents, &opts.maxMemory, "seed for every random choice (default: the lab's seed)")
	cmd.Flags().StringVar(&opts.pcap, "pcap", "", "also write a pcapng capture to `FILE`")
	cmd.Flags().StringVar(&opts.pcapAt, "pcap-at", "send", "capture point of --pcap: `POINT` is "+strings.Join(pcapPoints, ", "))
	cmd.Flags().StringVar(&opts.format, "format", "text", "print the timeline in `FORMAT`: "+strings.Join(runFormats, ", "))
	cmd.Flags().StringVar(&opts.lang, "lang", "en", "write notes, headings and the end line in `LANG`: "+strings.Join(i18n.Langs, ", "))
	cmd.Flags().BoolVar(&opts.color, "color", false, "colour the text timeline even when standard output is not a terminal")
	cmd.Flags().BoolVar(&opts.noColor, "no-color", false, "never colour the text timeline")
	cmd.Flags().BoolVar(&opts.notes, "notes", false, "with --format mermaid: draw each segment's note too")
	cmd.Flags().BoolVar(&opts.explain, "explain", false, "first print what the lab shows and what to look for (on stderr with json and mermaid)")
	cmd.Flags().BoolVar(&opts.quiet, "quiet", false, "print no timeline, only the end line and the expectations' results")
	cmd.Flags().IntVar(&opts.width, "width", 0, "fit the text timeline in `N` columns, notes wrapped under their rows; 0 for no limit (default: the terminal's width, else $COLUMNS, else 100)")
	cmd.Flags().BoolVar(&opts.compact, "compact", false, "text timeline with one line per row, cut to the width, and a segment's first note only")
	completeFlags(cmd)
	addProfileFlag(cmd)
	cmd.ValidArgsFunction = completeLabs
	return cmd
}

func runRun(ctx context.Context, e env, opts *runOptions) error {
	if !slices.Contains(runFormats, opts.format) {
		return &exitError{exitInvalid, fmt.Errorf("unknown format %q (valid: %s)", opts.format, strings.Join(runFormats, ", "))}
	}
	if !slices.Contains(pcapPoints, opts.pcapAt) {
		return &exitError{exitInvalid, fmt.Errorf("--pcap-at: unknown capture point %q (valid: %s)", opts.pcapAt, strings.Join(pcapPoints, ", "))}
	}
	lang, err := i18n.ParseLang(opts.lang)
	if err != nil {
		return &exitError{exitInvalid, fmt.Errorf("--lang: %w", err)}
	}
	if opts.color && opts.noColor {
		return &exitError{exitInvalid, fmt.Errorf("--color and --no-color contradict each other")}
	}
	if opts.quiet && (opts.format != "text" || opts.explain || opts.notes) {
		return &exitError{exitInvalid, errors.New("--quiet prints no timeline: it goes with neither --format, --explain nor --notes")}
	}
	if (opts.widthSet || opts.compact) && opts.format != "text" {
		return &exitError{exitInvalid, fmt.Errorf("--width and --compact shape the text timeline; they do not apply to --format %s", opts.format)}
	}
	if opts.width < 0 {
		return &exitError{exitInvalid, fmt.Errorf("--width must not be negative")}
	}
	if opts.notes && opts.format != "mermaid" {
		return &exitError{exitInvalid, fmt.Errorf("--notes needs --format mermaid (the %s form always has the notes)", opts.format)}
	}
	lab, err := labs.Open(opts.lab)
	if err != nil {
		return &exitError{exitInvalid, err}
	}
	if err := checkPcapPath(opts, lab); err != nil {
		return &exitError{exitInvalid, err}
	}
	ro := labs.RunOptions{MaxEvents: opts.maxEvents, MaxMemory: opts.maxMemory}
	if opts.seedSet {
		ro.Seed = &opts.seed
	}
	// A write error stops the run at once rather than at its end.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r, err := labs.PrepareContext(ctx, lab, ro)
	if err != nil {
		return &exitError{exitFailure, err}
	}
	caps, err := openCaptures(r, opts.pcap, opts.pcapAt, lang, cancel)
	if err != nil {
		return &exitError{exitFailure, err}
	}
	e.stdout = &stopWriter{w: e.stdout, what: "standard output", stop: cancel}
	out := &output{e: e, r: r, lang: lang, explain: opts.explain, quiet: opts.quiet, width: textWidth(e, opts), compact: opts.compact}
	if err := out.start(opts.format, useColor(e, opts), opts.notes); err != nil {
		caps.close()
		return &exitError{exitFailure, err}
	}
	var progress *meter
	if runProgress(e, opts) {
		progress = newMeter(e, int64(lab.TimeLimit/time.Millisecond))
		r.Tap.AddSink(&runMeter{m: progress, name: lab.Name})
	}
	start := time.Now() // wall time for the summary on stderr only
	err = r.Go(ctx)
	wall := time.Since(start)
	if progress != nil {
		progress.done()
	}
	if cerr := caps.close(); err == nil {
		err = cerr
	}
	if werr := writeFailed(context.Cause(ctx)); werr != nil {
		// The output ends at the row whose write failed (the tap passes
		// nothing on after it), not where the loop had got to when it
		// noticed: that depends on timing.
		stopped := r.Result.End
		if at, terr := r.Tap.Failed(); terr != nil {
			stopped = at
		}
		return &exitError{exitFailure, fmt.Errorf("%s: stopped at %s of virtual time: %w", lab.Name, fmtVirtual(stopped), werr)}
	}
	if err != nil {
		return &exitError{exitFailure, err}
	}
	if r.Result.Reason != topology.Interrupted {
		out.outs = labs.Check(r)
		out.checked = len(out.outs) > 0
	}
	if err := out.finish(); err != nil {
		return &exitError{exitFailure, err}
	}
	failed := labs.Failed(out.outs)
	fmt.Fprintf(e.stderr, "tcplab: %s: %s of virtual time in %s (%s, %s)\n",
		lab.Name, fmtVirtual(r.Result.End), wall.Round(10*time.Microsecond), plural(r.Result.Events, "event"), plural(r.Frames, "frame"))
	for _, f := range caps.files {
		fmt.Fprintf(e.stderr, "tcplab: wrote %s\n", f)
	}
	switch r.Result.Reason {
	case topology.TimeLimit:
		fmt.Fprintf(e.stderr, "tcplab: stopped at the lab's time limit (%s); more was scheduled at %s\n", fmtVirtual(lab.TimeLimit), fmtVirtual(r.Result.Next))
	case topology.EventLimit:
		return &exitError{exitFailure, fmt.Errorf("%s: %w; output was written up to %s", lab.Name, labs.ErrRunaway, fmtVirtual(r.Result.End))}
	case topology.Interrupted:
		if errors.Is(r.Cause, labs.ErrMemoryLimit) {
			return &exitError{exitFailure, fmt.Errorf("%s: %s at %s of virtual time after %s (a runaway lab? --max-memory raises the limit); output was written up to there",
				lab.Name, memoryLimitText(opts.maxMemory), fmtVirtual(r.Result.End), plural(r.Result.Events, "event"))}
		}
		return &exitError{exitInterrupted, fmt.Errorf("%s: interrupted at %s of virtual time; output was written up to there", lab.Name, fmtVirtual(r.Result.End))}
	}
	if failed > 0 {
		return &exitError{exitFailure, fmt.Errorf("%s: %s failed", lab.Name, plural(failed, "expectation"))}
	}
	return nil
}

// runProgress says whether a run shows its progress on standard error
// (when that is a terminal and the run lasts over a second): not when the
// rows themselves stream to the same terminal, where they are the
// progress and a redrawn line would cut through them.
func runProgress(e env, opts *runOptions) bool {
	streams := !opts.quiet && (opts.format == "text" || opts.format == "json")
	return e.stderrTerminal && !(e.terminal && streams)
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

// textWidth is the width the text timeline fits in: --width, else the
// terminal's, else $COLUMNS, else 100.
func textWidth(e env, opts *runOptions) int {
	if opts.widthSet {
		return opts.width
	}
	if e.width > 0 {
		return e.width
	}
	if n, err := strconv.Atoi(e.lookup("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 100
}

// captures are the pcapng files a run writes as it goes.
type captures struct {
	files   []string
	writers []*tap.PcapWriter
	bufs    []*bufio.Writer
	closers []*os.File
}

// openCaptures creates the files of --pcap at the capture point at (send,
// recv or both) before the run starts, so that a bad path fails at once,
// and adds their writers to the run's tap.
func openCaptures(r *labs.Run, path, at string, lang i18n.Lang, stop context.CancelCauseFunc) (*captures, error) {
	c := &captures{}
	if path == "" {
		return c, nil
	}
	for i, file := range pcapFiles(path, at) {
		view := tap.ViewSent
		if at == "recv" || i > 0 {
			view = tap.ViewReceived
		}
		f, err := createOutput(file)
		if err != nil {
			c.close()
			return nil, err
		}
		w := bufio.NewWriterSize(&stopWriter{w: f, what: file, stop: stop}, 1<<16)
		pw := r.Tap.NewPcapWriter(w, view, topology.Epoch, lang)
		r.Tap.AddSink(pw)
		c.files = append(c.files, file)
		c.writers = append(c.writers, pw)
		c.bufs = append(c.bufs, w)
		c.closers = append(c.closers, f)
	}
	return c, nil
}

// close flushes and closes the capture files, and returns the first error.
func (c *captures) close() error {
	var first error
	for i, f := range c.closers {
		errs := []error{}
		if i < len(c.writers) {
			errs = append(errs, c.writers[i].Flush(), c.bufs[i].Flush())
		}
		errs = append(errs, f.Close())
		for _, err := range errs {
			if err != nil && first == nil {
				first = withPath(c.files[i], err)
			}
		}
	}
	c.closers = nil
	return first
}

// pcapFiles returns the files --pcap FILE --pcap-at at writes: FILE, and
// with both the received view beside it.
func pcapFiles(path, at string) []string {
	if at != "both" {
		return []string{path}
	}
	ext := filepath.Ext(path)
	return []string{path, strings.TrimSuffix(path, ext) + ".recv" + ext}
}

// checkPcapPath refuses a --pcap that would write nowhere useful or over
// the lab being run.
func checkPcapPath(opts *runOptions, lab *labs.Lab) error {
	switch {
	case !opts.pcapSet:
		return nil
	case opts.pcap == "":
		return errors.New("--pcap needs a file name")
	case opts.pcap == "-":
		return errors.New("--pcap -: standard output holds the timeline; give the capture a file name")
	}
	for _, f := range pcapFiles(opts.pcap, opts.pcapAt) {
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			return fmt.Errorf("--pcap %s is a directory", f)
		}
		if !labs.IsBuiltin(opts.lab) && sameFile(f, lab.File) {
			return fmt.Errorf("--pcap %s would overwrite the lab file being run", f)
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
