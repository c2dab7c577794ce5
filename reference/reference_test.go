package reference

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/tap"
)

// scenario is a lab run on the kernel and under tcplab's linux profile.
type scenario struct {
	lab string // under labs/testdata/linux
	// times compares segment times within this tolerance.
	times time.Duration
	// unordered compares segments sent within spans of this length as
	// sets (timers due at the same instant).
	unordered time.Duration
	// counters are the counters to compare, by Linux's names.
	counters []string
	// differs lists the differences tcplab does not remove, each stated
	// on the rows where it shows: the comparison must find a difference,
	// and tcplab's timeline must carry every note key listed.
	differs []string
}

// scenarios are the Linux reference scenarios. Each runs for its lab's
// time limit in real time, all at once.
var scenarios = []scenario{
	{lab: "linux-close"},
	{lab: "linux-delack", times: 25 * time.Millisecond},
	{lab: "linux-nagle-delack", times: 25 * time.Millisecond},
	{lab: "linux-refused"},
	{lab: "linux-rst-closed"},
	{lab: "linux-syn-blackhole-4", times: 200 * time.Millisecond, counters: []string{"TcpAttemptFails", "TcpRetransSegs"}},
	{lab: "linux-syn-blackhole-0", times: 200 * time.Millisecond, counters: []string{"TcpAttemptFails", "TcpRetransSegs"}},
	{lab: "linux-synqueue-cookies0", counters: []string{"TcpExtSyncookiesSent"}},
	{lab: "linux-synqueue-cookies1", counters: []string{"TcpExtSyncookiesSent"}},
	{lab: "linux-synack-retries", times: 300 * time.Millisecond, unordered: 50 * time.Millisecond, counters: []string{"TcpAttemptFails"}},
}

// kernelAttempts is how many times a scenario's kernel run is made before
// its disagreement with tcplab counts (see TestAgainstLinux).
const kernelAttempts = 3

// kernelRequired reports whether a kernel run must not be skipped: in CI
// as root, where the tools should be there.
func kernelRequired() bool { return os.Getenv("CI") != "" && os.Geteuid() == 0 }

// TestAgainstLinux runs every scenario on the machine's kernel and under
// tcplab, and fails where they differ in a way the scenario does not
// state. It needs root, network namespaces, ip, tcpdump and tracefs: it
// skips, saying why, when they are missing, except in CI as root, where it
// fails.
func TestAgainstLinux(t *testing.T) {
	if testing.Short() {
		t.Skip("kernel runs take real time; run without -short")
	}
	if err := Available(); err != nil {
		if kernelRequired() {
			t.Fatalf("CI is set and we are root, but kernel runs are impossible: %v", err)
		}
		t.Skipf("kernel runs are impossible here: %v", err)
	}
	// Kernel runs mostly wait: run them all at once, whatever -parallel.
	type result struct {
		rec *Record
		err error
	}
	results := make([]chan result, len(scenarios))
	for i, sc := range scenarios {
		results[i] = make(chan result, 1)
		go func() {
			rec, err := runKernel(sc.lab)
			results[i] <- result{rec, err}
		}()
	}
	for i, sc := range scenarios {
		t.Run(sc.lab, func(t *testing.T) {
			res := <-results[i]
			for attempt := 1; errors.Is(res.err, ErrIncompleteCapture) && attempt < kernelAttempts; attempt++ {
				t.Logf("%s: kernel run %d of %d: %v; running the kernel again", sc.lab, attempt, kernelAttempts, res.err)
				res.rec, res.err = runKernel(sc.lab)
			}
			if res.err != nil {
				t.Fatalf("kernel run: %v", res.err)
			}
			lab, err := openLab(sc.lab)
			if err != nil {
				t.Fatal(err)
			}
			run, err := labs.Execute(context.Background(), lab, labs.RunOptions{KeepRows: true})
			if err != nil {
				t.Fatalf("tcplab run: %v", err)
			}
			opts := Options{Times: sc.times, Unordered: sc.unordered, Until: lab.TimeLimit, Counters: sc.counters}
			diffs := Compare(res.rec, FromRun(run), opts)
			// The kernel runs in real time on a machine that may be busy
			// (CI runs the packages' tests at once), and some of its
			// choices depend on timing: whether the ACK of a FIN goes out
			// at once or rides on the next data. A kernel run that does
			// not come out as the scenario says is repeated, up to
			// kernelAttempts times; every disagreeing attempt is logged.
			for attempt := 1; attempt < kernelAttempts && (len(diffs) > 0) != (len(sc.differs) > 0); attempt++ {
				t.Logf("%s: kernel run %d of %d did not come out as the scenario says; running the kernel again:\n%s", sc.lab, attempt, kernelAttempts, strings.Join(diffs, "\n"))
				rec, err := runKernel(sc.lab)
				if errors.Is(err, ErrIncompleteCapture) {
					t.Logf("%s: kernel run %d: %v", sc.lab, attempt+1, err)
					continue
				}
				if err != nil {
					t.Fatalf("kernel run %d: %v", attempt+1, err)
				}
				diffs = Compare(rec, FromRun(run), opts)
			}
			if len(sc.differs) == 0 {
				for _, d := range diffs {
					t.Errorf("%s: linux and tcplab differ: %s", sc.lab, d)
				}
				return
			}
			if len(diffs) == 0 {
				t.Errorf("%s: linux and tcplab agree, but the scenario says they differ (%v): remove that", sc.lab, sc.differs)
			}
			keys := noteKeys(run.Rows)
			for _, k := range sc.differs {
				if !slices.Contains(keys, k) {
					t.Errorf("%s: the difference is not stated: no row carries %s\n%s", sc.lab, k, strings.Join(diffs, "\n"))
				}
			}
		})
	}
}

