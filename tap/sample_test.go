package tap

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (go test ./tap -update)")

// segment builds a raw IPv4 TCP segment with an acknowledgement number. The
// TCP checksum is left stale: the tap does not check it.
func segment(src, dst netip.AddrPort, seq, ack uint32, flags header.TCPFlags, payload string) []byte {
	b := tcpPacket(src.Addr(), dst.Addr(), src.Port(), dst.Port(), seq, flags, payload)
	header.TCP(b[header.IPv4MinimumSize:]).SetAckNumber(ack)
	return b
}

// sampleTap returns a small timeline with a row of every kind: a listener,
// a handshake, a dropped data segment whose payload and notes hold the
// characters Mermaid cannot take, counters, a packet that is not TCP, a
// failed application step after a pause, and a segment to an address no
// host owns.
func sampleTap(t *testing.T, lang i18n.Lang) *Tap {
	t.Helper()
	ms := time.Millisecond
	cl := netip.AddrPortFrom(addrClient, 40000)
	sv := netip.AddrPortFrom(addrServer, 80)
	listener := netip.AddrPortFrom(netip.IPv4Unspecified(), 80)
	nowhere := netip.MustParseAddrPort("10.0.0.9:7")
	tp := New()
	tp.Lang = lang
	tp.AddHost("client", []netip.Addr{addrClient})
	tp.AddHost("server", []netip.Addr{addrServer})

	tp.State(0, "server", listener, netip.AddrPort{}, "CLOSED", "LISTEN", []i18n.Msg{i18n.M("cause.step", "listen")})
	tp.App(0, "server", "listen :80", "listening on port 80", "")
	tp.State(1*ms, "client", cl, sv, "CLOSED", "SYN_SENT", []i18n.Msg{i18n.M("cause.step", "connect")})
	tp.Packet(1*ms, 0, segment(cl, sv, 1000, 0, header.TCPFlagSyn, ""))
	tp.Queue(11*ms, "server", listener, 0, 17, 1)
	tp.State(11*ms, "server", sv, cl, "LISTEN", "SYN_RCVD", []i18n.Msg{i18n.M("cause.recv", "SYN", cl)})
	tp.Packet(11*ms, 1, segment(sv, cl, 5000, 1001, header.TCPFlagSyn|header.TCPFlagAck, ""))
	tp.State(21*ms, "client", cl, sv, "SYN_SENT", "ESTABLISHED", []i18n.Msg{i18n.M("cause.recv", "SYN-ACK", sv)})
	tp.Packet(21*ms, 0, segment(cl, sv, 1001, 5001, header.TCPFlagAck, ""))
	id := tp.Packet(21*ms, 0, segment(cl, sv, 1001, 5001, header.TCPFlagPsh|header.TCPFlagAck, "a;b#c<d>"))
	tp.Dropped(id, 21*ms, i18n.M("sw.loss", "client"))
	tp.Counter(21*ms, "server", "ListenOverflowSynDrop", 1, 1)
	tp.Counter(21*ms, "server", "SegmentsDropped", 2, 5)
	tp.Packet(25*ms, 0, []byte{0x45, 0, 0, 20})
	tp.Packet(30*ms, 0, segment(cl, nowhere, 1, 0, header.TCPFlagRst, ""))
	tp.App(2*time.Second, "client", `send "x;y"`, "", "connection reset by peer")
	tp.State(2*time.Second, "client", cl, sv, "ESTABLISHED", "CLOSED", []i18n.Msg{i18n.M("cause.timer")})

	// Wireshark's analysis is not computed yet on this branch; mark the
	// dropped segment as it would be, a retransmission, for the forms that
	// show it.
	tp.frames[id].Analysis = Retransmission
	return tp
}

// golden compares got with testdata/name, or rewrites the file with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tap -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test ./tap -update rewrites it):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff lists the lines that differ between want and got, by line
// number.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// ansi matches an ANSI CSI escape sequence.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// stripANSI removes the colour escapes from s.
func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }
