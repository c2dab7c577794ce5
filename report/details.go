package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/tap"
)

// detail is what the page shows when the reader picks a row: a title and
// the explanation in each language, and fields (a label's message key and
// a value that reads the same in every language).
type detail struct {
	Kind  string      `json:"k"`
	Title [2]string   `json:"title"`
	Notes [2]string   `json:"n"`
	Field [][2]string `json:"f"`
	WS    []string    `json:"ws,omitempty"`
}

// langs are the report's languages, in the order of a detail's texts.
var langs = [2]i18n.Lang{i18n.EN, i18n.ZH}

// details describes row r.
func (w *Writer) details(r *tap.Row) detail {
	d := detail{Kind: r.Kind.String()}
	field := func(key, v string) {
		if v != "" {
			d.Field = append(d.Field, [2]string{key, v})
		}
	}
	if r.Kind != tap.KindSegment {
		for i, lang := range langs {
			d.Title[i] = w.t.RowText(r, lang)
		}
		field("host", r.Host)
		field("time", fmtTime(r.At))
		if r.Kind == tap.KindState {
			field("state", r.FromState.String()+" → "+r.ToState.String())
		}
		return d
	}
	for i, lang := range langs {
		d.Title[i] = segLabel(r) + "  " + r.From + " → " + r.To
		d.Notes[i] = w.t.NoteText(r, lang)
	}
	field("sent", fmtTime(r.At))
	switch {
	case r.Dropped != nil:
		field("dropped", fmtTime(r.Dropped.At)+" @ "+r.Dropped.Place.String()+" ("+r.Dropped.Reason.String()+")")
	case r.Arrival != nil:
		field("arrived", fmtTime(r.Arrival.At)+" @ "+r.Arrival.Host)
		field("verdict", r.Arrival.Verdict.String())
	}
	field("from", r.From)
	field("to", r.To)
	field("flags", r.Seg.Flags.String())
	field("seq", strconv.FormatUint(uint64(r.RelSeq), 10))
	if r.HasAck {
		field("ack", strconv.FormatUint(uint64(r.RelAck), 10))
	}
	abs := strconv.FormatUint(uint64(r.Seg.Seq), 10)
	if r.Seg.Flags&segment.ACK != 0 {
		abs += " / " + strconv.FormatUint(uint64(r.Seg.Ack), 10)
	}
	field("abs", abs)
	field("len", strconv.Itoa(r.Seg.Len))
	field("win", strconv.Itoa(r.Window))
	field("opts", r.OptText())
	field("inflight", strconv.Itoa(r.InFlight))
	field("cause", causeText(r.Cause))
	if s := r.Sender; s != nil {
		field("sender", senderText(r, s))
	}
	d.WS = r.Analysis.Names()
	return d
}

// causeText renders why a host sent a segment, in words that read the same
// in both languages: "app: connect", "frame 3", "timer: rto".
func causeText(c event.Cause) string {
	switch c.Kind {
	case event.ByApp:
		s := "app"
		if c.Op != "" {
			s += ": " + c.Op
		}
		if c.Why != "" {
			s += " (" + c.Why + ")"
		}
		return s
	case event.ByArrival:
		return c.Ref.String()
	case event.ByTimer:
		return "timer: " + c.Timer.String()
	case event.ByInjection:
		return "inject: " + c.Rule
	}
	return ""
}

// senderText renders the sender's own state in one line.
func senderText(r *tap.Row, s *event.SenderState) string {
	parts := []string{fmt.Sprintf("cwnd %d × %d B", s.Cwnd, s.MSS)}
	if s.Ssthresh < 1<<31 {
		parts = append(parts, fmt.Sprintf("ssthresh %d", s.Ssthresh))
	}
	if s.RTTValid {
		parts = append(parts, "SRTT "+dur(s.SRTT), "RTTVAR "+dur(s.RTTVar))
	}
	parts = append(parts, "RTO "+dur(s.RTO),
		fmt.Sprintf("SND.UNA %d SND.NXT %d", r.SenderSeq(s.SndUna), r.SenderSeq(s.SndNxt)),
		fmt.Sprintf("snd_wnd %d", s.SndWnd), fmt.Sprintf("rcv_wnd %d", s.RcvWnd),
		fmt.Sprintf("outstanding %d (SACKed %d)", s.Outstanding, s.SackedOut))
	if s.Recovery {
		parts = append(parts, "fast recovery")
	}
	return strings.Join(parts, ", ")
}

// dur renders a duration to the microsecond.
func dur(d time.Duration) string { return d.Round(time.Microsecond).String() }
