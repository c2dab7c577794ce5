package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/topology"
)

// testOptions are the flags of `tcplab test`.
type testOptions struct {
	refs      []string
	seed      uint64
	seedSet   bool
	seeds     int
	junit     string
	update    bool
	jobs      int
	maxEvents int
	maxMemory int64
	format    string
	// junitSet says --junit was given, even as "".
	junitSet bool
	html     string
}

// testFormats are the values of test's --format.
var testFormats = []string{"text", "json"}

func newTestCmd(e env) *cobra.Command {
	opts := &testOptions{}
	cmd := &cobra.Command{
		Use:   "test [PATH|NAME ...]",
		Short: "Run labs and check their expectations and golden timelines, for CI",
		Long: `Run labs and check that they still behave as they say: every expectation
of each lab, and its golden timelines when it has them. This is the command a
CI pipeline runs.

Each argument is a directory (every *.toml file in it, not recursively, not
hidden), a lab file, or the name of a built-in lab; a name that is also a
file or directory is refused as ambiguous (write ./NAME for the path). With no
argument, the built-in catalogue is tested.

Labs run in parallel, one per core (--jobs), and the report is in the order
the labs were given: one line per lab with its result, the virtual time it
covered and the wall time it took, then, for a failure, each expectation that
failed with the timeline rows that show it. When the test lasts over a
second and standard error is a terminal, a line there shows the labs and
runs done and the virtual time covered.

  PASS  the expectations held and the timelines equal the golden files
  FAIL  an expectation failed, or a timeline differs from its golden file
  ERR   the lab is invalid, or it ran out of its event budget
  SKIP  the lab has neither expectations nor golden timelines
  INT   the test run was interrupted before the lab finished

Golden timelines: the golden timeline of DIR/NAME.toml is
DIR/testdata/golden/NAME.en.txt (and NAME.zh.txt in Chinese; a lab that
is itself in a testdata directory keeps them in golden/ beside it). A lab with
golden files is checked against them under its own seed; --update writes them
from the current run (review the diff before you commit it). Built-in labs
are compiled in: test their source files (tcplab test labs/) to update theirs.

--seeds N runs every lab under N seeds (at most 10000), starting at its own
seed (or at --seed), to show that an expectation is not an accident of one
seed. A failure is shown once, with the seeds it happened under.

--html DIR writes one self-contained HTML report per lab into DIR
(NAME.html, from the run under its first seed), for CI artifacts.

The exit status is 0 when every lab passes, 1 when any expectation or golden
timeline fails (or a lab runs away), 2 when a lab is invalid or the command
line is wrong, 130 when interrupted (the report and the JUnit file are still
written for the labs that finished; a second Ctrl-C quits at once).

--format json prints one JSON object per lab, with the result of each
expectation, then a summary object, instead of the text report (the shape
is in docs/OUTPUT.md).`,
		Example: `  tcplab test
  tcplab test ci/labs/
  tcplab test ci/labs/ --junit report.xml
  tcplab test ci/labs/ --html reports/
  tcplab test keepalive-mismatch backlog-overflow --seeds 20
  tcplab test ./my-incident.toml --seed 7
  tcplab test ci/labs/ --update && git diff ci/labs/testdata
  tcplab test ci/labs/ --format json | jq -c 'select(.kind == "lab") | [.lab, .status]'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.refs = args
			opts.junitSet = cmd.Flags().Changed("junit")
			return runTest(cmd.Context(), e, opts)
		},
		ValidArgsFunction: completeLabs,
	}
	addRunFlags(cmd.Flags(), &opts.seed, &opts.seedSet, &opts.maxEvents, &opts.maxMemory, "run every lab with seed N instead of its own")
	cmd.Flags().IntVar(&opts.seeds, "seeds", 1, "run every lab under `N` seeds: its own (or --seed) and the N-1 after it")
	cmd.Flags().StringVar(&opts.junit, "junit", "", "also write a JUnit XML report to `FILE`")
	cmd.Flags().BoolVar(&opts.update, "update", false, "rewrite the golden timelines (English and Chinese) of the given lab files")
	cmd.Flags().IntVar(&opts.jobs, "jobs", runtime.GOMAXPROCS(0), "run `N` labs at once")
	cmd.Flags().StringVar(&opts.format, "format", "text", "print the report in `FORMAT`: "+strings.Join(testFormats, ", "))
	completeFlags(cmd, testFormats...)
	cmd.Flags().StringVar(&opts.html, "html", "", "also write an HTML report of each lab (its first seed) into directory `DIR`")
	return cmd
}

// maxSeeds bounds --seeds: each seed is a run whose result is kept.
const maxSeeds = 10000

// status is a lab's result in the report, in increasing order of
// precedence: a lab's status is the highest of its runs'.
type status int

const (
	statusPass status = iota
	statusSkip
	statusInterrupted
	statusFail
	statusError
	statusInvalid
)

// word is the status as the report's first column shows it.
func (s status) word() string {
	return [...]string{"PASS", "SKIP", "INT", "FAIL", "ERR", "ERR"}[s]
}

// testItem is one lab given to `tcplab test` and what became of it.
type testItem struct {
	// ref names the lab in the report: its file, or a built-in's name.
	ref string
	// file is the lab's file, "" for a built-in lab.
	file string
	lab  *labs.Lab
	// invalid is why the lab could not be loaded.
	invalid error
	seeds   []uint64
	runs    []seedResult
	left    int // runs not reported back yet
}

// seedResult is one run of a lab under one seed, reduced to what the
// report needs (the run itself is dropped to keep memory flat).
type seedResult struct {
	seed uint64
	// finished says the run came to its end; a run that was interrupted,
	// or never started because of the interruption, did not.
	finished bool
	virtual  time.Duration
	// start and end are when the run started and ended, for the lab's
	// wall time (runs of one lab overlap).
	start, end time.Time
	checked    bool
	// held tells, per expectation of the lab, whether it held.
	held []bool
	// failures are the failed expectations and golden comparisons, and
	// why the run could not complete.
	failures []testFailure
	// golden lists the languages compared (or written, with --update).
	golden []string
	// limit is the lab's time limit when the run stopped there.
	limit time.Duration
}

// testFailure is one failed expectation, golden comparison or run.
type testFailure struct {
	// summary is one line: where and what failed, and what was found.
	summary string
	// key is the same for the same failure under another seed.
	key string
	// detail is the report's indented lines, with the timeline rows.
	detail string
	// kind is "expectation", "golden" or "error" (the run did not
	// complete).
	kind string
}

// status returns the lab's result.
func (it *testItem) status() status {
	if it.invalid != nil {
		return statusInvalid
	}
	st, checked := statusPass, false
	for _, r := range it.runs {
		s := statusPass
		switch {
		case len(r.failures) > 0 && r.failures[0].kind == "error":
			s = statusError
		case len(r.failures) > 0:
			s = statusFail
		case !r.finished:
			s = statusInterrupted
		}
		st = max(st, s)
		checked = checked || r.checked || len(r.golden) > 0
	}
	if st == statusPass && !checked {
		return statusSkip
	}
	return st
}

// totals sums the lab's runs: virtual time covered, runs finished, and the
// wall time from the start of its first run to the end of its last (its
// runs overlap when they run in parallel, so their times do not add up).
func (it *testItem) totals() (virtual, wall time.Duration, finished int) {
	var first, last time.Time
	for _, r := range it.runs {
		virtual += r.virtual
		if r.finished {
			finished++
		}
		if r.start.IsZero() {
			continue
		}
		if first.IsZero() || r.start.Before(first) {
			first = r.start
		}
		if r.end.After(last) {
			last = r.end
		}
	}
	return virtual, last.Sub(first), finished
}

// mergedFailure is a failure with the seeds it happened under.
type mergedFailure struct {
	testFailure
	seeds []uint64
}

// failures returns the lab's failures, each once, from the first seed it
// happened under, with all the seeds it happened under.
func (it *testItem) failures() []*mergedFailure {
	var order []*mergedFailure
	byKey := map[string]*mergedFailure{}
	for _, r := range it.runs {
		for _, f := range r.failures {
			m := byKey[f.key]
			if m == nil {
				m = &mergedFailure{testFailure: f}
				byKey[f.key] = m
				order = append(order, m)
			}
			m.seeds = append(m.seeds, r.seed)
		}
	}
	return order
}

// writeFailures writes the lab's failures as the report shows them.
func (it *testItem) writeFailures(w io.Writer) {
	_, _, finished := it.totals()
	for _, m := range it.failures() {
		io.WriteString(w, m.detail)
		if len(it.runs) > 1 && m.kind != "golden" {
			fmt.Fprintf(w, "           failed under %s %s of %d\n", pluralWord(len(m.seeds), "seed"), seedRanges(m.seeds), finished)
		}
	}
	var limited []uint64
	var limit time.Duration
	for _, r := range it.runs {
		if r.limit > 0 {
			limited, limit = append(limited, r.seed), r.limit
		}
	}
	if len(limited) > 0 {
		under := ""
		if len(it.runs) > 1 {
			under = fmt.Sprintf(" under %s %s", pluralWord(len(limited), "seed"), seedRanges(limited))
		}
		fmt.Fprintf(w, "      note: the run stopped at the lab's time limit (%s)%s with more still to happen\n", fmtCovered(limit), under)
	}
}

// seedRanges renders ascending seeds compactly: "1–3, 7".
func seedRanges(seeds []uint64) string {
	var parts []string
	for i := 0; i < len(seeds); {
		j := i
		for j+1 < len(seeds) && seeds[j+1] == seeds[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.FormatUint(seeds[i], 10))
		} else {
			parts = append(parts, fmt.Sprintf("%d–%d", seeds[i], seeds[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// pluralWord returns noun, or its plural when n is not 1.
func pluralWord(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// testJob is one run to do: a lab under one seed.
type testJob struct{ item, run int }

func runTest(ctx context.Context, e env, opts *testOptions) error {
	if err := checkFormat(opts.format, testFormats); err != nil {
		return err
	}
	switch {
	case opts.seeds < 1 || opts.seeds > maxSeeds:
		return &exitError{exitInvalid, fmt.Errorf("--seeds must be between 1 and %d, not %d", maxSeeds, opts.seeds)}
	case opts.jobs < 1:
		return &exitError{exitInvalid, fmt.Errorf("--jobs must be at least 1, not %d", opts.jobs)}
	case opts.junitSet && opts.junit == "":
		return &exitError{exitInvalid, errors.New("--junit needs a file name")}
	case opts.update && opts.seedSet:
		return &exitError{exitInvalid, fmt.Errorf("--update writes golden timelines under each lab's own seed; drop --seed")}
	case opts.html != "" && os.MkdirAll(opts.html, 0o755) != nil:
		return &exitError{exitInvalid, fmt.Errorf("--html: cannot create directory %s", opts.html)}
	case opts.update && len(opts.refs) == 0:
		return &exitError{exitInvalid, fmt.Errorf("--update needs lab files or directories: the built-in catalogue is compiled into tcplab (in tcplab's source tree: tcplab test --update labs/)")}
	}
	items := collectLabs(opts.refs)
	if opts.update {
		for _, it := range items {
			if it.lab != nil && it.file == "" {
				return &exitError{exitInvalid, fmt.Errorf("--update: %s is a built-in lab compiled into tcplab; update the golden timelines of its source file instead (tcplab test --update labs/%s.toml in tcplab's source tree)", it.ref, it.ref)}
			}
		}
	}
	var jobs []testJob
	for i, it := range items {
		if it.lab == nil {
			continue
		}
		base := it.lab.Seed
		if opts.seedSet {
			base = opts.seed
		}
		if base > math.MaxUint64-uint64(opts.seeds-1) {
			it.lab, it.invalid = nil, fmt.Errorf("%s: seeds %d and the %d after it do not fit in 64 bits", it.ref, base, opts.seeds-1)
			continue
		}
		for k := range opts.seeds {
			it.seeds = append(it.seeds, base+uint64(k))
		}
		it.runs = make([]seedResult, len(it.seeds))
		it.left = len(it.seeds)
		for k := range it.seeds {
			it.runs[k].seed = it.seeds[k]
			jobs = append(jobs, testJob{i, k})
		}
	}
	// Check the JUnit file's place now, so that a path that cannot be
	// written is an error before any lab runs.
	if opts.junit != "" {
		if err := checkJUnitPath(opts.junit, items); err != nil {
			return &exitError{exitInvalid, fmt.Errorf("--junit: %w", err)}
		}
	}

	start := time.Now() // wall time for the report only
	width := 0
	for _, it := range items {
		width = max(width, len(it.ref))
	}
	rep := &testReport{e: e, items: items, width: width, update: opts.update, json: opts.format == "json", meter: newMeter(e, int64(len(jobs))), jobs: len(jobs)}
	rep.run(ctx, jobs, opts)
	rep.meter.done()
	wall := time.Since(start)

	sum := rep.summary(wall)
	if opts.format == "json" {
		if err := json.NewEncoder(e.stdout).Encode(sum.json); err != nil {
			return &exitError{exitFailure, err}
		}
	} else {
		fmt.Fprintln(e.stdout, sum.line)
	}
	if opts.junit != "" {
		if err := writeFileAtomic(opts.junit, func(w io.Writer) error { return writeJUnit(w, items, wall) }); err != nil {
			return &exitError{exitFailure, err}
		}
	}
	switch {
	case sum.counts[statusInterrupted] > 0:
		return &exitError{exitInterrupted, errors.New("interrupted; the report covers the labs that finished")}
	case sum.counts[statusInvalid] > 0:
		return &exitError{exitInvalid, fmt.Errorf("%s invalid", plural(sum.counts[statusInvalid], "lab"))}
	case sum.counts[statusFail]+sum.counts[statusError] > 0:
		return &exitError{exitFailure, fmt.Errorf("%s of %d failed", plural(sum.counts[statusFail]+sum.counts[statusError], "lab"), len(items))}
	}
	return nil
}

// collectLabs loads the labs named by refs, in order, each once: a
// directory's *.toml files sorted by name, lab files, built-in names; with
// no refs, the built-in catalogue. A lab that cannot be loaded is kept with
// the reason, to be reported in its place.
func collectLabs(refs []string) []*testItem {
	var items []*testItem
	seen := map[string]bool{}
	add := func(ref, file string) {
		key := "builtin:" + ref
		if file != "" {
			key = "file:" + samePath(file)
		}
		if seen[key] {
			return
		}
		seen[key] = true
		it := &testItem{ref: ref, file: file}
		open := ref
		if file != "" && !strings.ContainsRune(file, os.PathSeparator) && !strings.HasSuffix(file, ".toml") {
			open = "." + string(os.PathSeparator) + file // a path, never a built-in name
		}
		it.lab, it.invalid = labs.Open(open)
		items = append(items, it)
	}
	fail := func(ref string, err error) {
		items = append(items, &testItem{ref: ref, invalid: err})
	}
	if len(refs) == 0 {
		entries, err := labs.Catalogue()
		if err != nil {
			fail("catalogue", err)
		}
		for _, en := range entries {
			add(en.Name, "")
		}
		return items
	}
	for _, ref := range refs {
		st, statErr := os.Stat(ref)
		builtin := labs.IsBuiltin(ref)
		switch {
		case builtin && statErr == nil:
			fail(ref, fmt.Errorf("%s is both a built-in lab and a path here: write ./%s for the path", ref, ref))
		case builtin:
			add(ref, "")
		case statErr != nil:
			_, err := labs.Open(ref) // says "no built-in lab and no such file" in its words
			fail(ref, err)
		case !st.IsDir():
			add(ref, ref)
		default:
			files, err := labFiles(ref)
			if err != nil {
				fail(ref, err)
			}
			for _, f := range files {
				add(f, f)
			}
		}
	}
	return items
}

// labFiles returns the lab files in dir, sorted: regular files (or links
// to them) named *.toml, not hidden.
func labFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, en := range entries {
		name := en.Name()
		if !strings.HasSuffix(name, ".toml") || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
			continue
		}
		files = append(files, path)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no lab files (*.toml) in this directory", dir)
	}
	return files, nil // ReadDir sorts by name
}

// samePath returns one spelling for every path to the same file: absolute,
// with symbolic links resolved when possible.
func samePath(file string) string {
	p, err := filepath.Abs(file)
	if err != nil {
		return filepath.Clean(file)
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// testReport runs the jobs and prints each lab's result as soon as it and
// every lab before it are done, so the output order is the input order
// whatever order the runs finish in.
type testReport struct {
	e       env
	items   []*testItem
	width   int
	update  bool
	json    bool // one JSON object per lab instead of the text report
	printed int
	// meter shows, on a terminal, the labs and runs done and the virtual
	// time they covered.
	meter   *meter
	jobs    int
	done    int
	covered time.Duration
}

func (rep *testReport) run(ctx context.Context, jobs []testJob, opts *testOptions) {
	rep.flush()
	type done struct {
		job testJob
		res seedResult
	}
	todo := make(chan testJob)
	results := make(chan done)
	var wg sync.WaitGroup
	for range min(opts.jobs, max(len(jobs), 1)) {
		wg.Go(func() {
			for j := range todo {
				it := rep.items[j.item]
				results <- done{j, runOne(ctx, it, it.seeds[j.run], opts)}
			}
		})
	}
	go func() {
		defer close(todo)
		for _, j := range jobs {
			select {
			case todo <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for d := range results {
		it := rep.items[d.job.item]
		it.runs[d.job.run] = d.res
		it.left--
		rep.flush()
		rep.done++
		rep.covered += d.res.virtual
		rep.progress()
	}
	// Runs never started (interrupted) leave their labs unfinished: report
	// them too.
	for _, it := range rep.items {
		it.left = 0
	}
	rep.flush()
}

// progress shows how far the test is: "labs 3/20, runs 45/200, 2h5m
// virtual".
func (rep *testReport) progress() {
	labsDone := 0
	for _, it := range rep.items {
		if it.left == 0 {
			labsDone++
		}
	}
	rep.meter.update(int64(rep.done), fmt.Sprintf("labs %d/%d, runs %d/%d, %s virtual", labsDone, len(rep.items), rep.done, rep.jobs, fmtCovered(rep.covered)))
}

// flush prints every finished lab not yet printed, in order.
func (rep *testReport) flush() {
	for rep.printed < len(rep.items) && rep.items[rep.printed].left == 0 {
		rep.print(rep.items[rep.printed])
		rep.printed++
	}
}

// checked describes what was checked: "12 expectations, golden en zh,
// seeds 1–5".
func (it *testItem) checked(update bool) string {
	if it.lab == nil || len(it.runs) == 0 {
		return ""
	}
	parts := []string{plural(len(it.lab.Expect), "expectation")}
	for _, r := range it.runs {
		if len(r.golden) > 0 {
			word := "golden"
			if update {
				word = "golden written"
			}
			parts = append(parts, word+" "+strings.Join(r.golden, " "))
			break
		}
	}
	if len(it.seeds) > 1 {
		parts = append(parts, fmt.Sprintf("seeds %d–%d", it.seeds[0], it.seeds[len(it.seeds)-1]))
	} else {
		parts = append(parts, fmt.Sprintf("seed %d", it.seeds[0]))
	}
	if _, _, finished := it.totals(); finished < len(it.runs) {
		parts = append(parts, fmt.Sprintf("interrupted after %d of %d", finished, len(it.runs)))
	}
	return strings.Join(parts, ", ")
}

func (rep *testReport) print(it *testItem) {
	rep.meter.clear() // the result goes where the progress line is
	w := rep.e.stdout
	if rep.json {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.Encode(it.json())
		return
	}
	st := it.status()
	if it.invalid != nil {
		fmt.Fprintf(w, "%-4s  %s\n", st.word(), it.ref)
		for _, l := range strings.Split(it.invalid.Error(), "\n") {
			fmt.Fprintf(w, "      %s\n", l)
		}
		return
	}
	virtual, wall, _ := it.totals()
	fmt.Fprintf(w, "%-4s  %-*s  %12s virtual  %10s wall  %s\n", st.word(), rep.width, it.ref,
		fmtCovered(virtual), wall.Round(10*time.Microsecond), it.checked(rep.update))
	it.writeFailures(w)
}

// fmtCovered renders virtual time to the millisecond: "2h2m15.01s".
func fmtCovered(d time.Duration) string { return d.Round(time.Millisecond).String() }

// runOne runs one lab under one seed and checks it.
func runOne(ctx context.Context, it *testItem, seed uint64, opts *testOptions) (res seedResult) {
	res.seed = seed
	if ctx.Err() != nil {
		return res
	}
	res.start = time.Now() // wall time for the report only
	defer func() { res.end = time.Now() }()
	ro := labs.RunOptions{Seed: &seed, MaxEvents: opts.maxEvents, MaxMemory: opts.maxMemory}
	goldens := it.file != "" && seed == it.lab.Seed && (opts.update || hasGolden(it.file))
	if goldens {
		ro.Timelines = labs.GoldenLangs
	}
	run, rw, err := executeTest(ctx, it, seed, ro, opts.html)
	if err != nil {
		res.finished = true
		res.failures = []testFailure{{summary: err.Error(), key: "error:" + err.Error(), kind: "error", detail: "      ERR  " + err.Error() + "\n"}}
		return res
	}
	res.virtual = run.Result.End
	switch run.Result.Reason {
	case topology.Interrupted:
		if errors.Is(run.Cause, labs.ErrMemoryLimit) {
			res.finished = true
			msg := fmt.Sprintf("%s at %s of virtual time after %s (a runaway lab? --max-memory raises the limit)", memoryLimitText(opts.maxMemory), fmtCovered(run.Result.End), plural(run.Result.Events, "event"))
			res.failures = []testFailure{{summary: msg, key: "memory", kind: "error", detail: "      ERR  " + msg + "\n"}}
		}
		return res
	case topology.EventLimit:
		res.finished = true
		msg := fmt.Sprintf("%v at %s of virtual time (raise max_events, or --max-events, if the lab really needs more)", labs.ErrRunaway, fmtCovered(run.Result.End))
		res.failures = []testFailure{{summary: msg, key: "runaway", kind: "error", detail: "      ERR  " + msg + "\n"}}
		return res
	case topology.TimeLimit:
		res.limit = it.lab.TimeLimit
	}
	res.finished = true
	outs := labs.Check(run)
	res.checked = len(it.lab.Expect) > 0
	for _, o := range outs[:min(len(outs), len(it.lab.Expect))] {
		res.held = append(res.held, o.OK)
	}
	for _, o := range outs {
		if !o.OK {
			var b bytes.Buffer
			writeFailure(&b, "      ", run.Tap, o)
			res.failures = append(res.failures, testFailure{
				summary: fmt.Sprintf("%s: %s: %s", o.Exp.Where, o.Exp, o.Message),
				key:     o.Exp.Where,
				detail:  b.String(),
				kind:    "expectation",
			})
		}
	}
	if goldens {
		res.golden, res.failures = golden(run, it.file, opts.update, res.failures)
	}
	if rw != nil {
		if err := saveReport(reportFile(opts.html, it), rw, run, outs, res.checked); err != nil {
			res.failures = append(res.failures, testFailure{summary: err.Error(), key: "html", kind: "error", detail: "      ERR  " + err.Error() + "\n"})
		}
	}
	return res
}

// hasGolden reports whether the lab file has a golden timeline in some
// language.
func hasGolden(file string) bool {
	for _, lang := range labs.GoldenLangs {
		if _, err := os.Stat(labs.GoldenFile(file, lang)); err == nil {
			return true
		}
	}
	return false
}

// golden compares the run with the lab's golden timelines, or writes them
// with update; it returns the languages compared or written and failures
// with any difference added.
func golden(run *labs.Run, file string, update bool, failures []testFailure) ([]string, []testFailure) {
	fail := func(summary, detail string) {
		failures = append(failures, testFailure{summary: summary, key: summary, kind: "golden",
			detail: "      FAIL " + indentLines(detail, "           ") + "\n"})
	}
	var langs []string
	for _, lang := range labs.GoldenLangs {
		path := labs.GoldenFile(file, lang)
		if update {
			if err := labs.WriteGolden(run, lang, path); err != nil {
				fail(err.Error(), err.Error())
				continue
			}
			langs = append(langs, lang.String())
			continue
		}
		diff, err := labs.GoldenDiff(run, lang, path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // no golden timeline in this language
		case err != nil:
			fail(err.Error(), err.Error())
		case diff != "":
			fail(strings.TrimSuffix(firstLine(diff), ":"), diff+"\n(if the change is intended: tcplab test --update "+file+")")
		}
		langs = append(langs, lang.String())
	}
	return langs, failures
}

// indentLines indents every line of s after the first.
func indentLines(s, indent string) string {
	return strings.ReplaceAll(s, "\n", "\n"+indent)
}

// testSummary counts the labs' results.
type testSummary struct {
	line   string
	json   jsonTestSummary
	counts [statusInvalid + 1]int
}

func (rep *testReport) summary(wall time.Duration) testSummary {
	var s testSummary
	runs := 0
	var virtual time.Duration
	for _, it := range rep.items {
		s.counts[it.status()]++
		v, _, finished := it.totals()
		virtual += v
		runs += finished
	}
	parts := []string{fmt.Sprintf("%d passed", s.counts[statusPass])}
	for _, c := range []struct {
		st   status
		word string
	}{
		{statusFail, "failed"},
		{statusError, "ran away or could not run"},
		{statusInvalid, "invalid"},
		{statusSkip, "with nothing to check"},
		{statusInterrupted, "interrupted"},
	} {
		if n := s.counts[c.st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, c.word))
		}
	}
	s.line = fmt.Sprintf("%s: %s (%s, %s of virtual time in %s wall)",
		plural(len(rep.items), "lab"), strings.Join(parts, ", "), plural(runs, "run"), fmtCovered(virtual), wall.Round(time.Millisecond))
	s.json = jsonTestSummary{Kind: "summary", Labs: len(rep.items), Passed: s.counts[statusPass], Failed: s.counts[statusFail],
		Errors: s.counts[statusError], Invalid: s.counts[statusInvalid], Skipped: s.counts[statusSkip], Interrupted: s.counts[statusInterrupted],
		Runs: runs, VirtualNS: int64(virtual), WallNS: int64(wall)}
	return s
}
