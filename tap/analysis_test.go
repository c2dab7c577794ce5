package tap

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/pcapng"
	"github.com/tcplab/tcplab/internal/segment"
)

// The tests below run hand-built conversations between client
// 10.0.0.1:40000 and server 10.0.0.2:80 through the analyzer and check
// every frame's analysis. Each segment is one line:
//
//	TIME DIR FLAGS [seq=N] [ack=N] [len=N] [win=N] [ws=N] [isn=N] [=> FLAGS] [dup=N/F]
//
// TIME is a Go duration; DIR is "c>s" or "s>c"; FLAGS are letters S A F R
// P; seq is relative to the sender's ISN and ack to the receiver's (ack is
// sent only with A); win is the raw window field (default 1000); ws adds a
// window scale option; isn changes the sender's ISN from this segment on.
// After "=>" come the tcp.analysis names the frame must have (none: no
// flags), and dup= the duplicate ACK number and the frame it repeats.
//
// TestAnalyzeCasesWithTshark checks the same expectations against tshark,
// so they are Wireshark's and not only this package's opinion.

var (
	aClient = netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), 40000)
	aServer = netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), 80)
)

// Initial sequence numbers; the server's is above 2^31 so that sequence
// comparisons must wrap correctly.
const (
	isnClient = 1_000_000
	isnServer = 3_000_000_000
)

// handshake is a three-way handshake with a first round trip of 20 ms.
var handshake = []string{
	"0s c>s S",
	"10ms s>c SA ack=1",
	"20ms c>s A seq=1 ack=1",
}

// analysisCase is one hand-built conversation.
type analysisCase struct {
	name string
	segs []string
}

