package tap

import (
	"bufio"
	"encoding/json"
	"io"
	"net/netip"
	"strings"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
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
	From       string       `json:"from"`
	To         string       `json:"to"`
	Flags      []string     `json:"flags"`
	Seq        uint32       `json:"seq"`
	Ack        *uint32      `json:"ack,omitempty"`
	AbsSeq     uint32       `json:"abs_seq"`
	AbsAck     *uint32      `json:"abs_ack,omitempty"`
	Len        int          `json:"len"`
	Win        int          `json:"win"`
	InFlight   int          `json:"in_flight"`
	Options    string       `json:"options"`
	Analysis   []string     `json:"analysis"`
	DupAckNum  int          `json:"dup_ack_num,omitempty"`
	DupAckOf   int          `json:"dup_ack_of,omitempty"`
	Cause      jsonCause    `json:"cause"`
	Dropped    bool         `json:"dropped"`
	DropReason string       `json:"drop_reason,omitempty"`
	Arrival    *jsonArrival `json:"arrival,omitempty"`
	Sender     *jsonSender  `json:"sender,omitempty"`
	Box        string       `json:"box,omitempty"`
	jsonNotes
}

// jsonSender is the sending endpoint's own state when it wrote a segment.
type jsonSender struct {
	Cwnd        int    `json:"cwnd"`
	Ssthresh    *int   `json:"ssthresh,omitempty"`
	MSS         int    `json:"mss"`
	Outstanding int    `json:"outstanding"`
	SackedOut   int    `json:"sacked_out"`
	SndUna      uint32 `json:"snd_una"`
	SndNxt      uint32 `json:"snd_nxt"`
	SndWnd      uint32 `json:"snd_wnd"`
	SRTTNS      *int64 `json:"srtt_ns,omitempty"`
	RTTVarNS    *int64 `json:"rttvar_ns,omitempty"`
	RTONS       int64  `json:"rto_ns"`
	RcvWnd      uint32 `json:"rcv_wnd"`
	Recovery    bool   `json:"recovery"`
}

// noSsthresh is the slow-start threshold from which a stack has none yet:
// netstack starts at the largest int.
const noSsthresh = 1 << 31

func senderOf(r *Row) *jsonSender {
	s := r.Sender
	if s == nil {
		return nil
	}
	j := &jsonSender{Cwnd: s.Cwnd, MSS: s.MSS, Outstanding: s.Outstanding, SackedOut: s.SackedOut,
		SndUna: r.SenderSeq(s.SndUna), SndNxt: r.SenderSeq(s.SndNxt), SndWnd: s.SndWnd,
		RTONS: int64(s.RTO), RcvWnd: s.RcvWnd, Recovery: s.Recovery}
	if s.Ssthresh < noSsthresh {
		th := s.Ssthresh
		j.Ssthresh = &th
	}
	if s.RTTValid {
		srtt, v := int64(s.SRTT), int64(s.RTTVar)
		j.SRTTNS, j.RTTVarNS = &srtt, &v
	}
	return j
}

type jsonPacket struct {
	jsonRow
	Dropped    bool         `json:"dropped"`
	DropReason string       `json:"drop_reason,omitempty"`
	Arrival    *jsonArrival `json:"arrival,omitempty"`
	jsonNotes
}

// jsonCopy is a copy of a segment (kind "copy"), or a segment its
// receiver's stack dropped (kind "drop").
type jsonCopy struct {
	jsonRow
	Copy       int               `json:"copy,omitempty"`
	From       string            `json:"from"`
	To         string            `json:"to"`
	Flags      []string          `json:"flags"`
	Dropped    bool              `json:"dropped"`
	DropReason string            `json:"drop_reason,omitempty"`
	Arrival    *jsonArrival      `json:"arrival,omitempty"`
	Counters   []jsonCounterMove `json:"counters"`
	jsonNotes
}

type jsonTimer struct {
	jsonRow
	Timer string `json:"timer"`
	Conn  string `json:"conn"`
	State string `json:"state"`
	RTONS int64  `json:"rto_ns,omitempty"`
	jsonNotes
}

