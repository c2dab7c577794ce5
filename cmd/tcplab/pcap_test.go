package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/topology"
)

// These tests use real tools as oracles for the pcapng files that
// `tcplab run --pcap` writes: tshark (Wireshark's reader, which understands
// every pcapng block tcplab writes) and tcpdump (libpcap's reader).

// needTool returns the path of an external tool, or skips the test when it is
// missing; under CI (env CI set) a missing tool is a failure instead.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required under CI: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

// cliRun is the outcome of one in-process tcplab command line.
type cliRun struct {
	args           []string
	code           int
	stdout, stderr string
}

// tcplab runs the command line in-process through execute, as main does,
// with COLUMNS=1000 so that the text timeline keeps one line per row.
func tcplab(t *testing.T, args ...string) cliRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	wide := func(k string) string {
		if k == "COLUMNS" {
			return "1000"
		}
		return ""
	}
	code := execute(context.Background(), args, env{stdout: &stdout, stderr: &stderr, getenv: wide})
	r := cliRun{args: args, code: code, stdout: stdout.String(), stderr: stderr.String()}
	if strings.Contains(r.stderr, "panic") {
		t.Fatalf("execute(%q): stderr mentions a panic:\n%s", args, r.stderr)
	}
	return r
}

// toolRun is the outcome of one external tool run.
type toolRun struct {
	call           string
	code           int
	stdout, stderr string
}

// runTool runs an external tool with TZ=UTC and returns what it did. It fails
// the test only when the tool cannot be started at all.
func runTool(t *testing.T, path string, args ...string) toolRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C.UTF-8")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := toolRun{call: filepath.Base(path) + " " + strings.Join(args, " "), stdout: stdout.String(), stderr: stderr.String()}
	var xe *exec.ExitError
	switch {
	case errors.As(err, &xe):
		r.code = xe.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", r.call, err)
	}
	return r
}

// mustTool is runTool for a call that has to succeed.
func mustTool(t *testing.T, path string, args ...string) toolRun {
	t.Helper()
	r := runTool(t, path, args...)
	if r.code != 0 {
		t.Fatalf("%s: exit status %d, want 0\nstderr:\n%s", r.call, r.code, r.stderr)
	}
	return r
}

// lines splits output into lines, without a trailing empty one.
func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// timelineFrame is one frame row of the text timeline.
type timelineFrame struct {
	no   int
	at   time.Duration
	src  string // "client:59433"
	dst  string
	line string
}

var frameRowRE = regexp.MustCompile(`^\s*(\d+)\s+(\d+\.\d{6})\s+(\S+)\s+(\S+)\s`)

// timelineFrames parses the frame rows (those with a number) of a timeline.
func timelineFrames(t *testing.T, stdout string) []timelineFrame {
	t.Helper()
	var out []timelineFrame
	for _, l := range lines(stdout) {
		m := frameRowRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		no, _ := strconv.Atoi(m[1])
		at, err := parseSeconds(m[2])
		if err != nil {
			t.Fatalf("timeline row %q: %v", l, err)
		}
		out = append(out, timelineFrame{no: no, at: at, src: m[3], dst: m[4], line: l})
	}
	return out
}

// parseSeconds parses "60.061000" or "1735689600.001000000" exactly.
func parseSeconds(s string) (time.Duration, error) {
	whole, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || len(frac) > 9 {
		return 0, fmt.Errorf("bad seconds %q", s)
	}
	frac += strings.Repeat("0", 9-len(frac))
	ns, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad seconds %q", s)
	}
	return time.Duration(sec)*time.Second + time.Duration(ns), nil
}

// flagLetters keeps the letters of tshark's tcp.flags.str ("·······A··S·"
// gives "AS"), so the check does not depend on the placeholder character.
func flagLetters(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, s)
}

var summaryRE = regexp.MustCompile(`(?m)^tcplab: \S+: \d+\.\d{6} s of virtual time in \S+ \((\d+) events, (\d+) frames\)$`)

// summaryFrames returns the frame count of the stderr summary line.
func summaryFrames(t *testing.T, r cliRun) int {
	t.Helper()
	m := summaryRE.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("execute(%q): no summary line in stderr:\n%s", r.args, r.stderr)
	}
	n, _ := strconv.Atoi(m[2])
	return n
}

