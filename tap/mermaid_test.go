package tap

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

func mermaid(t *testing.T, tp *Tap, opts MermaidOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := tp.WriteMermaid(&buf, opts); err != nil {
		t.Fatalf("WriteMermaid: %v", err)
	}
	return buf.String()
}

var (
	mmdArrow       = regexp.MustCompile(`^    (\w+)(->>|-x)(\w+): (.+)$`)
	mmdNote        = regexp.MustCompile(`^    Note over (\w+)(?:,(\w+))?: (.+)$`)
	mmdParticipant = regexp.MustCompile(`^    participant (\w+)(?: as (.+))?$`)
	mmdEntity      = regexp.MustCompile(`#(?:\d+|[a-z]+);`)
)

// TestMermaidStructure checks the diagram line by line: the header, one
// participant per host in host order and one for the address no host owns,
// one arrow per segment (lost arrows for drops), and only notes otherwise;
// and that no text holds a character Mermaid would read as syntax.
func TestMermaidStructure(t *testing.T) {
	for _, notes := range []bool{false, true} {
		tp := sampleTap(t, i18n.EN)
		out := mermaid(t, tp, MermaidOptions{Title: "sample — a; b # c", Notes: notes})
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if lines[0] != "sequenceDiagram" {
			t.Fatalf("line 1 = %q, want sequenceDiagram", lines[0])
		}
		if want := "    title sample — a#59; b #35; c"; lines[1] != want {
			t.Errorf("line 2 = %q, want %q", lines[1], want)
		}
		var participants []string
		arrows, lost, noteCount := 0, 0, 0
		for i, l := range lines[2:] {
			var text string
			switch {
			case mmdParticipant.MatchString(l):
				m := mmdParticipant.FindStringSubmatch(l)
				participants = append(participants, m[1]+"="+m[2])
				text = m[2]
			case mmdArrow.MatchString(l):
				m := mmdArrow.FindStringSubmatch(l)
				arrows++
				if m[2] == "-x" {
					lost++
				}
				text = m[4]
			case mmdNote.MatchString(l):
				noteCount++
				text = mmdNote.FindStringSubmatch(l)[3]
			default:
				t.Fatalf("line %d = %q: not a participant, an arrow or a note", i+3, l)
			}
			if bare := mmdEntity.ReplaceAllString(text, ""); strings.ContainsAny(bare, "#;<>\n") {
				t.Errorf("line %d = %q: unescaped #, ;, < or >", i+3, l)
			}
		}
		if want := []string{"client=", "server=", "p1=10.0.0.9"}; !equal(participants, want) {
			t.Errorf("participants = %v, want %v", participants, want)
		}
		if segs := len(tp.Segments()); arrows != segs {
			t.Errorf("notes=%v: %d arrows, want one per segment (%d)", notes, arrows, segs)
		}
		if lost != 1 {
			t.Errorf("notes=%v: %d lost arrows, want 1 (the dropped segment)", notes, lost)
		}
		if !strings.Contains(out, "    Note over client,p1: 1.97s later (t = 2.000000 s)\n") {
			t.Errorf("no note for the pause before 2 s:\n%s", out)
		}
		// Frames 1 to 4 pass between client and server; with Notes each
		// has its annotation over both, without Notes none does.
		want := 0
		if notes {
			want = 4
		}
		if got := strings.Count(out, "    Note over client,server: "); got != want {
			t.Errorf("notes=%v: %d notes over client,server, want %d:\n%s", notes, got, want, out)
		}
	}
}

func equal(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// TestMermaidLabels checks the arrow labels: short, with ack, length and
// window only where they say something.
func TestMermaidLabels(t *testing.T) {
	out := mermaid(t, sampleTap(t, i18n.EN), MermaidOptions{})
	for _, want := range []string{
		"    client->>server: [1] SYN seq=0 win=65535\n",
		"    server->>client: [2] SYN, ACK seq=0 ack=1 win=65535\n",
		"    client->>server: [3] ACK seq=1 ack=1\n",
		"    client-xserver: [4] PSH, ACK seq=1 ack=1 len=8 (dropped)\n",
		"    client->>p1: [6] RST seq=0\n",
		"    Note over server: CLOSED → LISTEN\n",
		"    Note over server: app: listen :80\n",
		"    Note over server: accept queue 0/17, half-open 1\n",
		"    Note over server: ListenOverflowSynDrop +1 = 1, SegmentsDropped +2 = 5\n",
		"    Note over client: frame 5: not a TCP segment: malformed IPv4 packet\n",
		"    Note over client: app: send \"x#59;y\" → error: connection reset by peer\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteMermaid output has no line %q:\n%s", strings.TrimSuffix(want, "\n"), out)
		}
	}
}

