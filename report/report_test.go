package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/report"
	"github.com/tcplab/tcplab/tap"
)

// reportRun runs lab ref and returns its report and every row.
func reportRun(t testing.TB, ref string, opts report.Options) ([]byte, []*tap.Row) {
	t.Helper()
	lab, err := labs.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	run, err := labs.Prepare(lab, labs.RunOptions{KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	rw := report.New(run.Tap, report.Meta{Name: lab.Name, Title: lab.Title, Description: lab.Description, Seed: run.Seed}, opts)
	run.Tap.AddSink(rw)
	if err := run.Go(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := report.Result{End: run.Result.End, Stop: i18n.M("out.stop.idle"), Checked: true}
	for _, o := range labs.Check(run) {
		res.Outcomes = append(res.Outcomes, report.Outcome{Where: o.Exp.Where, Check: o.Exp.String(), Why: o.Exp.Why, Found: o.Message, OK: o.OK})
	}
	var b bytes.Buffer
	if err := rw.WriteHTML(&b, res); err != nil {
		t.Fatalf("WriteHTML = %v", err)
	}
	return b.Bytes(), run.Rows
}

// expected counts what a report of rows must draw.
type expected struct {
	segments int
	bands    map[string]int // state → bands into it
	rows     int
}

func expect(rows []*tap.Row) expected {
	e := expected{bands: map[string]int{}, rows: len(rows)}
	for _, r := range rows {
		switch r.Kind {
		case tap.KindSegment:
			e.segments++
		case tap.KindState:
			if r.ToState != event.Closed {
				e.bands[r.ToState.String()]++
			}
		}
	}
	return e
}

var (
	segArrow = regexp.MustCompile(`<g class="seg [^"]*" data-i="`)
	band     = regexp.MustCompile(`<rect class="band s-[a-z_0-9]+" data-state="([A-Z_0-9]+)"`)
	dataJSON = regexp.MustCompile(`<script type="application/json" id="data">(.*?)</script>`)
	external = regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//|@import|url\(\s*['"]?https?:`)
)

// details returns the page's embedded details.
func details(t *testing.T, page []byte) []map[string]any {
	t.Helper()
	m := dataJSON.FindSubmatch(page)
	if m == nil {
		t.Fatal("no #data script in the page")
	}
	var d struct {
		Details []map[string]any `json:"details"`
	}
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatalf("the page's data: %v", err)
	}
	return d.Details
}

// TestCatalogueReports writes the report of every built-in lab and checks
// its structure: one arrow per segment, one band per state an endpoint
// entered (CLOSED excepted), details for every row, nothing fetched from
// elsewhere, both languages present, under 1 MB, and the same bytes on a
// second run.
func TestCatalogueReports(t *testing.T) {
	entries, err := labs.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		t.Run(en.Name, func(t *testing.T) {
			page, rows := reportRun(t, en.Name, report.Options{})
			want := expect(rows)
			if got := len(segArrow.FindAll(page, -1)); got != want.segments {
				t.Errorf("segment arrows = %d, want %d (one per segment)", got, want.segments)
			}
			bands := map[string]int{}
			for _, m := range band.FindAllSubmatch(page, -1) {
				bands[string(m[1])]++
			}
			for st, n := range want.bands {
				if bands[st] != n {
					t.Errorf("bands of %s = %d, want %d", st, bands[st], n)
				}
			}
			for st, n := range bands {
				if want.bands[st] == 0 {
					t.Errorf("%d bands of %s, a state no endpoint entered", n, st)
				}
			}
			if got := len(details(t, page)); got != want.rows {
				t.Errorf("details = %d, want one per row (%d)", got, want.rows)
			}
			if m := external.Find(page); m != nil {
				t.Errorf("the page refers to something outside it: %q", m)
			}
			for _, s := range []string{`class="l-en"`, `class="l-zh"`, "时序图", "Ladder diagram", `data-set-lang="zh"`} {
				if !bytes.Contains(page, []byte(s)) {
					t.Errorf("the page has no %q", s)
				}
			}
			if len(page) > 1<<20 {
				t.Errorf("report is %d bytes, want under 1 MB", len(page))
			}
			again, _ := reportRun(t, en.Name, report.Options{})
			if !bytes.Equal(page, again) {
				t.Errorf("a second run gave a different report (%d and %d bytes)", len(page), len(again))
			}
		})
	}
}

// TestReportGraphs checks that loss-recovery, whose sender loses segments
// and recovers, has the graphs drawn from the stacks' own state, with the
// retransmissions and drops marked on the time-sequence graph.
func TestReportGraphs(t *testing.T) {
	page, _ := reportRun(t, "loss-recovery", report.Options{})
	for _, g := range []string{"tseq", "cwnd", "inflight", "rtt", "rwnd"} {
		if !bytes.Contains(page, []byte(`data-g="`+g+`"`)) {
			t.Errorf("no %s graph", g)
		}
	}
	for _, cls := range []string{`class="ln resent"`, `class="ln drop"`, `class="ln ssthresh"`, `class="ln ackl"`, `class="ln wnd"`} {
		if !bytes.Contains(page, []byte(cls)) {
			t.Errorf("the graphs have no line %s", cls)
		}
	}
	page, _ = reportRun(t, "backlog-overflow", report.Options{})
	if !bytes.Contains(page, []byte(`data-g="queue"`)) {
		t.Error("backlog-overflow's report has no queue graph")
	}
}

// TestReportElides runs a lab with more rows than the ladder keeps: the
// ladder draws the first and last rows and says how many it left out, and
// the details match what is drawn.
func TestReportElides(t *testing.T) {
	page, rows := reportRun(t, "loss-recovery", report.Options{MaxRows: 30})
	drawn := details(t, page)
	if len(drawn) != 30 {
		t.Fatalf("details = %d, want the 30 rows drawn", len(drawn))
	}
	segs := 0
	for _, d := range drawn {
		if d["k"] == "segment" {
			segs++
		}
	}
	if got := len(segArrow.FindAll(page, -1)); got != segs {
		t.Errorf("segment arrows = %d, want %d (the segments drawn)", got, segs)
	}
	want := expect(rows)
	elided := regexp.MustCompile(`(\d+) rows \((\d+) segments\) between`).FindSubmatch(page)
	if elided == nil {
		t.Fatal("no marker of the rows not drawn")
	}
	if n := string(elided[1]); n != itoa(len(rows)-30) {
		t.Errorf("marker says %s rows not drawn, want %d", n, len(rows)-30)
	}
	if n := string(elided[2]); n != itoa(want.segments-segs) {
		t.Errorf("marker says %s segments not drawn, want %d", n, want.segments-segs)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestBulkReportSize writes the report of a 10 MB transfer (about 15,000
// segments): it stays a few megabytes, and every graph line is bounded.
func TestBulkReportSize(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10 MB transfer; skipped with -short")
	}
	start := time.Now()
	page, rows := reportRun(t, "../labs/testdata/bulk.toml", report.Options{})
	segs := expect(rows).segments
	t.Logf("bulk: %d segments, report %d bytes, in %v", segs, len(page), time.Since(start))
	if segs < 5000 {
		t.Fatalf("bulk run has %d segments, want a long run", segs)
	}
	if len(page) > 4<<20 {
		t.Errorf("report is %d bytes, want under 4 MB", len(page))
	}
	if got, max := len(details(t, page)), report.DefaultMaxRows; got != max {
		t.Errorf("rows drawn = %d, want %d", got, max)
	}
	for _, m := range regexp.MustCompile(`<path class="ln [a-z]+" d="([^"]*)"`).FindAllSubmatch(page, -1) {
		if moves := bytes.Count(m[1], []byte("M")) + bytes.Count(m[1], []byte("H")); moves > 4*report.DefaultMaxPoints {
			t.Errorf("a graph line has %d points, want at most %d", moves, 4*report.DefaultMaxPoints)
		}
	}
}

// TestReportWorldRows checks that a crash, a reboot and a middlebox that
// forgets a flow are markers on the ladder, one per world row, each with
// its text in the details.
func TestReportWorldRows(t *testing.T) {
	for _, lab := range []string{"../labs/testdata/peer-reboot.toml", "../labs/testdata/nat-idle-pool.toml"} {
		page, rows := reportRun(t, lab, report.Options{})
		world := 0
		for _, r := range rows {
			if r.Kind == tap.KindWorld {
				world++
			}
		}
		if world == 0 {
			t.Fatalf("%s has no world rows", lab)
		}
		if got := bytes.Count(page, []byte(`class="ev k-world"`)); got != world {
			t.Errorf("%s: %d world markers, want %d (one per world row)", lab, got, world)
		}
		if !bytes.Contains(page, []byte(`>⚡</text>`)) {
			t.Errorf("%s: the world markers have no symbol", lab)
		}
	}
}