// jsonWorld is a change around the stacks: a crash, a reboot, a flow a
// middlebox forgot.
type jsonWorld struct {
	jsonRow
	What      string `json:"what"`
	Conns     int    `json:"conns"`
	Listeners int    `json:"listeners"`
	Apps      int    `json:"apps"`
	Box       string `json:"box,omitempty"`
	Flow      string `json:"flow,omitempty"`
	IdleNS    int64  `json:"idle_ns,omitempty"`
	jsonNotes
}

type jsonStall struct {
	jsonRow
	Conn    string `json:"conn"`
	State   string `json:"state"`
	Unacked uint32 `json:"unacked"`
	jsonNotes
}

type jsonState struct {
	jsonRow
	Local     string    `json:"local"`
	Remote    string    `json:"remote,omitempty"`
	FromState string    `json:"from_state"`
	ToState   string    `json:"to_state"`
	Cause     string    `json:"cause"`
	CauseKeys []string  `json:"cause_keys"`
	CauseOf   jsonCause `json:"cause_of"`
	jsonNotes
}

type jsonApp struct {
	jsonRow
	Label  string `json:"label,omitempty"`
	Step   string `json:"step"`
	Op     string `json:"op"`
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
	Errno  string `json:"errno,omitempty"`
	Bytes  *int   `json:"bytes,omitempty"`
	// OnError and Skipped: what the script did after a failed step.
	OnError string       `json:"on_error,omitempty"`
	Skipped int          `json:"skipped,omitempty"`
	TCPInfo *jsonTCPInfo `json:"tcp_info,omitempty"`
	jsonNotes
}

// jsonTCPInfo is a tcp_info step's snapshot; the sender's fields are
// absent when the socket has no sender yet.
type jsonTCPInfo struct {
	State        string `json:"state"`
	CAState      string `json:"ca_state"`
	RTTNS        *int64 `json:"rtt_ns,omitempty"`
	RTTVarNS     *int64 `json:"rttvar_ns,omitempty"`
	RTONS        *int64 `json:"rto_ns,omitempty"`
	Cwnd         *int   `json:"cwnd,omitempty"`
	Ssthresh     *int   `json:"ssthresh,omitempty"`
	MSS          *int   `json:"mss,omitempty"`
	Unacked      *int   `json:"unacked,omitempty"`
	Sacked       *int   `json:"sacked,omitempty"`
	SndWnd       *int   `json:"snd_wnd,omitempty"`
	RcvWnd       *int   `json:"rcv_wnd,omitempty"`
	TotalRetrans uint64 `json:"total_retrans"`
	SegsOut      uint64 `json:"segs_out"`
	SegsIn       uint64 `json:"segs_in"`
	ReorderSeen  bool   `json:"reord_seen"`
}

// tcpInfoOf converts a tcp_info snapshot, nil for none.
func tcpInfoOf(in *event.TCPInfo) *jsonTCPInfo {
	if in == nil {
		return nil
	}
	j := &jsonTCPInfo{State: in.State.String(), CAState: in.CAState, TotalRetrans: in.TotalRetrans, SegsOut: in.SegsOut, SegsIn: in.SegsIn, ReorderSeen: in.ReorderSeen}
	if !in.Sender {
		return j
	}
	rto := int64(in.RTO)
	cwnd, mss, unacked, sacked, snd, rcv := in.Cwnd, in.MSS, in.Unacked, in.Sacked, int(in.SndWnd), int(in.RcvWnd)
	j.RTONS, j.Cwnd, j.MSS, j.Unacked, j.Sacked, j.SndWnd, j.RcvWnd = &rto, &cwnd, &mss, &unacked, &sacked, &snd, &rcv
	if in.RTTValid {
		rtt, v := int64(in.RTT), int64(in.RTTVar)
		j.RTTNS, j.RTTVarNS = &rtt, &v
	}
	if in.Ssthresh >= 0 {
		th := in.Ssthresh
		j.Ssthresh = &th
	}
	return j
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
	CauseOf  jsonCause         `json:"cause_of"`
	jsonNotes
}

type jsonCounterMove struct {
	Name  string `json:"name"`
	Delta uint64 `json:"delta"`
	Total uint64 `json:"total"`
}

// JSONWriter writes the timeline as JSON Lines, one object per row as the
// tap releases them. It implements Sink.
type JSONWriter struct {
	t    *Tap
	w    *bufio.Writer
	enc  *json.Encoder
	lang i18n.Lang
}

