//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCreateOutput checks that createOutput gives a big file of ours alone
// a new file under its name, with its permissions, and truncates anything
// else in place: a small file, a file with a second link (which must see
// the new contents) and a symbolic link (which stays one, its target
// rewritten).
func TestCreateOutput(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("old "), replaceMin/4+1)
	write := func(name string, data []byte, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	inode := func(p string) uint64 {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	create := func(p string) {
		t.Helper()
		f, err := createOutput(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("new"); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	contents := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	p := write("big.pcapng", big, 0o640)
	before := inode(p)
	create(p)
	if got := contents(p); got != "new" {
		t.Errorf("big file: contents %q, want \"new\"", got)
	}
	if inode(p) == before {
		t.Errorf("big file: truncated in place, want a new file under its name")
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("big file: mode %v, want the old file's -rw-r-----", fi.Mode().Perm())
	}

	p = write("small.pcapng", []byte("old"), 0o644)
	before = inode(p)
	create(p)
	if got := contents(p); got != "new" || inode(p) != before {
		t.Errorf("small file: contents %q, same file %v; want \"new\" in the same file", got, inode(p) == before)
	}

	p = write("linked.pcapng", big, 0o644)
	link := filepath.Join(dir, "link.pcapng")
	if err := os.Link(p, link); err != nil {
		t.Fatal(err)
	}
	create(p)
	if got := contents(link); got != "new" {
		t.Errorf("hard-linked file: the other link reads %d bytes, want \"new\": truncated in place", len(got))
	}

	target := write("target.pcapng", big, 0o644)
	sym := filepath.Join(dir, "sym.pcapng")
	if err := os.Symlink(target, sym); err != nil {
		t.Fatal(err)
	}
	create(sym)
	if fi, err := os.Lstat(sym); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("symbolic link: no longer a link (%v)", err)
	}
	if got := contents(target); got != "new" {
		t.Errorf("symbolic link: its target holds %d bytes, want \"new\"", len(got))
	}

	p = filepath.Join(dir, "fresh.pcapng")
	create(p)
	if got := contents(p); got != "new" {
		t.Errorf("new file: contents %q", got)
	}
}
