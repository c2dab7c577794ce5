package labs

import (
	"context"
	"os"
	"testing"
	"time"
)

// BenchmarkBulk runs a 10 MB transfer over a 100 Mbit/s link with 10 ms
// one-way latency and no loss, with the tap recording every segment and the
// pcapng written, and reports wall time, virtual time and segment count.
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
		r, err = Execute(context.Background(), lab, RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Tap.WritePcapng(discard{}, time.Unix(0, 0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(r.Tap.Segments())), "segments")
	b.ReportMetric(r.Result.End.Seconds(), "virtual-s")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
