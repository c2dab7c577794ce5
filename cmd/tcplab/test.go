package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
}

func newTestCmd(e env) *cobra.Command {
	opts := &testOptions{}
	cmd := &cobra.Command{
		Use:   "test [PATH|NAME ...]",
		Short: "Run labs and check their expectations and golden timelines, for CI",
		Long: `Run labs and check that they still behave as they say: every expectation
of each lab, and its golden timelines when it has them. This is the command a
CI pipeline runs.

Each argument is a directory (every *.toml file in it, not recursively), a lab
file, or the name of a built-in lab. With no argument, the built-in catalogue
is tested.

Labs run in parallel, one per core (--jobs), and the report is in the order
the labs were given: one line per lab with its result, the virtual time it
covered and the wall time it took, then, for a failure, each expectation that
failed with the timeline rows that show it.

  PASS  the expectations held and the timelines equal the golden files
  FAIL  an expectation failed, or a timeline differs from its golden file
  ERR   the lab is invalid, or it ran out of its event budget
  SKIP  the lab has neither expectations nor golden timelines

Golden timelines: the golden timeline of DIR/NAME.toml is
DIR/testdata/golden/NAME.en.txt (and NAME.zh.txt in Chinese; a lab that
is itself in a testdata directory keeps them in golden/ beside it). A lab with
golden files is checked against them under its own seed; --update writes them
from the current run (review the diff before you commit it). Built-in labs
are compiled in: test their source files (tcplab test labs/) to update theirs.

--seeds N runs every lab under N seeds, starting at its own seed (or at
--seed), to show that an expectation is not an accident of one seed.

The exit status is 0 when every lab passes, 1 when any expectation or golden
timeline fails (or a lab runs away), 2 when a lab is invalid or the command
line is wrong, 130 when interrupted (the report and the JUnit file are still
written for the labs that finished).`,
		Example: `  tcplab test
  tcplab test ci/labs/
  tcplab test ci/labs/ --junit report.xml
  tcplab test keepalive-mismatch backlog-overflow --seeds 20
  tcplab test ./my-incident.toml --seed 7
  tcplab test ci/labs/ --update && git diff ci/labs/testdata`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.refs = args
			opts.seedSet = cmd.Flags().Changed("seed")
			return runTest(cmd.Context(), e, opts)
		},
	}
	cmd.Flags().Uint64Var(&opts.seed, "seed", 0, "run every lab with seed `N` instead of its own")
	cmd.Flags().IntVar(&opts.seeds, "seeds", 1, "run every lab under `N` seeds: its own (or --seed) and the N-1 after it")
	cmd.Flags().StringVar(&opts.junit, "junit", "", "also write a JUnit XML report to `FILE`")
	cmd.Flags().BoolVar(&opts.update, "update", false, "rewrite the golden timelines (English and Chinese) of the given lab files")
	cmd.Flags().IntVar(&opts.jobs, "jobs", runtime.NumCPU(), "run `N` labs at once")
	cmd.Flags().IntVar(&opts.maxEvents, "max-events", 0, "stop a runaway lab after `N` events (default 20000000)")
	return cmd
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
	left    int // runs not finished
}

// seedResult is one run of a lab under one seed, reduced to what the
// report needs (the run itself is dropped to keep memory flat).
type seedResult struct {
	seed    uint64
	done    bool
	virtual time.Duration
	wall    time.Duration
	checks  int
	// failures are the failed expectations and golden comparisons;
	// problem is why a run could not complete.
	failures []testFailure
	problem  string
	// golden lists the languages compared (or written, with --update).
	golden      []string
	interrupted bool
}

// testFailure is one failed expectation or golden comparison.
type testFailure struct {
	// summary is one line: where and what failed, and what was found.
	summary string
	// key is the same for the same failure under another seed.
	key string
	// detail is the report's indented lines, with the timeline rows.
	detail string
	// golden tells a golden timeline's difference from an expectation's
	// failure.
	golden bool
}

// testJob is one run to do: a lab under one seed.
type testJob struct{ item, run int }

