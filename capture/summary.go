package capture

import (
	"slices"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
)

// maxSummaries bounds the summaries an Explainer keeps; the connections
// after them are only counted.
const maxSummaries = 100_000

// Summary is one connection in a line, like Zeek's connection log: who
// opened it, how it ended, bytes and retransmissions each way, both ends'
// states at the end, and its history.
type Summary struct {
	// ID is the connection's index, in order of first appearance.
	ID int
	// Ends are the endpoints, the first sender (the client) first, and
	// Hosts their hosts' names (an address when unnamed).
	Ends  [2]string
	Hosts [2]string
	// Opened says who opened it, Ended how it ended.
	Opened, Ended i18n.Msg
	// Bytes are the payload bytes each end sent (counted once),
	// Packets its segments, Retrans its retransmissions.
	Bytes   [2]int64
	Packets [2]int
	Retrans [2]int
	// States are both ends' states when the capture ends (or the
	// connection ends).
	States [2]event.State
	// History is Zeek's connection history: S SYN, H SYN-ACK, A ACK,
	// D data, F FIN, R RST, each once, upper case for the first end.
	History string
	// Near is the end the capture was taken near, -1 when it cannot be
	// told.
	Near int
	// Patterns are the keys of the patterns named on it.
	Patterns []string
	// First and Last are the capture times of its first and last
	// segments, relative to the capture's first packet.
	First, Last time.Duration
}

// Summaries returns the connections' summaries, in order of first
// appearance, and how many more there were beyond the bound kept.
func (x *Explainer) Summaries() ([]Summary, int) {
	slices.SortFunc(x.summaries, func(a, b Summary) int { return a.ID - b.ID })
	return x.summaries, x.summaryDrop
}

// PeakHalfOpen returns the most connections that were half-open at once.
func (x *Explainer) PeakHalfOpen() int { return x.peakHalfOpen }

// summarize takes a connection's summary, once.
func (x *Explainer) summarize(c *conn) {
	if !c.selected || c.summarized {
		return
	}
	c.summarized = true
	if len(x.summaries) >= maxSummaries {
		x.summaryDrop++
		return
	}
	s := Summary{ID: c.id, Bytes: c.bytes, Packets: c.pkts, Retrans: c.retrans, States: c.st, History: string(c.history), Near: -1, Patterns: c.patterns, First: c.firstSeen, Last: c.last}
	for d := range 2 {
		s.Ends[d] = x.tap.Name(c.ends[d].Addr()) + ":" + itoa(int(c.ends[d].Port()))
		s.Hosts[d] = c.host[d]
		if c.near(d) {
			s.Near = d
		}
	}
	switch {
	case c.midOpen:
		s.Opened = i18n.M("cap.sum.before")
	case c.simOpen:
		s.Opened = i18n.M("cap.sum.simopen")
	default:
		s.Opened = i18n.M("cap.sum.opened", c.host[0])
	}
	established := c.midOpen || c.sent[1] && c.syns[1] > 0 && c.hasAck[0] && !c.refused
	switch {
	case c.rstBy >= 0 && c.syns[1] == 0 && !c.midOpen && c.rstBy == 1:
		s.Ended = i18n.M("cap.sum.refused", c.host[1])
	case c.rstBy >= 0:
		s.Ended = i18n.M("cap.sum.rst", c.host[c.rstBy])
	case c.fin[0] && c.fin[1]:
		s.Ended = i18n.M("cap.sum.fin", c.host[c.closer])
	case c.closer >= 0:
		s.Ended = i18n.M("cap.sum.halfclosed", c.host[c.closer])
	case c.syns[1] == 0 && !c.midOpen:
		s.Ended = i18n.M("cap.sum.noanswer")
	case !established:
		s.Ended = i18n.M("cap.sum.halfopen")
	default:
		s.Ended = i18n.M("cap.sum.open")
	}
	x.summaries = append(x.summaries, s)
}

// Text renders the summary on one line in lang.
func (s *Summary) Text(lang i18n.Lang, names i18n.Namer) string {
	hist := s.History
	if hist == "" {
		hist = "-"
	}
	line := i18n.M("cap.sum", s.ID, s.Ends[0], s.Ends[1], s.Opened, s.Ended, s.Bytes[0], s.Bytes[1], s.Retrans[0], s.Retrans[1],
		s.Hosts[0], s.States[0].String(), s.Hosts[1], s.States[1].String(), hist).Text(lang, names)
	if s.Near >= 0 {
		line += sepOf(lang) + i18n.M("cap.near", s.Hosts[s.Near]).Text(lang, names)
	}
	if len(s.Patterns) > 0 {
		var ps []string
		for _, p := range s.Patterns {
			ps = append(ps, patternName(p))
		}
		line += sepOf(lang) + i18n.M("cap.sum.patterns", strings.Join(ps, ", ")).Text(lang, names)
	}
	return line
}

// sepOf is the separator of clauses in lang.
func sepOf(lang i18n.Lang) string {
	if lang == i18n.ZH {
		return "；"
	}
	return "; "
}

// PatternNames returns the short names of the patterns named on the
// connection: "syn", "finalack", "findatarst", "flood".
func (s *Summary) PatternNames() []string {
	var out []string
	for _, p := range s.Patterns {
		out = append(out, patternName(p))
	}
	return out
}

// patternName is the short name of a pattern key, as JSON and the summary
// give it: "cap.pat.syn" → "syn".
func patternName(key string) string { return strings.TrimPrefix(key, "cap.pat.") }

func itoa(n int) string {
	var b [8]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
