package tap

import (
	"strings"
	"unicode/utf8"
)

// wrapToken is a word of a text being wrapped: a run of characters that
// must stay on one line, the spaces before it, and its width in terminal
// columns. ANSI escapes ride along with the word they touch and take no
// columns, so a coloured text wraps exactly as the plain one does.
type wrapToken struct {
	space string // the spaces before it
	text  string
	width int
}

// noLineStart are the CJK punctuation marks that must not begin a line:
// they stay with the character before them.
const noLineStart = "，。；：、）」』】》！？%）"

// eachToken yields the words of s, split at spaces and between CJK
// characters, which a line may break between. A word's text is a run of s
// and its spaces a run of blanks, so both are slices, not built up
// character by character.
func eachToken(s string) func(yield func(wrapToken) bool) {
	return func(yield func(wrapToken) bool) {
		splitTokens(s, yield)
	}
}

// splitTokens calls yield with each word of s until it returns false.
func splitTokens(s string, yield func(wrapToken) bool) {
	start, end := 0, 0 // the current word is s[start:end]
	width := 0
	spaces, curSpaces := 0, 0 // blanks waiting; blanks before the word
	stopped := false
	flush := func() {
		if end > start && !stopped {
			stopped = !yield(wrapToken{space: blanks(curSpaces), text: s[start:end], width: width})
		}
		start, end, width, curSpaces = 0, 0, 0, 0
	}
	// begin starts the current word at i if it is empty, taking the
	// blanks before it.
	begin := func(i int) {
		if end == start {
			start, end = i, i
			curSpaces, spaces = spaces, 0
		}
	}
	for i := 0; i < len(s); {
		if s[i] == '\x1b' && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			begin(i)
			end = min(j+1, len(s))
			i = j + 1
			continue
		}
		if c := s[i]; c < utf8.RuneSelf && c != ' ' && c != '\x1b' {
			// A run of plain ASCII: one column a character.
			j := i + 1
			for j < len(s) && s[j] < utf8.RuneSelf && s[j] != ' ' && s[j] != '\x1b' {
				j++
			}
			begin(i)
			end = j
			width += j - i
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == ' ':
			flush()
			spaces++
		case runeWidth(r) == 2 && !strings.ContainsRune(noLineStart, r):
			// A wide character is a word of its own: a line may break
			// before it. Escapes just before it go with it.
			if width == 0 && end > start {
				end = i + size
				width = 2
				break
			}
			flush()
			start, end, width = i, i+size, 2
			curSpaces, spaces = spaces, 0
		default:
			begin(i)
			end = i + size
			width += runeWidth(r)
		}
		i += size
	}
	flush()
}

// blankRun is where blanks slices its spaces from.
const blankRun = "                                                                "

// blanks returns n spaces.
func blanks(n int) string {
	if n <= len(blankRun) {
		return blankRun[:n]
	}
	return strings.Repeat(" ", n)
}

// wrap breaks s into lines: the first at most first columns wide, the
// others at most rest. A word wider than its line is cut where it
// reaches the edge. Spaces at a break are dropped.
func wrap(s string, first, rest int) []string {
	var lines []string
	var b strings.Builder
	avail, used := max(first, 1), 0
	newLine := func() {
		lines = append(lines, b.String())
		b.Reset()
		avail, used = max(rest, 1), 0
	}
	for tk := range eachToken(s) {
		sp := len(tk.space)
		if used == 0 {
			sp = 0
		}
		if used > 0 && used+sp+tk.width > avail {
			newLine()
			sp = 0
		}
		if used+sp+tk.width <= avail {
			b.WriteString(tk.space[:sp])
			b.WriteString(tk.text)
			used += sp + tk.width
			continue
		}
		// A word wider than a whole line: cut it.
		for _, part := range cut(tk.text, avail-used, max(rest, 1)) {
			if used > 0 && textWidth(part)+used > avail {
				newLine()
			}
			b.WriteString(part)
			used += textWidth(part)
		}
	}
	if b.Len() > 0 || len(lines) == 0 {
		lines = append(lines, b.String())
	}
	return lines
}

// cut splits a word into pieces, the first at most first columns wide,
// the others at most rest, keeping escapes whole.
func cut(s string, first, rest int) []string {
	var out []string
	var b strings.Builder
	avail, used := max(first, 1), 0
	for i := 0; i < len(s); {
		if s[i] == '\x1b' && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			b.WriteString(s[i:min(j+1, len(s))])
			i = j + 1
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if w := runeWidth(r); used+w > avail && used > 0 {
			out = append(out, b.String())
			b.Reset()
			avail, used = rest, 0
		}
		b.WriteString(s[i : i+size])
		used += runeWidth(r)
		i += size
	}
	return append(out, b.String())
}

// truncate shortens s to at most n columns, ending it with "…" when it
// was cut.
func truncate(s string, n int) string {
	if textWidth(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	t := strings.TrimRight(cut(s, n-1, n-1)[0], " ") + "…"
	if strings.Contains(s, "\x1b[") {
		t += "\x1b[0m" // the cut may have dropped a colour's end
	}
	return t
}
