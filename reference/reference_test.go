package reference

import (
	"context"
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
	{lab: "linux-refused"},
	{lab: "linux-rst-closed"},
	{lab: "linux-syn-blackhole-4", times: 200 * time.Millisecond, counters: []string{"TcpAttemptFails", "TcpRetransSegs"}},
	{lab: "linux-syn-blackhole-0", times: 200 * time.Millisecond, counters: []string{"TcpAttemptFails", "TcpRetransSegs"}},
	{lab: "linux-synqueue-cookies0", counters: []string{"TcpExtSyncookiesSent"}},
	{lab: "linux-synqueue-cookies1", counters: []string{"TcpExtSyncookiesSent"}},
}

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
	for _, sc := range scenarios {
		t.Run(sc.lab, func(t *testing.T) {
			t.Parallel()
			lab, err := labs.Open(filepath.Join("..", "labs", "testdata", "linux", sc.lab+".toml"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), lab.TimeLimit+time.Minute)
			defer cancel()
			linux, err := Run(ctx, lab)
			if err != nil {
				t.Fatalf("kernel run: %v", err)
			}
			run, err := labs.Execute(context.Background(), lab, labs.RunOptions{KeepRows: true})
			if err != nil {
				t.Fatalf("tcplab run: %v", err)
			}
			diffs := Compare(linux, FromRun(run), Options{Times: sc.times, Until: lab.TimeLimit, Counters: sc.counters})
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