var analysisCases = []analysisCase{
	{"clean conversation", join(handshake,
		"1s c>s PA seq=1 ack=1 len=100",
		"1.01s s>c A seq=1 ack=101",
		"1.02s s>c PA seq=1 ack=101 len=50",
		"1.03s c>s A seq=101 ack=51",
		"2s c>s FA seq=101 ack=51",
		"2.01s s>c FA seq=51 ack=102",
		"2.02s c>s A seq=102 ack=52",
	)},
	{"timeout retransmission", join(handshake,
		"1s c>s PA seq=1 ack=1 len=100",
		"1.3s c>s PA seq=1 ack=1 len=100 => retransmission",
		"1.31s s>c A seq=1 ack=101",
	)},
	{"spurious retransmission", join(handshake,
		"1s c>s PA seq=1 ack=1 len=100",
		"1.01s s>c A seq=1 ack=101",
		"1.3s c>s PA seq=1 ack=1 len=100 => spurious_retransmission,retransmission",
	)},
	{"retransmitted FIN and SYN-ACK", join([]string{
		"0s c>s S",
		"10ms s>c SA ack=1",
		"1s s>c SA ack=1 => retransmission",
		"1.01s c>s A seq=1 ack=1"},
		"2s c>s FA seq=1 ack=1",
		"2.5s c>s FA seq=1 ack=1 => retransmission",
	)},
	{"lost segment, duplicate ACKs, fast retransmission", join(handshake,
		"1s c>s PA seq=1 ack=1 len=100",
		"1.001s c>s PA seq=201 ack=1 len=100 => lost_segment",
		"1.002s c>s PA seq=301 ack=1 len=100",
		"1.02s s>c A seq=1 ack=101",
		"1.021s s>c A seq=1 ack=101 => duplicate_ack dup=1/7",
		"1.022s s>c A seq=1 ack=101 => duplicate_ack dup=2/7",
		"1.023s c>s PA seq=101 ack=1 len=100 => fast_retransmission,retransmission",
		"1.04s s>c A seq=1 ack=401",
	)},
	{"one duplicate ACK is not enough for a fast retransmission", join(handshake,
		"1s c>s PA seq=1 ack=1 len=100",
		"1.001s c>s PA seq=201 ack=1 len=100 => lost_segment",
		"1.02s s>c A seq=1 ack=101",
		"1.021s s>c A seq=1 ack=101 => duplicate_ack dup=1/6",
		"1.03s c>s PA seq=101 ack=1 len=100 => retransmission",
	)},
	{"fast retransmission only within 20 ms of the last duplicate ACK", join(handshake,
		"1s c>s PA seq=1 ack=1 len=100",
		"1.001s c>s PA seq=201 ack=1 len=100 => lost_segment",
		"1.02s s>c A seq=1 ack=101",
		"1.021s s>c A seq=1 ack=101 => duplicate_ack dup=1/6",
		"1.022s s>c A seq=1 ack=101 => duplicate_ack dup=2/6",
		"1.042s c>s PA seq=101 ack=1 len=100 => retransmission",
	)},
	{"a window change is not a duplicate ACK", join(handshake,
		"1s c>s PA seq=1 ack=1 len=100",
		"1.01s s>c A seq=1 ack=101",
		"1.02s s>c A seq=1 ack=101 win=2000 => window_update",
		"1.03s s>c A seq=1 ack=101 win=2000 => duplicate_ack dup=1/5",
	)},
	{"out of order within the first round trip", join([]string{
		"0s c>s S",
		"100ms s>c SA ack=1",
		"200ms c>s A seq=1 ack=1"},
		"1s c>s PA seq=1 ack=1 len=100",
		"1.001s c>s PA seq=201 ack=1 len=100 => lost_segment",
		"1.15s c>s PA seq=101 ack=1 len=100 => out_of_order",
		"1.5s c>s PA seq=101 ack=1 len=100 => retransmission",
	)},
	{"out of order within 3 ms when the round trip is unknown", []string{
		"1s c>s PA seq=1 ack=1 len=100",
		"1.001s c>s PA seq=201 ack=1 len=100 => lost_segment",
		"1.003s c>s PA seq=101 ack=1 len=100 => out_of_order",
		"1.0041s c>s PA seq=101 ack=1 len=100 => retransmission",
	}},
	{"keepalives and their ACKs", join(handshake,
		"1s c>s PA seq=1 ack=1 len=10",
		"1.01s s>c A seq=1 ack=11",
		"61s c>s A seq=10 ack=1 => keep_alive",
		"61.01s s>c A seq=1 ack=11 => keep_alive_ack",
		"122s c>s A seq=10 ack=1 len=1 => keep_alive",
		"122.01s s>c A seq=1 ack=11 => keep_alive_ack",
		"123s s>c A seq=1 ack=11 => keep_alive_ack",
		"124s c>s PA seq=11 ack=1 len=5",
		"124.01s s>c A seq=1 ack=16",
		"125s s>c A seq=1 ack=16 => duplicate_ack dup=1/12",
	)},
	{"zero window, probes, window update, window full", join(handshake,
		"1s c>s PA seq=1 ack=1 len=500",
		"1.01s s>c A seq=1 ack=501 win=0 => zero_window",
		"1.2s c>s A seq=501 ack=1 len=1 => zero_window_probe",
		"1.21s s>c A seq=1 ack=501 win=0 => zero_window,zero_window_probe_ack",
		"1.6s c>s A seq=501 ack=1 len=1 => zero_window_probe",
		"1.61s s>c A seq=1 ack=501 win=0 => zero_window,zero_window_probe_ack",
		"2s s>c A seq=1 ack=501 win=1000 => window_update",
		"2.01s c>s PA seq=501 ack=1 len=1000 => window_full",
	)},
	{"window full with scaling, unscaled until the first ACK", []string{
		"0s c>s S win=1000 ws=7",
		"10ms s>c SA ack=1 win=100 ws=7",
		"20ms c>s A seq=1 ack=1 win=8",
		"30ms c>s PA seq=1 ack=1 len=100 win=8 => window_full",
		"40ms s>c A seq=1 ack=101 win=2",
		"50ms c>s PA seq=101 ack=1 len=256 win=8 => window_full",
		"60ms s>c A seq=1 ack=357 win=2",
		"70ms c>s PA seq=357 ack=1 len=2 win=8",
	}},
	{"no scaling when only the SYN offers it", []string{
		"0s c>s S win=1000 ws=7",
		"10ms s>c SA ack=1 win=100",
		"20ms c>s A seq=1 ack=1 win=8",
		"40ms s>c A seq=1 ack=1 win=2 => window_update",
		"50ms c>s PA seq=1 ack=1 len=2 win=8 => window_full",
	}},
	{"no scaling when only the SYN-ACK offers it", []string{
		"0s c>s S win=1000",
		"10ms s>c SA ack=1 win=100 ws=7",
		"20ms c>s A seq=1 ack=1 win=8",
		"40ms s>c A seq=1 ack=1 win=2 => window_update",
		"50ms c>s PA seq=1 ack=1 len=2 win=8 => window_full",
	}},
	{"retransmitted SYN, then a new SYN on the same ports", join([]string{
		"0s c>s S",
		"1s c>s S => retransmission",
		"1.01s s>c SA ack=1",
		"1.02s c>s A seq=1 ack=1"},
		"2s c>s FA seq=1 ack=1",
		"2.01s s>c FA seq=1 ack=2",
		"2.02s c>s A seq=2 ack=2",
		"100s c>s S isn=7777 => reused_ports",
		"100.01s s>c SA ack=1 isn=99999",
		"100.02s c>s A seq=1 ack=1",
		"100.03s c>s PA seq=1 ack=1 len=10",
	)},
	{"a RST between two SYNs", []string{
		"0s c>s S",
		"0.5s c>s R seq=4000",
		"1s c>s S => retransmission",
		"1.01s s>c SA ack=1",
		"1.02s c>s A seq=1 ack=1",
		"1.5s c>s PA seq=1 ack=1 len=10",
	}},
	{"a SYN-ACK with a new ISN", []string{
		"0s c>s S",
		"10ms s>c SA ack=1",
		"1s s>c SA ack=1 isn=2999999000 => reused_ports,retransmission",
		"2s s>c SA ack=1 => retransmission",
		"2.01s c>s A seq=1 ack=1",
	}},
	{"ACK of a segment that was not captured", join(handshake,
		"1s c>s PA seq=1 ack=1 len=10",
		"1.001s c>s PA seq=21 ack=1 len=10 => lost_segment",
		"1.01s s>c A seq=1 ack=31 => ack_lost_segment",
		"1.02s s>c PA seq=1 ack=31 len=5",
		"1.03s c>s A seq=31 ack=6",
		"1.04s s>c A seq=6 ack=31 => duplicate_ack dup=1/6",
		"1.05s c>s PA seq=31 ack=6 len=10",
	)},
	{"data behind a RST's sequence number", join(handshake,
		"1s c>s PA seq=1 ack=1 len=10",
		"1.1s c>s RA seq=4000 ack=1",
		"1.2s c>s PA seq=11 ack=1 len=10 => retransmission",
	)},
	{"new data that repeats the last byte sent is not a retransmission", join(handshake,
		"1s c>s PA seq=1 ack=1 len=100",
		"2s c>s PA seq=100 ack=1 len=50",
		"3s c>s PA seq=149 ack=1 len=1 => keep_alive",
	)},
	{"spurious retransmission within the first round trip", join(handshake,
		"1s c>s PA seq=1 ack=1 len=100",
		"1.001s c>s PA seq=101 ack=1 len=100",
		"1.002s s>c A seq=1 ack=201",
		"1.003s c>s PA seq=1 ack=1 len=100 => spurious_retransmission,retransmission",
	)},
	{"a FIN again within the first round trip", join(handshake,
		"1s c>s FA seq=1 ack=1",
		"1.001s c>s FA seq=1 ack=1 => retransmission",
	)},
	{"RST and SYN are never keepalives, window updates or duplicate ACKs", join(handshake,
		"1s c>s PA seq=1 ack=1 len=10",
		"1.01s s>c A seq=1 ack=11",
		"1.02s c>s RA seq=10 ack=1",
		"1.03s s>c RA seq=1 ack=11 win=0",
	)},
}

