package tap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/i18n"
)

// sampleJSON returns the sample's JSON Lines in lang.
func sampleJSON(t testing.TB, lang i18n.Lang) string {
	t.Helper()
	var buf bytes.Buffer
	var jw *JSONWriter
	sample(t, func(tp *Tap) Sink { jw = tp.NewJSONWriter(&buf, lang); return jw })
	if err := jw.Flush(); err != nil {
		t.Fatalf("JSONWriter.Flush() = %v, want nil", err)
	}
	return buf.String()
}

// jsonLines parses every line of out, failing on a line that is not one
// JSON object.
func jsonLines(t *testing.T, out string) (raw []string, objs []map[string]any) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
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
func keyOrder(t *testing.T, obj string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(obj))
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

// field is one field of a JSON object's shape; an optional field may be
// left out.
type field struct {
	name     string
	optional bool
}

func fields(spec string) []field {
	var out []field
	for _, f := range strings.Fields(spec) {
		name, opt := strings.CutSuffix(f, "?")
		out = append(out, field{name, opt})
	}
	return out
}

// jsonShapes are the fields of each kind of row, in order, as tap/json.go
// writes them ("?" marks an optional field); jsonCauseShape and
// jsonArrivalShape those of the nested cause and arrival objects.
var (
	jsonHead   = "kind no? t ns host "
	jsonTail   = " notes note_keys"
	jsonShapes = map[string][]field{
		"segment": fields(jsonHead + "from to flags seq ack? abs_seq abs_ack? len win in_flight options analysis dup_ack_num? dup_ack_of? cause dropped drop_reason? arrival?" + jsonTail),
		"packet":  fields(jsonHead + "dropped drop_reason? arrival?" + jsonTail),
		"copy":    fields(jsonHead + "copy? from to flags dropped drop_reason? arrival? counters" + jsonTail),
		"drop":    fields(jsonHead + "copy? from to flags dropped drop_reason? arrival? counters" + jsonTail),
		"state":   fields(jsonHead + "local remote? from_state to_state cause cause_keys cause_of" + jsonTail),
		"app":     fields(jsonHead + "label? step op result? error? errno? bytes?" + jsonTail),
		"queue":   fields(jsonHead + "listener waiting capacity half_open" + jsonTail),
		"counter": fields(jsonHead + "counters cause_of" + jsonTail),
		"timer":   fields(jsonHead + "timer conn state rto_ns?" + jsonTail),
		"stall":   fields(jsonHead + "conn state unacked" + jsonTail),
	}
	jsonCauseShape   = fields("kind op? why? frame? copy? timer? rule?")
	jsonArrivalShape = fields("t ns host verdict no analysis dup_ack_num? dup_ack_of?")
)

// checkShape reports keys that do not follow shape: a field out of order,
// unknown, or missing though not optional.
func checkShape(t *testing.T, what string, keys []string, shape []field) {
	t.Helper()
	i := 0
	for _, f := range shape {
		switch {
		case i < len(keys) && keys[i] == f.name:
			i++
		case !f.optional:
			t.Errorf("%s: keys %v: no %q where it belongs", what, keys, f.name)
		}
	}
	if i < len(keys) {
		t.Errorf("%s: keys %v: %q is unknown or out of order", what, keys, keys[i])
	}
}

// TestJSONShape checks that every row is one object whose fields come in
// the order tap/json.go writes them, with optional fields only where they
// belong, in both languages; nested causes and arrivals too.
func TestJSONShape(t *testing.T) {
	_, rows := sampleRows(t)
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		raw, objs := jsonLines(t, sampleJSON(t, lang))
		if len(raw) != len(rows) {
			t.Fatalf("%s: %d lines, want one per row (%d)", lang, len(raw), len(rows))
		}
		for i, line := range raw {
			kind, _ := objs[i]["kind"].(string)
			if kind != rows[i].Kind.String() {
				t.Errorf("%s: line %d: kind %q, want %q", lang, i+1, kind, rows[i].Kind)
			}
			shape, ok := jsonShapes[kind]
			if !ok {
				t.Errorf("%s: line %d: unknown kind %q", lang, i+1, kind)
				continue
			}
			checkShape(t, lang.String()+": line "+strconv.Itoa(i+1)+" ("+kind+")", keyOrder(t, line), shape)
			for _, nested := range []struct {
				key   string
				shape []field
			}{{"cause", jsonCauseShape}, {"cause_of", jsonCauseShape}, {"arrival", jsonArrivalShape}} {
				if _, ok := objs[i][nested.key].(map[string]any); ok {
					var sub map[string]json.RawMessage
					if err := json.Unmarshal([]byte(line), &sub); err != nil {
						t.Fatal(err)
					}
					checkShape(t, lang.String()+": line "+strconv.Itoa(i+1)+" "+nested.key, keyOrder(t, string(sub[nested.key])), nested.shape)
				}
			}
			// Arrays are [] when empty, never null.
			for k, v := range objs[i] {
				if v == nil {
					t.Errorf("%s: line %d: %s is null", lang, i+1, k)
				}
			}
			if n, k := len(objs[i]["notes"].([]any)), len(objs[i]["note_keys"].([]any)); n != k {
				t.Errorf("%s: line %d: %d notes but %d note_keys, want one key per note", lang, i+1, n, k)
			}
		}
	}
}

