package labs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/tap"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// What an expectation can match besides its kind: the fields of a segment
// as the timeline shows them (SegmentMatch), a note key, an application
// step.

// Range is the value a segment field must have, as an expectation writes
// it: 1448, ">0", ">=1", "<1448", "<=1448" or "1..1448". Lo and Hi are
// inclusive.
type Range struct {
	Lo, Hi int64
	// Text is the range as written, for reports.
	Text string
}

// maxRange is the largest value a segment field has (a sequence number).
const maxRange = 1<<32 - 1

// Contains reports whether n is in the range.
func (r Range) Contains(n int64) bool { return n >= r.Lo && n <= r.Hi }

// ParseRange parses a range as a string: "1448", ">0", ">=1", "<1448",
// "<=1448" or "1..1448". Values are from 0 to 2³²−1.
func ParseRange(s string) (Range, error) {
	t := strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not a value to match: write 1448, \">0\", \">=1\", \"<1448\", \"<=1448\" or \"1..1448\"", s)
	num := func(x string) (int64, bool) {
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil && n >= 0 && n <= maxRange
	}
	var r Range
	var ok bool
	switch {
	case strings.HasPrefix(t, ">="):
		r.Lo, ok = num(t[2:])
		r.Hi = maxRange
	case strings.HasPrefix(t, ">"):
		r.Lo, ok = num(t[1:])
		r.Lo++
		r.Hi = maxRange
	case strings.HasPrefix(t, "<="):
		r.Hi, ok = num(t[2:])
	case strings.HasPrefix(t, "<"):
		r.Hi, ok = num(t[1:])
		r.Hi--
	case strings.Contains(t, ".."):
		lo, hi, _ := strings.Cut(t, "..")
		var ok2 bool
		r.Lo, ok = num(lo)
		r.Hi, ok2 = num(hi)
		ok = ok && ok2
	default:
		r.Lo, ok = num(t)
		r.Hi = r.Lo
	}
	if !ok {
		return Range{}, bad
	}
	if r.Lo > r.Hi {
		return Range{}, fmt.Errorf("%q matches no value", s)
	}
	r.Text = t
	return r, nil
}

// rangeSpec decodes a Range from an integer or a string.
type rangeSpec struct{ r Range }

func (s *rangeSpec) decodeRaw(v any) string {
	switch x := v.(type) {
	case int64:
		if x < 0 || x > maxRange {
			return fmt.Sprintf("%d is outside 0–%d", x, int64(maxRange))
		}
		s.r = Range{Lo: x, Hi: x, Text: strconv.FormatInt(x, 10)}
		return ""
	case string:
		r, err := ParseRange(x)
		if err != nil {
			return err.Error()
		}
		s.r = r
		return ""
	}
	return fmt.Sprintf("a value to match must be an integer such as 1448 or a range such as \">0\", \"<=1448\" or \"1..1448\", not %s", describeValue(v))
}

// SACKMatch is what a segment's SACK blocks must be: present or absent,
// and when Blocks is set, exactly these blocks in this order, relative to
// the initial sequence number as the timeline shows them.
type SACKMatch struct {
	Present bool
	Blocks  []segment.Block
}

// String renders the match as a lab file writes it.
func (m SACKMatch) String() string {
	if m.Blocks == nil {
		return strconv.FormatBool(m.Present)
	}
	parts := make([]string, len(m.Blocks))
	for i, b := range m.Blocks {
		parts[i] = fmt.Sprintf("%d-%d", uint32(b.Start), uint32(b.End))
	}
	return strings.Join(parts, ",")
}

// sackSpec decodes a SACKMatch: true, false, or the blocks as the timeline
// shows them ("1449-2897,4345-5793").
type sackSpec struct{ m SACKMatch }

func (s *sackSpec) decodeRaw(v any) string {
	switch x := v.(type) {
	case bool:
		s.m = SACKMatch{Present: x}
		return ""
	case string:
		s.m = SACKMatch{Present: true, Blocks: []segment.Block{}}
		for _, part := range strings.Split(x, ",") {
			a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
			lo, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 32)
			hi, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 32)
			if !ok || err1 != nil || err2 != nil {
				return fmt.Sprintf("sack %q must list blocks as the timeline shows them, such as \"1449-2897\" or \"1449-2897,4345-5793\" (or be true or false)", x)
			}
			s.m.Blocks = append(s.m.Blocks, segment.Block{Start: seqnum.Value(lo), End: seqnum.Value(hi)})
		}
		return ""
	}
	return fmt.Sprintf("sack must be true, false or blocks such as \"1449-2897\", not %s", describeValue(v))
}

// SegmentMatch narrows a segment expectation to segments whose fields are
// as the timeline shows them: Seq and Ack relative to each side's initial
// sequence number, Window scaled, WS the multiplier (WS=128), SACK blocks
// relative. A nil field matches anything.
type SegmentMatch struct {
	Len, Window, Seq, Ack, MSS, WS *Range
	SACKPerm                       *bool
	SACK                           *SACKMatch
	DSACK                          *bool
	// Analysis holds the Wireshark analysis flags the segment must all
	// carry (in the capture of what was sent, as the timeline shows), and
	// NotAnalysis those it must not carry.
	Analysis, NotAnalysis tap.Analysis
}