// unackedLimitCase sends n one-byte segments that the server never
// acknowledges, then a FIN and an ACK. Wireshark stops recording unacked
// segments at 10000 and then forgets that a FIN takes a sequence number, so
// the ACK after the FIN looks like it skips a segment.
func unackedLimitCase(n int) analysisCase {
	segs := []string{"0s c>s S", "10ms s>c SA ack=1 win=65535", "20ms c>s A seq=1 ack=1"}
	at := time.Second
	for i := range n {
		segs = append(segs, fmt.Sprintf("%v c>s PA seq=%d ack=1 len=1", at, 1+i))
		at += time.Microsecond
	}
	last := fmt.Sprintf("%v c>s A seq=%d ack=1", at+time.Microsecond, n+2)
	if n >= maxUnacked {
		last += " => lost_segment"
	} else {
		last += " => duplicate_ack dup=1/3"
	}
	segs = append(segs, fmt.Sprintf("%v c>s FA seq=%d ack=1", at, n+1), last)
	return analysisCase{fmt.Sprintf("FIN after %d unacknowledged segments", n), segs}
}

func join(a []string, b ...string) []string { return append(append([]string(nil), a...), b...) }

// builtSeg is a parsed segment line with its expectations.
type builtSeg struct {
	line   string
	at     time.Duration
	c2s    bool
	pkt    []byte
	seg    *segment.Segment
	want   Analysis
	dupNum int
	dupOf  int
}

