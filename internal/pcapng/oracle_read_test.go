package pcapng

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// pcapgoRead reads a capture with gopacket's pcapgo, as tcplab did before
// it had its own reader, and renders it as readCapture does.
func pcapgoRead(t *testing.T, b []byte) (got, error) {
	t.Helper()
	var g got
	br := bufio.NewReader(bytes.NewReader(b))
	magic, err := br.Peek(4)
	if err != nil {
		return g, err
	}
	line := func(iface int, name string, lt LinkType, p []byte, ts string, length int) {
		g.packets = append(g.packets, fmt.Sprintf("if%d %q %v %s cap=%d len=%d %q", iface, name, lt, ts, len(p), length, p))
	}
	if string(magic) == "\x0a\x0d\x0d\x0a" || (magic[0] == 0x1f && magic[1] == 0x8b && isGzipPcapng(t, b)) {
		r, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return g, err
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				for i := range r.NNames() {
					rec, _ := r.Name(i)
					a, ok := rec.Addr.(*pcapgo.NgIPAddress)
					if names := slices.DeleteFunc(rec.Names, func(s string) bool { return s == "" }); ok && len(names) > 0 {
						g.names = append(g.names, fmt.Sprintf("%v=%s", a.Addr, strings.Join(names, ",")))
					}
				}
				if errors.Is(err, io.EOF) {
					err = nil
				}
				return g, err
			}
			ifc, _ := r.Interface(ci.InterfaceIndex)
			line(ci.InterfaceIndex, ifc.Name, LinkType(ifc.LinkType), data, ci.Timestamp.Format(time.RFC3339Nano), ci.Length)
		}
	}
	r, err := pcapgo.NewReader(br)
	if err != nil {
		return g, err
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return g, err
		}
		line(0, "", LinkType(r.LinkType()), data, ci.Timestamp.Format(time.RFC3339Nano), ci.Length)
	}
}

// isGzipPcapng says whether gzip-compressed b holds a pcapng file.
func isGzipPcapng(t *testing.T, b []byte) bool {
	r, err := NewReader(bytes.NewReader(b))
	return err == nil && r.Format() == FormatPcapng
}

// captureFiles lists the captures in the repository's testdata
// directories.
func captureFiles(t *testing.T) []string {
	t.Helper()
	root := filepath.Join("..", "..")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "third_party" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		name := strings.TrimSuffix(d.Name(), ".gz")
		if !d.IsDir() && strings.Contains(filepath.ToSlash(path), "/testdata/") && (strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestReadOracle reads every capture of the repository's testdata, the
// captures of readCases that pcapgo reads alike, what the Writer writes,
// and (with editcap, outside -short) the testdata captures converted to
// the other format and to nanoseconds, with both gopacket's pcapgo and
// the Reader, and compares every packet.
func TestReadOracle(t *testing.T) {
	type capture struct {
		name string
		b    []byte
	}
	var caps []capture
	files := captureFiles(t)
	if len(files) < 4 {
		t.Fatalf("found %d captures under testdata directories (%v), want at least the 4 of capture/testdata", len(files), files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		caps = append(caps, capture{f, b})
	}
	if _, err := exec.LookPath("editcap"); err == nil && !testing.Short() {
		dir := t.TempDir()
		for i, f := range files {
			for _, format := range []string{"pcapng", "nsecpcap", "pcap"} {
				out := filepath.Join(dir, fmt.Sprintf("%d.%s", i, format))
				if msg, err := exec.Command("editcap", "-F", format, f, out).CombinedOutput(); err != nil {
					t.Logf("editcap -F %s %s: %v: %s (skipped)", format, f, err, msg)
					continue
				}
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				caps = append(caps, capture{fmt.Sprintf("editcap -F %s %s", format, f), b})
			}
		}
	}
	for _, c := range readCases {
		if c.oracle {
			caps = append(caps, capture{c.name, c.file(t)})
		}
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.AddInterface("client", "c", LinkTypeIPv4)
	w.AddInterface("server6", "s", LinkTypeIPv6)
	w.AddName(addrClient, "client")
	w.AddName(addrServer6, "server6")
	w.WritePacket(0, baseTime, []byte("four"), "comment")
	w.WritePacket(1, baseTime.Add(1), []byte("six"), "")
	caps = append(caps, capture{"Writer", buf.Bytes()})

	for _, c := range caps {
		t.Run(c.name, func(t *testing.T) {
			want, err := pcapgoRead(t, c.b)
			if err != nil {
				t.Fatalf("pcapgo: %v", err)
			}
			g, _, err := readCapture(t, c.b)
			if err != nil {
				t.Fatalf("Reader: %v, want no error (pcapgo read %d packets)", err, len(want.packets))
			}
			if len(want.packets) == 0 && !strings.Contains(c.name, "without packets") {
				t.Errorf("pcapgo read no packet: nothing compared")
			}
			for i := range max(len(g.packets), len(want.packets)) {
				var gp, wp string
				if i < len(g.packets) {
					gp = g.packets[i]
				}
				if i < len(want.packets) {
					wp = want.packets[i]
				}
				if gp != wp {
					t.Fatalf("packet %d:\nReader: %s\npcapgo: %s", i+1, gp, wp)
				}
			}
			if !slices.Equal(g.names, want.names) {
				t.Errorf("names: Reader %q, pcapgo %q", g.names, want.names)
			}
		})
	}
}
