package labs

import (
	"context"
	"os"
	"testing"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/tap"
	"github.com/tcplab/tcplab/topology"
)

// BenchmarkBulk runs a 10 MB transfer over a 100 Mbit/s link with 10 ms
// one-way latency and no loss, with the tap explaining every segment and
// the pcapng and the text timeline written as the run goes, and reports
// wall time, virtual time and frames.
func BenchmarkBulk(b *testing.B) {
	data, err := os.ReadFile("testdata/bulk.toml")
	if err != nil {
		b.Fatal(err)
	}
	lab, err := Load("testdata/bulk.toml", data)
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
		r.Tap.AddSink(r.Tap.NewTextWriter(discard{}, tap.Header{Title: lab.Name, MaxTime: lab.TimeLimit}))
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

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