// TestPcapClose checks the capture of the close lab with tshark and tcpdump:
// 11 frames, host names from the Name Resolution Block, one interface per
// host, each frame's explanation as its comment, timestamps equal to the
// timeline's, valid checksums, one TCP conversation.
func TestPcapClose(t *testing.T) {
	tshark := needTool(t, "tshark")
	tcpdump := needTool(t, "tcpdump")

	file := filepath.Join(t.TempDir(), "close.pcapng")
	run := tcplab(t, "run", "close", "--pcap", file)
	if run.code != exitOK {
		t.Fatalf("execute(%q) = %d, want %d\nstderr:\n%s", run.args, run.code, exitOK, run.stderr)
	}
	frames := timelineFrames(t, run.stdout)
	if got := summaryFrames(t, run); got != 11 || len(frames) != 11 {
		t.Fatalf("execute(%q): %d frame rows in the timeline and %d frames in the summary, want 11 and 11\nstdout:\n%s", run.args, len(frames), got, run.stdout)
	}

	// What every frame of the close lab is, in order.
	want := []struct {
		src, dst string
		flags    string // letters of tcp.flags.str
		comment  string // start of the packet comment
	}{
		{"client", "server", "S", "handshake 1/3: client asks server to connect"},
		{"server", "client", "AS", "handshake 2/3: server acknowledges client's SYN (ack = ISN+1 = "},
		{"client", "server", "A", "handshake 3/3: client acknowledges server's SYN (ack = ISN+1 = "},
		{"client", "server", "AP", "data: 5 bytes from client"},
		{"server", "client", "A", "ACK: server has received everything before seq 6"},
		{"server", "client", "AP", "data: 3 bytes from server"},
		{"client", "server", "A", "ACK: client has received everything before seq 4"},
		{"client", "server", "AF", "close 1/4: client sends FIN"},
		{"server", "client", "A", "close 2/4: server acknowledges client's FIN"},
		{"server", "client", "AF", "close 3/4: server sends its own FIN"},
		{"client", "server", "A", "close 4/4: client acknowledges server's FIN and waits in TIME_WAIT"},
	}

	t.Run("fields", func(t *testing.T) {
		args := []string{"-r", file, "-N", "n", "-T", "fields",
			"-e", "frame.number", "-e", "ip.src_host", "-e", "ip.dst_host",
			"-e", "frame.interface_name", "-e", "tcp.flags.str", "-e", "frame.comment"}
		r := mustTool(t, tshark, args...)
		rows := lines(r.stdout)
		if len(rows) != len(want) {
			t.Fatalf("%s: %d frames, want %d\nstdout:\n%s", r.call, len(rows), len(want), r.stdout)
		}
		for i, w := range want {
			t.Run(fmt.Sprintf("frame%d", i+1), func(t *testing.T) {
				f := strings.SplitN(rows[i], "\t", 6)
				if len(f) != 6 {
					t.Fatalf("%s: row %q has %d fields, want 6", r.call, rows[i], len(f))
				}
				got := struct{ no, src, dst, iface, flags string }{f[0], f[1], f[2], f[3], flagLetters(f[4])}
				wantRow := struct{ no, src, dst, iface, flags string }{strconv.Itoa(i + 1), w.src, w.dst, w.src, w.flags}
				if got != wantRow {
					t.Errorf("%s: frame %d: got number/src/dst/interface/flags %+v, want %+v", r.call, i+1, got, wantRow)
				}
				comment := f[5]
				if !strings.HasPrefix(comment, w.comment) {
					t.Errorf("%s: frame %d: got comment %q, want it to start with %q", r.call, i+1, comment, w.comment)
				}
				// The comment is the timeline's note for the same frame.
				if fr := frames[i]; fr.no != i+1 || !strings.HasSuffix(fr.line, " "+comment) {
					t.Errorf("%s: frame %d: got comment %q, want the end of timeline row %d %q", r.call, i+1, comment, fr.no, fr.line)
				}
			})
		}
	})

	if testing.Short() {
		// Each tshark start costs about half a second: the quick loop keeps
		// the frame-by-frame check above, CI runs the rest.
		t.Log("-short: names, interfaces, timestamps, checksums and tcpdump are checked in the full suite")
		return
	}

	t.Run("names", func(t *testing.T) {
		// Without name resolution the addresses are numeric, so the names
		// above came from the file's Name Resolution Block.
		r := mustTool(t, tshark, "-r", file, "-n", "-T", "fields", "-e", "ip.src_host", "-e", "ip.dst_host")
		rows := lines(r.stdout)
		addr := map[string]string{"client": "10.0.0.1", "server": "10.0.0.2"}
		if len(rows) != len(want) {
			t.Fatalf("%s: %d frames, want %d", r.call, len(rows), len(want))
		}
		for i, w := range want {
			if got, wantRow := rows[i], addr[w.src]+"\t"+addr[w.dst]; got != wantRow {
				t.Errorf("%s: frame %d: got %q, want %q", r.call, i+1, got, wantRow)
			}
		}
	})

	t.Run("interfaces", func(t *testing.T) {
		r := mustTool(t, tshark, "-r", file, "-T", "fields",
			"-e", "frame.interface_id", "-e", "frame.interface_name", "-e", "frame.interface_description")
		got := map[string]bool{}
		for _, l := range lines(r.stdout) {
			got[l] = true
		}
		wantIfaces := map[string]bool{
			"0\tclient\ttcplab host client 10.0.0.1": true,
			"1\tserver\ttcplab host server 10.0.0.2": true,
		}
		if !maps.Equal(got, wantIfaces) {
			t.Errorf("%s: got interfaces %q, want %q", r.call, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(wantIfaces)))
		}
	})

	t.Run("timestamps", func(t *testing.T) {
		// Each frame's timestamp is topology.Epoch plus its timeline time.
		r := mustTool(t, tshark, "-r", file, "-T", "fields", "-e", "frame.time_epoch")
		rows := lines(r.stdout)
		if len(rows) != len(frames) {
			t.Fatalf("%s: %d frames, want %d", r.call, len(rows), len(frames))
		}
		epoch := time.Duration(topology.Epoch.UnixNano())
		for i, row := range rows {
			at, err := parseSeconds(row)
			if err != nil {
				t.Fatalf("%s: frame %d: %v", r.call, i+1, err)
			}
			if got, want := at-epoch, frames[i].at; got != want {
				t.Errorf("%s: frame %d: got %v after the epoch, want %v (timeline row %q)", r.call, i+1, got, want, frames[i].line)
			}
		}
	})

	t.Run("checksums", func(t *testing.T) {
		// 1 is "good" in Wireshark's checksum status.
		r := mustTool(t, tshark, "-r", file, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
			"-T", "fields", "-e", "ip.checksum.status", "-e", "tcp.checksum.status")
		rows := lines(r.stdout)
		if len(rows) != len(want) {
			t.Fatalf("%s: %d frames, want %d", r.call, len(rows), len(want))
		}
		for i, row := range rows {
			if row != "1\t1" {
				t.Errorf("%s: frame %d: got IP/TCP checksum status %q, want %q (good, good)", r.call, i+1, row, "1\t1")
			}
		}
	})

	t.Run("expert", func(t *testing.T) {
		// No malformed frame and no expert info at warning level (0x600000)
		// or above in a clean close.
		r := mustTool(t, tshark, "-r", file, "-Y", "_ws.malformed || _ws.expert.severity >= 6291456")
		if r.stdout != "" {
			t.Errorf("%s: got frames\n%s\nwant none", r.call, r.stdout)
		}
	})

	t.Run("conversations", func(t *testing.T) {
		r := mustTool(t, tshark, "-r", file, "-q", "-z", "conv,tcp")
		var convs []string
		for _, l := range lines(r.stdout) {
			if strings.Contains(l, "<->") {
				convs = append(convs, l)
			}
		}
		if len(convs) != 1 {
			t.Fatalf("%s: got %d conversations, want 1\nstdout:\n%s", r.call, len(convs), r.stdout)
		}
		clientPort := strings.TrimPrefix(frames[0].src, "client:")
		re := regexp.MustCompile(`^10\.0\.0\.1:` + clientPort + `\s+<->\s+10\.0\.0\.2:80\s+(\d+)\s+\d+ bytes\s+(\d+)\s+\d+ bytes\s+(\d+)\s+\d+ bytes\s`)
		m := re.FindStringSubmatch(convs[0])
		if m == nil {
			t.Fatalf("%s: got conversation %q, want it to match %q", r.call, convs[0], re)
		}
		fromClient := 0
		for _, w := range want {
			if w.src == "client" {
				fromClient++
			}
		}
		got := m[1] + " " + m[2] + " " + m[3]
		wantCounts := fmt.Sprintf("%d %d %d", len(want)-fromClient, fromClient, len(want))
		if got != wantCounts {
			t.Errorf("%s: got frames <- -> total %q, want %q", r.call, got, wantCounts)
		}
	})

	t.Run("tcpdump", func(t *testing.T) {
		r := mustTool(t, tcpdump, "-nr", file)
		if !strings.Contains(r.stderr, "link-type IPV4") {
			t.Errorf("%s: got stderr %q, want it to mention link-type IPV4", r.call, r.stderr)
		}
		rows := lines(r.stdout)
		if len(rows) != len(want) {
			t.Fatalf("%s: got %d packets, want %d\nstdout:\n%s", r.call, len(rows), len(want), r.stdout)
		}
		tcpdumpFlags := map[string]string{"S": "S", "AS": "S.", "A": ".", "AP": "P.", "AF": "F."}
		addr := map[string]string{"client": "10.0.0.1", "server": "10.0.0.2"}
		for i, w := range want {
			fr := frames[i]
			port := func(hp string) string { return hp[strings.LastIndexByte(hp, ':')+1:] }
			// tcpdump prints the time of day, here in UTC.
			prefix := fmt.Sprintf("%s IP %s.%s > %s.%s: Flags [%s]",
				topology.Epoch.Add(fr.at).UTC().Format("15:04:05.000000"),
				addr[w.src], port(fr.src), addr[w.dst], port(fr.dst), tcpdumpFlags[w.flags])
			if !strings.HasPrefix(rows[i], prefix) {
				t.Errorf("%s: packet %d: got %q, want it to start with %q", r.call, i+1, rows[i], prefix)
			}
		}
	})
}

