package tap

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/mermaidjs"
)

// sampleMermaid returns the sample's Mermaid diagram.
func sampleMermaid(t testing.TB, opts MermaidOptions) string {
	t.Helper()
	var buf bytes.Buffer
	var mw *MermaidWriter
	sample(t, func(tp *Tap) Sink { mw = tp.NewMermaidWriter(&buf, opts); return mw })
	if err := mw.Flush(); err != nil {
		t.Fatalf("MermaidWriter.Flush() = %v, want nil", err)
	}
	return buf.String()
}

var (
	mmdArrow       = regexp.MustCompile(`^    (\w+)(->>|--x)(\w+): (.+)$`)
	mmdRect        = regexp.MustCompile(`^    rect (rgba?\([0-9., ]+\))$`)
	mmdNote        = regexp.MustCompile(`^    Note over (\w+)(?:,(\w+))?: (.+)$`)
	mmdParticipant = regexp.MustCompile(`^    participant (\w+)(?: as (.+))?$`)
	mmdEntity      = regexp.MustCompile(`#(?:\d+|[a-z]+);`)
)

// TestMermaidStructure checks the diagram line by line: the header, one
// participant per host in host order and one for the address no host owns,
// one arrow per segment (dotted lost arrows for drops, each RST alone in a
// rect), and only notes otherwise; and that no text holds a character
// Mermaid would read as syntax.
func TestMermaidStructure(t *testing.T) {
	_, rows := sampleRows(t)
	segs, lostWant, rstWant := 0, 0, 0
	for _, r := range rows {
		if r.Kind == KindSegment {
			segs++
			if r.Seg.Flags&fRST != 0 {
				rstWant++
			}
			if r.Dropped != nil || r.Arrival != nil && isDrop(r.Arrival.Verdict) {
				lostWant++
			}
		}
	}
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		for _, notes := range []bool{false, true} {
			out := sampleMermaid(t, MermaidOptions{Title: "sample — a; b # c", Lang: lang, Notes: notes})
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if lines[0] != "sequenceDiagram" {
				t.Fatalf("line 1 = %q, want sequenceDiagram", lines[0])
			}
			if want := "    title sample — a#59; b #35; c"; lines[1] != want {
				t.Errorf("line 2 = %q, want %q", lines[1], want)
			}
			var participants []string
			arrows, lost, overBoth, rsts := 0, 0, 0, 0
			inRect, rectArrows := false, 0
			for i, l := range lines[2:] {
				var text string
				switch {
				case mmdRect.MatchString(l):
					if inRect {
						t.Fatalf("%s notes=%v: line %d = %q: a rect inside a rect", lang, notes, i+3, l)
					}
					inRect, rectArrows = true, 0
					continue
				case l == "    end":
					if !inRect || rectArrows != 1 {
						t.Fatalf("%s notes=%v: line %d: an end without a rect around one arrow", lang, notes, i+3)
					}
					inRect = false
					continue
				case mmdParticipant.MatchString(l):
					m := mmdParticipant.FindStringSubmatch(l)
					participants = append(participants, m[1]+"="+m[2])
					text = m[2]
				case mmdArrow.MatchString(l):
					m := mmdArrow.FindStringSubmatch(l)
					arrows++
					if m[2] == "--x" {
						lost++
					}
					if strings.Contains(m[4], "] RST") {
						rsts++
						if !inRect {
							t.Errorf("%s notes=%v: line %d = %q: a RST outside a rect", lang, notes, i+3, l)
						}
					}
					if inRect {
						rectArrows++
					}
					text = m[4]
				case mmdNote.MatchString(l):
					m := mmdNote.FindStringSubmatch(l)
					if m[2] != "" {
						overBoth++
					}
					text = m[3]
				default:
					t.Fatalf("%s notes=%v: line %d = %q: not a participant, an arrow or a note", lang, notes, i+3, l)
				}
				if bare := mmdEntity.ReplaceAllString(strings.ReplaceAll(text, "<br/>", ""), ""); strings.ContainsAny(bare, "#;<>\n") {
					t.Errorf("%s notes=%v: line %d = %q: unescaped #, ;, < or >", lang, notes, i+3, l)
				}
			}
			if want := []string{"client=", "server=", "p1=10.0.0.9"}; !slices.Equal(participants, want) {
				t.Errorf("%s notes=%v: participants = %v, want %v", lang, notes, participants, want)
			}
			if arrows != segs {
				t.Errorf("%s notes=%v: %d arrows, want one per segment (%d)", lang, notes, arrows, segs)
			}
			if rsts != rstWant {
				t.Errorf("%s notes=%v: %d RST arrows, want %d", lang, notes, rsts, rstWant)
			}
			if lost != lostWant {
				t.Errorf("%s notes=%v: %d lost arrows, want %d (the segments dropped by the network or a stack)", lang, notes, lost, lostWant)
			}
			// One note over two participants for the pause; with Notes,
			// one after each arrow too.
			want := 1
			if notes {
				want += segs
			}
			if overBoth != want {
				t.Errorf("%s notes=%v: %d notes over two participants, want %d:\n%s", lang, notes, overBoth, want, out)
			}
		}
	}
}

