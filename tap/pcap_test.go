package tap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/segment"
)

// samplePcap returns the sample's capture in view.
func samplePcap(t testing.TB, view PcapView, lang i18n.Lang) []byte {
	t.Helper()
	var buf bytes.Buffer
	var pw *PcapWriter
	sample(t, func(tp *Tap) Sink { pw = tp.NewPcapWriter(&buf, view, baseTime, lang); return pw })
	if err := pw.Flush(); err != nil {
		t.Fatalf("PcapWriter.Flush() = %v, want nil", err)
	}
	return buf.Bytes()
}

// pcapPacket is one Enhanced Packet Block.
type pcapPacket struct {
	iface   int
	at      time.Duration // since baseTime
	data    []byte
	comment string
}

// pcapPackets reads the interfaces' names and the packets of a pcapng
// file as the tap's writer lays it out (one section, little-endian,
// nanosecond timestamps).
func pcapPackets(t testing.TB, b []byte) []pcapPacket {
	t.Helper()
	_, pkts := pcapRead(t, b)
	return pkts
}

func pcapRead(t testing.TB, b []byte) (ifaces []string, pkts []pcapPacket) {
	t.Helper()
	le := binary.LittleEndian
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatalf("pcapng: %d bytes left, too short for a block", len(b))
		}
		typ, n := le.Uint32(b), int(le.Uint32(b[4:]))
		if n < 12 || n > len(b) || n%4 != 0 || int(le.Uint32(b[n-4:])) != n {
			t.Fatalf("pcapng: block %#x has a bad length %d", typ, n)
		}
		body := b[8 : n-4]
		switch typ {
		case 1: // IDB: link type, reserved, snap length, options
			for _, o := range pcapOptions(body[8:]) {
				if o.code == 2 {
					ifaces = append(ifaces, string(o.val))
				}
			}
		case 6: // EPB
			ts := int64(le.Uint32(body[4:]))<<32 | int64(le.Uint32(body[8:]))
			capLen := int(le.Uint32(body[12:]))
			p := pcapPacket{iface: int(le.Uint32(body)), at: time.Duration(ts - baseTime.UnixNano()), data: body[20 : 20+capLen]}
			for _, o := range pcapOptions(body[20+(capLen+3)&^3:]) {
				if o.code == 1 {
					p.comment = string(o.val)
				}
			}
			pkts = append(pkts, p)
		}
		b = b[n:]
	}
	return ifaces, pkts
}

type pcapOption struct {
	code int
	val  []byte
}

func pcapOptions(b []byte) []pcapOption {
	var out []pcapOption
	for len(b) >= 4 {
		code, n := int(binary.LittleEndian.Uint16(b)), int(binary.LittleEndian.Uint16(b[2:]))
		if code == 0 || 4+n > len(b) {
			break
		}
		out = append(out, pcapOption{code, b[4 : 4+n]})
		b = b[4+(n+3)&^3:]
	}
	return out
}

