package main

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the tcplab command: testscript copies
// it into $PATH under that name, and a script's `exec tcplab ...` runs run()
// in a real child process, with real exit codes and standard streams.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tcplab": func() { os.Exit(run()) },
	})
}

// TestScript runs the end-to-end scripts in testdata/script/*.txtar. Scripts
// must spell out `exec tcplab`, so every child process is explicit. They
// run with COLUMNS=1000, so that the text timeline keeps one line per row
// and scripts can match rows by line; run_width.txtar sets its own width.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("COLUMNS", "1000")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitcode,
			"cmpfield": cmdCmpfield,
		},
	})
}

// cmdExitcode implements `exitcode N program [args...]`: it runs program like
// exec does, keeps its stdout and stderr for the stdout and stderr commands,
// and fails unless the program exited with status N. testscript's own exec
// only tells zero from non-zero.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: exitcode N program [args...] (no '!': N says what to expect)")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil || want < 0 {
		ts.Fatalf("exitcode: %q is not an exit status", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var xe *exec.ExitError
		if !errors.As(err, &xe) {
			ts.Fatalf("exitcode: running %s: %v", args[1], err)
		}
		got = xe.ExitCode()
	}
	if got != want {
		ts.Fatalf("exitcode: %s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdCmpfield implements `[!] cmpfield file1 file2 regexp`: it finds the first
// match of regexp in each file and compares the first capture group. Without
// '!' the two must be equal, with '!' they must differ. Scripts use it to
// compare one value (a port, an ISN) between two runs without pinning it.
func cmdCmpfield(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: [!] cmpfield file1 file2 regexp")
	}
	re, err := regexp.Compile("(?m)" + args[2])
	ts.Check(err)
	if re.NumSubexp() < 1 {
		ts.Fatalf("cmpfield: regexp %q has no capture group", args[2])
	}
	field := func(file string) string {
		m := re.FindStringSubmatch(ts.ReadFile(file))
		if m == nil {
			ts.Fatalf("cmpfield: no match for %q in %s", args[2], file)
		}
		return m[1]
	}
	a, b := field(args[0]), field(args[1])
	ts.Logf("cmpfield: %s has %q, %s has %q", args[0], a, args[1], b)
	switch {
	case neg && a == b:
		ts.Fatalf("cmpfield: %s and %s both have %q, want them to differ", args[0], args[1], a)
	case !neg && a != b:
		ts.Fatalf("cmpfield: %s has %q but %s has %q, want them equal", args[0], a, args[1], b)
	}
}
