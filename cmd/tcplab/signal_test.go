package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecondInterruptQuits runs tcplab as a process (the test binary under
// the name tcplab, as the scripts do) whose standard output nobody reads,
// so that it is stuck writing the timeline: the first SIGINT cannot let it
// finish writing, and the second must end it at once, as the message the
// first one prints promises.
func TestSecondInterruptQuits(t *testing.T) {
	bin := tcplabBinary(t)
	lab := filepath.Join(labDir(t, map[string]string{"endless.toml": endless}), "endless.toml")
	cmd := exec.Command(bin, "run", lab)
	cmd.Env = append(os.Environ(), "COLUMNS=200")
	// A pipe nobody reads: once its buffer is full, every write blocks.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.Stdout = w
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	defer func() { _ = cmd.Process.Kill() }()

	time.Sleep(time.Second) // the pipe fills up long before this
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	said := false
	deadline := time.After(promptly)
	for !said {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("tcplab ended on the first interrupt although its output was blocked; this test needs it stuck")
			}
			said = strings.Contains(l, "Ctrl-C again quits at once")
		case <-deadline:
			t.Fatalf("the first interrupt was not acknowledged on stderr within %v", promptly)
		}
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-exited:
		t.Fatalf("tcplab ended on the first interrupt although its output was blocked (%v); this test needs it stuck", err)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range lines {
		}
	}()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("tcplab ended with %v, want killed by SIGINT", err)
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
			t.Errorf("tcplab ended with %v, want killed by the second SIGINT", err)
		}
	case <-time.After(promptly):
		t.Fatalf("tcplab did not quit within %v of the second interrupt", promptly)
	}
}

// tcplabBinary returns the test binary under the name tcplab (a symbolic
// link in a temporary folder), which TestMain runs as tcplab itself.
func tcplabBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "tcplab")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}