// TestMermaidLabels checks the arrow labels (short, with ack, length and
// window only where they say something) and the notes of the other rows.
func TestMermaidLabels(t *testing.T) {
	out := sampleMermaid(t, MermaidOptions{})
	for _, want := range []string{
		"    client->>server: [1] SYN seq=0 win=65535\n",
		"    server->>client: [2] SYN, ACK seq=0 ack=1 win=65535\n",
		"    client->>server: [3] ACK seq=1 ack=1\n",
		"    client--xserver: [4] PSH, ACK seq=1 ack=1 len=8 (dropped)\n",
		"    rect rgba(255, 80, 80, 0.18)\n    client--xp1: [6] RST seq=0 win=0 (dropped)\n    end\n",
		"    client--xserver: [7] PSH, ACK seq=1 ack=1 len=8 (dropped)\n",
		"    rect rgba(255, 80, 80, 0.18)\n    server->>client: [9] RST, ACK seq=0 ack=1 win=0\n    end\n",
		"    Note over server: CLOSED → LISTEN (:80)\n",
		"    Note over client: CLOSED → SYN_SENT (:40000)\n",
		"    Note over client: CLOSED → SYN_SENT (:40001)\n",
		"    Note over server: app: listen :80\n",
		"    Note over server: accept queue 0/17, half-open 1\n",
		"    Note over client: app: send \"a#59;b#35;c#lt;d#gt;\"\n",
		"    Note over client: Timeouts +1 = 1\n",
		"    Note over client: frame 5: not a TCP segment: malformed IPv4 packet#59; DROPPED<br/>by the switch: not routable: truncated IPv4 header\n",
		"    Note over client,p1: 1.769s later (t = 2.000000 s)\n",
		"    Note over client: app: connect server:81 → error: dial tcp 10.0.0.2:81:<br/>connect: connection refused\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diagram has no line %q:\n%s", strings.TrimSuffix(want, "\n"), out)
		}
	}
	// The copy and the timer that did nothing are notes over their host;
	// the timer that sent the retransmission has no note of its own.
	for _, want := range []string{
		"    Note over server: copy 1 of frame 3 client:40000 → server:80 ACK",
		"    Note over client: tail loss probe timer: client:40000 ↔ server:80 — the tail<br/>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diagram has no line starting %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Note over client: retransmission timer (RTO):") {
		t.Errorf("diagram has a note for the RTO that sent frame 7:\n%s", out)
	}
}

// TestMermaidChinese checks that notes and UI words follow the language.
func TestMermaidChinese(t *testing.T) {
	out := sampleMermaid(t, MermaidOptions{Lang: i18n.ZH})
	for _, want := range []string{
		"[4] PSH, ACK seq=1 ack=1 len=8（被丢弃）\n",
		"    Note over server: 应用：listen :80\n",
		"    Note over server: 全连接队列 0/17，半连接 1\n",
		"    Note over client,p1: 1.769s 之后（t = 2.000000 秒）\n",
		"    Note over client: 应用：connect server:81 → 出错：",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Chinese diagram has no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "(dropped)") || strings.Contains(out, "app: ") {
		t.Errorf("Chinese diagram has English UI words:\n%s", out)
	}
}

