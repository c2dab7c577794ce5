package topology

import (
	"testing"
)

func TestParseFlagMatch(t *testing.T) {
	tests := []struct {
		in      string
		want    FlagMatch
		canon   string
		wantErr string
	}{
		{in: "SYN", want: FlagMatch{Set: fSYN}, canon: "SYN"},
		{in: "syn", want: FlagMatch{Set: fSYN}, canon: "SYN"},
		{in: "SYN,!ACK", want: FlagMatch{Set: fSYN, Clear: fACK}, canon: "SYN,!ACK"},
		{in: " !ack , Syn ", want: FlagMatch{Set: fSYN, Clear: fACK}, canon: "SYN,!ACK"},
		{in: "! ACK,SYN", want: FlagMatch{Set: fSYN, Clear: fACK}, canon: "SYN,!ACK"},
		{in: "ACK,SYN", want: FlagMatch{Set: fSYN | fACK}, canon: "SYN,ACK"},
		{in: "FIN", want: FlagMatch{Set: fFIN}, canon: "FIN"},
		{in: "rst,!ack", want: FlagMatch{Set: fRST, Clear: fACK}, canon: "!ACK,RST"},
		{in: "CWR,ECE,URG,PSH,RST,FIN,ACK,SYN", want: FlagMatch{Set: 0xff}, canon: "SYN,ACK,FIN,RST,PSH,URG,ECE,CWR"},
		{in: "!CWR,!ECE,!URG,!PSH,!RST,!FIN,!ACK,!SYN", want: FlagMatch{Clear: 0xff}, canon: "!SYN,!ACK,!FIN,!RST,!PSH,!URG,!ECE,!CWR"},
		{in: "", wantErr: "empty flag list"},
		{in: "  ", wantErr: "empty flag list"},
		{in: "SYNN", wantErr: `unknown TCP flag "SYNN" (want SYN, ACK, FIN, RST, PSH, URG, ECE, CWR)`},
		{in: "none", wantErr: `unknown TCP flag "none" (want SYN, ACK, FIN, RST, PSH, URG, ECE, CWR)`},
		{in: "SYN|ACK", wantErr: `unknown TCP flag "SYN|ACK" (want SYN, ACK, FIN, RST, PSH, URG, ECE, CWR)`},
		{in: "SYN,,ACK", wantErr: `empty flag name in "SYN,,ACK"`},
		{in: "SYN,", wantErr: `empty flag name in "SYN,"`},
		{in: "!", wantErr: `empty flag name in "!"`},
		{in: "!!SYN", wantErr: `unknown TCP flag "!SYN" (want SYN, ACK, FIN, RST, PSH, URG, ECE, CWR)`},
		{in: "SYN,!syn", wantErr: `flag SYN is both required and excluded in "SYN,!syn"`},
		{in: "!ACK,ack", wantErr: `flag ACK is both required and excluded in "!ACK,ack"`},
		{in: "SYN,syn", wantErr: `flag SYN is listed twice in "SYN,syn"`},
		{in: "!FIN,!FIN", wantErr: `flag FIN is listed twice in "!FIN,!FIN"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFlagMatch(tt.in)
			if errText(err) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseFlagMatch(%q) = %+v, %q, want %+v, %q", tt.in, got, errText(err), tt.want, tt.wantErr)
			}
			if err != nil {
				return
			}
			if s := got.String(); s != tt.canon {
				t.Errorf("ParseFlagMatch(%q).String() = %q, want %q", tt.in, s, tt.canon)
			}
		})
	}
}

func TestFlagMatchMatch(t *testing.T) {
	const (
		syn    = fSYN
		synack = fSYN | fACK
		ack    = fACK
		finack = fFIN | fACK
		rst    = fRST
		data   = fPSH | fACK
	)
	tests := []struct {
		match string // "" for the zero FlagMatch
		yes   []uint8
		no    []uint8
	}{
		{match: "", yes: []uint8{0, syn, synack, ack, finack, rst, data}},
		{match: "SYN", yes: []uint8{syn, synack}, no: []uint8{0, ack, finack, rst, data}},
		{match: "SYN,!ACK", yes: []uint8{syn}, no: []uint8{synack, ack, 0}},
		{match: "SYN,ACK", yes: []uint8{synack}, no: []uint8{syn, ack}},
		{match: "FIN", yes: []uint8{finack, fFIN}, no: []uint8{ack, syn}},
		{match: "!ACK", yes: []uint8{0, syn, rst}, no: []uint8{ack, synack, data}},
		{match: "ACK,!PSH,!SYN,!FIN", yes: []uint8{ack}, no: []uint8{data, synack, finack}},
	}
	for _, tt := range tests {
		t.Run(tt.match, func(t *testing.T) {
			var m FlagMatch
			if tt.match != "" {
				var err error
				if m, err = ParseFlagMatch(tt.match); err != nil {
					t.Fatalf("ParseFlagMatch(%q) = %v", tt.match, err)
				}
			}
			if m.IsZero() != (tt.match == "") {
				t.Errorf("%q: IsZero() = %v, want %v", tt.match, m.IsZero(), tt.match == "")
			}
			for _, f := range tt.yes {
				if !m.Match(f) {
					t.Errorf("%q.Match(%#02x) = false, want true", tt.match, f)
				}
			}
			for _, f := range tt.no {
				if m.Match(f) {
					t.Errorf("%q.Match(%#02x) = true, want false", tt.match, f)
				}
			}
		})
	}
}

func TestFlagMatchString(t *testing.T) {
	for _, tt := range []struct {
		m    FlagMatch
		want string
	}{
		{FlagMatch{}, ""},
		{FlagMatch{Set: fACK | fSYN}, "SYN,ACK"},
		{FlagMatch{Set: fFIN, Clear: fSYN}, "!SYN,FIN"},
		{FlagMatch{Set: fSYN, Clear: fSYN}, "SYN"}, // invalid: set wins in String
	} {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

// FuzzParseFlagMatch checks that whatever parses renders canonically, parses
// back to the same match, and can match something.
func FuzzParseFlagMatch(f *testing.F) {
	for _, s := range []string{"SYN", "SYN,!ACK", " fin , !rst", "", "!", "SYN,,", "ece,cwr,urg,psh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseFlagMatch(s)
		if err != nil {
			return
		}
		if m.IsZero() || m.Set&m.Clear != 0 {
			t.Fatalf("ParseFlagMatch(%q) = %+v, want non-zero with no flag both set and clear", s, m)
		}
		again, err := ParseFlagMatch(m.String())
		if err != nil || again != m {
			t.Fatalf("ParseFlagMatch(%q) = %+v, %v, want %+v (from %q)", m.String(), again, err, m, s)
		}
		if !m.Match(m.Set) || m.Match(m.Set|m.Clear) != (m.Clear == 0) {
			t.Fatalf("%+v does not match its own required flags", m)
		}
	})
}
