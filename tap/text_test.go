package tap

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
)

// sampleText returns the sample's text listing.
func sampleText(t testing.TB, h Header) string {
	t.Helper()
	var buf bytes.Buffer
	var tw *TextWriter
	sample(t, func(tp *Tap) Sink { tw = tp.NewTextWriter(&buf, h); return tw })
	if err := tw.Flush(); err != nil {
		t.Fatalf("TextWriter.Flush() = %v, want nil", err)
	}
	return buf.String()
}

// TestTextGolden pins the sample's listing in each language.
func TestTextGolden(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		t.Run(lang.String(), func(t *testing.T) {
			out := sampleText(t, Header{Title: "sample — a timeline with a row of every kind", Lines: []string{"seed 1"}, Lang: lang, MaxTime: 10 * time.Second})
			golden(t, goldenName(lang, "txt"), []byte(out))
		})
	}
}

// listingRows returns the lines of a listing written with an empty header
// (hosts line, blank line, headings, then one line per row): the headings
// and the row lines.
func listingRows(t *testing.T, out string, want int) (heading string, rows []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3+want {
		t.Fatalf("listing has %d lines, want 3 + one per row (%d):\n%s", len(lines), want, out)
	}
	return lines[2], lines[3:]
}

// TestTextColor checks that colour changes nothing but the escapes: with
// them stripped, the coloured listing is the plain one, byte for byte, so
// every column is where it was. And that each row has its colours where
// they belong.
func TestTextColor(t *testing.T) {
	_, rows := sampleRows(t)
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		t.Run(lang.String(), func(t *testing.T) {
			h := Header{Title: "sample", Lines: []string{"seed 1"}, Lang: lang}
			plain := sampleText(t, h)
			h.Color = true
			color := sampleText(t, h)
			if strings.Contains(plain, "\x1b") {
				t.Errorf("listing without Color has an escape:\n%s", plain)
			}
			if got := stripANSI(color); got != plain {
				t.Errorf("listing with Color, escapes stripped, differs from the one without:\n%s", lineDiff(plain, got))
			}
			if !strings.HasPrefix(color, "\x1b[1msample\x1b[0m\n") {
				t.Errorf("title is not bold:\n%s", color)
			}

			_, lines := listingRows(t, sampleText(t, Header{Lang: lang, Color: true}), len(rows))
			for i, r := range rows {
				l := lines[i]
				has := func(what, s string) {
					t.Helper()
					if !strings.Contains(l, s) {
						t.Errorf("row %d (%v): %s: no %q in\n%q", i+1, r.Kind, what, s, l)
					}
				}
				hasNot := func(what, s string) {
					t.Helper()
					if strings.Contains(l, s) {
						t.Errorf("row %d (%v): %s: %q in\n%q", i+1, r.Kind, what, s, l)
					}
				}
				if r.Kind != KindSegment {
					has("the event mark is dim", "\x1b[2m·\x1b[0m")
				}
				switch r.Kind {
				case KindSegment:
					no := strings.Fields(l)[0]
					dropped := r.Dropped != nil || r.Arrival != nil && isDrop(r.Arrival.Verdict)
					if dropped {
						has("a dropped segment's number is red", "\x1b[31m"+strconv.Itoa(r.No)+"\x1b[0m")
						has("so are its notes", "\x1b[31m"+stripANSI(l[strings.LastIndex(l, "  ")+2:]))
					} else if no != strconv.Itoa(r.No) {
						t.Errorf("row %d: frame number cell %q, want plain %d", i+1, no, r.No)
					}
					if r.Seg.Flags&fSYN != 0 {
						has("SYN is green", "\x1b[32mSYN\x1b[0m")
					}
					if r.Seg.Flags&fRST != 0 {
						has("RST is bold red", "\x1b[1;31mRST\x1b[0m")
					}
					if r.Seg.Flags&fACK != 0 {
						hasNot("ACK is plain", "mACK")
					}
				case KindState:
					has("the transition is cyan", "\x1b[36m"+r.FromState.String()+" → "+r.ToState.String()+"\x1b[0m")
				case KindApp:
					if r.App.Err.IsZero() {
						hasNot("a step that worked is plain", "\x1b[31m")
					} else {
						has("a failed step is red", "\x1b[31m")
						if !strings.HasSuffix(l, "\x1b[0m") {
							t.Errorf("row %d: a failed step is red to the end of its line:\n%q", i+1, l)
						}
					}
				case KindQueue, KindCounter:
					has("queue and counter rows are magenta", "\x1b[35m")
				case KindPacket:
					has("a frame that is not TCP is dim", "\x1b[2m"+i18n.M("ui.frame", r.No, i18n.Msg{}).Text(lang, nil))
				case KindDrop, KindStall:
					has("stack drops and stalls are red", "\x1b[31m")
				case KindTimer, KindCopy:
					if n := strings.Count(l, "\x1b["); n != 2 {
						t.Errorf("row %d (%v): %d escapes, want only the dim mark's two:\n%q", i+1, r.Kind, n, l)
					}
				}
			}
		})
	}
}