// TestPcapMixedFamilies checks the capture of a lab with IPv4 and IPv6 hosts:
// tshark reads every frame, while tcpdump (libpcap) refuses the file because
// its interfaces have different link types, as tap.WritePcapng documents.
func TestPcapMixedFamilies(t *testing.T) {
	tshark := needTool(t, "tshark")
	tcpdump := needTool(t, "tcpdump")

	file := filepath.Join(t.TempDir(), "lossy.pcapng")
	run := tcplab(t, "run", "../../labs/testdata/lossy.toml", "--pcap", file)
	if run.code != exitOK {
		t.Fatalf("execute(%q) = %d, want %d\nstderr:\n%s", run.args, run.code, exitOK, run.stderr)
	}
	frames := timelineFrames(t, run.stdout)
	if n := summaryFrames(t, run); n != len(frames) || n == 0 {
		t.Fatalf("execute(%q): %d frame rows in the timeline but %d frames in the summary, want equal and non-zero", run.args, len(frames), n)
	}

	t.Run("tshark", func(t *testing.T) {
		r := mustTool(t, tshark, "-r", file, "-T", "fields", "-e", "frame.number", "-e", "ip.version", "-e", "frame.comment")
		rows := lines(r.stdout)
		if len(rows) != len(frames) {
			t.Fatalf("%s: got %d frames, want %d (the timeline's)", r.call, len(rows), len(frames))
		}
		versions := map[string]int{}
		for i, row := range rows {
			f := strings.SplitN(row, "\t", 3)
			if len(f) != 3 || f[0] != strconv.Itoa(i+1) || f[2] == "" {
				t.Errorf("%s: row %d: got %q, want frame number %d, an IP version and a comment", r.call, i+1, row, i+1)
				continue
			}
			versions[f[1]]++
		}
		if versions["4"] == 0 || versions["6"] == 0 || versions["4"]+versions["6"] != len(frames) {
			t.Errorf("%s: got IP versions %v, want both 4 and 6 and nothing else", r.call, versions)
		}
	})

	t.Run("tcpdump", func(t *testing.T) {
		r := runTool(t, tcpdump, "-nr", file)
		const wantErr = "different from the type of the first interface"
		if r.code == 0 || !strings.Contains(r.stderr, wantErr) {
			t.Errorf("%s: got exit status %d and stderr %q, want a non-zero status and %q (libpcap reads only files whose interfaces share one link type)", r.call, r.code, r.stderr, wantErr)
		}
	})
}
