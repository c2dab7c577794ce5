package main

import (
	"context"
	"io"
	"testing"
)

// BenchmarkTestCatalogue runs `tcplab test` over the whole built-in
// catalogue, as CI does: every lab, its expectations checked, labs in
// parallel. The target is well under one second of wall time per run on
// two cores (go test -bench TestCatalogue -cpu 2).
func BenchmarkTestCatalogue(b *testing.B) {
	for b.Loop() {
		if code := execute(context.Background(), []string{"test"}, env{stdout: io.Discard, stderr: io.Discard}); code != 0 {
			b.Fatalf("tcplab test: exit %d", code)
		}
	}
}

// BenchmarkTestCatalogueSources is BenchmarkTestCatalogue on the built-in
// labs' source files, so that every golden timeline (English and Chinese)
// is rendered and compared as well.
func BenchmarkTestCatalogueSources(b *testing.B) {
	for b.Loop() {
		if code := execute(context.Background(), []string{"test", "../../labs"}, env{stdout: io.Discard, stderr: io.Discard}); code != 0 {
			b.Fatalf("tcplab test ../../labs: exit %d", code)
		}
	}
}