// TestMermaidChinese checks that notes and UI words follow the tap's
// language.
func TestMermaidChinese(t *testing.T) {
	out := mermaid(t, sampleTap(t, i18n.ZH), MermaidOptions{})
	for _, want := range []string{"（被丢弃）", "应用：listen :80", "全连接队列 0/17，半连接 1", "1.97s 之后（t = 2.000000 秒）"} {
		if !strings.Contains(out, want) {
			t.Errorf("Chinese diagram has no %q:\n%s", want, out)
		}
	}
}

// TestMermaidPorts checks that state notes name the local port only on a
// host with more than one endpoint.
func TestMermaidPorts(t *testing.T) {
	tp := New()
	tp.AddHost("client", []netip.Addr{addrClient})
	tp.AddHost("server", []netip.Addr{addrServer})
	sv := netip.AddrPortFrom(addrServer, 80)
	a, b := netip.AddrPortFrom(addrClient, 40000), netip.AddrPortFrom(addrClient, 40001)
	tp.State(0, "client", a, sv, "CLOSED", "SYN_SENT", nil)
	tp.State(0, "client", b, sv, "CLOSED", "SYN_SENT", nil)
	tp.State(0, "server", sv, a, "LISTEN", "SYN_RCVD", nil)
	out := mermaid(t, tp, MermaidOptions{})
	for _, want := range []string{
		"    Note over client: CLOSED → SYN_SENT (:40000)\n",
		"    Note over client: CLOSED → SYN_SENT (:40001)\n",
		"    Note over server: LISTEN → SYN_RCVD\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteMermaid output has no line %q:\n%s", strings.TrimSuffix(want, "\n"), out)
		}
	}
}

// TestMermaidAliases checks that host names Mermaid cannot read as they
// are get aliases, and that an alias never takes another host's name.
func TestMermaidAliases(t *testing.T) {
	tp := New()
	tp.AddHost("end", []netip.Addr{addrClient})
	tp.AddHost("p1", []netip.Addr{addrServer})
	tp.AddHost("web-1", []netip.Addr{netip.MustParseAddr("10.0.0.3")})
	tp.Packet(time.Millisecond, 0, segment(netip.AddrPortFrom(addrClient, 1), netip.AddrPortFrom(addrServer, 2), 0, 0, header.TCPFlagSyn, ""))
	out := mermaid(t, tp, MermaidOptions{})
	want := "sequenceDiagram\n" +
		"    participant p2 as end\n" +
		"    participant p1\n" +
		"    participant p3 as web-1\n" +
		"    p2->>p1: [1] SYN seq=0 win=65535\n"
	if out != want {
		t.Errorf("WriteMermaid =\n%s\nwant\n%s", out, want)
	}
}