func runTest(ctx context.Context, e env, opts *testOptions) error {
	if opts.seeds < 1 {
		return &exitError{exitInvalid, fmt.Errorf("--seeds must be at least 1, not %d", opts.seeds)}
	}
	if opts.jobs < 1 {
		return &exitError{exitInvalid, fmt.Errorf("--jobs must be at least 1, not %d", opts.jobs)}
	}
	if opts.update && opts.seedSet {
		return &exitError{exitInvalid, fmt.Errorf("--update writes golden timelines under each lab's own seed; drop --seed")}
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
		for k := range opts.seeds {
			it.seeds = append(it.seeds, base+uint64(k))
		}
		it.runs = make([]seedResult, len(it.seeds))
		it.left = len(it.seeds)
		for k := range it.seeds {
			jobs = append(jobs, testJob{i, k})
		}
	}

	start := time.Now() // wall time for the report only
	width := 0
	for _, it := range items {
		width = max(width, len(it.ref))
	}
	rep := &testReport{e: e, items: items, width: width, update: opts.update}
	rep.run(ctx, jobs, opts)
	wall := time.Since(start)

	sum := rep.summary(wall)
	fmt.Fprintln(e.stdout, sum.line)
	if opts.junit != "" {
		if err := writeJUnit(opts.junit, items, wall); err != nil {
			return &exitError{exitFailure, err}
		}
	}
	switch {
	case sum.interrupted:
		return &exitError{exitInterrupted, errors.New("interrupted; the report covers the labs that finished")}
	case sum.invalid > 0:
		return &exitError{exitInvalid, fmt.Errorf("%s invalid", plural(sum.invalid, "lab"))}
	case sum.failed > 0:
		return &exitError{exitFailure, fmt.Errorf("%s of %d failed", plural(sum.failed, "lab"), len(items))}
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
		key := ref
		if file != "" {
			key = "file:" + filepath.Clean(file)
		}
		if seen[key] {
			return
		}
		seen[key] = true
		it := &testItem{ref: ref, file: file}
		it.lab, it.invalid = labs.Open(refOf(ref, file))
		items = append(items, it)
	}
	if len(refs) == 0 {
		entries, err := labs.Catalogue()
		if err != nil {
			return []*testItem{{ref: "catalogue", invalid: err}}
		}
		for _, en := range entries {
			add(en.Name, "")
		}
		return items
	}
	for _, ref := range refs {
		if isBuiltinRef(ref) {
			add(ref, "")
			continue
		}
		st, err := os.Stat(ref)
		if err != nil {
			// Not a built-in name, not a file: Open says so in its words.
			_, err := labs.Open(ref)
			items = append(items, &testItem{ref: ref, invalid: err})
			continue
		}
		if !st.IsDir() {
			add(ref, ref)
			continue
		}
		files, err := filepath.Glob(filepath.Join(ref, "*.toml"))
		if err == nil && len(files) == 0 {
			err = fmt.Errorf("%s: no lab files (*.toml) in this directory", ref)
		}
		if err != nil {
			items = append(items, &testItem{ref: ref, invalid: err})
			continue
		}
		for _, f := range files { // Glob sorts them
			add(f, f)
		}
	}
	return items
}

// refOf is what labs.Open is given for an item: a file path is made
// unmistakably a path, so a file named like a built-in lab stays a file.
func refOf(ref, file string) string {
	if file == "" {
		return ref
	}
	if !strings.ContainsRune(file, os.PathSeparator) && !strings.HasSuffix(file, ".toml") {
		return "." + string(os.PathSeparator) + file
	}
	return file
}

// isBuiltinRef tells whether ref names a built-in lab rather than a file:
// it has no path separator, no .toml suffix, and a built-in has that name.
func isBuiltinRef(ref string) bool {
	if strings.ContainsRune(ref, os.PathSeparator) || strings.HasSuffix(ref, ".toml") {
		return false
	}
	_, err := labs.BuiltinSource(ref)
	return err == nil
}

// testReport runs the jobs and prints each lab's result as soon as it and
// every lab before it are done, so the output order is the input order
// whatever order the runs finish in.
type testReport struct {
	e       env
	items   []*testItem
	width   int
	update  bool
	printed int
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
			if ctx.Err() != nil {
				return
			}
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
	}
	// Labs never started (interrupted) are reported too.
	for _, it := range rep.items {
		it.left = 0
	}
	rep.flush()
}

// flush prints every finished lab not yet printed, in order.
func (rep *testReport) flush() {
	for rep.printed < len(rep.items) && rep.items[rep.printed].left == 0 {
		rep.print(rep.items[rep.printed])
		rep.printed++
	}
}

// status is a lab's result word in the report.
func (it *testItem) status() string {
	switch {
	case it.invalid != nil:
		return "ERR"
	case it.interrupted():
		return "INT"
	}
	checked := false
	for _, r := range it.runs {
		if r.problem != "" {
			return "ERR"
		}
		if len(r.failures) > 0 {
			return "FAIL"
		}
		checked = checked || r.checks > 0 || len(r.golden) > 0
	}
	if !checked {
		return "SKIP"
	}
	return "PASS"
}

// interrupted tells whether any run of the lab did not finish.
func (it *testItem) interrupted() bool {
	for _, r := range it.runs {
		if !r.done || r.interrupted {
			return true
		}
	}
	return false
}

// totals sums the lab's runs.
func (it *testItem) totals() (virtual, wall time.Duration) {
	for _, r := range it.runs {
		virtual += r.virtual
		wall += r.wall
	}
	return virtual, wall
}

// checked describes what was checked: "12 expectations, golden en zh".
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
	return strings.Join(parts, ", ")
}

