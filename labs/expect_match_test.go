package labs

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/tap"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

const expectFieldsLab = "testdata/expect-fields.toml"

// expectFieldsWrong are changes to testdata/expect-fields.toml that each
// give one expectation a wrong value: the segment fields, options,
// analysis flags, note keys and steps it matches.
var expectFieldsWrong = []struct{ old, new string }{
	{"mss = 1460\n", "mss = 1400\n"},
	{"ws = 128\n", "ws = 64\n"},
	{"sack_perm = true\ncount = 1\nwhy = \"the SYN offers", "sack_perm = false\ncount = 1\nwhy = \"the SYN offers"},
	{`mss = "1400..1460"`, `mss = "1400..1459"`},
	{`ws = ">=2"`, `ws = ">128"`},
	{"len = 1420\nseq = 2841", "len = 1419\nseq = 2841"},
	{"seq = 2841", "seq = 1421"},
	{`analysis = "fast_retransmission"`, `analysis = "retransmission,out_of_order"`},
	{`note = "seg.retrans.sack"`, `note = "seg.retrans.rescue"`},
	{"ack = 2841", "ack = 2842"},
	{`analysis = "duplicate_ack"`, `analysis = "window_update"`},
	{`sack = "4261-9941"`, `sack = "4261-9940"`},
	{"\nsack = true", "\nsack = false"},
	{`window = "<522752"`, `window = "<=522752"`},
	{"\ndsack = true", "\ndsack = false"},
	{`note = "diff.dsack"`, `note = "diff.delack.carried.now"`},
	{`analysis = "spurious_retransmission"`, `analysis = "retransmission"`},
	{"analysis = \"spurious_retransmission\"\nlen = \">0\"", "analysis = \"retransmission\"\nlen = \"0\""},
	{"seq = 20001", "seq = 20000"},
	{`analysis = "tcp.analysis.retransmission"`, `analysis = "tcp.analysis.fast_retransmission"`},
	{`note = "seg.retrans.rto"`, `note = "seg.fin.tlp"`},
	{`step = "connect"`, `step = "accept"`},
	{`step = "send"`, `step = "close"`},
	{`step = "close"`, `step = "accept"`},
	{`note = "st.timewait"`, `note = "st.finwait2"`},
	{`analysis = "!retransmission"`, `analysis = "!out_of_order"`},
}

