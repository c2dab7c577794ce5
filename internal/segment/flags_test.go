package segment

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
		{in: "SYN", want: FlagMatch{Set: SYN}, canon: "SYN"},
		{in: "syn", want: FlagMatch{Set: SYN}, canon: "SYN"},
		{in: "SYN,!ACK", want: FlagMatch{Set: SYN, Clear: ACK}, canon: "SYN,!ACK"},
		{in: " !ack , Syn ", want: FlagMatch{Set: SYN, Clear: ACK}, canon: "SYN,!ACK"},
		{in: "! ACK,SYN", want: FlagMatch{Set: SYN, Clear: ACK}, canon: "SYN,!ACK"},
		{in: "ACK,SYN", want: FlagMatch{Set: SYN | ACK}, canon: "SYN,ACK"},
		{in: "FIN", want: FlagMatch{Set: FIN}, canon: "FIN"},
		{in: "rst,!ack", want: FlagMatch{Set: RST, Clear: ACK}, canon: "!ACK,RST"},
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
		syn    = SYN
		synack = SYN | ACK
		ack    = ACK
		finack = FIN | ACK
		rst    = RST
		data   = PSH | ACK
	)
	tests := []struct {
		match string // "" for the zero FlagMatch
		yes   []Flags
		no    []Flags
	}{
		{match: "", yes: []Flags{0, syn, synack, ack, finack, rst, data}},
		{match: "SYN", yes: []Flags{syn, synack}, no: []Flags{0, ack, finack, rst, data}},
		{match: "SYN,!ACK", yes: []Flags{syn}, no: []Flags{synack, ack, 0}},
		{match: "SYN,ACK", yes: []Flags{synack}, no: []Flags{syn, ack}},
		{match: "FIN", yes: []Flags{finack, FIN}, no: []Flags{ack, syn}},
		{match: "!ACK", yes: []Flags{0, syn, rst}, no: []Flags{ack, synack, data}},
		{match: "ACK,!PSH,!SYN,!FIN", yes: []Flags{ack}, no: []Flags{data, synack, finack}},
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
		{FlagMatch{Set: ACK | SYN}, "SYN,ACK"},
		{FlagMatch{Set: FIN, Clear: SYN}, "!SYN,FIN"},
		{FlagMatch{Set: SYN, Clear: SYN}, "SYN"}, // invalid: set wins in String
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

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestFlagsString(t *testing.T) {
	for _, tt := range []struct {
		f          Flags
		ws, spoken string
	}{
		{SYN, "SYN", "SYN"},
		{SYN | ACK, "SYN, ACK", "SYN-ACK"},
		{FIN | PSH | ACK, "FIN, PSH, ACK", "FIN-PSH-ACK"},
		{RST, "RST", "RST"},
		{0, "", "segment"},
		{ECE | CWR | SYN, "SYN, ECE, CWR", "SYN"},
	} {
		if got := tt.f.String(); got != tt.ws {
			t.Errorf("Flags(%#x).String() = %q, want %q", uint8(tt.f), got, tt.ws)
		}
		if got := tt.f.Spoken(); got != tt.spoken {
			t.Errorf("Flags(%#x).Spoken() = %q, want %q", uint8(tt.f), got, tt.spoken)
		}
	}
}
