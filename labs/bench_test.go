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