// iface is the index of the sending host's capture interface.
func (s builtSeg) iface() int {
	if s.c2s {
		return 0
	}
	return 1
}

// caseFlags are the flag letters of a segment line.
var caseFlags = map[rune]segment.Flags{'S': segment.SYN, 'A': segment.ACK, 'F': segment.FIN, 'R': segment.RST, 'P': segment.PSH}

// buildSegs parses a conversation; the client uses port clientPort.
func buildSegs(t *testing.T, lines []string, clientPort uint16) []builtSeg {
	t.Helper()
	isn := map[bool]uint32{true: isnClient, false: isnServer}
	var out []builtSeg
	for _, line := range lines {
		spec, wantText, _ := strings.Cut(line, "=>")
		f := strings.Fields(spec)
		if len(f) < 3 {
			t.Fatalf("segment %q: want TIME DIR FLAGS", line)
		}
		at, err := time.ParseDuration(f[0])
		if err != nil {
			t.Fatalf("segment %q: %v", line, err)
		}
		s := builtSeg{line: line, at: at}
		switch f[1] {
		case "c>s":
			s.c2s = true
		case "s>c":
		default:
			t.Fatalf("segment %q: direction %q, want c>s or s>c", line, f[1])
		}
		var flags segment.Flags
		for _, c := range f[2] {
			bit, ok := caseFlags[c]
			if !ok {
				t.Fatalf("segment %q: unknown flag %q", line, c)
			}
			flags |= bit
		}
		v := map[string]uint64{"win": 1000}
		var opts []tcpOpt
		for _, kv := range f[3:] {
			k, val, ok := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(val, 10, 32)
			if !ok || err != nil {
				t.Fatalf("segment %q: bad %q", line, kv)
			}
			switch k {
			case "seq", "ack", "len", "win":
				v[k] = n
			case "ws":
				opts = append(opts, optWS(byte(n)))
			case "isn":
				isn[s.c2s] = uint32(n)
			default:
				t.Fatalf("segment %q: unknown key %q", line, k)
			}
		}
		var ack uint32
		if flags&segment.ACK != 0 {
			ack = isn[!s.c2s] + uint32(v["ack"])
		}
		client := netip.AddrPortFrom(aClient.Addr(), clientPort)
		src, dst := aServer, client
		if s.c2s {
			src, dst = client, aServer
		}
		s.pkt = tcpSpec{src: src, dst: dst, flags: flags, seq: isn[s.c2s] + uint32(v["seq"]), ack: ack,
			win: uint16(v["win"]), opts: opts, payload: strings.Repeat("x", int(v["len"]))}.build()
		seg, err := segment.Parse(s.pkt)
		if err != nil {
			t.Fatalf("segment %q: built a packet that does not parse: %v", line, err)
		}
		s.seg = &seg

		for _, w := range strings.Fields(wantText) {
			if n, ok := strings.CutPrefix(w, "dup="); ok {
				if _, err := fmt.Sscanf(n, "%d/%d", &s.dupNum, &s.dupOf); err != nil {
					t.Fatalf("segment %q: bad %q", line, w)
				}
				continue
			}
			for _, name := range strings.Split(w, ",") {
				i := indexOf(analysisNames, name)
				if i < 0 {
					t.Fatalf("segment %q: unknown analysis flag %q", line, name)
				}
				s.want |= 1 << i
			}
		}
		out = append(out, s)
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// allAnalysisCases returns the table and the generated cases.
func allAnalysisCases() []analysisCase {
	return append(analysisCases, unackedLimitCase(maxUnacked-1), unackedLimitCase(maxUnacked))
}

// TestAnalyze checks the analyzer on each hand-built conversation, frame by
// frame, and that the conversations expect every flag somewhere.
func TestAnalyze(t *testing.T) {
	var all Analysis
	for _, tc := range allAnalysisCases() {
		for _, s := range buildSegs(t, tc.segs, aClient.Port()) {
			all |= s.want
		}
	}
	for i, n := range analysisNames {
		if all&(1<<i) == 0 {
			t.Errorf("no case expects %s; add one", n)
		}
	}
	for _, tc := range allAnalysisCases() {
		t.Run(tc.name, func(t *testing.T) {
			a := newAnalyzer()
			for i, s := range buildSegs(t, tc.segs, aClient.Port()) {
				got, num, of := a.analyze(i+1, s.at, s.seg)
				if got != s.want || num != s.dupNum || of != s.dupOf {
					t.Errorf("analyze(%d, %v, %q) = %q dup=%d/%d, want %q dup=%d/%d",
						i+1, s.at, s.line, got, num, of, s.want, s.dupNum, s.dupOf)
				}
			}
		})
	}
}

// TestAnalysisNames checks the names of the flags, as JSON and tshark's
// field names spell them.
func TestAnalysisNames(t *testing.T) {
	tests := []struct {
		in   Analysis
		want string
	}{
		{0, ""},
		{Retransmission, "retransmission"},
		{FastRetransmission | Retransmission, "retransmission,fast_retransmission"},
		{DupAck | ZeroWindow, "duplicate_ack,zero_window"},
		{AckedUnseen, "ack_lost_segment"},
		{PortsReused, "reused_ports"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Analysis(%#x).String() = %q, want %q", uint32(tt.in), got, tt.want)
		}
	}
	if got := Analysis(0).Names(); got != nil {
		t.Errorf("Analysis(0).Names() = %q, want nil", got)
	}
}

// TestAnalyzeCasesWithTshark checks that the expectations of the
// hand-built conversations are Wireshark's: it writes all of them, each on
// its own client port and 1000 s after the previous one, into one pcapng
// and compares tshark's analysis of every frame. Under CI it fails when
// tshark is missing.
func TestAnalyzeCasesWithTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("tshark oracle skipped in -short mode")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("tshark is required under CI: %v", err)
		}
		t.Skipf("tshark not installed: %v", err)
	}
	type span struct {
		first int // frame number of the case's first segment
		segs  []builtSeg
	}
	cases := allAnalysisCases()
	spans := make([]span, len(cases))
	var buf bytes.Buffer
	w := pcapng.NewWriter(&buf)
	w.AddInterface("client", "tcplab host client 10.0.0.1", pcapng.LinkTypeIPv4)
	w.AddInterface("server", "tcplab host server 10.0.0.2", pcapng.LinkTypeIPv4)
	w.AddName(aClient.Addr(), "client")
	w.AddName(aServer.Addr(), "server")
	var start time.Duration
	frames := 0
	for i, tc := range cases {
		segs := buildSegs(t, tc.segs, aClient.Port()+uint16(i))
		spans[i] = span{first: frames + 1, segs: segs}
		for _, s := range segs {
			if err := w.WritePacket(s.iface(), baseTime.Add(start+s.at), s.pkt, ""); err != nil {
				t.Fatalf("WritePacket: %v", err)
			}
			frames++
		}
		start += segs[len(segs)-1].at + 1000*time.Second
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	file := filepath.Join(t.TempDir(), "cases.pcapng")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Reassembly runs after the sequence analysis and does not change it,
	// but takes tshark seconds over thousands of one-byte segments.
	args := []string{"-r", file, "-n", "-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields", "-E", "occurrence=f"}
	for _, n := range analysisNames {
		args = append(args, "-e", "tcp.analysis."+n)
	}
	args = append(args, "-e", "tcp.analysis.duplicate_ack_num", "-e", "tcp.analysis.duplicate_ack_frame")
	stdout, stderr, err := run(tshark, args...)
	if err != nil {
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(got) != frames {
		t.Fatalf("tshark printed %d frames, want %d", len(got), frames)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sp := spans[i]
			for j, s := range sp.segs {
				no := sp.first + j
				f := strings.Split(got[no-1], "\t")
				if len(f) != len(analysisNames)+2 {
					t.Fatalf("tshark: frame %d: got %d fields, want %d", no, len(f), len(analysisNames)+2)
				}
				var a Analysis
				for k := range analysisNames {
					if f[k] != "" {
						a |= 1 << k
					}
				}
				num, _ := strconv.Atoi(f[len(analysisNames)])
				of, _ := strconv.Atoi(f[len(analysisNames)+1])
				if of != 0 {
					of -= sp.first - 1 // back to the case's own numbering
				}
				if a != s.want || num != s.dupNum || of != s.dupOf {
					t.Errorf("tshark: frame %d %q: got %q dup=%d/%d, want %q dup=%d/%d", j+1, s.line, a, num, of, s.want, s.dupNum, s.dupOf)
				}
			}
		})
	}
}

