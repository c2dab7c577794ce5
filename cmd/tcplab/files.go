package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tcplab/tcplab/labs"
)

// stopWriter passes writes on to w; the first write that fails also stops
// the run (with a *writeError as the cause), so that a full disk or a
// closed pipe ends the run at once instead of after it.
type stopWriter struct {
	w    io.Writer
	what string // the file's name, or "standard output"
	stop func(error)
	err  error
}

// Write implements io.Writer.
func (s *stopWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err != nil {
		s.err = withPath(s.what, err)
		s.stop(&writeError{s.err})
		return n, s.err
	}
	return n, nil
}

// writeError is the cause of a run stopped by a failed write.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// writeFailed returns the write error that stopped a run, if one did.
func writeFailed(cause error) error {
	var we *writeError
	if errors.As(cause, &we) {
		return we.err
	}
	return nil
}

// withPath returns err as "write FILE: cause", naming the file once: an
// *fs.PathError already names it.
func withPath(file string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("write %s: %w", file, err)
}

// sameFile reports whether paths a and b name the same existing file.
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(sa, sb)
}

// memoryLimitText says which memory limit stopped a run.
func memoryLimitText(limit int64) string {
	if limit == 0 {
		limit = labs.DefaultMaxMemory
	}
	return fmt.Sprintf("stopped at the memory limit (%s of heap)", sizeText(limit))
}

// sizeText renders a byte count in binary units: "4GiB", "512MiB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// writeFileAtomic writes a file through a temporary file beside it, renamed
// into place once complete, so that an interrupted or failed write never
// leaves a truncated file.
func writeFileAtomic(path string, write func(w io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	werr := errors.Join(tmp.Chmod(0o644), write(tmp))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return withPath(path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
