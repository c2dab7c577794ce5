package tap

import (
	"bytes"
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

var (
	addrClientOK = netip.MustParseAddr("10.0.0.3")
	addrServerOK = netip.MustParseAddr("10.0.0.4")
)

// twoPairs plays two pairs of hosts that never meet: client and server
// shake hands at 1 ms; client-ok's SYN reaches server-ok at 1 ms and is
// answered by a RST two seconds later. With cross, client also sends a SYN
// to server-ok at 3 s, which makes the four hosts one group. It returns
// the diagram written with opts, after setting the writer's hold when
// hold > 0.
func twoPairs(t *testing.T, opts MermaidOptions, cross bool, hold int) string {
	t.Helper()
	var buf bytes.Buffer
	var mw *MermaidWriter
	d := newDriver(t)
	d.tap.AddHost("client-ok", []netip.Addr{addrClientOK})
	d.tap.AddHost("server-ok", []netip.Addr{addrServerOK})
	mw = d.tap.NewMermaidWriter(&buf, opts)
	if hold > 0 {
		mw.hold = hold
	}
	d.tap.AddSink(mw)
	d.state(0, "server", epServer, netip.AddrPort{}, event.Closed, event.Listen, event.AppCause("listen"))
	d.state(0, "server-ok", netip.AddrPortFrom(addrServerOK, 80), netip.AddrPort{}, event.Closed, event.Listen, event.AppCause("listen"))
	d.handshake(newConv(), ms)
	ok := &conv{cl: netip.AddrPortFrom(addrClientOK, 40000), sv: netip.AddrPortFrom(addrServerOK, 80), isnC: 100, isnS: 200}
	syn := d.send(ms, "client-ok", ok.c2s(fSYN, 0, 0, ""), event.AppCause("connect"))
	d.deliver(syn, 2*ms, "server-ok")
	rst := d.send(2*time.Second, "server-ok", ok.s2c(fRST|fACK, 0, 1, ""), event.AppCause("abort"))
	d.deliver(rst, 2*time.Second+ms, "client-ok")
	if cross {
		x := &conv{cl: netip.AddrPortFrom(addrClient, 40001), sv: netip.AddrPortFrom(addrServerOK, 80), isnC: 300, isnS: 400}
		syn := d.send(3*time.Second, "client", x.c2s(fSYN, 0, 0, ""), event.AppCause("connect"))
		d.deliver(syn, 3*time.Second+ms, "server-ok")
	}
	d.finish(4 * time.Second)
	if err := mw.Flush(); err != nil {
		t.Fatalf("MermaidWriter.Flush() = %v, want nil", err)
	}
	return buf.String()
}

// groupsMermaid is the diagram of twoPairs, split in two.
func groupsMermaid(t *testing.T, opts MermaidOptions) string {
	return twoPairs(t, opts, false, 0)
}

// TestMermaidGroups checks that hosts that never exchange a segment get a
// diagram each: Markdown with one fenced block per group, in the order of
// their first rows, each opening with a %% comment that names it, with
// only the group's participants, arrows and notes, and a pause note that
// counts the group's own time.
func TestMermaidGroups(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		out := groupsMermaid(t, MermaidOptions{Title: "two pairs", Lang: lang})
		if !strings.HasPrefix(out, "```mermaid\n") || strings.Count(out, "```mermaid\n") != 2 || strings.Count(out, "\n```\n") != 2 {
			t.Fatalf("%s: diagram is not two fenced mermaid blocks:\n%s", lang, out)
		}
		ds := mermaidjs.Diagrams(out)
		want := []struct {
			comment      string
			title        string
			participants []string
			arrows       []string
			gap          bool
		}{
			{"%% 1 of 2: client, server", "    title two pairs (1 of 2: client, server)", []string{"client", "server"}, []string{"client->>server", "server->>client", "client->>server"}, false},
			{"%% 2 of 2: client-ok, server-ok", "    title two pairs (2 of 2: client-ok, server-ok)", []string{"p1 as client-ok", "p2 as server-ok"}, []string{"p1->>p2", "p2->>p1"}, true},
		}
		if lang == i18n.ZH {
			want[0].comment, want[0].title = "%% 第 1 组，共 2 组：client, server", "    title two pairs（第 1 组，共 2 组：client, server）"
			want[1].comment, want[1].title = "%% 第 2 组，共 2 组：client-ok, server-ok", "    title two pairs（第 2 组，共 2 组：client-ok, server-ok）"
		}
		arrow := regexp.MustCompile(`^    (\w+(?:->>|--x)\w+): `)
		for i, d := range ds {
			lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
			w := want[i]
			if lines[0] != w.comment || lines[1] != "sequenceDiagram" || lines[2] != w.title {
				t.Errorf("%s: diagram %d starts %q, want %q, sequenceDiagram, %q", lang, i+1, lines[:3], w.comment, w.title)
			}
			var participants, arrows []string
			gap, rect := false, false
			for _, l := range lines[3:] {
				if p, ok := strings.CutPrefix(l, "    participant "); ok {
					participants = append(participants, p)
				}
				if m := arrow.FindStringSubmatch(l); m != nil {
					arrows = append(arrows, m[1])
				}
				gap = gap || strings.Contains(l, "later (t = ") || strings.Contains(l, "之后（t = ")
				rect = rect || strings.HasPrefix(l, "    rect ")
			}
			if !slices.Equal(participants, w.participants) {
				t.Errorf("%s: diagram %d participants = %q, want %q", lang, i+1, participants, w.participants)
			}
			if !slices.Equal(arrows, w.arrows) {
				t.Errorf("%s: diagram %d arrows = %q, want %q", lang, i+1, arrows, w.arrows)
			}
			if gap != w.gap {
				t.Errorf("%s: diagram %d has a pause note: %v, want %v:\n%s", lang, i+1, gap, w.gap, d)
			}
			if rect != (i == 1) {
				t.Errorf("%s: diagram %d has a rect: %v, want one only where the RST is:\n%s", lang, i+1, rect, d)
			}
		}
	}
}

