package labs

import (
	"strings"
	"testing"
)

// TestFieldPositions checks that the problems the core types report
// (topology, hosts) are placed where the file writes the field: in a
// link's own direction table or at its top level, in the [[links.down]]
// a window came from, at a table that lacks a required field.
func TestFieldPositions(t *testing.T) {
	tests := []loadErrCase{
		{
			name: "loss in [links.out] and at the top level",
			src:  withA(`[[links]]`, `host = "a"`, `loss = 2.0`, `[links.out]`, `loss = 3.0`), // 4-8
			want: []string{
				`x.toml:6:8: loss 2 is outside [0, 1]`, // the in direction inherits it
				`x.toml:8:8: loss 3 is outside [0, 1]`,
			},
		},
		{
			name: "outage windows numbered as written",
			src: withA(`[[links]]`, `host = "a"`, // 4-5
				`[[links.down]]`, `to = "1s"`, // 6-7: no from, left out
				`[[links.down]]`, `from = "2s"`, `to = "5s"`, // 8-10
				`[[links.down]]`, `from = "3s"`), // 11-12
			want: []string{
				`x.toml:6:1: an outage needs from = "10s" (and usually to = "20s")`,
				`x.toml:11:1: outage 3s–end overlaps outage 1 (2s–5s)`,
			},
		},
		{
			name: "a delay fault with a zero delay",
			src:  withA(`[[faults]]`, `action = "delay"`, `delay = "0s"`),
			want: []string{`x.toml:6:9: a delay fault needs delay = "500ms"`},
		},
		{
			name: "an injection without from is reported once",
			src:  withA(`[[inject]]`, `via = "a"`, `to = "a:80"`, `flags = "SYN"`),
			want: []string{`x.toml:4:1: an injection needs from = "10.0.0.66:40000" (a spoofed source; port 0 = a new port per segment) or a prefix "10.9.0.0/24"`},
		},
		{
			name: "an injection across IP versions",
			src:  withA(`[[inject]]`, `via = "a"`, `from = "[fd00::9]:1"`, `to = "a:80"`, `flags = "SYN"`),
			want: []string{`x.toml:7:6: from fd00::9 and to 10.0.0.1 are of different IP versions`},
		},
		{
			name: "rto bounds at rto_min when rto_max is left out",
			src:  withA(`[hosts.tcp]`, `rto_min = "200s"`),
			want: []string{`x.toml:5:11: impossible RTO bounds: rto_max 2m0s is less than rto_min 3m20s`},
		},
	}
	checkLoadErrors(t, tests)
}

// loadErrCase is a lab file and every error Load must report for it, in
// order.
type loadErrCase struct {
	name string
	src  string
	want []string
}

// checkLoadErrors loads each case's file and compares the errors with its
// want, line for line.
func checkLoadErrors(t *testing.T, tests []loadErrCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("x.toml", []byte(tt.src))
			want := strings.Join(tt.want, "\n")
			if err == nil || err.Error() != want {
				t.Errorf("Load(%q) =\n%v\nwant\n%s", tt.src, err, want)
			}
		})
	}
}
