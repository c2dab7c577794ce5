package tap

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/i18n"
)

func text(t *testing.T, tp *Tap, h Header) string {
	t.Helper()
	var buf bytes.Buffer
	if err := tp.WriteText(&buf, h); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	return buf.String()
}

// TestTextColor checks that colour changes nothing but the escapes: with
// them stripped, the coloured listing is the plain one, byte for byte, so
// every column is where it was. And that the colours are where they
// belong.
func TestTextColor(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		t.Run(lang.String(), func(t *testing.T) {
			h := Header{Title: "sample", Lines: []string{"seed 1"}}
			plain := text(t, sampleTap(t, lang), h)
			h.Color = true
			color := text(t, sampleTap(t, lang), h)
			if strings.Contains(plain, "\x1b") {
				t.Errorf("WriteText without Color wrote an escape:\n%s", plain)
			}
			if got := stripANSI(color); got != plain {
				t.Errorf("WriteText with Color, escapes stripped, differs from without:\n%s", lineDiff(plain, got))
			}
			for _, want := range []string{
				"\x1b[1msample\x1b[0m\n",                 // title
				"\x1b[32mSYN\x1b[0m, ACK",                // SYN green, ACK plain
				"\x1b[1;31mRST\x1b[0m",                   // RST bold red
				"\x1b[31m4\x1b[0m",                       // the dropped frame's number
				"\x1b[36mCLOSED → LISTEN\x1b[0m",         // a transition
				"\x1b[31m",                               // the failed app step ...
				"connection reset by peer\x1b[0m\n",      // ... in red to the end
				"\x1b[35m",                               // queue and counter rows
				"ListenOverflowSynDrop +1 = 1, Segments", // ... hold the counters
			} {
				if !strings.Contains(color, want) {
					t.Errorf("WriteText with Color has no %q:\n%s", want, color)
				}
			}
		})
	}
}

// TestTextColumns checks that segment rows line up under the headings,
// counting columns as a terminal does, in English and in Chinese, whose
// headings are wide: a left-aligned cell (Flags) starts where its heading
// starts, a right-aligned one (Win) ends where its heading ends.
func TestTextColumns(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		out := text(t, sampleTap(t, lang), Header{})
		colFlags, colWin := i18n.M("out.col.flags").Text(lang, nil), i18n.M("out.col.win").Text(lang, nil)
		var heading string
		rows := 0
		for _, l := range strings.Split(out, "\n") {
			if heading == "" && strings.Contains(l, colFlags) {
				heading = l // the first such line; notes may say 标志 too
				continue
			}
			for _, f := range []string{"SYN, ACK", "PSH, ACK"} {
				if !strings.Contains(l, f) {
					continue
				}
				rows++
				if got, want := columnOf(l, f), columnOf(heading, colFlags); got != want {
					t.Errorf("%s: %q starts at column %d, want %d, under the heading:\n%s\n%s", lang, f, got, want, heading, l)
				}
				if got, want := columnOf(l, "65535")+5, columnOf(heading, colWin)+textWidth(colWin); got != want {
					t.Errorf("%s: the window of %q ends at column %d, want %d, under the heading:\n%s\n%s", lang, f, got, want, heading, l)
				}
			}
		}
		if rows != 2 {
			t.Errorf("%s: found %d rows with SYN, ACK or PSH, ACK, want 2:\n%s", lang, rows, out)
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

// TestTextChinese checks the Chinese headings and hosts line.
func TestTextChinese(t *testing.T) {
	out := text(t, sampleTap(t, i18n.ZH), Header{})
	for _, want := range []string{
		"主机：client = 10.0.0.1；server = 10.0.0.2\n",
		"编号      时间  源            目的          标志      Seq  Ack  长度   窗口  选项  说明\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Chinese listing has no %q:\n%s", want, out)
		}
	}
}
