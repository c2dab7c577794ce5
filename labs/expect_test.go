package labs

import (
	"context"
	"strings"
	"testing"
)

// runWith loads the built-in handshake lab with extra TOML appended and runs
// it, returning the outcomes of the expectations whose text contains only.
func runWith(t *testing.T, extra string) []Outcome {
	t.Helper()
	src, err := BuiltinSource("handshake")
	if err != nil {
		t.Fatal(err)
	}
	lab, err := Load("handshake.toml", append(src, []byte("\n"+extra)...))
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(context.Background(), lab, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return Check(run)
}

// TestExpectationsFail checks that each kind of expectation fails when the
// behaviour it pins changes, and says why.
func TestExpectationsFail(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		where string // the failing expectation's position
		msg   string
	}{
		{
			name:  "a lost SYN-ACK makes the server send two",
			extra: "[[faults]]\naction = \"drop\"\nflags = \"SYN,ACK\"\nnth = 1\n",
			where: "handshake.toml:45:1",
			msg:   "segments server > client SYN,ACK between 1ms and ",
		},
		{
			name:  "state snapshot",
			extra: "[[expect]]\nstate = \"ESTABLISHED\"\nhost = \"server\"\nat = \"20ms\"\n",
			where: "handshake.toml:75:1",
			msg:   "connections in ESTABLISHED on server at 20ms: found 0, expected at least 1",
		},
		{
			name:  "error that does not happen",
			extra: "[[expect]]\nerror = \"connection refused\"\nhost = \"client\"\n",
			where: "handshake.toml:75:1",
			msg:   `application errors "connection refused" on client: found 0, expected at least 1`,
		},
		{
			name:  "counter",
			extra: "[[expect]]\ncounter = \"ResetsSent\"\nhost = \"server\"\nmin = 1\n",
			where: "handshake.toml:75:1",
			msg:   "counter ResetsSent on server is 0; expected at least 1",
		},
		{
			name:  "segment that must not appear",
			extra: "[[expect]]\nsegment = \"* > * SYN\"\ncount = 0\n",
			where: "handshake.toml:75:1",
			msg:   "segments * > * SYN: found 2, expected exactly 0",
		},
		{
			name:  "after a segment that never comes",
			extra: "[[expect]]\nsegment = \"client > server\"\nafter = \"server > client RST\"\n",
			where: "handshake.toml:75:1",
			msg:   `no segment matches "server > client RST" (the expectation's after bound)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := false
			for _, o := range runWith(t, tt.extra) {
				if o.Exp.Where != tt.where {
					continue
				}
				found = true
				if o.OK || !strings.Contains(o.Message, tt.msg) {
					t.Errorf("expectation at %s: ok=%v %q, want a failure %q", o.Exp.Where, o.OK, o.Message, tt.msg)
				}
			}
			if !found {
				t.Errorf("no expectation at %s", tt.where)
			}
		})
	}
}

// TestExpectationsPass checks the same kinds where they hold.
func TestExpectationsPass(t *testing.T) {
	extra := `
[[expect]]
counter = "ActiveConnectionOpenings"
host = "client"
count = 1

[[expect]]
segment = "* > * RST"
count = 0

[[expect]]
state = "LISTEN"
host = "server"
at = "1s"
port = 80
`
	for _, o := range runWith(t, extra) {
		if !o.OK {
			t.Errorf("%s: %s", o.Exp, o.Message)
		}
	}
}
