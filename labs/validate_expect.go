package labs

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/tcplab/tcplab/hosts"
	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/tap"
)

// standsAlone makes e a step or note expectation when its table has
// neither of the other kinds but has step or note, and reports whether it
// did.
func standsAlone(e *Expectation, s *expectSpec) bool {
	switch {
	case s.Step != nil:
		e.Kind, e.Text = ExpectStep, *s.Step
	case s.Note != nil:
		e.Kind, e.Text = ExpectNote, *s.Note
	default:
		return false
	}
	return true
}

// segmentKey is a key that narrows a segment expectation, and whether the
// table sets it.
type segmentKey struct {
	key string
	set bool
}

// segmentKeys lists the keys of s that narrow a segment expectation, in
// their documented order.
func (s *expectSpec) segmentKeys() []segmentKey {
	return []segmentKey{
		{"len", s.Len != nil}, {"window", s.Window != nil}, {"seq", s.Seq != nil}, {"ack", s.Ack != nil},
		{"mss", s.MSS != nil}, {"ws", s.WS != nil}, {"sack_perm", s.SACKPerm != nil}, {"sack", s.SACK != nil},
		{"dsack", s.DSACK != nil}, {"analysis", s.Analysis != nil},
	}
}

// narrowing converts what narrows the rows an expectation counts: the
// segment fields, step and note.
func (v *validator) narrowing(p string, s *expectSpec, e *Expectation) {
	for _, k := range s.segmentKeys() {
		if k.set && e.Kind != ExpectSegment {
			v.errorf(p+"."+k.key, "%s narrows a segment expectation (segment = \"client > server\"), not a %s expectation", k.key, e.Kind)
		}
	}
	if e.Kind == ExpectSegment {
		e.Segment = v.segmentMatch(p, s)
	}
	if e.Kind == ExpectStep && s.Port != nil {
		v.errorf(p+".port", "a step expectation takes no port: an application's row names no connection")
	}
	if s.Step != nil {
		switch e.Kind {
		case ExpectStep, ExpectError, ExpectResult:
			e.Step = *s.Step
			v.stepValue(p+".step", e.Step)
		default:
			v.errorf(p+".step", "step narrows an error or result expectation (or stands alone), not a %s expectation", e.Kind)
		}
	}
	if s.Note != nil {
		switch {
		case e.Kind == ExpectCounter:
			v.errorf(p+".note", "a counter expectation takes no note: a counter has no rows")
		case s.At != nil:
			v.errorf(p+".note", "a state expectation with at counts connections, not rows; it takes no note")
		default:
			e.Note = *s.Note
			v.noteKey(p+".note", e.Note)
		}
	}
}

// segmentMatch converts the segment fields of an expectation.
func (v *validator) segmentMatch(p string, s *expectSpec) SegmentMatch {
	var m SegmentMatch
	rng := func(k string, r *rangeSpec, hi int64) *Range {
		if r == nil {
			return nil
		}
		if r.r.Lo > hi {
			v.valuef(p+"."+k, "%s %s can never match: a segment's %s is at most %d", k, r.r.Text, k, hi)
		}
		return &r.r
	}
	m.Len = rng("len", s.Len, 65535)
	m.Window = rng("window", s.Window, 65535<<14)
	m.Seq = rng("seq", s.Seq, maxRange)
	m.Ack = rng("ack", s.Ack, maxRange)
	m.MSS = rng("mss", s.MSS, 65535)
	m.WS = rng("ws", s.WS, 1<<14)
	if m.WS != nil && m.WS.Lo == m.WS.Hi && m.WS.Lo <= 1<<14 && bits.OnesCount64(uint64(m.WS.Lo)) != 1 {
		v.valuef(p+".ws", "ws %d can never match: ws is the window scale multiplier the timeline shows (WS=128), a power of two from 1 to 16384", m.WS.Lo)
	}
	m.SACKPerm, m.DSACK = s.SACKPerm, s.DSACK
	if s.SACK != nil {
		m.SACK = &s.SACK.m
	}
	if s.Analysis != nil {
		m.Analysis, m.NotAnalysis = v.analysis(p+".analysis", *s.Analysis)
	}
	return m
}

