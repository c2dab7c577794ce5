package tap

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// tokens collects the words eachToken yields.
func tokens(s string) []wrapToken {
	var out []wrapToken
	for tk := range eachToken(s) {
		out = append(out, tk)
	}
	return out
}

// refTokens is tokens as first written, building each word character by
// character; the slicing version must split every text the same way.
func refTokens(s string) []wrapToken {
	var out []wrapToken
	var cur wrapToken
	space := ""
	flush := func() {
		if cur.text != "" {
			out = append(out, cur)
		}
		cur = wrapToken{}
	}
	for i := 0; i < len(s); {
		if s[i] == '\x1b' && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			if cur.text == "" {
				cur.space, space = space, ""
			}
			cur.text += s[i:min(j+1, len(s))]
			i = j + 1
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		ch := s[i : i+size]
		i += size
		switch {
		case r == ' ':
			flush()
			space += " "
		case runeWidth(r) == 2 && !strings.ContainsRune(noLineStart, r):
			if cur.width == 0 && cur.text != "" {
				cur.text += ch
				cur.width = 2
				continue
			}
			flush()
			cur = wrapToken{space: space, text: ch, width: 2}
			space = ""
		default:
			if cur.text == "" {
				cur.space, space = space, ""
			}
			cur.text += ch
			cur.width += runeWidth(r)
		}
	}
	flush()
	return out
}

// TestTokensAgree splits random texts of words, runs of blanks, escapes
// (some cut short), CJK characters and punctuation both ways.
func TestTokensAgree(t *testing.T) {
	parts := []string{"a", "seq", "1448", " ", "  ", "\x1b[31m", "\x1b[0m", "\x1b[", "\x1b", "服", "务", "，", "。", "（", "%", "é", "—", "\t", strings.Repeat(" ", 70)}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		s := b.String()
		got, want := tokens(s), refTokens(s)
		if !slices.Equal(got, want) {
			t.Fatalf("tokens(%q)\n got %+v\nwant %+v", s, got, want)
		}
	}
}

// TestFmtTimeAgrees checks the fmt-free fmtTime against "%d.%06d".
func TestFmtTimeAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ds := []time.Duration{0, 1, time.Microsecond, 999999 * time.Microsecond, time.Second, 2*time.Hour + 7, -1500 * time.Microsecond, -time.Second, 1<<63 - 1}
	for range 10000 {
		ds = append(ds, time.Duration(rng.Int64N(int64(48*time.Hour))))
	}
	for _, d := range ds {
		us := d / time.Microsecond
		if got, want := fmtTime(d), fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000); got != want {
			t.Fatalf("fmtTime(%d) = %q, want %q", d, got, want)
		}
	}
}