// TestTextBadTCP checks that the notes of a segment Wireshark colours "Bad
// TCP" are yellow, and that a retransmission that arrived is not red.
func TestTextBadTCP(t *testing.T) {
	var buf bytes.Buffer
	d := newDriver(t)
	tw := d.tap.NewTextWriter(&buf, Header{Color: true})
	d.tap.AddSink(tw)
	c := newConv()
	d.handshake(c, 0)
	data := d.send(100*ms, "client", c.c2s(fPSH|fACK, 1, 1, "hello"), event.AppCause("send"))
	d.drop(data, 100*ms, outClient, event.Loss)
	again := d.send(300*ms, "client", c.c2s(fPSH|fACK, 1, 1, "hello"), event.TimerCause(event.TimerRTO))
	d.deliver(again, 310*ms, "server")
	d.finish(time.Second)
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "5 ") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no line for frame 5:\n%s", buf.String())
	}
	if !strings.Contains(line, "\x1b[33m") || strings.Contains(line, "\x1b[31m") {
		t.Errorf("the retransmission's line has no yellow notes, or red:\n%q", line)
	}
}

// TestTextColumns checks that segment rows line up under the headings,
// counting columns as a terminal does, in English and in Chinese, whose
// headings are wide: a left-aligned cell (Flags) starts where its heading
// starts, a right-aligned one (Win) ends where its heading ends.
func TestTextColumns(t *testing.T) {
	_, rows := sampleRows(t)
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		heading, lines := listingRows(t, sampleText(t, Header{Lang: lang}), len(rows))
		colFlags, colWin := i18n.M("out.col.flags").Text(lang, nil), i18n.M("out.col.win").Text(lang, nil)
		flagsAt := columnOf(heading, colFlags)
		winEnd := columnOf(heading, colWin) + textWidth(colWin)
		segs := 0
		for i, r := range rows {
			if r.Kind != KindSegment {
				continue
			}
			segs++
			l := lines[i]
			if got := columnOf(l, r.Seg.Flags.String()); got != flagsAt {
				t.Errorf("%s: frame %d: flags start at column %d, want %d, under the heading:\n%s\n%s", lang, r.No, got, flagsAt, heading, l)
			}
			win := strconv.Itoa(r.Window)
			if got := visiblePrefix(l, winEnd); !strings.HasSuffix(got, " "+win) {
				t.Errorf("%s: frame %d: the window %s does not end at column %d, under the heading:\n%s\n%s", lang, r.No, win, winEnd, heading, l)
			}
		}
		if segs != 8 {
			t.Errorf("%s: checked %d segment rows, want 8", lang, segs)
		}
	}
}

// columnOf returns the terminal column at which sub starts in s, or -1.
func columnOf(s, sub string) int {
	i := strings.Index(s, sub)
	if i < 0 {
		return -1
	}
	return textWidth(s[:i])
}

// visiblePrefix returns the start of s that takes n terminal columns.
func visiblePrefix(s string, n int) string {
	for i := range s {
		if textWidth(s[:i]) >= n {
			return s[:i]
		}
	}
	return s
}

func TestTextWidth(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"SYN, ACK", 8},
		{"\x1b[32mSYN\x1b[0m, ACK", 8},
		{"\x1b[1;31mRST\x1b[0m", 3},
		{"编号", 4},
		{"主机：client", 12},
		{"CLOSED → LISTEN", 15},
		{"·", 1},
	}
	for _, tt := range tests {
		if got := textWidth(tt.in); got != tt.want {
			t.Errorf("textWidth(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestTextHeader checks the header: title, further lines, the hosts line
// in each language, and the headings, written even when no row comes.
func TestTextHeader(t *testing.T) {
	tests := []struct {
		lang i18n.Lang
		want string
	}{
		{i18n.EN, "lab\nseed 1\nhosts: client = 10.0.0.1; server = 10.0.0.2\n\n" +
			"No.         Time  Source        Destination   Flags        Seq     Ack    Len      Win  Notes\n"},
		{i18n.ZH, "lab\nseed 1\n主机：client = 10.0.0.1；server = 10.0.0.2\n\n" +
			"编号        时间  源            目的          标志         Seq     Ack   长度     窗口  说明\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		d := newDriver(t)
		tw := d.tap.NewTextWriter(&buf, Header{Title: "lab", Lines: []string{"seed 1"}, Lang: tt.lang})
		d.tap.AddSink(tw)
		d.finish(0)
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != tt.want {
			t.Errorf("%s: header =\n%q\nwant\n%q", tt.lang, got, tt.want)
		}
	}
}

// TestTextWriteError checks that a failing writer's error comes back from
// Flush.
func TestTextWriteError(t *testing.T) {
	var tw *TextWriter
	sampleErr(t, func(tp *Tap) Sink { tw = tp.NewTextWriter(failWriter{}, Header{}); return tw })
	if err := tw.Flush(); !errors.Is(err, errWrite) {
		t.Errorf("TextWriter.Flush() on a failing writer = %v, want %v", err, errWrite)
	}
}

// TestRowText checks the one-line form reports quote.
func TestRowText(t *testing.T) {
	tp, rows := sampleRows(t)
	tests := []struct {
		row  int // index in sampleKinds
		want string
	}{
		{3, "#1 0.001000 client:40000 → server:80 SYN seq=0 len=0 — "},
		{10, "#4 0.021000 client:40000 → server:80 PSH, ACK seq=1 ack=1 len=8 — "},
		{0, "· 0.000000 server CLOSED → LISTEN  *:80 (step: listen) — "},
		{28, "· 2.020000 client app: connect server:81 → error: dial tcp 10.0.0.2:81: connect: connection refused"},
	}
	for _, tt := range tests {
		if got := tp.RowText(rows[tt.row], i18n.EN); !strings.HasPrefix(got, tt.want) {
			t.Errorf("RowText(row %d) = %q, want it to start with %q", tt.row+1, got, tt.want)
		}
	}
}