var _ Sink = (*JSONWriter)(nil)

// NewJSONWriter returns a JSON Lines writer on w for the tap's rows, with
// texts in lang. The shape of each kind of row is documented in
// docs/OUTPUT.md; fields never change order, and a field is left out only
// where the document says so. Texts are rendered in lang, with their
// message keys beside them.
func (t *Tap) NewJSONWriter(w io.Writer, lang i18n.Lang) *JSONWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSONWriter{t: t, w: bw, enc: enc, lang: lang}
}

// Row implements Sink.
func (jw *JSONWriter) Row(r *Row) error { return jw.enc.Encode(jw.t.jsonOf(r, jw.lang)) }

// Encode writes another object (the lab and end objects) as a line.
func (jw *JSONWriter) Encode(v any) error { return jw.enc.Encode(v) }

// Flush flushes what was written.
func (jw *JSONWriter) Flush() error { return jw.w.Flush() }

// jsonCause is why a host acted.
type jsonCause struct {
	Kind  string `json:"kind"` // app, arrival, timer, injection, none
	Op    string `json:"op,omitempty"`
	Why   string `json:"why,omitempty"`
	Frame int    `json:"frame,omitempty"`
	Copy  int    `json:"copy,omitempty"`
	Timer string `json:"timer,omitempty"`
	Rule  string `json:"rule,omitempty"`
	// Inferred says how tcplab explain inferred the cause from a capture.
	Inferred string `json:"inferred,omitempty"`
}

var causeKinds = []string{"none", "app", "arrival", "timer", "injection", "crash"}

func causeOf(c event.Cause) jsonCause {
	j := jsonCause{Kind: causeKinds[c.Kind], Op: c.Op, Why: c.Why, Rule: c.Rule, Inferred: c.Inferred.String()}
	switch c.Kind {
	case event.ByArrival:
		j.Frame, j.Copy = c.Ref.Frame, c.Ref.Copy
	case event.ByTimer:
		j.Timer = c.Timer.String()
	}
	return j
}

// jsonArrival is a segment reaching its receiver.
type jsonArrival struct {
	T         string   `json:"t"`
	NS        int64    `json:"ns"`
	Host      string   `json:"host"`
	Verdict   string   `json:"verdict"`
	No        int      `json:"no"`
	Analysis  []string `json:"analysis"`
	DupAckNum int      `json:"dup_ack_num,omitempty"`
	DupAckOf  int      `json:"dup_ack_of,omitempty"`
}

func arrivalOf(a *Arrival) *jsonArrival {
	if a == nil {
		return nil
	}
	return &jsonArrival{T: fmtTime(a.At), NS: int64(a.At), Host: a.Host, Verdict: a.Verdict.String(), No: a.No,
		Analysis: nonNil(a.Analysis.Names()), DupAckNum: a.DupAckNum, DupAckOf: a.DupAckOf}
}