// TestMermaidAliases checks that host names Mermaid cannot read as they
// are get aliases, and that an alias never takes another host's name.
func TestMermaidAliases(t *testing.T) {
	tp := New()
	tp.AddHost("end", []netip.Addr{addrClient})
	tp.AddHost("p1", []netip.Addr{addrServer})
	tp.AddHost("web-1", []netip.Addr{netip.MustParseAddr("10.0.0.3")})
	var buf bytes.Buffer
	mw := tp.NewMermaidWriter(&buf, MermaidOptions{})
	tp.AddSink(mw)
	d := &driver{t: t, tap: tp, sent: map[int]*event.Sent{}, copies: map[int]int{}, data: map[event.Ref][]byte{}}
	syn := d.send(time.Millisecond, "end", tcpSpec{src: netip.AddrPortFrom(addrClient, 1), dst: netip.AddrPortFrom(addrServer, 2), flags: fSYN, win: 65535}.build(), event.AppCause("connect"))
	d.deliver(syn, 2*time.Millisecond, "p1")
	d.finish(time.Second)
	if err := mw.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "sequenceDiagram\n" +
		"    participant p2 as end\n" +
		"    participant p1\n" +
		"    participant p3 as web-1\n" +
		"    p2->>p1: [1] SYN seq=0 win=65535\n"
	if got := buf.String(); got != want {
		t.Errorf("diagram =\n%s\nwant\n%s", got, want)
	}
}

// TestMermaidEmpty checks the diagram of a run without rows, and without
// hosts.
func TestMermaidEmpty(t *testing.T) {
	for _, tt := range []struct {
		hosts bool
		want  string
	}{
		{true, "sequenceDiagram\n    participant client\n    participant server\n"},
		{false, "sequenceDiagram\n    participant network\n"},
	} {
		tp := New()
		if tt.hosts {
			tp.AddHost("client", []netip.Addr{addrClient})
			tp.AddHost("server", []netip.Addr{addrServer})
		}
		var buf bytes.Buffer
		mw := tp.NewMermaidWriter(&buf, MermaidOptions{})
		tp.AddSink(mw)
		if err := tp.Finish(0); err != nil {
			t.Fatal(err)
		}
		if err := mw.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != tt.want {
			t.Errorf("hosts=%v: diagram = %q, want %q", tt.hosts, got, tt.want)
		}
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

// TestMermaidGolden pins the whole diagram of the sample, with notes, in
// each language.
func TestMermaidGolden(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		t.Run(lang.String(), func(t *testing.T) {
			golden(t, goldenName(lang, "mmd"), []byte(sampleMermaid(t, MermaidOptions{Title: "sample", Lang: lang, Notes: true})))
		})
	}
}

// TestMermaidOracle has Mermaid itself (the version vendored in
// internal/mermaidjs, in headless Chromium) parse and draw the sample
// diagrams, in both languages, with and without notes, a diagram split by
// connection group and one past the hold (a %% comment before it), and
// checks that it reads every line as meant: the
// title, the participants, and each arrow, note and rect with its sender,
// receiver and text, entity codes decoded.
func TestMermaidOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	var names, sources []string
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		for _, notes := range []bool{false, true} {
			names = append(names, fmt.Sprintf("%s notes=%v", lang, notes))
			sources = append(sources, sampleMermaid(t, MermaidOptions{Title: "sample — a; b", Lang: lang, Notes: notes}))
		}
	}
	for i, d := range mermaidjs.Diagrams(groupsMermaid(t, MermaidOptions{Title: "two pairs", Notes: true})) {
		names = append(names, fmt.Sprintf("group %d", i+1))
		sources = append(sources, d)
	}
	names = append(names, "past the hold")
	sources = append(sources, twoPairs(t, MermaidOptions{Title: "two pairs"}, false, 200))
	for i, got := range mermaidjs.Parse(t, sources, nil) {
		mermaidjs.Check(t, names[i], sources[i], got)
	}
}