// runExpectFields runs the expect-fields lab from src and returns the
// positions of the expectations that failed.
func runExpectFields(t *testing.T, src string) (failed []string, all []Expectation) {
	t.Helper()
	lab, err := Load(expectFieldsLab, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(context.Background(), lab, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range Check(run) {
		if !o.OK {
			failed = append(failed, o.Exp.Where)
		}
	}
	return failed, lab.Expect
}

// expectationAt returns the position of the expectation whose table holds
// line.
func expectationAt(t *testing.T, exps []Expectation, line int) string {
	t.Helper()
	where := ""
	for _, e := range exps {
		parts := strings.Split(e.Where, ":")
		l, err := strconv.Atoi(parts[len(parts)-2])
		if err != nil {
			t.Fatalf("expectation position %q: %v", e.Where, err)
		}
		if l <= line {
			where = e.Where
		}
	}
	return where
}

// TestExpectFieldsCatchWrongValues checks that the expectations of
// testdata/expect-fields.toml hold, and that giving any one of them a wrong
// value makes exactly that one fail.
func TestExpectFieldsCatchWrongValues(t *testing.T) {
	data, err := os.ReadFile(expectFieldsLab)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if failed, _ := runExpectFields(t, src); len(failed) != 0 {
		t.Fatalf("unaltered lab: expectations at %v fail, want all to hold", failed)
	}
	for _, tt := range expectFieldsWrong {
		t.Run(tt.new, func(t *testing.T) {
			if n := strings.Count(src, tt.old); n != 1 {
				t.Fatalf("%q occurs %d times in %s, want once", tt.old, n, expectFieldsLab)
			}
			line := strings.Count(src[:strings.Index(src, tt.old)], "\n") + 1 + strings.Count(commonPrefix(tt.old, tt.new), "\n")
			failed, exps := runExpectFields(t, strings.Replace(src, tt.old, tt.new, 1))
			want := expectationAt(t, exps, line)
			if len(failed) != 1 || failed[0] != want {
				t.Errorf("with %q for %q: failed %v, want exactly [%s]", tt.new, tt.old, failed, want)
			}
		})
	}
}

// commonPrefix returns the longest common prefix of a and b.
func commonPrefix(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[:i]
}

// TestSegmentMatch checks each field of a SegmentMatch on a row built by
// hand, D-SACK included (netstack sends none, so no run shows one).
func TestSegmentMatch(t *testing.T) {
	rng := func(s string) *Range {
		r, err := ParseRange(s)
		if err != nil {
			t.Fatal(err)
		}
		return &r
	}
	yes, no := true, false
	// An ACK of 1000 with a D-SACK block below it (500-600), then 2000-3000.
	dup := &segment.Segment{Flags: segment.ACK, Ack: 1000, Len: 0, Opts: segment.Options{WS: -1,
		SACK:  []segment.Block{{Start: 500, End: 600}, {Start: 2000, End: 3000}},
		Kinds: []byte{header.TCPOptionSACK}}}
	// A SYN with MSS 1460, SACK permitted and window scale 7.
	syn := &segment.Segment{Flags: segment.SYN, Opts: segment.Options{MSS: 1460, WS: 7, SACKPerm: true,
		Kinds: []byte{header.TCPOptionMSS, header.TCPOptionSACKPermitted, header.TCPOptionWS}}}
	data := &segment.Segment{Flags: segment.ACK | segment.PSH, Len: 100, Opts: segment.Options{WS: -1}}
	rows := map[string]*tap.Row{
		"dup":  {Kind: tap.KindSegment, Seg: dup, RelAck: 1000, HasAck: true, Window: 500, Analysis: tap.DupAck},
		"syn":  {Kind: tap.KindSegment, Seg: syn, Window: 64240},
		"data": {Kind: tap.KindSegment, Seg: data, RelSeq: 101, RelAck: 1, HasAck: true, Window: 1000, Analysis: tap.Retransmission | tap.FastRetransmission},
	}
	tests := []struct {
		name string
		m    SegmentMatch
		want []string // the rows that match
	}{
		{"len", SegmentMatch{Len: rng(">0")}, []string{"data"}},
		{"len exact", SegmentMatch{Len: rng("0")}, []string{"dup", "syn"}},
		{"window", SegmentMatch{Window: rng("<=1000")}, []string{"data", "dup"}},
		{"seq", SegmentMatch{Seq: rng("101")}, []string{"data"}},
		{"ack needs an ACK", SegmentMatch{Ack: rng("<=1000")}, []string{"data", "dup"}},
		{"mss", SegmentMatch{MSS: rng("1460")}, []string{"syn"}},
		{"mss absent is not 0", SegmentMatch{MSS: rng("0")}, nil},
		{"ws multiplier", SegmentMatch{WS: rng("128")}, []string{"syn"}},
		{"ws shift is not the multiplier", SegmentMatch{WS: rng("7")}, nil},
		{"sack_perm", SegmentMatch{SACKPerm: &yes}, []string{"syn"}},
		{"no sack_perm", SegmentMatch{SACKPerm: &no}, []string{"data", "dup"}},
		{"sack present", SegmentMatch{SACK: &SACKMatch{Present: true}}, []string{"dup"}},
		{"sack absent", SegmentMatch{SACK: &SACKMatch{}}, []string{"data", "syn"}},
		{"sack blocks", SegmentMatch{SACK: &SACKMatch{Present: true, Blocks: []segment.Block{{Start: 500, End: 600}, {Start: 2000, End: 3000}}}}, []string{"dup"}},
		{"sack blocks in another order", SegmentMatch{SACK: &SACKMatch{Present: true, Blocks: []segment.Block{{Start: 2000, End: 3000}, {Start: 500, End: 600}}}}, nil},
		{"dsack", SegmentMatch{DSACK: &yes}, []string{"dup"}},
		{"no dsack", SegmentMatch{DSACK: &no}, []string{"data", "syn"}},
		{"analysis", SegmentMatch{Analysis: tap.Retransmission}, []string{"data"}},
		{"analysis, all flags", SegmentMatch{Analysis: tap.Retransmission | tap.DupAck}, nil},
		{"analysis not set", SegmentMatch{NotAnalysis: tap.Retransmission}, []string{"dup", "syn"}},
		{"analysis set and another not", SegmentMatch{Analysis: tap.Retransmission, NotAnalysis: tap.DupAck}, []string{"data"}},
		{"nothing", SegmentMatch{}, []string{"data", "dup", "syn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, name := range []string{"data", "dup", "syn"} {
				if tt.m.Match(rows[name]) {
					got = append(got, name)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("%+v matches %v, want %v", tt.m.String(), got, tt.want)
			}
		})
	}
}

// TestParseRange covers the forms of a value to match.
func TestParseRange(t *testing.T) {
	tests := []struct {
		s      string
		lo, hi int64
		err    string
	}{
		{s: "1448", lo: 1448, hi: 1448},
		{s: ">0", lo: 1, hi: maxRange},
		{s: ">=1", lo: 1, hi: maxRange},
		{s: "<1448", lo: 0, hi: 1447},
		{s: "<=1448", lo: 0, hi: 1448},
		{s: "1..1448", lo: 1, hi: 1448},
		{s: " 5 ", lo: 5, hi: 5},
		{s: "<0", err: `"<0" matches no value`},
		{s: "9..1", err: `"9..1" matches no value`},
		{s: "-1", err: `"-1" is not a value to match`},
		{s: "4294967296", err: `"4294967296" is not a value to match`},
		{s: "big", err: `"big" is not a value to match`},
		{s: "1..", err: `"1.." is not a value to match`},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.s)
		switch {
		case tt.err != "":
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("ParseRange(%q) = %+v, %v, want error %q", tt.s, r, err, tt.err)
			}
		case err != nil || r.Lo != tt.lo || r.Hi != tt.hi:
			t.Errorf("ParseRange(%q) = %+v, %v, want %d..%d", tt.s, r, err, tt.lo, tt.hi)
		}
	}
}

