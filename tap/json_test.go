package tap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/i18n"
)

// jsonLines writes tp's JSON form and parses every line back, failing on a
// line that is not one JSON object.
func jsonLines(t *testing.T, tp *Tap) (raw []string, objs []map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	if err := tp.WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v\n%s", len(raw)+1, err, sc.Text())
		}
		raw = append(raw, sc.Text())
		objs = append(objs, m)
	}
	return raw, objs
}

// keyOrder returns the top-level keys of a JSON object in the order they
// are written.
func keyOrder(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestJSONShape checks that every row is one object whose fields come in
// the documented order, with optional fields only where they belong.
func TestJSONShape(t *testing.T) {
	tp := sampleTap(t, i18n.EN)
	raw, _ := jsonLines(t, tp)
	if len(raw) != len(tp.Rows()) {
		t.Fatalf("WriteJSON wrote %d lines, want one per row (%d)", len(raw), len(tp.Rows()))
	}
	head := []string{"kind", "t", "ns", "host"}
	frame := []string{"kind", "no", "t", "ns", "host"}
	notes := []string{"notes", "note_keys"}
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	tests := []struct {
		name string
		line int // 0-based
		want []string
	}{
		{"listener state", 0, cat(head, []string{"local", "from_state", "to_state", "cause", "cause_keys"}, notes)},
		{"app", 1, cat(head, []string{"step", "result"}, notes)},
		{"connected state", 2, cat(head, []string{"local", "remote", "from_state", "to_state", "cause", "cause_keys"}, notes)},
		{"SYN without ack", 3, cat(frame, []string{"from", "to", "flags", "seq", "abs_seq", "len", "win", "in_flight", "options", "analysis", "dropped"}, notes)},
		{"queue", 4, cat(head, []string{"listener", "waiting", "capacity", "half_open"}, notes)},
		{"SYN-ACK", 6, cat(frame, []string{"from", "to", "flags", "seq", "ack", "abs_seq", "abs_ack", "len", "win", "in_flight", "options", "analysis", "dropped"}, notes)},
		{"dropped segment", 9, cat(frame, []string{"from", "to", "flags", "seq", "ack", "abs_seq", "abs_ack", "len", "win", "in_flight", "options", "analysis", "dropped", "drop_reason"}, notes)},
		{"counters", 10, cat(head, []string{"counters"}, notes)},
		{"not TCP", 11, cat(frame, []string{"dropped"}, notes)},
		{"failed app step", 13, cat(head, []string{"step", "error"}, notes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keyOrder(t, raw[tt.line]); !slices.Equal(got, tt.want) {
				t.Errorf("line %d keys = %v, want %v\n%s", tt.line+1, got, tt.want, raw[tt.line])
			}
		})
	}
}

// TestJSONValues checks the values of a handshake, a drop and the other
// kinds of row, as a script would read them.
func TestJSONValues(t *testing.T) {
	_, objs := jsonLines(t, sampleTap(t, i18n.EN))
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o["kind"].(string))
	}
	wantKinds := []string{"state", "app", "state", "segment", "queue", "state", "segment", "state", "segment", "segment", "counter", "packet", "segment", "app", "state"}
	if !slices.Equal(kinds, wantKinds) {
		t.Fatalf("kinds = %v, want %v", kinds, wantKinds)
	}
	check := func(line int, field string, want any) {
		t.Helper()
		got, _ := json.Marshal(objs[line][field])
		w, _ := json.Marshal(want)
		if !bytes.Equal(got, w) {
			t.Errorf("line %d: %s = %s, want %s", line+1, field, got, w)
		}
	}
	// The SYN: frame 1, relative seq 0, the ISN as abs_seq, no ack.
	check(3, "no", 1)
	check(3, "t", "0.001000")
	check(3, "ns", 1_000_000)
	check(3, "host", "client")
	check(3, "from", "client:40000")
	check(3, "to", "server:80")
	check(3, "flags", []string{"SYN"})
	check(3, "seq", 0)
	check(3, "abs_seq", 1000)
	check(3, "ack", nil)
	check(3, "dropped", false)
	check(3, "analysis", []string{})
	// The SYN-ACK acknowledges ISN+1.
	check(6, "flags", []string{"SYN", "ACK"})
	check(6, "ack", 1)
	check(6, "abs_ack", 1001)
	// The dropped segment: reason, analysis, and the drop among its notes.
	check(9, "flags", []string{"PSH", "ACK"})
	check(9, "len", 8)
	check(9, "dropped", true)
	check(9, "drop_reason", "loss on client")
	check(9, "analysis", []string{"retransmission"})
	if keys := objs[9]["note_keys"].([]any); !slices.Contains(keys, any("sw.dropped")) {
		t.Errorf("line 10: note_keys = %v, want sw.dropped among them", keys)
	}
	if notes, keys := objs[9]["notes"].([]any), objs[9]["note_keys"].([]any); len(notes) != len(keys) {
		t.Errorf("line 10: %d notes but %d note_keys, want one key per note", len(notes), len(keys))
	}
	// State rows: a listener has no remote; a cause comes with its key.
	check(0, "local", "*:80")
	check(0, "remote", nil)
	check(0, "cause", "step: listen")
	check(0, "cause_keys", []string{"cause.step"})
	check(5, "local", "server:80")
	check(5, "remote", "client:40000")
	check(5, "cause", "received SYN from client:40000")
	// Queue, counters, a failed step.
	check(4, "listener", "*:80")
	check(4, "half_open", 1)
	check(10, "counters", []map[string]any{{"name": "ListenOverflowSynDrop", "delta": 1, "total": 1}, {"name": "SegmentsDropped", "delta": 2, "total": 5}})
	check(13, "error", "connection reset by peer")
	check(13, "result", nil)
}

// TestJSONLanguage checks that texts follow the tap's language and keys do
// not.
func TestJSONLanguage(t *testing.T) {
	_, en := jsonLines(t, sampleTap(t, i18n.EN))
	_, zh := jsonLines(t, sampleTap(t, i18n.ZH))
	for i := range en {
		if a, b := en[i]["note_keys"], zh[i]["note_keys"]; !jsonEqual(a, b) {
			t.Errorf("line %d: note_keys %v in English but %v in Chinese, want the same", i+1, a, b)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestJSONGolden pins the whole JSON form of the sample timeline.
func TestJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleTap(t, i18n.EN).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.jsonl", buf.Bytes())
}

// TestJSONDeterministic writes the same timeline twice.
func TestJSONDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	tp := sampleTap(t, i18n.EN)
	if err := tp.WriteJSON(&a); err != nil {
		t.Fatal(err)
	}
	if err := tp.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("WriteJSON wrote different bytes for the same timeline")
	}
}

// TestJSONWriteError checks that a failing writer's error comes back.
func TestJSONWriteError(t *testing.T) {
	err := sampleTap(t, i18n.EN).WriteJSON(&failWriter{})
	if err == nil {
		t.Fatal("WriteJSON to a failing writer = nil, want its error")
	}
}