// TestPcapViews checks both captures of the sample: the sent view has
// every frame, dropped or not, on its sender's interface at its emission
// time, with its notes as comment; the received view has every packet and
// copy that arrived, on its receiver's interface at its arrival time, as
// delivered (the corrupted one with its flipped bit), in arrival order.
func TestPcapViews(t *testing.T) {
	d := sample(t)
	_, rows := sampleRows(t)
	ifaces, sent := pcapRead(t, samplePcap(t, ViewSent, i18n.EN))
	if want := []string{"client", "server"}; !slices.Equal(ifaces, want) {
		t.Errorf("sent view: interfaces %v, want %v", ifaces, want)
	}
	var frames []*Row
	for _, r := range rows {
		if r.Kind == KindSegment || r.Kind == KindPacket {
			frames = append(frames, r)
		}
	}
	if len(sent) != len(frames) {
		t.Fatalf("sent view: %d packets, want one per frame (%d)", len(sent), len(frames))
	}
	for i, r := range frames {
		p := sent[i]
		if ifaces[p.iface] != r.Host || p.at != r.At || !bytes.Equal(p.data, r.Data) {
			t.Errorf("sent view: packet %d on %s at %v (%d bytes), want frame %d on %s at %v (%d bytes)", i+1, ifaces[p.iface], p.at, len(p.data), r.No, r.Host, r.At, len(r.Data))
		}
		if want := d.tap.NoteText(r, i18n.EN); p.comment != want {
			t.Errorf("sent view: packet %d comment %q, want the notes %q", i+1, p.comment, want)
		}
	}

	ifaces, recv := pcapRead(t, samplePcap(t, ViewReceived, i18n.EN))
	if want := []string{"client", "server"}; !slices.Equal(ifaces, want) {
		t.Errorf("received view: interfaces %v, want %v", ifaces, want)
	}
	// Frames 1, 2, 3, the copy of 3, 7 (corrupted), 8 and 9 arrived.
	type arrival struct {
		host    string
		at      time.Duration
		comment string
	}
	want := []arrival{
		{"server", 11 * ms, "[frame 1 as sent]"},
		{"client", 21 * ms, "[frame 2 as sent]"},
		{"server", 31 * ms, "[frame 3 as sent]"},
		{"server", 31 * ms, "[copy 1 of frame 3]"},
		{"server", 231 * ms, "[frame 7 as sent]"},
		{"server", 2010 * ms, "[frame 8 as sent]"},
		{"client", 2020 * ms, "[frame 9 as sent]"},
	}
	if len(recv) != len(want) {
		t.Fatalf("received view: %d packets, want %d", len(recv), len(want))
	}
	for i, w := range want {
		p := recv[i]
		if ifaces[p.iface] != w.host || p.at != w.at || !strings.HasPrefix(p.comment, w.comment) {
			t.Errorf("received view: packet %d on %s at %v %q, want on %s at %v %q...", i+1, ifaces[p.iface], p.at, p.comment, w.host, w.at, w.comment)
		}
	}
	sentData := d.sent[7].Data
	if bytes.Equal(recv[4].data, sentData) || len(recv[4].data) != len(sentData) {
		t.Errorf("received view: frame 7 arrived corrupted, but the capture has it as sent")
	}
	if _, err := segment.Parse(recv[4].data); err != nil {
		t.Errorf("received view: the corrupted frame 7 does not parse: %v", err)
	}
}

// TestPcapWriteError checks that a failing writer's error comes back,
// from the first packet on.
func TestPcapWriteError(t *testing.T) {
	var pw *PcapWriter
	d, err := sampleErr(t, func(tp *Tap) Sink { pw = tp.NewPcapWriter(failWriter{}, ViewSent, baseTime, i18n.EN); return pw })
	if !errors.Is(err, errWrite) {
		t.Errorf("Finish with a failing pcap writer = %v, want %v", err, errWrite)
	}
	if err := d.tap.Err(); !errors.Is(err, errWrite) {
		t.Errorf("Tap.Err() with a failing pcap writer = %v, want %v", err, errWrite)
	}
	if err := pw.Flush(); !errors.Is(err, errWrite) {
		t.Errorf("PcapWriter.Flush() on a failing writer = %v, want %v", err, errWrite)
	}
}

// TestPcapTshark has tshark read both captures of the sample, in both
// languages: every packet, its interface and its comment.
func TestPcapTshark(t *testing.T) {
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
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		for _, view := range []PcapView{ViewSent, ViewReceived} {
			file := samplePcap(t, view, lang)
			path := filepath.Join(t.TempDir(), "sample.pcapng")
			if err := os.WriteFile(path, file, 0o644); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, err := run(tshark, "-r", path, "-T", "fields", "-E", "separator=|", "-e", "frame.interface_name", "-e", "frame.comment")
			if err != nil {
				t.Fatalf("%s view %d: tshark: %v\n%s", lang, view, err, stderr)
			}
			got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			pkts := pcapPackets(t, file)
			if len(got) != len(pkts) {
				t.Fatalf("%s view %d: tshark read %d packets, want %d:\n%s", lang, view, len(got), len(pkts), stdout)
			}
			ifaces, _ := pcapRead(t, file)
			for i, l := range got {
				name, comment, _ := strings.Cut(l, "|")
				if name != ifaces[pkts[i].iface] || comment != pkts[i].comment {
					t.Errorf("%s view %d: packet %d: tshark read %q, want %q|%q", lang, view, i+1, l, ifaces[pkts[i].iface], pkts[i].comment)
				}
			}
		}
	}
}
