package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/tap"
	"github.com/tcplab/tcplab/topology"
)

// The tap computes Wireshark's TCP analysis flags itself (tap.Analysis), so
// that its notes can say where Wireshark sees a segment differently from
// what really happened. TestAnalysisAgreesWithTshark checks those flags
// frame by frame against tshark, in both captures a run writes (what was
// sent and what was received), on every built-in lab and on the test labs
// below, which exist to produce the flags the built-in labs do not.

// agreeTestLabs are lab files, relative to this directory, run in addition
// to the built-in labs.
var agreeTestLabs = []string{
	"../../labs/testdata/lossy.toml",
	"../../labs/testdata/chaos.toml",
	"../../labs/testdata/analysis-zero-window.toml",
	"../../labs/testdata/analysis-reorder.toml",
	"../../labs/testdata/analysis-keepalive.toml",
	"../../labs/testdata/truth/truth-queue-drop.toml",
	"../../labs/testdata/truth/truth-partition-mid.toml",
	"../../labs/testdata/truth/truth-dupack-dupdata.toml",
	"../../labs/testdata/truth/truth-reorder.toml",
	"../../labs/testdata/truth/truth-accept-full-ack.toml",
	// Crashes and middleboxes: segments dropped at a host that is down or
	// by a box, and RSTs a box forges in another host's name.
	"../../labs/testdata/peer-reboot.toml",
	"../../labs/testdata/nat-idle-pool.toml",
	"../../labs/testdata/conntrack-lb.toml",
}

// agreeSeeds are seeds every lab also runs with, besides its own.
var agreeSeeds = []uint64{2, 3}

// knownDifference is a frame where tcplab deliberately or necessarily
// disagrees with tshark.
type knownDifference struct {
	lab   string // lab reference as in agreeRuns
	seed  uint64
	view  tap.PcapView
	frame int
	field string // tcp.analysis field name without the prefix
	why   string
}

// knownDifferences lists every accepted disagreement. Keep it short: each
// entry is a place where the tap's notes and Wireshark tell a user
// different things.
var knownDifferences = []knownDifference{}

// unexercised lists the flags no lab run can produce, and why; the tap's
// unit tests cover them with hand-built conversations.
var unexercised = map[tap.Analysis]string{}

// agreeRun is one lab run to compare.
type agreeRun struct {
	ref  string // built-in name or file path
	seed *uint64
}

func (r agreeRun) name() string {
	n := strings.TrimSuffix(filepath.Base(r.ref), ".toml")
	if r.seed != nil {
		n += fmt.Sprintf("/seed%d", *r.seed)
	}
	return n
}

// agreeRuns lists the runs: every built-in lab and every test lab, each with
// its own seed and with agreeSeeds.
func agreeRuns(t *testing.T) []agreeRun {
	t.Helper()
	cat, err := labs.Catalogue()
	if err != nil {
		t.Fatalf("labs.Catalogue() = %v", err)
	}
	var refs []string
	for _, e := range cat {
		refs = append(refs, e.Name)
	}
	refs = append(refs, agreeTestLabs...)
	var runs []agreeRun
	for _, ref := range refs {
		runs = append(runs, agreeRun{ref: ref})
		if testing.Short() {
			continue // the lab's own seed only: the quick loop
		}
		for _, s := range agreeSeeds {
			runs = append(runs, agreeRun{ref: ref, seed: &s})
		}
	}
	return runs
}

// analysisBits are the tap's flags, one per tcp.analysis field.
var analysisBits = func() []tap.Analysis {
	var out []tap.Analysis
	for a := tap.Analysis(1); a.String() != ""; a <<= 1 {
		out = append(out, a)
	}
	return out
}()

// tsharkFrame is what tshark's TCP analysis says of one frame.
type tsharkFrame struct {
	flags      tap.Analysis
	dupNum     int
	dupOf      int
	hasDupInfo bool
}

// tsharkAnalysis runs tshark on a capture and returns its analysis of each
// frame, by frame number.
func tsharkAnalysis(t *testing.T, tshark, file string) map[int]tsharkFrame {
	t.Helper()
	args := []string{"-r", file, "-n", "-T", "fields", "-E", "occurrence=f", "-e", "frame.number"}
	for _, a := range analysisBits {
		args = append(args, "-e", "tcp.analysis."+a.String())
	}
	args = append(args, "-e", "tcp.analysis.duplicate_ack_num", "-e", "tcp.analysis.duplicate_ack_frame")
	r := mustTool(t, tshark, args...)
	out := map[int]tsharkFrame{}
	for _, l := range lines(r.stdout) {
		f := strings.Split(l, "\t")
		if len(f) != 1+len(analysisBits)+2 {
			t.Fatalf("%s: row %q has %d fields, want %d", r.call, l, len(f), 1+len(analysisBits)+2)
		}
		no, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatalf("%s: row %q: bad frame number", r.call, l)
		}
		var fr tsharkFrame
		for i, a := range analysisBits {
			if f[1+i] != "" {
				fr.flags |= a
			}
		}
		if n, o := f[1+len(analysisBits)], f[2+len(analysisBits)]; n != "" || o != "" {
			fr.hasDupInfo = true
			fr.dupNum, _ = strconv.Atoi(n)
			fr.dupOf, _ = strconv.Atoi(o)
		}
		out[no] = fr
	}
	return out
}