// TestJSONValues checks the values of the sample's rows, as a script
// would read them.
func TestJSONValues(t *testing.T) {
	_, objs := jsonLines(t, sampleJSON(t, i18n.EN))
	if len(objs) != len(sampleKinds) {
		t.Fatalf("%d lines, want %d", len(objs), len(sampleKinds))
	}
	check := func(line int, field string, want any) {
		t.Helper()
		got, _ := json.Marshal(objs[line][field])
		w, _ := json.Marshal(want)
		if !bytes.Equal(got, w) {
			t.Errorf("line %d (%s): %s = %s, want %s", line+1, objs[line]["kind"], field, got, w)
		}
	}
	hasKey := func(line int, key string) {
		t.Helper()
		if keys := objs[line]["note_keys"].([]any); !slices.Contains(keys, any(key)) {
			t.Errorf("line %d (%s): note_keys = %v, want %s among them", line+1, objs[line]["kind"], keys, key)
		}
	}
	type obj = map[string]any
	// The SYN: frame 1, relative seq 0, the ISN as abs_seq, no ack; it
	// reached the server and was the first frame received.
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
	check(3, "abs_ack", nil)
	check(3, "options", "MSS=1460 SACK_PERM TSval=100 TSecr=0 WS=128")
	check(3, "analysis", []string{})
	check(3, "cause", obj{"kind": "app", "op": "connect"})
	check(3, "dropped", false)
	check(3, "arrival", obj{"t": "0.011000", "ns": 11_000_000, "host": "server", "verdict": "processed", "no": 1, "analysis": []string{}})
	hasKey(3, "seg.hs1")
	// The SYN-ACK acknowledges ISN+1 and answers frame 1.
	check(6, "flags", []string{"SYN", "ACK"})
	check(6, "ack", 1)
	check(6, "abs_ack", 1001)
	check(6, "cause", obj{"kind": "arrival", "frame": 1})
	hasKey(6, "seg.hs2")
	hasKey(8, "seg.hs3")
	// The lost data: reason, no arrival, the drop among its notes.
	check(10, "flags", []string{"PSH", "ACK"})
	check(10, "len", 8)
	check(10, "dropped", true)
	check(10, "drop_reason", "loss on client→switch")
	check(10, "arrival", nil)
	hasKey(10, "sw.dropped")
	// Not TCP, and to nowhere.
	check(12, "no", 5)
	check(12, "dropped", true)
	check(12, "drop_reason", "not routable: truncated IPv4 header")
	check(12, "note_keys", []string{"seg.nottcp", "sw.dropped"})
	check(13, "to", "10.0.0.9:7")
	check(13, "cause", obj{"kind": "injection", "rule": "stray"})
	check(13, "drop_reason", "no host has address 10.0.0.9")
	hasKey(13, "sw.inject")
	// The copy of frame 3 arrives at its own time, after the original.
	check(16, "no", 3)
	check(16, "copy", 1)
	check(16, "t", "0.031000")
	check(16, "host", "server")
	check(16, "flags", []string{"ACK"})
	check(16, "dropped", false)
	check(16, "arrival", obj{"t": "0.031000", "ns": 31_000_000, "host": "server", "verdict": "processed", "no": 4, "analysis": []string{"duplicate_ack"}, "dup_ack_num": 1, "dup_ack_of": 3})
	check(16, "counters", []any{})
	// The timer that did nothing, the RTO's counters, the retransmission
	// and the server's stack dropping it.
	check(19, "timer", "tlp")
	check(19, "conn", "client:40000 ↔ server:80")
	check(19, "state", "ESTABLISHED")
	check(19, "rto_ns", nil)
	hasKey(19, "timer.idle")
	check(20, "counters", []obj{{"name": "Timeouts", "delta": 1, "total": 1}})
	check(20, "cause_of", obj{"kind": "timer", "timer": "rto"})
	hasKey(20, "ctr.Timeouts")
	check(21, "no", 7)
	check(21, "analysis", []string{"retransmission"})
	check(21, "cause", obj{"kind": "timer", "timer": "rto"})
	check(21, "arrival", obj{"t": "0.231000", "ns": 231_000_000, "host": "server", "verdict": "bad_checksum", "no": 5, "analysis": []string{}})
	hasKey(21, "seg.retrans.rto")
	hasKey(21, "seg.stackdrop")
	check(22, "no", 7)
	check(22, "copy", nil)
	check(22, "t", "0.231000")
	check(22, "host", "server")
	check(22, "counters", []obj{{"name": "ChecksumErrors", "delta": 1, "total": 1}})
	check(22, "note_keys", []string{"drop.bad_checksum"})
	// State rows: a listener has no remote; a cause comes with its key.
	check(0, "local", "*:80")
	check(0, "remote", nil)
	check(0, "cause", "step: listen")
	check(0, "cause_keys", []string{"cause.step"})
	check(0, "cause_of", obj{"kind": "app", "op": "listen"})
	check(4, "local", "server:80")
	check(4, "remote", "client:40000")
	check(4, "cause", "received SYN from client:40000, frame 1")
	check(4, "cause_of", obj{"kind": "arrival", "frame": 1})
	// Queues, apps, the refusal, the stall.
	check(5, "listener", "*:80")
	check(5, "waiting", 0)
	check(5, "capacity", 17)
	check(5, "half_open", 1)
	check(1, "step", "listen :80")
	check(1, "op", "listen")
	check(1, "result", "listening on port 80, backlog 16 (accept queue holds 17)")
	check(1, "bytes", nil)
	check(11, "bytes", 8)
	hasKey(25, "seg.rst.refused")
	hasKey(26, "st.closed.refused")
	check(27, "cause_of", obj{"kind": "arrival", "frame": 9})
	check(27, "note_keys", []string{"ctr.FailedConnectionAttempts"})
	check(28, "error", "dial tcp 10.0.0.2:81: connect: connection refused")
	check(28, "errno", "ECONNREFUSED")
	check(28, "result", nil)
	check(28, "bytes", nil)
	check(29, "conn", "client:40000 ↔ server:80")
	check(29, "state", "ESTABLISHED")
	check(29, "unacked", 8)
	check(29, "note_keys", []string{"stall"})
}

