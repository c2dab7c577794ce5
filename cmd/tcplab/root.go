package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/labs"
	"golang.org/x/term"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1 // the run failed
	exitInvalid     = 2 // bad usage or an invalid lab
	exitInterrupted = 130
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// env is what commands read and write; tests substitute it.
type env struct {
	stdout, stderr io.Writer
	// terminal says stdout is a terminal, where the text timeline is in
	// colour unless NO_COLOR is set.
	terminal bool
	// width is the terminal's width in columns when stdout is one, else 0.
	width int
	// stderrTerminal says stderr is a terminal, where run, test and
	// explain show their progress (progress.go).
	stderrTerminal bool
	// stderrWidth returns the width in columns of the terminal stderr is,
	// asked at each redraw of the progress line, which must not wrap; 0
	// when unknown. nil is unknown.
	stderrWidth func() int
	// progress says when progress on a terminal stderr appears and how
	// often it is redrawn; the zero value, in tests, shows it at once.
	progress progressTiming
	// getenv reads the environment; nil reads an empty one.
	getenv func(string) string
}

// lookup returns the value of the environment variable key.
func (e env) lookup(key string) string {
	if e.getenv == nil {
		return ""
	}
	return e.getenv(key)
}

// interruptNotice is what tcplab says on standard error at the first
// Ctrl-C. On a terminal it first clears the line, which may hold a progress
// bar (drawn without a newline): the notice gets a line of its own.
func interruptNotice(terminal bool) string {
	const notice = "tcplab: interrupted; writing what was recorded (Ctrl-C again quits at once)\n"
	if terminal {
		return "\r\x1b[K" + notice
	}
	return notice
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first Ctrl-C stops the run and lets tcplab write what it
	// recorded; from then on the signals act as usual, so a second Ctrl-C
	// quits at once.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			select {
			case <-done:
				// The deferred stop() cancelled ctx as run returned
				// (done is closed before it): not an interruption.
				return
			default:
			}
			stop()
			announceInterrupt(os.Stderr, term.IsTerminal(int(os.Stderr.Fd()))) // progress.go
		case <-done:
		}
	}()
	e := env{
		stdout:         os.Stdout,
		stderr:         os.Stderr,
		terminal:       term.IsTerminal(int(os.Stdout.Fd())),
		stderrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		progress:       defaultProgress,
		getenv:         os.Getenv,
	}
	if e.terminal {
		e.width, _, _ = term.GetSize(int(os.Stdout.Fd()))
	}
	if e.stderrTerminal {
		e.stderrWidth = func() int {
			w, _, err := term.GetSize(int(os.Stderr.Fd()))
			if err != nil {
				return 0
			}
			return w
		}
	}
	return execute(ctx, os.Args[1:], e)
}

// execute runs the command line args and returns the exit code.
func execute(ctx context.Context, args []string, e env) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var el labs.ErrorList
	if errors.As(err, &el) {
		// One problem per line, each starting with its file:line:col, as
		// compilers and vet print them.
		fmt.Fprintln(e.stderr, el.Error())
	} else {
		fmt.Fprintln(e.stderr, "tcplab: "+err.Error())
	}
	var xe *exitError
	if errors.As(err, &xe) {
		return xe.code
	}
	if el != nil {
		return exitInvalid
	}
	// cobra's own errors: unknown command, bad flag, wrong argument count.
	return exitInvalid
}

func newRootCmd(e env) *cobra.Command {
	root := &cobra.Command{
		Use:   "tcplab",
		Short: "See and test what TCP really does, on real netstack stacks in virtual time",
		Long: `tcplab runs labs: virtual hosts, each with a real gVisor netstack TCP/IP
stack, joined by a virtual switch with latency, loss and rate limits. A lab
runs in virtual time, so hours of protocol time take milliseconds, and the
same lab with the same seed gives byte-identical output on every machine.
Everything that happens is recorded in an annotated timeline, and can be
exported as a pcapng file for Wireshark.`,
		Example: `  tcplab list
  tcplab run handshake
  tcplab run keepalive-mismatch --explain
  tcplab test
  tcplab test ci/labs/ --junit report.xml
  tcplab run close --pcap close.pcapng
  tcplab run close --format mermaid > close.mmd
  tcplab run handshake --format json | jq -c 'select(.kind == "segment") | .flags'
  tcplab run handshake --lang zh
  tcplab run ./my-lab.toml --seed 7`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionLine(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newRunCmd(e), newExplainCmd(e), newTestCmd(e), newListCmd(e), newShowCmd(e), newValidateCmd(e), newNewCmd(e), newVersionCmd(e), newManCmd(e))
	return root
}