// IsZero reports whether the match narrows nothing.
func (m *SegmentMatch) IsZero() bool {
	return m.Len == nil && m.Window == nil && m.Seq == nil && m.Ack == nil && m.MSS == nil && m.WS == nil &&
		m.SACKPerm == nil && m.SACK == nil && m.DSACK == nil && m.Analysis == 0 && m.NotAnalysis == 0
}

// Match reports whether segment row r has the fields m asks for.
func (m *SegmentMatch) Match(r *tap.Row) bool {
	s := r.Seg
	if s == nil {
		return m.IsZero()
	}
	o := &s.Opts
	in := func(rg *Range, n int64) bool { return rg == nil || rg.Contains(n) }
	has := func(kind byte) bool { return slices.Contains(o.Kinds, kind) }
	switch {
	case !in(m.Len, int64(s.Len)), !in(m.Window, int64(r.Window)), !in(m.Seq, int64(r.RelSeq)):
		return false
	case m.Ack != nil && (!r.HasAck || !m.Ack.Contains(int64(r.RelAck))):
		return false
	case m.MSS != nil && (!has(header.TCPOptionMSS) || !m.MSS.Contains(int64(o.MSS))):
		return false
	case m.WS != nil && (o.WS < 0 || !m.WS.Contains(int64(1)<<min(o.WS, 14))):
		return false
	case m.SACKPerm != nil && *m.SACKPerm != o.SACKPerm:
		return false
	case m.DSACK != nil && *m.DSACK != s.DSACK():
		return false
	case r.Analysis&m.Analysis != m.Analysis, r.Analysis&m.NotAnalysis != 0:
		return false
	}
	if m.SACK != nil {
		blocks := r.SACKBlocks()
		if m.SACK.Present != (len(blocks) > 0) {
			return false
		}
		if m.SACK.Blocks != nil && !slices.Equal(m.SACK.Blocks, blocks) {
			return false
		}
	}
	return true
}

// String renders the match as " key=value" pairs in the order of the
// documentation: " len=>0 analysis=retransmission".
func (m *SegmentMatch) String() string {
	var b strings.Builder
	rng := func(k string, r *Range) {
		if r != nil {
			fmt.Fprintf(&b, " %s=%s", k, r.Text)
		}
	}
	flag := func(k string, v *bool) {
		if v != nil {
			fmt.Fprintf(&b, " %s=%t", k, *v)
		}
	}
	rng("len", m.Len)
	rng("window", m.Window)
	rng("seq", m.Seq)
	rng("ack", m.Ack)
	rng("mss", m.MSS)
	rng("ws", m.WS)
	flag("sack_perm", m.SACKPerm)
	if m.SACK != nil {
		fmt.Fprintf(&b, " sack=%s", m.SACK)
	}
	flag("dsack", m.DSACK)
	if m.Analysis != 0 || m.NotAnalysis != 0 {
		names := m.Analysis.Names()
		for _, n := range m.NotAnalysis.Names() {
			names = append(names, "!"+n)
		}
		fmt.Fprintf(&b, " analysis=%s", strings.Join(names, ","))
	}
	return b.String()
}

// stepMatches reports whether an application row's step, as the timeline
// writes it in English (without the application's label), is step or
// begins with step and a space: "connect" matches "connect server:80".
func stepMatches(t *tap.Tap, r *tap.Row, step string) bool {
	text := r.App.Step.Text(i18n.EN, t.Names)
	return text == step || strings.HasPrefix(text, step+" ")
}

// notePrefix returns a note key without its last part: "seg.retrans" of
// "seg.retrans.rto".
func notePrefix(key string) string {
	if i := strings.LastIndexByte(key, '.'); i > 0 {
		return key[:i]
	}
	return key
}

// nearNote reports whether row r has a note of the same family as key (the
// same key but for its last part): worth showing when key is not found.
func nearNote(r *tap.Row, key string) bool {
	p := notePrefix(key)
	for _, k := range r.NoteKeys() {
		if notePrefix(k) == p {
			return true
		}
	}
	return false
}

// narrowing renders what narrows e besides its kind, as " key=value"
// pairs: " len=>0 note=seg.retrans.rto".
func (e *Expectation) narrowing() string {
	s := e.Segment.String()
	if e.Step != "" && e.Kind != ExpectStep {
		s += fmt.Sprintf(" step=%q", e.Step)
	}
	if e.Note != "" && e.Kind != ExpectNote {
		s += " note=" + e.Note
	}
	return s
}

// rowPort reports whether row r is about a connection with local or
// remote port port (any when port is 0): a segment's ports, or a state,
// queue, timer or stall row's endpoints.
func rowPort(r *tap.Row, port uint16) bool {
	if port == 0 {
		return true
	}
	if r.Seg != nil {
		return r.Seg.Src.Port() == port || r.Seg.Dst.Port() == port
	}
	return r.Local.Port() == port || r.Remote.Port() == port
}