// jsonTexts are the fields that hold rendered text.
var jsonTexts = []string{"notes", "cause", "drop_reason", "result", "error"}

// TestJSONLanguage checks that only the rendered texts follow the
// language: keys and every other field are the same in English and in
// Chinese.
func TestJSONLanguage(t *testing.T) {
	_, en := jsonLines(t, sampleJSON(t, i18n.EN))
	_, zh := jsonLines(t, sampleJSON(t, i18n.ZH))
	if len(en) != len(zh) {
		t.Fatalf("%d lines in English, %d in Chinese", len(en), len(zh))
	}
	differ := false
	for i := range en {
		a, b := maps.Clone(en[i]), maps.Clone(zh[i])
		for _, k := range jsonTexts {
			if !jsonEqual(a[k], b[k]) {
				differ = true
			}
			delete(a, k)
			delete(b, k)
		}
		if !jsonEqual(a, b) {
			x, _ := json.Marshal(a)
			y, _ := json.Marshal(b)
			t.Errorf("line %d: beyond the texts, English and Chinese differ:\n%s\n%s", i+1, x, y)
		}
	}
	if !differ {
		t.Error("the Chinese texts are the English ones")
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestJSONGolden pins the whole JSON form of the sample, in each language.
func TestJSONGolden(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		t.Run(lang.String(), func(t *testing.T) {
			out := sampleJSON(t, lang)
			if strings.Contains(out, `\u003c`) || !strings.Contains(out, `a;b#c<d>`) {
				t.Errorf("the JSON escapes HTML or lost the payload's step:\n%s", out)
			}
			golden(t, goldenName(lang, "jsonl"), []byte(out))
		})
	}
}

// TestJSONDeterministic plays the sample twice.
func TestJSONDeterministic(t *testing.T) {
	if a, b := sampleJSON(t, i18n.EN), sampleJSON(t, i18n.EN); a != b {
		t.Errorf("two runs of the same events wrote different JSON:\n%s", lineDiff(a, b))
	}
}

// TestJSONWriteError checks that a failing writer's error comes back.
func TestJSONWriteError(t *testing.T) {
	var jw *JSONWriter
	_, err := sampleErr(t, func(tp *Tap) Sink { jw = tp.NewJSONWriter(failWriter{}, i18n.EN); return jw })
	if !errors.Is(err, errWrite) {
		t.Errorf("Finish with a failing JSON writer = %v, want %v", err, errWrite)
	}
	if err := jw.Flush(); !errors.Is(err, errWrite) {
		t.Errorf("JSONWriter.Flush() on a failing writer = %v, want %v", err, errWrite)
	}
}