// runKernel runs a lab of labs/testdata/linux on the kernel.
func runKernel(name string) (*Record, error) {
	lab, err := openLab(name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), lab.TimeLimit+time.Minute)
	defer cancel()
	return Run(ctx, lab)
}

// openLab opens a lab of labs/testdata/linux.
func openLab(name string) (*labs.Lab, error) {
	return labs.Open(filepath.Join("..", "labs", "testdata", "linux", name+".toml"))
}

// TestLinuxLabs runs every lab of labs/testdata/linux under tcplab and
// checks its expectations: what tcplab's linux profile must do, whether or
// not the kernel can be asked.
func TestLinuxLabs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "labs", "testdata", "linux", "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no labs in labs/testdata/linux: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			lab, err := labs.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(lab.Expect) == 0 {
				t.Fatalf("%s has no expectations", f)
			}
			run, err := labs.Execute(context.Background(), lab, labs.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range labs.Check(run) {
				if !o.OK {
					t.Errorf("%s: expectation %+v failed", f, o.Exp)
				}
			}
		})
	}
}

// TestScenariosCoverLabs makes every reference scenario a lab and names
// each lab of labs/testdata/linux that is not a scenario, with its reason.
func TestScenariosCoverLabs(t *testing.T) {
	notScenarios := map[string]string{
		"linux-abort-on-overflow-0": "needs one lost SYN-ACK (a fault rule with nth), which a kernel run cannot do",
		"linux-abort-on-overflow-1": "needs one lost SYN-ACK (a fault rule with nth), which a kernel run cannot do",
		"linux-retries2":            "needs a link outage (no netem here) and minutes of real time",
	}
	files, _ := filepath.Glob(filepath.Join("..", "labs", "testdata", "linux", "*.toml"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".toml")
		in := slices.ContainsFunc(scenarios, func(s scenario) bool { return s.lab == name })
		if _, why := notScenarios[name]; in == why {
			t.Errorf("%s: a scenario %v, listed as not one %v: make it exactly one", name, in, why)
		}
	}
	for _, sc := range scenarios {
		if _, err := os.Stat(filepath.Join("..", "labs", "testdata", "linux", sc.lab+".toml")); err != nil {
			t.Errorf("scenario %s has no lab: %v", sc.lab, err)
		}
	}
}

// noteKeys lists the note keys of rows.
func noteKeys(rows []*tap.Row) []string {
	var keys []string
	for _, r := range rows {
		for _, n := range r.Notes {
			if !slices.Contains(keys, n.Key) {
				keys = append(keys, n.Key)
			}
		}
	}
	return keys
}