// analysis parses "retransmission" or "fast_retransmission,duplicate_ack"
// or "!retransmission": analysis flags that must all be set, or with '!'
// must not be, by their Wireshark field names (with or without
// "tcp.analysis.").
func (v *validator) analysis(path, s string) (set, clear tap.Analysis) {
	if strings.TrimSpace(s) == "" {
		v.valuef(path, "analysis must name a flag, such as \"retransmission\" (want one of %s)", strings.Join(tap.AnalysisNames(), ", "))
		return 0, 0
	}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		not := strings.HasPrefix(name, "!")
		name = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(name, "!")), "tcp.analysis.")
		f, ok := tap.ParseAnalysis(name)
		if !ok {
			msg := fmt.Sprintf("unknown analysis flag %q", name)
			if alias := analysisAliases[normalAnalysis(name)]; alias != "" {
				v.valuef(path, "%s (did you mean %q?)", msg, alias)
			} else if d := didYouMean(name, tap.AnalysisNames()); d != "" {
				v.valuef(path, "%s%s", msg, d)
			} else {
				v.valuef(path, "%s (want one of %s)", msg, strings.Join(tap.AnalysisNames(), ", "))
			}
			continue
		}
		if not {
			clear |= f
		} else {
			set |= f
		}
	}
	if set&clear != 0 {
		v.valuef(path, "analysis %q asks for %s both set and not set", s, set&clear)
	}
	return set, clear
}

// analysisAliases maps the labels Wireshark shows in its Info column
// ("TCP Dup ACK", "TCP ZeroWindow", "TCP Previous segment not captured"),
// normalized by normalAnalysis, to the names of its fields, which a lab
// uses, where the two differ by more than a slip.
var analysisAliases = map[string]string{
	"dup_ack":                       "duplicate_ack",
	"dupack":                        "duplicate_ack",
	"zerowindow":                    "zero_window",
	"zerowindowprobe":               "zero_window_probe",
	"zerowindowprobeack":            "zero_window_probe_ack",
	"previous_segment_not_captured": "lost_segment",
	"acked_unseen_segment":          "ack_lost_segment",
	"port_numbers_reused":           "reused_ports",
}

// normalAnalysis spells a Wireshark label as a field name: lower case,
// without "TCP ", '_' for spaces and '-'.
func normalAnalysis(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "tcp ")
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}

// noteKeys are the catalogue's keys, sorted, for suggestions.
var noteKeys = func() []string {
	keys := i18n.Keys()
	slices.Sort(keys)
	return keys
}()

// noteKey checks that key is a key of the note catalogue.
func (v *validator) noteKey(path, key string) {
	if i18n.Has(i18n.EN, key) {
		return
	}
	msg := fmt.Sprintf("unknown note key %q", key)
	if d := didYouMean(key, noteKeys); d != "" {
		v.valuef(path, "%s%s", msg, d)
		return
	}
	v.valuef(path, "%s (the keys are those tcplab run --format json shows in note_keys, such as \"seg.retrans.rto\")", msg)
}

// modelStepWords are the first words of the steps the application models
// report that are not script actions.
var modelStepWords = []string{"serve", "request"}

// stepWords lists the words a step begins with: the script actions and
// the models' own steps.
func stepWords() []string {
	return append(hosts.ActionNames(), modelStepWords...)
}

// stepValue checks that a step value begins with a step's word.
func (v *validator) stepValue(path, s string) {
	word, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	words := stepWords()
	switch {
	case s == "":
		v.valuef(path, "step must not be empty")
	case s != strings.TrimSpace(s):
		v.valuef(path, "step %q has spaces around it; it is matched against the step as the timeline writes it", s)
	case !slices.Contains(words, word):
		if d := didYouMean(word, words); d != "" {
			v.valuef(path, "unknown step %q%s", word, d)
		} else {
			v.valuef(path, "unknown step %q (a step begins with one of %s)", word, strings.Join(words, ", "))
		}
	}
}