func (rep *testReport) print(it *testItem) {
	w := rep.e.stdout
	st := it.status()
	if it.invalid != nil {
		fmt.Fprintf(w, "%-4s  %s\n", st, it.ref)
		for _, l := range strings.Split(it.invalid.Error(), "\n") {
			fmt.Fprintf(w, "      %s\n", l)
		}
		return
	}
	virtual, wall := it.totals()
	fmt.Fprintf(w, "%-4s  %-*s  %12s virtual  %10s wall  %s\n", st, rep.width, it.ref,
		fmtCovered(virtual), wall.Round(10*time.Microsecond), it.checked(rep.update))
	// A failure is shown once, from the first seed it happened under, with
	// the seeds it happened under when there are several.
	type seen struct {
		f     testFailure
		seeds []string
	}
	var order []*seen
	byKey := map[string]*seen{}
	for _, r := range it.runs {
		if r.problem != "" {
			if len(it.runs) > 1 {
				fmt.Fprintf(w, "      seed %d: %s\n", r.seed, r.problem)
			} else {
				fmt.Fprintf(w, "      %s\n", r.problem)
			}
		}
		for _, f := range r.failures {
			sn := byKey[f.key]
			if sn == nil {
				sn = &seen{f: f}
				byKey[f.key] = sn
				order = append(order, sn)
			}
			sn.seeds = append(sn.seeds, strconv.FormatUint(r.seed, 10))
		}
	}
	for _, sn := range order {
		io.WriteString(w, sn.f.detail)
		if len(it.runs) > 1 && !sn.f.golden {
			fmt.Fprintf(w, "           failed under %s %s of %d\n", pluralWord(len(sn.seeds), "seed"), strings.Join(sn.seeds, ", "), len(it.runs))
		}
	}
}

// pluralWord returns noun, or its plural when n is not 1.
func pluralWord(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// fmtCovered renders virtual time to the millisecond: "2h2m15.01s".
func fmtCovered(d time.Duration) string { return d.Round(time.Millisecond).String() }

// runOne runs one lab under one seed and checks it.
func runOne(ctx context.Context, it *testItem, seed uint64, opts *testOptions) seedResult {
	res := seedResult{seed: seed, done: true}
	if ctx.Err() != nil {
		res.done = false
		return res
	}
	start := time.Now() // wall time for the report only
	run, err := labs.Execute(ctx, it.lab, labs.RunOptions{Seed: &seed, MaxEvents: opts.maxEvents})
	res.wall = time.Since(start)
	if err != nil {
		res.problem = err.Error()
		return res
	}
	res.virtual = run.Result.End
	switch run.Result.Reason {
	case topology.Interrupted:
		res.interrupted = true
		return res
	case topology.EventLimit:
		res.problem = fmt.Sprintf("%v at %s of virtual time (raise max_events, or --max-events, if the lab really needs more)", labs.ErrRunaway, fmtCovered(run.Result.End))
		return res
	}
	outs := labs.Check(run)
	res.checks = len(outs)
	for _, o := range outs {
		if !o.OK {
			var b bytes.Buffer
			writeFailure(&b, "      ", run.Tap, o)
			res.failures = append(res.failures, testFailure{
				summary: fmt.Sprintf("%s: %s: %s", o.Exp.Where, o.Exp, o.Message),
				key:     o.Exp.Where,
				detail:  b.String(),
			})
		}
	}
	if it.file != "" && seed == it.lab.Seed {
		res.golden, res.failures = golden(run, it.file, opts.update, res.failures)
	}
	return res
}

// golden compares the run with the lab's golden timelines, or writes them
// with update; it returns the languages compared or written and failures
// with any difference added.
func golden(run *labs.Run, file string, update bool, failures []testFailure) ([]string, []testFailure) {
	fail := func(summary, detail string) {
		failures = append(failures, testFailure{summary: summary, key: summary, golden: true,
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
	line                             string
	passed, failed, invalid, skipped int
	interrupted                      bool
}

func (rep *testReport) summary(wall time.Duration) testSummary {
	var s testSummary
	runs := 0
	var virtual time.Duration
	for _, it := range rep.items {
		switch it.status() {
		case "PASS":
			s.passed++
		case "FAIL":
			s.failed++
		case "ERR":
			if it.invalid != nil {
				s.invalid++
			} else {
				s.failed++
			}
		case "SKIP":
			s.skipped++
		case "INT":
			s.interrupted = true
		}
		v, _ := it.totals()
		virtual += v
		for _, r := range it.runs {
			if r.done {
				runs++
			}
		}
	}
	parts := []string{fmt.Sprintf("%d passed", s.passed)}
	if s.failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", s.failed))
	}
	if s.invalid > 0 {
		parts = append(parts, fmt.Sprintf("%d invalid", s.invalid))
	}
	if s.skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d with nothing to check", s.skipped))
	}
	if s.interrupted {
		parts = append(parts, "interrupted")
	}
	s.line = fmt.Sprintf("%s: %s (%s, %s of virtual time in %s wall)",
		plural(len(rep.items), "lab"), strings.Join(parts, ", "), plural(runs, "run"), fmtCovered(virtual), wall.Round(time.Millisecond))
	return s
}