// jsonOf returns the JSON object of row r.
func (t *Tap) jsonOf(r *Row, lang i18n.Lang) any {
	text := func(m i18n.Msg) string { return m.Text(lang, t.Names) }
	base := jsonRow{Kind: r.Kind.String(), T: fmtTime(r.At), NS: int64(r.At), Host: r.Host}
	notes := jsonNotes{Notes: t.texts(r.Notes, lang), NoteKeys: nonNil(r.NoteKeys())}
	dropReason := ""
	if r.Dropped != nil {
		dropReason = text(t.dropReason(r.Dropped))
	}
	switch r.Kind {
	case KindSegment:
		base.No = r.No
		s := jsonSegment{
			jsonRow:    base,
			From:       r.From,
			To:         r.To,
			Flags:      flagNames(r.Seg.Flags),
			Seq:        r.RelSeq,
			AbsSeq:     uint32(r.Seg.Seq),
			Len:        r.Seg.Len,
			Win:        r.Window,
			InFlight:   r.InFlight,
			Options:    r.OptText(),
			Analysis:   nonNil(r.Analysis.Names()),
			DupAckNum:  r.DupAckNum,
			DupAckOf:   r.DupAckOf,
			Cause:      causeOf(r.Cause),
			Dropped:    r.Dropped != nil,
			DropReason: dropReason,
			Arrival:    arrivalOf(r.Arrival),
			Sender:     senderOf(r),
			jsonNotes:  notes,
		}
		if r.Box != nil {
			s.Box = r.Box.Name
		}
		if r.HasAck {
			s.Ack = &r.RelAck
		}
		if r.Seg.Flags&segment.ACK != 0 {
			ack := uint32(r.Seg.Ack)
			s.AbsAck = &ack
		}
		return s
	case KindPacket:
		base.No = r.No
		return jsonPacket{jsonRow: base, Dropped: r.Dropped != nil, DropReason: dropReason, Arrival: arrivalOf(r.Arrival), jsonNotes: notes}
	case KindCopy, KindDrop:
		base.No = r.No
		var flags segment.Flags
		if r.Seg != nil { // nil for a copy of a packet that is not TCP
			flags = r.Seg.Flags
		}
		return jsonCopy{jsonRow: base, Copy: r.Copy, From: r.From, To: r.To, Flags: flagNames(flags), Dropped: r.Dropped != nil, DropReason: dropReason,
			Arrival: arrivalOf(r.Arrival), Counters: moves(r.Counters), jsonNotes: notes}
	case KindState:
		s := jsonState{
			jsonRow:   base,
			Local:     t.connText(r.Local, netip.AddrPort{}),
			FromState: r.FromState.String(),
			ToState:   r.ToState.String(),
			Cause:     text(r.CauseMsg),
			CauseKeys: []string{r.CauseMsg.Key},
			CauseOf:   causeOf(r.Cause),
			jsonNotes: notes,
		}
		if r.Remote.Addr().IsValid() && !r.Remote.Addr().IsUnspecified() {
			s.Remote = t.endpoint(r.Remote)
		}
		return s
	case KindApp:
		a := r.App
		j := jsonApp{jsonRow: base, Label: a.Label, Step: text(a.Step), Op: a.Op, Result: text(a.Result), Error: text(a.Err), Errno: a.Errno, jsonNotes: notes,
			OnError: a.OnError.String(), Skipped: a.Skipped, TCPInfo: tcpInfoOf(a.TCPInfo)}
		if a.Bytes >= 0 {
			j.Bytes = &a.Bytes
		}
		return j
	case KindQueue:
		return jsonQueue{jsonRow: base, Listener: t.connText(r.Local, netip.AddrPort{}), Waiting: r.Waiting, Capacity: r.Capacity, HalfOpen: r.HalfOpen, jsonNotes: notes}
	case KindCounter:
		return jsonCounter{jsonRow: base, Counters: moves(r.Counters), CauseOf: causeOf(r.Cause), jsonNotes: notes}
	case KindTimer:
		return jsonTimer{jsonRow: base, Timer: r.Timer.Kind.String(), Conn: t.connText(r.Local, r.Remote), State: r.Timer.State.String(), RTONS: int64(r.Timer.RTO), jsonNotes: notes}
	case KindWorld:
		w := r.World
		j := jsonWorld{jsonRow: base, What: w.Kind.String(), Conns: w.Conns, Listeners: w.Listeners, Apps: w.Apps, jsonNotes: notes}
		if w.Box != nil {
			j.Box, j.Flow, j.IdleNS = w.Box.Name, t.connText(w.A, w.B), int64(w.Box.Idle)
		}
		return j
	case KindStall:
		return jsonStall{jsonRow: base, Conn: t.connText(r.Local, r.Remote), State: r.Stall.State.String(), Unacked: uint32(r.Stall.SndNxt - r.Stall.SndUna), jsonNotes: notes}
	}
	return struct {
		jsonRow
		jsonNotes
	}{base, notes}
}

func moves(cs []event.CounterMove) []jsonCounterMove {
	out := make([]jsonCounterMove, 0, len(cs))
	for _, c := range cs {
		out = append(out, jsonCounterMove(c))
	}
	return out
}

// texts renders each message in lang.
func (t *Tap) texts(msgs []i18n.Msg, lang i18n.Lang) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, m.Text(lang, t.Names))
	}
	return out
}

// flagNames returns the names of the flags in f, in Wireshark's order.
func flagNames(f segment.Flags) []string {
	if f == 0 {
		return []string{}
	}
	return strings.Split(f.String(), ", ")
}

// nonNil returns s, or an empty slice for nil, so that JSON has [] rather
// than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