// run runs a command and returns what it printed.
func run(name string, args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// TestForgetAsFullWalk checks flowAnalysis.forget, which looks only at
// the segments ahead of the ACK while they are in order, against the full
// walk Wireshark does, over random sends (new data, retransmissions of
// older data, SYN and FIN) and ACKs (cumulative, partial, old, beyond),
// near sequence number wrap-around.
func TestForgetAsFullWalk(t *testing.T) {
	full := func(us []unacked, ack uint32) []unacked {
		var kept []unacked
		for _, u := range us {
			if ack != u.next && gtSeq(ack, u.seq) && leSeq(ack, u.next) {
				u.seq = ack
			}
			if ack != u.next && gtSeq(u.next, ack) {
				kept = append(kept, u)
			}
		}
		return kept
	}
	rng := rand.New(rand.NewPCG(1, 2))
	disorders := 0
	for run := range 200 {
		f := &flowAnalysis{}
		var want []unacked
		base := uint32(math.MaxUint32 - 5000 + run*37)
		next, acked := base, base
		for range 300 {
			if rng.IntN(3) > 0 {
				seq, n := next, uint32(1+rng.IntN(1460))
				if rng.IntN(8) == 0 && next != acked {
					seq = acked + uint32(rng.IntN(int(next-acked))) // older data again
				}
				u := unacked{seq: seq, next: seq + n}
				if len(f.unacked) > 0 && ltSeq(seq, f.unacked[len(f.unacked)-1].seq) {
					disorders++
				}
				f.track(u)
				want = append(want, u)
				if gtSeq(u.next, next) {
					next = u.next
				}
				continue
			}
			span := int(next-acked) + 200
			ack := acked - 100 + uint32(rng.IntN(span))
			f.forget(ack)
			want = full(want, ack)
			if !slices.Equal(f.unacked, want) {
				t.Fatalf("run %d: after ACK %d: forget left %v, the full walk %v", run, ack, f.unacked, want)
			}
			if gtSeq(ack, acked) && leSeq(ack, next) {
				acked = ack
			}
		}
	}
	if disorders == 0 {
		t.Fatal("no retransmission of older data was tried: the disordered path went untested")
	}
}