// FuzzParseRange checks that a parsed range is never empty and contains
// the bounds it reports.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"1448", ">0", "<=1448", "1..1448", "<0", "..", ">", "4294967295"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			return
		}
		if r.Lo > r.Hi || r.Lo < 0 || r.Hi > maxRange || !r.Contains(r.Lo) || !r.Contains(r.Hi) {
			t.Errorf("ParseRange(%q) = %+v", s, r)
		}
	})
}

// TestStepWordsCoverEveryStep runs every built-in lab and checks that each
// application row's step begins with a word a step expectation accepts,
// so that no step the timeline shows is refused by validation.
func TestStepWordsCoverEveryStep(t *testing.T) {
	entries, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	words := stepWords()
	seen := map[string]bool{}
	for _, en := range entries {
		lab, err := Open(en.Name)
		if err != nil {
			t.Fatal(err)
		}
		run, err := Execute(context.Background(), lab, RunOptions{KeepRows: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range run.Rows {
			if r.Kind != tap.KindApp {
				continue
			}
			text := r.App.Step.Text(i18n.EN, run.Tap.Names)
			word, _, _ := strings.Cut(text, " ")
			seen[word] = true
			if !slices.Contains(words, word) {
				t.Errorf("%s: step %q begins with %q, which a step expectation refuses (want one of %v)", en.Name, text, word, words)
			}
		}
	}
	for _, w := range modelStepWords {
		if !seen[w] {
			t.Errorf("no built-in lab shows a step %q; modelStepWords lists a word no model uses", w)
		}
	}
}