// TestMermaidOneGroup checks that one segment between the pairs makes
// them one group, written as one bare diagram with every host.
func TestMermaidOneGroup(t *testing.T) {
	out := twoPairs(t, MermaidOptions{Title: "joined"}, true, 0)
	if strings.Contains(out, "```") || strings.Contains(out, "%%") {
		t.Fatalf("one group written as Markdown:\n%s", out)
	}
	lines := strings.Split(out, "\n")
	want := []string{"sequenceDiagram", "    title joined", "    participant client", "    participant server", "    participant p1 as client-ok", "    participant p2 as server-ok"}
	if !slices.Equal(lines[:len(want)], want) {
		t.Errorf("diagram starts\n%s\nwant\n%s", strings.Join(lines[:len(want)], "\n"), strings.Join(want, "\n"))
	}
	if n := strings.Count(out, "->>"); n != 6 {
		t.Errorf("%d arrows, want 6:\n%s", n, out)
	}
}

// TestMermaidHold checks that a diagram too long to hold back is one,
// written as the rows come, after a comment that says why, with every row.
func TestMermaidHold(t *testing.T) {
	split := groupsMermaid(t, MermaidOptions{})
	out := twoPairs(t, MermaidOptions{}, false, 200)
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "%% one diagram, not one per connection group: over 200 bytes") || lines[1] != "sequenceDiagram" {
		t.Fatalf("diagram past the hold starts %q, want the comment and sequenceDiagram", lines[:2])
	}
	if strings.Contains(out, "```") {
		t.Errorf("diagram past the hold is Markdown:\n%s", out)
	}
	count := func(s, sub string) int { return strings.Count(s, sub) }
	for _, sub := range []string{"->>", "Note over", "rect ", "    participant "} {
		if count(out, sub) != count(split, sub) {
			t.Errorf("%q: %d in the one diagram, %d in the split ones", sub, count(out, sub), count(split, sub))
		}
	}
}

// TestMermaidWrap checks that notes break into lines of at most NoteWidth
// columns (a CJK character counts two) and lose nothing but the spaces at
// the breaks, and that a negative width never breaks.
func TestMermaidWrap(t *testing.T) {
	note := regexp.MustCompile(`^    Note over \w+(?:,\w+)?: (.+)$`)
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		whole := map[int]string{}
		for i, l := range strings.Split(sampleMermaid(t, MermaidOptions{Lang: lang, Notes: true, NoteWidth: -1}), "\n") {
			if m := note.FindStringSubmatch(l); m != nil {
				if strings.Contains(m[1], "<br/>") {
					t.Errorf("%s: NoteWidth -1: line %d breaks: %q", lang, i+1, l)
				}
				whole[len(whole)] = m[1]
			}
		}
		for _, width := range []int{0, 30} {
			var notes []string
			broken := 0
			for _, l := range strings.Split(sampleMermaid(t, MermaidOptions{Lang: lang, Notes: true, NoteWidth: width}), "\n") {
				m := note.FindStringSubmatch(l)
				if m == nil {
					continue
				}
				notes = append(notes, m[1])
				parts := strings.Split(m[1], "<br/>")
				if len(parts) > 1 {
					broken++
				}
				limit := width
				if limit == 0 {
					limit = DefaultMermaidNoteWidth
				}
				for _, p := range parts {
					if w := textWidth(mermaidjs.Unescape(p)); w > limit {
						t.Errorf("%s width %d: a line of a note is %d columns: %q", lang, width, w, p)
					}
				}
			}
			if len(notes) != len(whole) || broken == 0 {
				t.Fatalf("%s width %d: %d notes, %d broken; want %d notes, some broken", lang, width, len(notes), broken, len(whole))
			}
			squeeze := strings.NewReplacer(" ", "", "<br/>", "")
			for i, n := range notes {
				if squeeze.Replace(n) != squeeze.Replace(whole[i]) {
					t.Errorf("%s width %d: note %d = %q, want the words of %q", lang, width, i+1, n, whole[i])
				}
			}
		}
	}
}
