package tap

import (
	"strings"
	"testing"
)

// TestWrap checks that wrapped lines fit, keep every word in order, break
// Chinese between characters but not before its closing punctuation, and
// keep colour escapes out of the count.
func TestWrap(t *testing.T) {
	cases := []struct {
		name        string
		s           string
		first, rest int
		want        []string
	}{
		{"fits", "a b c", 10, 10, []string{"a b c"}},
		{"words", "alpha beta gamma delta", 11, 11, []string{"alpha beta", "gamma delta"}},
		{"first shorter", "alpha beta gamma", 5, 20, []string{"alpha", "beta gamma"}},
		{"long word cut", "abcdefghij", 4, 4, []string{"abcd", "efgh", "ij"}},
		{"cjk", "第一次握手：客户端发起连接", 10, 10, []string{"第一次握", "手：客户端", "发起连接"}},
		{"no comma first", "握手完成，连接建立", 8, 8, []string{"握手完", "成，连接", "建立"}},
		{"colour", "\x1b[31mred words\x1b[0m here", 9, 9, []string{"\x1b[31mred words\x1b[0m", "here"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := wrap(c.s, c.first, c.rest)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("wrap(%q, %d, %d) = %q, want %q", c.s, c.first, c.rest, got, c.want)
			}
		})
	}
}

// FuzzWrap checks, for any text, that no line is wider than allowed (a
// lone wide character excepted) and that no character is lost.
func FuzzWrap(f *testing.F) {
	f.Add("handshake 1/3: client asks server to connect", 20, 30)
	f.Add("第一次握手：client 向 server 发起连接，并选定自己的初始序列号", 7, 13)
	f.Fuzz(func(t *testing.T, s string, first, rest int) {
		first, rest = 2+abs(first)%60, 2+abs(rest)%60
		s = strings.ToValidUTF8(strings.NewReplacer("\x1b", "", "\n", " ", "\t", " ").Replace(s), "")
		lines := wrap(s, first, rest)
		for i, l := range lines {
			limit := rest
			if i == 0 {
				limit = first
			}
			if w := textWidth(l); w > limit {
				t.Errorf("wrap(%q, %d, %d): line %d %q is %d columns", s, first, rest, i, l, w)
			}
		}
		if got, want := strings.ReplaceAll(strings.Join(lines, ""), " ", ""), strings.ReplaceAll(s, " ", ""); got != want {
			t.Errorf("wrap(%q) lost text: %q", s, got)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
