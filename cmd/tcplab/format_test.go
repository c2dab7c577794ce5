package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRunJSON runs the handshake lab with --format json and reads every
// line back: a lab object, the rows, an end object, and nothing else on
// stdout; the end line and the expectations on stderr.
func TestRunJSON(t *testing.T) {
	r := tcplab(t, "run", "handshake", "--format", "json")
	if r.code != exitOK {
		t.Fatalf("tcplab run handshake --format json: exit %d, want 0\n%s", r.code, r.stderr)
	}
	var objs []map[string]any
	for i, l := range lines(r.stdout) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("stdout line %d is not a JSON object: %v\n%s", i+1, err, l)
		}
		objs = append(objs, m)
	}
	if len(objs) < 3 {
		t.Fatalf("got %d JSON lines, want a lab object, rows and an end object", len(objs))
	}
	lab, end := objs[0], objs[len(objs)-1]
	if lab["kind"] != "lab" || lab["name"] != "handshake" || lab["seed"] != 1.0 || lab["lang"] != "en" {
		t.Errorf("first line = %v, want the lab object of handshake, seed 1, lang en", lab)
	}
	if hosts, _ := json.Marshal(lab["hosts"]); string(hosts) != `[{"addrs":["10.0.0.1"],"name":"client"},{"addrs":["10.0.0.2"],"name":"server"}]` {
		t.Errorf("lab hosts = %s, want client 10.0.0.1 and server 10.0.0.2", hosts)
	}
	if end["kind"] != "end" || end["stop"] != "idle" || end["t"] != "0.031000" || end["frames"] != 3.0 {
		t.Errorf("last line = %v, want the end object: idle at 0.031000 after 3 frames", end)
	}
	if ex, _ := json.Marshal(end["expectations"]); string(ex) != `{"passed":6,"total":6}` {
		t.Errorf("end expectations = %s, want 6 of 6 passed", ex)
	}

	var flags []string
	var transitions []string
	for _, o := range objs[1 : len(objs)-1] {
		switch o["kind"] {
		case "segment":
			var f []string
			for _, x := range o["flags"].([]any) {
				f = append(f, x.(string))
			}
			flags = append(flags, strings.Join(f, "+"))
			if o["no"] != float64(len(flags)) {
				t.Errorf("segment %d has no = %v", len(flags), o["no"])
			}
		case "state":
			transitions = append(transitions, o["host"].(string)+" "+o["from_state"].(string)+">"+o["to_state"].(string))
		case "lab", "end":
			t.Errorf("a %s object among the rows: %v", o["kind"], o)
		}
	}
	if want := []string{"SYN", "SYN+ACK", "ACK"}; !slices.Equal(flags, want) {
		t.Errorf("segment flags = %v, want %v", flags, want)
	}
	for _, want := range []string{"client CLOSED>SYN_SENT", "client SYN_SENT>ESTABLISHED", "server LISTEN>SYN_RCVD", "server SYN_RCVD>ESTABLISHED"} {
		if !slices.Contains(transitions, want) {
			t.Errorf("state rows %v: no %s", transitions, want)
		}
	}
	syn := objs[slices.IndexFunc(objs, func(o map[string]any) bool { return o["kind"] == "segment" })]
	if _, ok := syn["ack"]; ok || syn["seq"] != 0.0 || syn["from"] == nil || syn["abs_seq"] == nil {
		t.Errorf("SYN = %v, want seq 0, abs_seq, from, and no ack", syn)
	}
	for _, want := range []string{"end of run at 0.031000 s: nothing left to happen\n", "expectations: 6 of 6 passed\n"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr has no %q:\n%s", want, r.stderr)
		}
	}
}

// TestRunMermaid runs the close lab with --format mermaid: one participant
// per host, one arrow per frame, TIME_WAIT and its end as notes, and
// nothing but the diagram on stdout.
func TestRunMermaid(t *testing.T) {
	r := tcplab(t, "run", "close", "--format", "mermaid")
	if r.code != exitOK {
		t.Fatalf("tcplab run close --format mermaid: exit %d, want 0\n%s", r.code, r.stderr)
	}
	ls := lines(r.stdout)
	if ls[0] != "sequenceDiagram" || ls[1] != "    title close — Four-way close and TIME_WAIT" || ls[2] != "    participant client" || ls[3] != "    participant server" {
		t.Fatalf("diagram starts\n%s\nwant sequenceDiagram, the title and the participants client, server", strings.Join(ls[:4], "\n"))
	}
	arrow := regexp.MustCompile(`^    (client|server)(->>|--x)(client|server): \[\d+\] `)
	note := regexp.MustCompile(`^    Note over (client|server)(,server)?: `)
	arrows := 0
	for _, l := range ls[4:] {
		switch {
		case arrow.MatchString(l):
			arrows++
		case note.MatchString(l):
		default:
			t.Errorf("diagram line %q: neither an arrow nor a note", l)
		}
	}
	if frames := summaryFrames(t, r); arrows != frames {
		t.Errorf("%d arrows, want one per frame (%d)", arrows, frames)
	}
	for _, want := range []string{
		`    Note over client: FIN_WAIT_2 → TIME_WAIT \(:\d+\)`,
		`    Note over client,server: 59\.99s later \(t = 60\.161000 s\)`,
		`    Note over client: TIME_WAIT → CLOSED \(:\d+\)`,
	} {
		re := regexp.MustCompile("^" + want + "$")
		if !slices.ContainsFunc(ls, re.MatchString) {
			t.Errorf("diagram has no line matching %q", want)
		}
	}
	if !strings.Contains(r.stderr, "end of run at 60.161000 s: nothing left to happen\n") {
		t.Errorf("stderr has no end line:\n%s", r.stderr)
	}
}

// TestUseColor covers when the text timeline is in colour.
func TestUseColor(t *testing.T) {
	tests := []struct {
		name           string
		terminal       bool
		env            map[string]string
		color, noColor bool
		want           bool
	}{
		{"terminal", true, nil, false, false, true},
		{"pipe", false, nil, false, false, false},
		{"terminal with NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, false, false, false},
		{"terminal with empty NO_COLOR", true, map[string]string{"NO_COLOR": ""}, false, false, true},
		{"dumb terminal", true, map[string]string{"TERM": "dumb"}, false, false, false},
		{"--color on a pipe", false, nil, true, false, true},
		{"--color beats NO_COLOR", false, map[string]string{"NO_COLOR": "1"}, true, false, true},
		{"--no-color on a terminal", true, nil, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env{terminal: tt.terminal, getenv: func(k string) string { return tt.env[k] }}
			if got := useColor(e, &runOptions{color: tt.color, noColor: tt.noColor}); got != tt.want {
				t.Errorf("useColor = %v, want %v", got, tt.want)
			}
		})
	}
}