// TestAnalysisAgreesWithTshark runs every built-in lab and the test labs,
// with several seeds, and checks that for every frame of the capture the
// tap's analysis flags, duplicate-ACK number and duplicated frame are
// exactly tshark's, apart from knownDifferences. tshark runs once per lab,
// over all its captures merged (mergeCaptures); with -short, once over
// every lab.
func TestAnalysisAgreesWithTshark(t *testing.T) {
	tshark := needTool(t, "tshark")
	dir := t.TempDir()
	// results collects the flags each run produced and the known
	// differences that occurred, for the checks after the parallel
	// subtests.
	type result struct {
		ran   bool
		flags tap.Analysis
		known []knownDifference
	}
	runs := agreeRuns(t)
	results := make([]result, len(runs))
	// groups are the runs tshark reads at once: each lab's, or all.
	var names []string
	groups := map[string][]int{}
	for i, run := range runs {
		name := strings.TrimSuffix(filepath.Base(run.ref), ".toml")
		if testing.Short() {
			name = "all"
		}
		if _, ok := groups[name]; !ok {
			names = append(names, name)
		}
		groups[name] = append(groups[name], i)
	}
	t.Run("labs", func(t *testing.T) {
		for _, name := range names {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var caps []agreeCapture
				for _, i := range groups[name] {
					caps = append(caps, captureRun(t, dir, i, runs[i])...)
				}
				files := make([]string, len(caps))
				for k, c := range caps {
					files[k] = c.file
				}
				merged := filepath.Join(dir, name+".merged.pcapng")
				offsets, counts := mergeCaptures(t, merged, files)
				ws := tsharkAnalysis(t, tshark, merged)
				for k, c := range caps {
					flags, hit := compareFrames(t, splitFrames(ws, offsets[k], counts[k]), c.view, c.seed, c.frames, c.known)
					r := &results[c.run]
					r.ran = true
					r.flags |= flags
					r.known = append(r.known, hit...)
				}
			})
		}
	})

	if testing.Short() {
		t.Log("-short: each lab with its own seed only; not checking flag coverage and known differences")
		return
	}
	var all tap.Analysis
	var occurred []knownDifference
	for _, r := range results {
		if !r.ran {
			t.Log("only some runs ran (-run); not checking flag coverage and known differences")
			return
		}
		all |= r.flags
		occurred = append(occurred, r.known...)
	}
	// Every flag is exercised somewhere, so that agreement means something.
	for _, a := range analysisBits {
		_, exempt := unexercised[a]
		switch {
		case all&a == 0 && !exempt:
			t.Errorf("no lab run produces tcp.analysis.%s; add a test lab that does", a)
		case all&a != 0 && exempt:
			t.Errorf("a lab run produces tcp.analysis.%s, listed as unexercised; remove it from unexercised", a)
		}
	}
	// Every known difference still occurs, so the table stays honest.
	for _, k := range knownDifferences {
		if !slices.Contains(occurred, k) {
			t.Errorf("known difference (%s seed %d view %d frame %d %s: %s) no longer occurs; remove it from knownDifferences", k.lab, k.seed, k.view, k.frame, k.field, k.why)
		}
	}
}

// arrivals records, in arrival order, every packet that reached a host.
type arrivals struct {
	tap.Collector
	list []*tap.Arrival
}

// Arrival implements tap.ArrivalSink.
func (a *arrivals) Arrival(_ *tap.Row, arr *tap.Arrival) error {
	a.list = append(a.list, arr)
	return nil
}

// agreeCapture is one capture of one run, with what the tap said of each
// of its frames.
type agreeCapture struct {
	run    int // index in agreeRuns
	file   string
	view   tap.PcapView
	seed   uint64
	frames []tapFrame
	known  map[frameField]knownDifference
}

