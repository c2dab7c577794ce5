package labs

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/tap"
	"github.com/tcplab/tcplab/topology"
)

// BenchmarkBulk runs a 10 MB transfer over a 100 Mbit/s link with 10 ms
// one-way latency and no loss, with the tap explaining every segment and
// the pcapng and the text timeline written as the run goes, and reports
// wall time, virtual time and frames.
func BenchmarkBulk(b *testing.B) {
	benchLab(b, "testdata/bulk.toml", true)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkConns runs bench/peer/conns.toml: 1,000 sequential short
// connections (handshake, 1 KB each way, close) with the capture written
// and no timeline, as bench/peer.sh measures it.
func BenchmarkConns(b *testing.B) {
	benchLab(b, "../bench/peer/conns.toml", false)
}

// BenchmarkPeerBulk runs bench/peer/bulk.toml, the 10 MB transfer of
// bench/peer.sh.
func BenchmarkPeerBulk(b *testing.B) {
	benchLab(b, "../bench/peer/bulk.toml", true)
}

// BenchmarkPeerBulkQuiet is BenchmarkPeerBulk with no timeline rendered:
// tcplab run --quiet --pcap.
func BenchmarkPeerBulkQuiet(b *testing.B) {
	benchLab(b, "../bench/peer/bulk.toml", false)
}

// benchLab runs a lab file with its capture (and, with text, its text
// timeline) written to nowhere and reports frames and virtual time.
func benchLab(b *testing.B, file string, text bool) {
	lab, err := Open(file)
	if err != nil {
		b.Fatal(err)
	}
	var r *Run
	for b.Loop() {
		r, err = Prepare(lab, RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		pw := r.Tap.NewPcapWriter(discard{}, tap.ViewSent, topology.Epoch, i18n.EN)
		r.Tap.AddSink(pw)
		if text {
			r.Tap.AddSink(r.Tap.NewTextWriter(discard{}, tap.Header{Title: lab.Name, MaxTime: lab.TimeLimit}))
		}
		if err := r.Go(context.Background()); err != nil {
			b.Fatal(err)
		}
		if err := pw.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Frames), "frames")
	b.ReportMetric(r.Result.End.Seconds(), "virtual-s")
}

// BenchmarkLabFile runs the lab file named by $TCPLAB_BENCH_LAB, for
// profiling any lab: TCPLAB_BENCH_LAB=x.toml go test ./labs -run X
// -bench LabFile -cpuprofile cpu.prof.
func BenchmarkLabFile(b *testing.B) {
	file := os.Getenv("TCPLAB_BENCH_LAB")
	if file == "" {
		b.Skip("set TCPLAB_BENCH_LAB to a lab file")
	}
	benchLab(b, file, os.Getenv("TCPLAB_BENCH_TEXT") != "")
}

// recorder keeps every event of a run, in order, and passes it on.
type recorder struct {
	next   event.Observer
	events []any
}

func (r *recorder) Sent(e *event.Sent)       { r.events = append(r.events, e); r.next.Sent(e) }
func (r *recorder) Fate(e *event.Fate)       { r.events = append(r.events, e); r.next.Fate(e) }
func (r *recorder) Receipt(e *event.Receipt) { r.events = append(r.events, e); r.next.Receipt(e) }
func (r *recorder) StateChange(e *event.StateChange) {
	r.events = append(r.events, e)
	r.next.StateChange(e)
}
func (r *recorder) Timer(e *event.Timer)     { r.events = append(r.events, e); r.next.Timer(e) }
func (r *recorder) App(e *event.App)         { r.events = append(r.events, e); r.next.App(e) }
func (r *recorder) Queue(e *event.Queue)     { r.events = append(r.events, e); r.next.Queue(e) }
func (r *recorder) Counter(e *event.Counter) { r.events = append(r.events, e); r.next.Counter(e) }
func (r *recorder) Stall(e *event.Stall)     { r.events = append(r.events, e); r.next.Stall(e) }
func (r *recorder) World(e *event.World)     { r.events = append(r.events, e); r.next.World(e) }

// replay passes recorded events to obs.
func replay(obs event.Observer, events []any) {
	for _, e := range events {
		switch e := e.(type) {
		case *event.Sent:
			obs.Sent(e)
		case *event.Fate:
			obs.Fate(e)
		case *event.Receipt:
			obs.Receipt(e)
		case *event.StateChange:
			obs.StateChange(e)
		case *event.Timer:
			obs.Timer(e)
		case *event.App:
			obs.App(e)
		case *event.Queue:
			obs.Queue(e)
		case *event.Counter:
			obs.Counter(e)
		case *event.Stall:
			obs.Stall(e)
		case *event.World:
			obs.World(e)
		default:
			panic(fmt.Sprintf("replay: event %T", e))
		}
	}
}

// BenchmarkTapReplay measures the tap alone, on one goroutine: the events
// of bench/peer/bulk.toml (as bench/peer.sh runs it), recorded once, are
// explained again and written to a capture (to nowhere) by a fresh tap
// per iteration. The run's tap runs beside the network's loop; this is
// its share of the CPU, without the loop's noise.
func BenchmarkTapReplay(b *testing.B) {
	lab, err := Open("../bench/peer/bulk.toml")
	if err != nil {
		b.Fatal(err)
	}
	rec := &recorder{}
	r, err := Prepare(lab, RunOptions{observe: func(o event.Observer) event.Observer { rec.next = o; return rec }})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Go(context.Background()); err != nil {
		b.Fatal(err)
	}
	names, addrs := r.Tap.Hosts()
	var rows int
	for b.Loop() {
		t := tap.New()
		for i, n := range names {
			t.AddHost(n, addrs[i])
		}
		pw := t.NewPcapWriter(discard{}, tap.ViewSent, topology.Epoch, i18n.EN)
		t.AddSink(pw)
		replay(t, rec.events)
		if err := t.Finish(r.Result.End); err != nil {
			b.Fatal(err)
		}
		if err := pw.Flush(); err != nil {
			b.Fatal(err)
		}
		rows = t.Released()
	}
	if rows != r.Tap.Released() {
		b.Fatalf("the replay released %d rows, the run %d", rows, r.Tap.Released())
	}
	b.ReportMetric(float64(len(rec.events)), "events")
}
