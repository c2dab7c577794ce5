package labs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a TOML string such as "200ms", "1.5s" or "2h"; a bare number
// is rejected, because its unit would be a guess.
type Duration struct{ d time.Duration }

// D returns the duration.
func (d Duration) D() time.Duration { return d.d }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use a number with a unit: \"200ms\", \"1.5s\", \"2h\")", b)
	}
	d.d = v
	return nil
}

// Rate is a line rate in bits per second, written as "100Mbit/s", "1Gbps",
// "56kbit" or "9600bit/s", or as tc writes it ("1mbit", "10gbit"); a bare
// number is rejected, because its unit would be a guess.
type Rate struct{ bps int64 }

// BitsPerSecond returns the rate.
func (r Rate) BitsPerSecond() int64 { return r.bps }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Rate) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if num, ok := strings.CutSuffix(s, "bps"); ok && (strings.HasSuffix(num, "m") || strings.HasSuffix(num, "g")) {
		return fmt.Errorf("rate %q is ambiguous: tc reads \"mbps\" as megabytes per second, most people as megabits; write \"100Mbit/s\" (or tc's \"100mbit\")", b)
	}
	s = strings.TrimSuffix(s, "/s")
	s = strings.TrimSuffix(s, "ps")
	// tc's units ("kbit", "mbit", "gbit", "tbit") in any case.
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"tbit", 1e12}, {"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}} {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			s = s[:len(s)-len(u.suffix)] + map[string]string{"tbit": "Tbit", "gbit": "Gbit", "mbit": "Mbit", "kbit": "kbit"}[u.suffix]
			break
		}
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"Tbit", 1e12}, {"Gbit", 1e9}, {"Mbit", 1e6}, {"kbit", 1e3}, {"Kbit", 1e3}, {"bit", 1}, {"Gb", 1e9}, {"Mb", 1e6}, {"kb", 1e3}, {"Kb", 1e3}, {"b", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || !(v*u.mult >= 1 && v*u.mult <= 1e15) { // also rejects NaN
				break
			}
			r.bps = int64(v * u.mult)
			return nil
		}
	}
	return fmt.Errorf("invalid rate %q (use a number with a unit: \"100Mbit/s\", \"1Gbps\", \"56kbit\", \"1mbit\")", b)
}

// Size is a number of bytes, written as an integer (1460) or a string with
// a unit: "64KB" (1000 bytes each), "64KiB" (1024), "10MB", "1MiB", "1500B".
type Size struct{ n int64 }

// Bytes returns the size.
func (s Size) Bytes() int64 { return s.n }

func (s *Size) decodeRaw(v any) string {
	switch x := v.(type) {
	case int64:
		s.n = x
		return ""
	case string:
		if n, ok := parseSize(x); ok {
			s.n = n
			return ""
		}
		return fmt.Sprintf("invalid size %q (use bytes or a unit: 1460, \"64KB\", \"10MB\", \"1MiB\")", x)
	}
	return fmt.Sprintf("a size must be an integer number of bytes or a string such as \"64KB\", not %s", describeValue(v))
}

func parseSize(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || !(v >= 0 && v*u.mult <= 1<<40) || v*u.mult != float64(int64(v*u.mult)) {
				return 0, false
			}
			return int64(v * u.mult), true
		}
	}
	return 0, false
}

// seqValue is an injected segment's sequence or acknowledgement number: an
// integer, or "next" (what the receiver expects) or, for seq only, "isn"
// (the sender's last SYN: a replayed old SYN).
type seqValue struct {
	n    int64
	mode string // "", "next" or "isn"
}

func (q *seqValue) decodeRaw(v any) string {
	switch x := v.(type) {
	case int64:
		if x < 0 || x > math.MaxUint32 {
			return fmt.Sprintf("sequence number %d is outside 0–4294967295", x)
		}
		q.n = x
		return ""
	case string:
		if x == "next" || x == "isn" {
			q.mode = x
			return ""
		}
		return fmt.Sprintf("sequence number %q must be an integer, \"next\" or \"isn\"", x)
	}
	return fmt.Sprintf("a sequence number must be an integer, \"next\" or \"isn\", not %s", describeValue(v))
}

// timeValue is an expectation's time bound: a duration ("80s") or a segment
// pattern ("server > client FIN"), meaning the time of the first segment
// that matches it.
type timeValue struct {
	d       time.Duration
	pattern string
}

func (t *timeValue) decodeRaw(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprintf("a time bound must be a duration such as \"80s\" or a segment pattern such as \"server > client FIN\", not %s", describeValue(v))
	}
	if d, err := time.ParseDuration(s); err == nil {
		t.d = d
		return ""
	}
	t.pattern = s
	return ""
}

// ParseSize parses a size as lab files write it: bytes ("1460") or a
// number with a unit ("64KB", "512MiB", "4GiB").
func ParseSize(s string) (int64, error) {
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n >= 0 {
		return n, nil
	}
	if n, ok := parseSize(s); ok {
		return n, nil
	}
	return 0, fmt.Errorf("invalid size %q (use bytes or a unit: 1460, \"64KB\", \"512MiB\", \"4GiB\")", s)
}