// captureRun runs one lab, writes both its captures (what was sent and
// what was received) and returns them with the tap's analysis of each.
func captureRun(t *testing.T, dir string, index int, run agreeRun) []agreeCapture {
	t.Helper()
	lab, err := labs.Open(run.ref)
	if err != nil {
		t.Fatalf("labs.Open(%q) = %v", run.ref, err)
	}
	res, err := labs.Prepare(lab, labs.RunOptions{Seed: run.seed})
	if err != nil {
		t.Fatalf("labs.Prepare(%q) = %v", run.ref, err)
	}
	base := filepath.Join(dir, strings.ReplaceAll(run.name(), "/", "-"))
	files := map[tap.PcapView]string{tap.ViewSent: base + ".sent.pcapng", tap.ViewReceived: base + ".recv.pcapng"}
	var closers []func() error
	for _, view := range []tap.PcapView{tap.ViewSent, tap.ViewReceived} {
		f, err := os.Create(files[view])
		if err != nil {
			t.Fatal(err)
		}
		pw := res.Tap.NewPcapWriter(f, view, topology.Epoch, i18n.EN)
		res.Tap.AddSink(pw)
		closers = append(closers, pw.Flush, f.Close)
	}
	got := &arrivals{}
	res.Tap.AddSink(got)
	if err := res.Go(context.Background()); err != nil {
		t.Fatalf("labs.Go(%q) = %v", run.ref, err)
	}
	for _, c := range closers {
		if err := c(); err != nil {
			t.Fatal(err)
		}
	}
	seed := res.Seed
	known := map[frameField]knownDifference{}
	for _, k := range knownDifferences {
		if k.lab == run.ref && k.seed == seed {
			known[frameField{k.view, k.frame, k.field}] = k
		}
	}
	sent := agreeCapture{run: index, file: files[tap.ViewSent], view: tap.ViewSent, seed: seed, known: known}
	for _, r := range got.Segments() {
		sent.frames = append(sent.frames, tapFrame{no: r.No, flags: r.Analysis, dupNum: r.DupAckNum, dupOf: r.DupAckOf, row: r})
	}
	recv := agreeCapture{run: index, file: files[tap.ViewReceived], view: tap.ViewReceived, seed: seed, known: known}
	for _, a := range got.list {
		recv.frames = append(recv.frames, tapFrame{no: a.No, flags: a.Analysis, dupNum: a.DupAckNum, dupOf: a.DupAckOf})
	}
	return []agreeCapture{sent, recv}
}

type frameField struct {
	view  tap.PcapView
	frame int
	field string
}

// tapFrame is what the tap's analysis says of one frame of a capture.
type tapFrame struct {
	no            int
	flags         tap.Analysis
	dupNum, dupOf int
	row           *tap.Row // the segment's row, for messages; nil for arrivals
}

// compareFrames compares tshark's analysis of one capture, ws, with the
// tap's, frame by frame.
func compareFrames(t *testing.T, ws map[int]tsharkFrame, view tap.PcapView, seed uint64, frames []tapFrame, known map[frameField]knownDifference) (tap.Analysis, []knownDifference) {
	t.Helper()
	viewName := map[tap.PcapView]string{tap.ViewSent: "sent", tap.ViewReceived: "received"}[view]
	var all tap.Analysis
	var hit []knownDifference
	isSeg := map[int]bool{}
	for _, f := range frames {
		isSeg[f.no] = true
		all |= f.flags
		w := ws[f.no]
		for _, a := range analysisBits {
			got, want := f.flags&a != 0, w.flags&a != 0
			if got == want {
				continue
			}
			if k, ok := known[frameField{view, f.no, a.String()}]; ok {
				t.Logf("%s capture, seed %d frame %d: tcp.analysis.%s: tcplab %v, tshark %v: known difference: %s", viewName, seed, f.no, a, got, want, k.why)
				hit = append(hit, k)
				continue
			}
			what := ""
			if r := f.row; r != nil {
				what = fmt.Sprintf(" (%s > %s %s seq=%d ack=%d len=%d win=%d)", r.From, r.To, r.Seg.Flags, r.RelSeq, r.RelAck, r.Seg.Len, r.Seg.Win)
			}
			t.Errorf("%s capture, seed %d frame %d%s: tcp.analysis.%s: tcplab %v, tshark %v (tcplab flags %q, tshark flags %q)",
				viewName, seed, f.no, what, a, got, want, f.flags, w.flags)
		}
		if w.hasDupInfo || f.dupNum != 0 || f.dupOf != 0 {
			if f.dupNum != w.dupNum || f.dupOf != w.dupOf {
				t.Errorf("%s capture, seed %d frame %d: duplicate ACK #%d of frame %d, tshark says #%d of frame %d",
					viewName, seed, f.no, f.dupNum, f.dupOf, w.dupNum, w.dupOf)
			}
		}
	}
	// Frames that are not segments must carry no TCP analysis at all.
	for no, w := range ws {
		if !isSeg[no] && (w.flags != 0 || w.hasDupInfo) {
			t.Errorf("%s capture, seed %d frame %d is not a segment, but tshark flags it %q", viewName, seed, no, w.flags)
		}
	}
	return all, hit
}
