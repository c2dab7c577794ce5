package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// endless is a lab that never goes idle: a client reconnecting for ever to
// a server that closes every connection, with a one-millisecond link.
const endless = `name = "endless"
time_limit = "1000h"

[[hosts]]
name = "server"
ipv4 = "10.0.0.2"
steps = [{do = "listen", port = 80, backlog = 100}, {do = "accept", each = [{do = "close"}]}]

[[hosts]]
name = "client"
ipv4 = "10.0.0.1"

  [[hosts.apps]]
  repeat = 100000000
  steps = [{do = "connect", to = "server:80"}, {do = "close"}, {do = "sleep", for = "1ms"}]

[[links]]
host = "client"
latency = "1ms"

[[expect]]
state = "ESTABLISHED"
host = "client"
min = 1
`

// flood is a runaway for the memory limit: 100,000 spoofed SYNs sent at one
// instant over a one-second link, so that the tap holds a row for each
// until it arrives.
const flood = `name = "flood"
time_limit = "10s"

[[hosts]]
name = "server"
ipv4 = "10.0.0.2"
steps = [{do = "listen", port = 80}]

[[hosts]]
name = "attacker"
ipv4 = "10.0.0.66"

[[links]]
host = "attacker"
latency = "1s"

[[inject]]
via = "attacker"
from = "10.9.0.0/16"
to = "server:80"
flags = "SYN"
count = 100000
`

// promptly is how long an interrupted command may take to return: long
// enough for a busy machine, far shorter than the run would take.
const promptly = 10 * time.Second

