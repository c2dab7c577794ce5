package labs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a TOML string such as "200ms", "1.5s" or "2h".
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use a number with a unit: \"200ms\", \"1.5s\", \"2h\")", b)
	}
	*d = Duration(v)
	return nil
}

// Rate is a line rate in bits per second, written as "100Mbit/s", "1Gbps",
// "56kbit" or "9600bit/s".
type Rate int64

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Rate) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	s = strings.TrimSuffix(s, "/s")
	s = strings.TrimSuffix(s, "ps")
	units := []struct {
		suffix string
		mult   float64
	}{{"Gbit", 1e9}, {"Mbit", 1e6}, {"kbit", 1e3}, {"Kbit", 1e3}, {"bit", 1}, {"Gb", 1e9}, {"Mb", 1e6}, {"kb", 1e3}, {"Kb", 1e3}, {"b", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || v <= 0 || v*u.mult > 1e15 {
				break
			}
			*r = Rate(v * u.mult)
			return nil
		}
	}
	return fmt.Errorf("invalid rate %q (use a number with a unit: \"100Mbit/s\", \"1Gbps\", \"56kbit\")", b)
}
