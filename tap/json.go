package tap

import (
	"bufio"
	"encoding/json"
	"io"
	"net/netip"
	"strings"

	"github.com/tcplab/tcplab/i18n"
)

// The JSON form of the timeline is JSON Lines: one object per row, in
// timeline order. Each kind of row has a struct of its own, so its fields
// always come in the same order; docs/OUTPUT.md documents every field.
// Rendered texts (notes, causes, drop reasons) are in the tap's language;
// the message keys beside them are the same in every language, for
// scripts.

// jsonRow is what every object starts with.
type jsonRow struct {
	Kind string `json:"kind"`
	No   int    `json:"no,omitempty"` // frames only
	T    string `json:"t"`            // virtual seconds, "0.010000"
	NS   int64  `json:"ns"`           // virtual nanoseconds
	Host string `json:"host"`
}

// jsonNotes is what every object ends with.
type jsonNotes struct {
	Notes    []string `json:"notes"`
	NoteKeys []string `json:"note_keys"`
}

type jsonSegment struct {
	jsonRow
	From       string   `json:"from"`
	To         string   `json:"to"`
	Flags      []string `json:"flags"`
	Seq        uint32   `json:"seq"`
	Ack        *uint32  `json:"ack,omitempty"`
	AbsSeq     uint32   `json:"abs_seq"`
	AbsAck     *uint32  `json:"abs_ack,omitempty"`
	Len        int      `json:"len"`
	Win        int      `json:"win"`
	InFlight   int      `json:"in_flight"`
	Options    string   `json:"options"`
	Analysis   []string `json:"analysis"`
	DupAckNum  int      `json:"dup_ack_num,omitempty"`
	DupAckOf   int      `json:"dup_ack_of,omitempty"`
	Dropped    bool     `json:"dropped"`
	DropReason string   `json:"drop_reason,omitempty"`
	jsonNotes
}

type jsonPacket struct {
	jsonRow
	Dropped    bool   `json:"dropped"`
	DropReason string `json:"drop_reason,omitempty"`
	jsonNotes
}

type jsonState struct {
	jsonRow
	Local     string   `json:"local"`
	Remote    string   `json:"remote,omitempty"`
	FromState string   `json:"from_state"`
	ToState   string   `json:"to_state"`
	Cause     string   `json:"cause"`
	CauseKeys []string `json:"cause_keys"`
	jsonNotes
}

type jsonApp struct {
	jsonRow
	Step   string `json:"step"`
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
	jsonNotes
}

type jsonQueue struct {
	jsonRow
	Listener string `json:"listener"`
	Waiting  int    `json:"waiting"`
	Capacity int    `json:"capacity"`
	HalfOpen int    `json:"half_open"`
	jsonNotes
}

type jsonCounter struct {
	jsonRow
	Counters []jsonCounterMove `json:"counters"`
	jsonNotes
}

type jsonCounterMove struct {
	Name  string `json:"name"`
	Delta uint64 `json:"delta"`
	Total uint64 `json:"total"`
}

// WriteJSON writes the timeline as JSON Lines: one object per row, in
// timeline order, with a "kind" of segment, state, app, packet, queue or
// counter. The shape of each kind is documented in docs/OUTPUT.md; fields
// never change order, and a field is left out only where the document says
// so. Texts are rendered in t.Lang, with their message keys beside them.
func (t *Tap) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, r := range t.rows {
		if err := enc.Encode(t.jsonOf(r)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// jsonOf returns the JSON object of row r.
func (t *Tap) jsonOf(r *Row) any {
	base := jsonRow{Kind: r.Kind.String(), T: fmtTime(r.At), NS: int64(r.At), Host: r.Host}
	notes := jsonNotes{Notes: t.texts(r.Notes), NoteKeys: keys(r.Notes)}
	switch r.Kind {
	case KindSegment:
		base.No = r.No
		s := jsonSegment{
			jsonRow:    base,
			From:       r.From,
			To:         r.To,
			Flags:      flagNames(r.Seg.Flags),
			Seq:        r.RelSeq,
			AbsSeq:     r.Seg.Seq,
			Len:        r.Seg.Len,
			Win:        r.Window,
			InFlight:   r.InFlight,
			Options:    r.OptText(),
			Analysis:   nonNil(r.Analysis.Names()),
			DupAckNum:  r.DupAckNum,
			DupAckOf:   r.DupAckOf,
			Dropped:    !r.Dropped.IsZero(),
			DropReason: t.text(r.Dropped),
			jsonNotes:  notes,
		}
		if r.HasAck {
			s.Ack = &r.RelAck
		}
		if r.Seg.Flags&ACK != 0 {
			s.AbsAck = &r.Seg.Ack
		}
		return s
	case KindPacket:
		base.No = r.No
		return jsonPacket{jsonRow: base, Dropped: !r.Dropped.IsZero(), DropReason: t.text(r.Dropped), jsonNotes: notes}
	case KindState:
		s := jsonState{
			jsonRow:   base,
			Local:     t.connText(r.Local, netip.AddrPort{}),
			FromState: r.FromState,
			ToState:   r.ToState,
			Cause:     t.CauseText(r),
			CauseKeys: keys(r.Cause),
			jsonNotes: notes,
		}
		if r.Remote.Addr().IsValid() && !r.Remote.Addr().IsUnspecified() {
			s.Remote = t.endpoint(r.Remote)
		}
		return s
	case KindApp:
		return jsonApp{jsonRow: base, Step: r.Step, Result: r.Result, Error: r.Err, jsonNotes: notes}
	case KindQueue:
		return jsonQueue{jsonRow: base, Listener: t.connText(r.Local, netip.AddrPort{}), Waiting: r.Waiting, Capacity: r.Capacity, HalfOpen: r.HalfOpen, jsonNotes: notes}
	case KindCounter:
		moves := make([]jsonCounterMove, 0, len(r.Counters))
		for _, c := range r.Counters {
			moves = append(moves, jsonCounterMove(c))
		}
		return jsonCounter{jsonRow: base, Counters: moves, jsonNotes: notes}
	}
	return struct {
		jsonRow
		jsonNotes
	}{base, notes}
}

// texts renders each message in the tap's language.
func (t *Tap) texts(msgs []i18n.Msg) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, t.text(m))
	}
	return out
}

// keys returns the catalogue key of each message.
func keys(msgs []i18n.Msg) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, m.Key)
	}
	return out
}

// flagNames returns the names of the flags in f, in FlagString's order.
func flagNames(f uint8) []string {
	if f == 0 {
		return []string{}
	}
	return strings.Split(FlagString(f), ", ")
}

// nonNil returns s, or an empty slice for nil, so that JSON has [] rather
// than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
