package segment

import (
	"errors"
	"fmt"
	"strings"
)

// Flags is the flags byte of a TCP header.
type Flags uint8

// The TCP flags, with their bits in the header's flags byte.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// wiresharkOrder is the order Wireshark lists flags in: "FIN, SYN, RST,
// PSH, ACK, URG, ECE, CWR".
var wiresharkOrder = []struct {
	bit  Flags
	name string
}{{FIN, "FIN"}, {SYN, "SYN"}, {RST, "RST"}, {PSH, "PSH"}, {ACK, "ACK"}, {URG, "URG"}, {ECE, "ECE"}, {CWR, "CWR"}}

// String renders the flags as Wireshark's packet list does: "SYN, ACK".
// No flag at all renders as "".
func (f Flags) String() string {
	var b strings.Builder
	for _, x := range wiresharkOrder {
		if f&x.bit != 0 {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(x.name)
		}
	}
	return b.String()
}

// Spoken renders the flags the way people say them: "SYN", "SYN-ACK",
// "FIN-ACK", "PSH-ACK", "RST"; "segment" for none of SYN, FIN, RST, PSH
// and ACK.
func (f Flags) Spoken() string {
	var parts []string
	for _, x := range []struct {
		bit  Flags
		name string
	}{{SYN, "SYN"}, {FIN, "FIN"}, {RST, "RST"}, {PSH, "PSH"}, {ACK, "ACK"}} {
		if f&x.bit != 0 {
			parts = append(parts, x.name)
		}
	}
	if len(parts) == 0 {
		return "segment"
	}
	return strings.Join(parts, "-")
}

// Has reports whether every flag of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// FlagMatch selects TCP segments by their flags: every bit in Set must be
// set and every bit in Clear must be clear. The zero FlagMatch matches
// every segment.
type FlagMatch struct {
	Set, Clear Flags
}

// flagNames lists the TCP flags in canonical order, the order String uses.
var flagNames = []struct {
	name string
	bit  Flags
}{{"SYN", SYN}, {"ACK", ACK}, {"FIN", FIN}, {"RST", RST}, {"PSH", PSH}, {"URG", URG}, {"ECE", ECE}, {"CWR", CWR}}

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
func flagBit(name string) (Flags, bool) {
	for _, f := range flagNames {
		if strings.EqualFold(name, f.name) {
			return f.bit, true
		}
	}
	return 0, false
}

// Match reports whether a segment with the given flags matches m.
func (m FlagMatch) Match(flags Flags) bool {
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

// Validate reports a FlagMatch that no segment can match.
func (m FlagMatch) Validate() error {
	if both := m.Set & m.Clear; both != 0 {
		return fmt.Errorf("flags %s are both required and excluded", FlagMatch{Set: both})
	}
	return nil
}
