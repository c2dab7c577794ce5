package labs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a TOML string such as "200ms", "1.5s" or "2h". It is a struct
// so that go-toml rejects a bare integer instead of storing nanoseconds.
type Duration struct{ d time.Duration }

// D returns the duration.
func (d Duration) D() time.Duration { return d.d }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return &unitError{text: string(b), msg: fmt.Sprintf("invalid duration %q (use a number with a unit: \"200ms\", \"1.5s\", \"2h\")", b)}
	}
	d.d = v
	return nil
}

// Rate is a line rate in bits per second, written as "100Mbit/s", "1Gbps",
// "56kbit" or "9600bit/s". It is a struct so that go-toml rejects a bare
// number, whose unit would be a guess.
type Rate struct{ bps int64 }

// BitsPerSecond returns the rate.
func (r Rate) BitsPerSecond() int64 { return r.bps }

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
			if err != nil || !(v*u.mult >= 1 && v*u.mult <= 1e15) { // also rejects NaN
				break
			}
			r.bps = int64(v * u.mult)
			return nil
		}
	}
	return &unitError{text: string(b), msg: fmt.Sprintf("invalid rate %q (use a number with a unit: \"100Mbit/s\", \"1Gbps\", \"56kbit\")", b)}
}

// unitError is a value that is not a valid duration or rate. go-toml gives
// it a position when the value was a string, but not when it was a bare
// number (latency = 5), which Load then locates itself.
type unitError struct{ text, msg string }

func (e *unitError) Error() string { return e.msg }
