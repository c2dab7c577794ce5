package labs

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHandedParse runs every built-in lab, every linux reference lab and a
// lab whose server strips the window scale option (tcp_window_scaling = 0)
// with debug logging on, where the switch checks every parse a host hands
// over with a packet against the packet's bytes and panics when they
// differ (topology's checkParse): a Linux edge that changes a packet after
// parsing it and does not say so fails here.
func TestHandedParse(t *testing.T) {
	debug := slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var labs []*Lab
	entries, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		lab, err := Builtin(en.Name)
		if err != nil {
			t.Fatal(err)
		}
		labs = append(labs, lab)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "linux", "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no linux labs: %v", err)
	}
	for _, f := range files {
		lab, err := Open(f)
		if err != nil {
			t.Fatal(err)
		}
		labs = append(labs, lab)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "linux", "linux-close.toml"))
	if err != nil {
		t.Fatal(err)
	}
	ws0 := strings.Replace(string(src), "ipv4 = \"10.0.0.2\"\n", "ipv4 = \"10.0.0.2\"\n  [hosts.tcp]\n  tcp_window_scaling = 0\n", 1)
	if ws0 == string(src) {
		t.Fatal("linux-close.toml no longer has the server this test changes")
	}
	lab, err := Load("ws0.toml", []byte(ws0))
	if err != nil {
		t.Fatal(err)
	}
	labs = append(labs, lab)
	for _, lab := range labs {
		t.Run(lab.Name, func(t *testing.T) {
			if _, err := Execute(context.Background(), lab, RunOptions{Log: debug}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
