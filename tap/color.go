package tap

import (
	"github.com/tcplab/tcplab/internal/segment"
	"strings"
	"unicode/utf8"
)

// SGR parameters of the ANSI colours the text listing uses.
const (
	sgrBold    = "1"
	sgrDim     = "2"
	sgrRed     = "31"
	sgrGreen   = "32"
	sgrYellow  = "33"
	sgrMagenta = "35"
	sgrCyan    = "36"
	sgrBoldRed = "1;31"
)

// painter wraps text in ANSI colour escapes when on; when off it returns
// the text as is.
type painter struct{ on bool }

// paint returns s in the colour sgr. Empty text stays empty, so that a
// blank cell is still blank.
func (p painter) paint(sgr, s string) string {
	if !p.on || s == "" || sgr == "" {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}

// flags renders flags as Flags.String does, each flag in its colour: SYN
// green, FIN yellow, RST bold red, URG magenta; the others plain.
func (p painter) flags(f segment.Flags) string {
	if !p.on {
		return f.String()
	}
	var parts []string
	for _, x := range []struct {
		bit  segment.Flags
		name string
		sgr  string
	}{{segment.FIN, "FIN", sgrYellow}, {segment.SYN, "SYN", sgrGreen}, {segment.RST, "RST", sgrBoldRed}, {segment.PSH, "PSH", ""}, {segment.ACK, "ACK", ""}, {segment.URG, "URG", sgrMagenta}, {segment.ECE, "ECE", ""}, {segment.CWR, "CWR", ""}} {
		if f&x.bit != 0 {
			parts = append(parts, p.paint(x.sgr, x.name))
		}
	}
	return strings.Join(parts, ", ")
}

// badTCP is the set of analysis flags Wireshark's "Bad TCP" colouring rule
// matches: tcp.analysis.flags && !tcp.analysis.window_update &&
// !tcp.analysis.keep_alive && !tcp.analysis.keep_alive_ack.
const badTCP = ^(WindowUpdate | KeepAlive | KeepAliveAck)

// TextWidth is the number of terminal columns s takes: ANSI escape
// sequences take none, East Asian wide runes (CJK, full-width forms) two,
// every other rune one. The timeline is laid out by it, and the command
// line's progress line too.
func TextWidth(s string) int { return textWidth(s) }

// RuneWidth is the number of terminal columns r takes, as TextWidth counts
// them: 2 for the East Asian wide and full-width runes, 1 otherwise.
func RuneWidth(r rune) int { return runeWidth(r) }

// textWidth is TextWidth.
func textWidth(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == '\x1b' && i+1 < len(s) && s[i+1] == '[' {
			// A CSI sequence ends at its final byte, 0x40–0x7E.
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j + 1
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		n += runeWidth(r)
		i += size
	}
	return n
}

// runeWidth is 2 for the East Asian wide and full-width runes a Chinese
// note or heading uses, 1 otherwise.
func runeWidth(r rune) int {
	switch {
	case r >= 0x1100 && r <= 0x115f, // Hangul Jamo
		r >= 0x2e80 && r <= 0x303e, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33ff, // kana, CJK symbols
		r >= 0x3400 && r <= 0x4dbf, // CJK extension A
		r >= 0x4e00 && r <= 0x9fff, // CJK unified ideographs
		r >= 0xa000 && r <= 0xa4cf, // Yi
		r >= 0xac00 && r <= 0xd7a3, // Hangul syllables
		r >= 0xf900 && r <= 0xfaff, // CJK compatibility ideographs
		r >= 0xfe30 && r <= 0xfe4f, // CJK compatibility forms
		r >= 0xff00 && r <= 0xff60, // full-width forms
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x20000 && r <= 0x3fffd: // CJK extensions B and later
		return 2
	}
	return 1
}