// interrupted runs tcplab with args and cancels its context after a while,
// as Ctrl-C does, and returns what it did and how long it took to return
// after the cancellation.
func interrupted(t *testing.T, args ...string) (cliRun, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() { done <- execute(ctx, args, env{stdout: &stdout, stderr: &stderr}) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	at := time.Now()
	select {
	case code := <-done:
		return cliRun{args: args, code: code, stdout: stdout.String(), stderr: stderr.String()}, time.Since(at)
	case <-time.After(5 * time.Minute):
		t.Fatalf("execute(%q) did not return within 5 minutes of being interrupted", args)
	}
	return cliRun{}, 0
}

// TestTestInterrupted checks that tcplab test stops at once when
// interrupted, reports the lab as interrupted and still writes a complete
// JUnit report.
func TestTestInterrupted(t *testing.T) {
	dir := labDir(t, map[string]string{"endless.toml": endless, "close.toml": builtinText(t, "close")})
	report := filepath.Join(t.TempDir(), "junit.xml")
	r, took := interrupted(t, "test", dir, "--junit", report)
	if took > promptly {
		t.Errorf("tcplab test took %v to return after the interruption, want under %v", took, promptly)
	}
	if r.code != exitInterrupted {
		t.Errorf("exit %d, want %d\n%s%s", r.code, exitInterrupted, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "INT   "+filepath.Join(dir, "endless.toml")) {
		t.Errorf("report does not show the lab interrupted:\n%s", r.stdout)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("JUnit report not written: %v", err)
	}
	var j junit
	if err := xml.Unmarshal(data, &j); err != nil {
		t.Fatalf("JUnit report is not well-formed: %v\n%s", err, data)
	}
	found := false
	for _, c := range j.Suites[0].Cases {
		if c.Name == "endless" {
			found = c.Skipped != nil && strings.Contains(c.Skipped.Message, "interrupted")
		}
	}
	if !found {
		t.Errorf("JUnit report does not mark the endless lab interrupted:\n%s", data)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(report), ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left beside the report: %q", left)
	}
}

// TestRunInterrupted checks that tcplab run stops at once when
// interrupted and keeps what it wrote.
func TestRunInterrupted(t *testing.T) {
	file := filepath.Join(labDir(t, map[string]string{"endless.toml": endless}), "endless.toml")
	pcap := filepath.Join(t.TempDir(), "endless.pcapng")
	r, took := interrupted(t, "run", file, "--pcap", pcap)
	if took > promptly {
		t.Errorf("tcplab run took %v to return after the interruption, want under %v", took, promptly)
	}
	if r.code != exitInterrupted || !strings.Contains(r.stderr, "endless: interrupted at ") {
		t.Errorf("exit %d, want %d with the interruption said\n%s", r.code, exitInterrupted, r.stderr)
	}
	if !strings.Contains(r.stdout, "end of run at ") || !strings.Contains(r.stdout, "SYN") {
		t.Errorf("the timeline up to the interruption was not written:\n%.2000s", r.stdout)
	}
	if st, err := os.Stat(pcap); err != nil || st.Size() == 0 {
		t.Errorf("capture up to the interruption not written: %v", err)
	}
}

// TestRunMemoryLimit checks that a runaway stopped at its memory limit is
// a failed run with a message that says so.
func TestRunMemoryLimit(t *testing.T) {
	file := filepath.Join(labDir(t, map[string]string{"flood.toml": flood}), "flood.toml")
	r := tcplab(t, "run", file, "--max-memory", "16MiB", "--format", "json")
	if r.code != exitFailure || !strings.Contains(r.stderr, "flood: stopped at the memory limit (16MiB of heap) at ") ||
		!strings.Contains(r.stderr, "--max-memory raises the limit") {
		t.Errorf("exit %d, want %d with the memory limit said\n%s", r.code, exitFailure, r.stderr)
	}
	r = tcplab(t, "test", file, "--max-memory", "16MiB")
	if r.code != exitFailure || !strings.Contains(r.stdout, "ERR  stopped at the memory limit (16MiB of heap)") {
		t.Errorf("tcplab test: exit %d, want %d with the memory limit said\n%s", r.code, exitFailure, r.stdout)
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errors.New("disk on fire")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestRunWriteError checks that a write that fails stops the run at once
// (the endless lab would otherwise run for its whole event budget) and that
// the error names what failed once.
func TestRunWriteError(t *testing.T) {
	file := filepath.Join(labDir(t, map[string]string{"endless.toml": endless}), "endless.toml")
	var stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- execute(context.Background(), []string{"run", file}, env{stdout: &failingWriter{n: 64 << 10}, stderr: &stderr})
	}()
	select {
	case code := <-done:
		if got := stderr.String(); code != exitFailure || !strings.Contains(got, "tcplab: endless: stopped at ") ||
			!strings.HasSuffix(got, "of virtual time: write standard output: disk on fire\n") {
			t.Errorf("exit %d, want %d with the write error once\n%s", code, exitFailure, got)
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("the run went on after its output failed")
	}
}

// TestRunWriteErrorSameEachTime checks that where a failed write stops
// the output does not depend on timing: the tap explains and writes beside
// the loop, which runs on until it notices, but nothing reaches any output
// after the row whose write failed. The message and the capture written
// alongside are the same on every run.
func TestRunWriteErrorSameEachTime(t *testing.T) {
	dir := labDir(t, map[string]string{"endless.toml": endless})
	var firstErr string
	var firstCap []byte
	for i := range 3 {
		pcap := filepath.Join(dir, fmt.Sprintf("run%d.pcapng", i))
		var stderr bytes.Buffer
		code := execute(context.Background(), []string{"run", filepath.Join(dir, "endless.toml"), "--pcap", pcap},
			env{stdout: &failingWriter{n: 64 << 10}, stderr: &stderr})
		got := stderr.String()
		if code != exitFailure || !strings.Contains(got, "stopped at ") {
			t.Fatalf("run %d: exit %d, want %d with where it stopped\n%s", i, code, exitFailure, got)
		}
		data, err := os.ReadFile(pcap)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			firstErr, firstCap = got, data
			continue
		}
		if got != firstErr {
			t.Errorf("run %d said\n%s\nrun 0 said\n%s", i, got, firstErr)
		}
		if !bytes.Equal(data, firstCap) {
			t.Errorf("run %d wrote a capture of %d bytes, run 0 one of %d: they differ", i, len(data), len(firstCap))
		}
	}
}

func TestVersionLine(t *testing.T) {
	tests := []struct {
		b    buildInfo
		want string
	}{
		{buildInfo{version: "(devel)"}, "tcplab (devel)"},
		{buildInfo{version: "v0.2.0"}, "tcplab v0.2.0"},
		{buildInfo{version: "v0.0.0-20261202214252-724177c898bf", revision: "724177c898bf17f9ea2f0478731bcc9e411746d7", time: "2026-12-02T21:42:52Z"},
			"tcplab v0.0.0-20261202214252-724177c898bf (revision 724177c898bf, 2026-12-02T21:42:52Z)"},
		{buildInfo{version: "(devel)", revision: "abc", modified: true}, "tcplab (devel) (revision abc, modified)"},
	}
	for _, tc := range tests {
		if got := tc.b.line(); got != tc.want {
			t.Errorf("%+v.line() = %q, want %q", tc.b, got, tc.want)
		}
	}
	if got := versionLine(); !strings.HasPrefix(got, "tcplab ") {
		t.Errorf("versionLine() = %q, want it to start with \"tcplab \"", got)
	}
}
