package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestProgressOnTerminal runs tcplab test as a process whose standard error
// is a real pseudo-terminal and whose standard output is a pipe, as a user
// who redirects the report to a file sees it: the progress line appears on
// the terminal, and the report holds none of it. The other progress tests
// inject the terminal decision; this one lets tcplab make it.
func TestProgressOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs tcplab for over a second; the injected progress tests cover the meter")
	}
	// Enough runs to last well over the second before the meter shows.
	var stdout bytes.Buffer
	cmd, ptmx := startOnTerminal(t, &stdout, "test", "keepalive-probes", "close", "--seeds", "2000")
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() {
		_, _ = io.Copy(&screen, ptmx) // ends with EIO when the child exits
		close(read)
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tcplab test: %v\n%s", err, stdout.String())
	}
	ptmx.Close()
	<-read
	progress := regexp.MustCompile(`labs \d/2, runs \d+/4000, \S+ virtual`)
	if !progress.Match(screen.Bytes()) {
		t.Errorf("no progress line on the terminal; it showed:\n%q", screen.String())
	}
	if !strings.Contains(stdout.String(), "PASS") {
		t.Errorf("the report is missing from standard output:\n%s", stdout.String())
	}
	if bytes.ContainsAny(stdout.Bytes(), "\r\x1b") || strings.Contains(stdout.String(), "virtual,") {
		t.Errorf("progress leaked into standard output:\n%q", stdout.String())
	}
}

// TestInterruptNoticeOnTerminal interrupts tcplab test while its progress
// line is on a real terminal: the notice must start a line of its own (the
// bar is drawn without a newline), not run on after the bar.
func TestInterruptNoticeOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs tcplab until its progress line shows, over a second")
	}
	cmd, ptmx := startOnTerminal(t, io.Discard, "test", "keepalive-probes", "close", "--seeds", "10000")
	var mu sync.Mutex
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				close(read)
				return
			}
		}
	}()
	progress := regexp.MustCompile(`runs \d+/\d+, \S+ virtual`)
	shown := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return progress.Match(screen.Bytes())
	}
	deadline := time.Now().Add(time.Minute)
	for !shown() {
		select {
		case <-read:
			t.Fatalf("tcplab ended before its progress line showed:\n%q", screen.String())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no progress line within a minute:\n%q", screen.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // exits non-zero: interrupted
	ptmx.Close()
	<-read
	out := screen.String()
	i := strings.Index(out, "tcplab: interrupted; writing what was recorded")
	if i < 0 {
		t.Fatalf("no interrupt notice on the terminal:\n%q", out)
	}
	if before := out[:i]; !strings.HasSuffix(before, "\r\x1b[K") && !strings.HasSuffix(before, "\n") && before != "" {
		t.Errorf("the interrupt notice runs on after the progress line: %q", out[max(0, i-80):min(len(out), i+40)])
	}
}

// startOnTerminal starts tcplab with args, its standard error a
// pseudo-terminal whose other end it returns (closed when the test ends)
// and its standard output stdout.
func startOnTerminal(t *testing.T, stdout io.Writer, args ...string) (*exec.Cmd, *os.File) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	cmd := exec.Command(tcplabBinary(t), args...)
	cmd.Stdout = stdout
	cmd.Stderr = tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	return cmd, ptmx
}