func TestMermaidID(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"client", true},
		{"server_2", true},
		{"Router", true},
		{"", false},
		{"2fast", false},
		{"web-1", false},
		{"10.0.0.9", false},
		{"fd00::1", false},
		{"end", false},
		{"End", false},
		{"endpoint", false}, // older Mermaid reads the keyword "end" in it
		{"note", false},
		{"participant", false},
		{"主机", false},
	}
	for _, tt := range tests {
		if got := mermaidID(tt.name); got != tt.want {
			t.Errorf("mermaidID(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMermaidText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SYN seq=0", "SYN seq=0"},
		{"a; b", "a#59; b"},
		{"#1", "#35;1"},
		{"<br>", "#lt;br#gt;"},
		{"two\nlines", "two lines"},
		{"%% not a comment", "#37;% not a comment"},
		{"ack=1: fine", "ack=1: fine"},
		{"握手完成；可以传数据", "握手完成；可以传数据"}, // full-width ； is not ;
	}
	for _, tt := range tests {
		if got := mermaidText(tt.in); got != tt.want {
			t.Errorf("mermaidText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestMermaidGolden pins the whole diagram of the sample timeline.
func TestMermaidGolden(t *testing.T) {
	golden(t, "sample.mmd", []byte(mermaid(t, sampleTap(t, i18n.EN), MermaidOptions{Title: "sample"})))
}

// TestMermaidOracle has Mermaid itself parse the sample diagrams, in both
// languages, with and without notes, and checks that it reads every line as
// meant: the participants, and each arrow and note with its sender,
// receiver and text, entity codes decoded. It needs Node.js and a directory
// whose node_modules holds mermaid and jsdom, named by TCPLAB_MERMAID:
//
//	npm install --prefix /tmp/mermaid mermaid jsdom
//	TCPLAB_MERMAID=/tmp/mermaid go test ./tap -run MermaidOracle
func TestMermaidOracle(t *testing.T) {
	dir := os.Getenv("TCPLAB_MERMAID")
	if dir == "" {
		t.Skip("TCPLAB_MERMAID is not set (a directory with node_modules/mermaid and node_modules/jsdom)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	script, err := filepath.Abs(filepath.Join("testdata", "mermaid-parse.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	sources := map[string]string{}
	var files []string
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		for _, notes := range []bool{false, true} {
			src := mermaid(t, sampleTap(t, lang), MermaidOptions{Title: "sample — a; b", Notes: notes})
			f := filepath.Join(tmp, fmt.Sprintf("%s-notes-%v.mmd", lang, notes))
			if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			sources[f] = src
			files = append(files, f)
		}
	}
	// The script imports mermaid from the working directory's node_modules.
	if err := os.WriteFile(filepath.Join(dir, "mermaid-parse.mjs"), mustRead(t, script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, append([]string{"mermaid-parse.mjs"}, files...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node mermaid-parse.mjs: %v\n%s", err, out)
	}
	type message struct {
		Type     int
		From, To string
		Text     string
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var got struct {
			File     string
			OK       bool
			Error    string
			Actors   []struct{ ID, Name string }
			Messages []message
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("oracle output %q: %v", line, err)
		}
		name := filepath.Base(got.File)
		if !got.OK {
			t.Errorf("%s: Mermaid cannot parse it: %s\n%s", name, got.Error, sources[got.File])
			continue
		}
		var actors []string
		var want []message
		for _, l := range strings.Split(strings.TrimSuffix(sources[got.File], "\n"), "\n")[2:] {
			switch {
			case mmdParticipant.MatchString(l):
				m := mmdParticipant.FindStringSubmatch(l)
				actors = append(actors, m[1]+"="+cmp.Or(unescapeMermaid(m[2]), m[1]))
			case mmdArrow.MatchString(l):
				m := mmdArrow.FindStringSubmatch(l)
				typ := 0 // Mermaid's LINETYPE.SOLID
				if m[2] == "-x" {
					typ = 3 // LINETYPE.SOLID_CROSS
				}
				want = append(want, message{typ, m[1], m[3], unescapeMermaid(m[4])})
			case mmdNote.MatchString(l):
				m := mmdNote.FindStringSubmatch(l)
				want = append(want, message{2, m[1], cmp.Or(m[2], m[1]), unescapeMermaid(m[3])}) // LINETYPE.NOTE
			}
		}
		var gotActors []string
		for _, a := range got.Actors {
			gotActors = append(gotActors, a.ID+"="+a.Name)
		}
		if !equal(gotActors, actors) {
			t.Errorf("%s: Mermaid's participants = %v, want %v", name, gotActors, actors)
		}
		if len(got.Messages) != len(want) {
			t.Errorf("%s: Mermaid read %d arrows and notes, want %d", name, len(got.Messages), len(want))
			continue
		}
		for i := range want {
			if got.Messages[i] != want[i] {
				t.Errorf("%s: message %d = %+v, want %+v", name, i+1, got.Messages[i], want[i])
			}
		}
	}
}

// unescapeMermaid undoes mermaidText's entity codes.
func unescapeMermaid(s string) string {
	return strings.NewReplacer("#35;", "#", "#59;", ";", "#lt;", "<", "#gt;", ">", "#37;", "%").Replace(s)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
