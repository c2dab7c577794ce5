package topology

import (
	"errors"
	"fmt"
	"strings"

	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// FlagMatch selects TCP segments by their flags: every bit in Set must be
// set and every bit in Clear must be clear. The bits are those of the TCP
// header's flags byte (uint8(header.TCPFlagSyn) and so on). The zero
// FlagMatch matches every segment.
type FlagMatch struct {
	Set, Clear uint8
}

// flagNames lists the TCP flags in canonical order, the order String uses.
var flagNames = []struct {
	name string
	bit  uint8
}{
	{"SYN", uint8(header.TCPFlagSyn)},
	{"ACK", uint8(header.TCPFlagAck)},
	{"FIN", uint8(header.TCPFlagFin)},
	{"RST", uint8(header.TCPFlagRst)},
	{"PSH", uint8(header.TCPFlagPsh)},
	{"URG", uint8(header.TCPFlagUrg)},
	{"ECE", uint8(header.TCPFlagEce)},
	{"CWR", uint8(header.TCPFlagCwr)},
}

// ParseFlagMatch parses a comma-separated list of TCP flag names (SYN, ACK,
// FIN, RST, PSH, URG, ECE, CWR; case-insensitive; spaces allowed), each
// either required to be set or, with a leading "!", required to be clear:
// "SYN" matches any segment with SYN (a SYN-ACK too), "SYN,!ACK" only a
// client's SYN, "SYN,ACK" a SYN-ACK.
func ParseFlagMatch(s string) (FlagMatch, error) {
	if strings.TrimSpace(s) == "" {
		return FlagMatch{}, errors.New("empty flag list")
	}
	var m FlagMatch
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		clear := strings.HasPrefix(item, "!")
		name := item
		if clear {
			name = strings.TrimSpace(item[1:])
		}
		if name == "" {
			return FlagMatch{}, fmt.Errorf("empty flag name in %q", s)
		}
		bit, ok := flagBit(name)
		if !ok {
			return FlagMatch{}, fmt.Errorf("unknown TCP flag %q (want SYN, ACK, FIN, RST, PSH, URG, ECE, CWR)", name)
		}
		canon := strings.ToUpper(name)
		switch {
		case (m.Set|m.Clear)&bit == 0:
		case (clear && m.Clear&bit != 0) || (!clear && m.Set&bit != 0):
			return FlagMatch{}, fmt.Errorf("flag %s is listed twice in %q", canon, s)
		default:
			return FlagMatch{}, fmt.Errorf("flag %s is both required and excluded in %q", canon, s)
		}
		if clear {
			m.Clear |= bit
		} else {
			m.Set |= bit
		}
	}
	return m, nil
}

// flagBit returns the bit of a flag name, case-insensitively.
func flagBit(name string) (uint8, bool) {
	for _, f := range flagNames {
		if strings.EqualFold(name, f.name) {
			return f.bit, true
		}
	}
	return 0, false
}

// Match reports whether a segment with the given flags matches m.
func (m FlagMatch) Match(flags uint8) bool {
	return flags&m.Set == m.Set && flags&m.Clear == 0
}

// IsZero reports whether m is the zero FlagMatch, which matches every
// segment.
func (m FlagMatch) IsZero() bool { return m == FlagMatch{} }

// String renders m in canonical form, the flags in the order SYN, ACK, FIN,
// RST, PSH, URG, ECE, CWR: "SYN,!ACK". The zero FlagMatch renders as "".
// ParseFlagMatch(m.String()) returns m for every valid non-zero m.
func (m FlagMatch) String() string {
	var b strings.Builder
	for _, f := range flagNames {
		var prefix string
		switch {
		case m.Set&f.bit != 0:
		case m.Clear&f.bit != 0:
			prefix = "!"
		default:
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(prefix)
		b.WriteString(f.name)
	}
	return b.String()
}

// validate reports a FlagMatch that no segment can match.
func (m FlagMatch) validate() error {
	if both := m.Set & m.Clear; both != 0 {
		return fmt.Errorf("flags %s are both required and excluded", FlagMatch{Set: both})
	}
	return nil
}
