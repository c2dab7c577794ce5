package labs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/tap"
	"github.com/tcplab/tcplab/topology"
)

// fingerprint runs a lab and hashes its text timeline, its JSON Lines and
// its pcapng captures of what was sent and of what was received.
func fingerprint(t testing.TB, ref string) string {
	t.Helper()
	lab, err := Open(ref)
	if err != nil {
		t.Fatalf("Open(%q): %v", ref, err)
	}
	r, err := Prepare(lab, RunOptions{})
	if err != nil {
		t.Fatalf("Prepare(%q): %v", ref, err)
	}
	var text, js, sent, recv bytes.Buffer
	tw := r.Tap.NewTextWriter(&text, tap.Header{Title: lab.Name})
	jw := r.Tap.NewJSONWriter(&js, i18n.ZH)
	sw := r.Tap.NewPcapWriter(&sent, tap.ViewSent, topology.Epoch, i18n.EN)
	rw := r.Tap.NewPcapWriter(&recv, tap.ViewReceived, topology.Epoch, i18n.EN)
	for _, s := range []tap.Sink{tw, jw, sw, rw} {
		r.Tap.AddSink(s)
	}
	if err := r.Go(context.Background()); err != nil {
		t.Fatalf("Go(%q): %v", ref, err)
	}
	for _, f := range []func() error{tw.Flush, jw.Flush, sw.Flush, rw.Flush} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	sum := func(b bytes.Buffer) string { return fmt.Sprintf("%x", sha256.Sum256(b.Bytes()))[:16] }
	return fmt.Sprintf("%s/%s/%s/%s/%d", sum(text), sum(js), sum(sent), sum(recv), r.Frames)
}

var determinismLabs = []string{"handshake", "close", "testdata/lossy.toml", "testdata/chaos.toml", "testdata/peer-reboot.toml", "testdata/nat-idle-pool.toml"}

// TestDeterminism runs each lab several times at GOMAXPROCS 1, 2 and 4 in
// this process and once in a child process, and checks that the timeline and
// the pcapng are byte-identical every time.
func TestDeterminism(t *testing.T) {
	if os.Getenv("TCPLAB_DETERMINISM_CHILD") != "" {
		for _, ref := range determinismLabs {
			fmt.Printf("%s %s\n", ref, fingerprint(t, ref))
		}
		return
	}
	want := map[string]string{}
	for _, ref := range determinismLabs {
		want[ref] = fingerprint(t, ref)
	}
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		for _, ref := range determinismLabs {
			for run := range 3 {
				if got := fingerprint(t, ref); got != want[ref] {
					t.Errorf("GOMAXPROCS=%d run %d: fingerprint(%q) = %s, want %s", procs, run, ref, got, want[ref])
				}
			}
		}
	}
	runtime.GOMAXPROCS(prev)

	// A separate process, with its own runtime state and map seeds.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, procs := range []string{"1", "3"} {
		cmd := exec.Command(exe, "-test.run=^TestDeterminism$")
		cmd.Env = append(os.Environ(), "TCPLAB_DETERMINISM_CHILD=1", "GOMAXPROCS="+procs)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child process: %v\n%s", err, out)
		}
		for _, ref := range determinismLabs {
			line := ref + " " + want[ref]
			if !strings.Contains(string(out), line+"\n") {
				t.Errorf("child process GOMAXPROCS=%s: no line %q in output:\n%s", procs, line, out)
			}
		}
	}
}

// TestSeedChangesRun checks that the seed reaches the stacks: another seed
// gives other initial sequence numbers and ports.
func TestSeedChangesRun(t *testing.T) {
	lab, err := Builtin("handshake")
	if err != nil {
		t.Fatal(err)
	}
	first := func(seed uint64) segment.Segment {
		r, err := Execute(context.Background(), lab, RunOptions{Seed: &seed, KeepRows: true})
		if err != nil {
			t.Fatal(err)
		}
		segs := r.Segments()
		if len(segs) == 0 {
			t.Fatalf("seed %d: no segments", seed)
		}
		return *segs[0].Seg
	}
	a, b := first(1), first(2)
	if a.Seq == b.Seq || a.Src.Port() == b.Src.Port() {
		t.Errorf("seeds 1 and 2 gave SYN seq %d/%d and port %d/%d, want both to differ", a.Seq, b.Seq, a.Src.Port(), b.Src.Port())
	}
	if c := first(1); c.Seq != a.Seq || c.Src != a.Src {
		t.Errorf("seed 1 twice gave %+v and %+v, want equal", a, c)
	}
}
