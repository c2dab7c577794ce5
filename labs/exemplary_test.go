package labs

import (
	"context"
	"path"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/topology"
)

// alteration is a textual change to a built-in lab that breaks the
// behaviour a group of its expectations pins.
type alteration struct {
	name string
	lab  string
	// old is replaced by new; old must occur exactly once in the source.
	// An empty old leaves the lab as it is.
	old, new string
	// fail lists the expectations the change must make fail, each by a part
	// of its why that no other expectation of the lab shares. Every other
	// expectation must still hold.
	fail []string
}

// Expectations of keepalive-mismatch, by a distinctive part of their why.
const (
	kaRequest1     = "request 1 succeeds on a new connection"
	kaServerFIN    = "at its keepalive_timeout"
	kaCloseWait    = "the pooled connection is half-dead"
	kaFinWait2     = "the server's end: its socket is closed"
	kaStaleWrite   = "request 2 goes out on the connection the server closed"
	kaRSTs         = "one RST each"
	kaResetsSent   = "netstack's ResetsSent"
	kaEOF          = "logged as Go's EOF"
	kaFixReuse     = "one connection carries both requests"
	kaFixResults   = "both requests succeed"
	kaFixNoEOF     = "never reads a stale FIN"
	kaFixNoWait    = "never holds a connection the server has closed"
	kaFixNoRST     = "no segment meets a closed connection"
	kaFixClientFIN = "the pool closes first"
	kaFixServerFIN = "the server only answers the client's close"
	kaFixTimeWait  = "here the client, not the server"
)

// Expectations of backlog-overflow, by a distinctive part of their why.
const (
	blQueueFull      = "the accept queue is full at 3"
	blClientsUp      = "clients 1-3 are connected"
	blSynSent        = "clients 4-6 are still waiting in connect()"
	blNoAccept       = "the busy server accepts nothing"
	blDrops          = "dropped on the full accept queue"
	blNoSynAck       = "no SYN-ACK for a dropped SYN"
	blSyns           = "6 first SYNs plus 4 retransmissions"
	blRetrans1       = "first retransmission, 1 s after"
	blRetrans2       = "second retransmission, 1 s later again"
	blRetrans3       = "fourth retransmission, still 1 s later"
	blDrain          = "accepts the 3 queued connections"
	blLateSynAck     = "first SYNs of 4-6 to arrive after the queue drained"
	blLateConnect    = "connections 4-6 connect only after 4 s"
	blFixNoDrops     = "never overflows"
	blFixOneSyn      = "one SYN per connection"
	blFixConnectFast = "every client connects within one round trip"
	blFixQueued      = "all 6 connections wait, established"
	blFixNoAccept    = "the fixed server is just as busy"
	blFixAcceptAll   = "accept() takes all 6"
)

// exemplaryAlterations are the regressions TestExemplaryLabsCatchRegressions
// simulates, with each lab unaltered first.
var exemplaryAlterations = []alteration{
	{
		name: "unaltered",
		lab:  "keepalive-mismatch",
	},
	{
		name: "incident server outlasts the pool",
		lab:  "keepalive-mismatch",
		old:  `idle_timeout = "75s"`,
		new:  `idle_timeout = "120s"`,
		fail: []string{kaRequest1, kaServerFIN, kaCloseWait, kaFinWait2, kaStaleWrite, kaRSTs, kaResetsSent, kaEOF},
	},
	{
		name: "fixed server times out before the pool",
		lab:  "keepalive-mismatch",
		old:  `idle_timeout = "120s"`,
		new:  `idle_timeout = "75s"`,
		fail: []string{kaFixResults, kaFixNoEOF, kaFixNoWait, kaFixNoRST, kaFixClientFIN, kaFixServerFIN, kaFixTimeWait},
	},
	{
		name: "fixed pool drops its connection before request 2",
		lab:  "keepalive-mismatch",
		old:  "to = \"server-ok:80\"\n  requests = [\"1s\", \"80s\"]\n  idle_timeout = \"90s\"",
		new:  "to = \"server-ok:80\"\n  requests = [\"1s\", \"80s\"]\n  idle_timeout = \"60s\"",
		fail: []string{kaFixReuse, kaFixClientFIN, kaFixServerFIN, kaFixTimeWait},
	},
	{
		name: "unaltered",
		lab:  "backlog-overflow",
	},
	{
		name: "incident backlog 16",
		lab:  "backlog-overflow",
		old:  "backlog = 2\n",
		new:  "backlog = 16\n",
		fail: []string{blQueueFull, blClientsUp, blSynSent, blDrops, blNoSynAck, blSyns, blRetrans1, blRetrans2,
			blRetrans3, blDrain, blLateSynAck, blLateConnect},
	},
	{
		name: "incident server accepts from 2s",
		lab:  "backlog-overflow",
		old:  "backlog = 2\n  accept_at = \"5s\"",
		new:  "backlog = 2\n  accept_at = \"2s\"",
		fail: []string{blQueueFull, blClientsUp, blSynSent, blNoAccept, blDrops, blNoSynAck, blSyns, blRetrans2,
			blRetrans3, blDrain, blLateSynAck, blLateConnect},
	},
	{
		name: "fixed backlog 2",
		lab:  "backlog-overflow",
		old:  "backlog = 16\n",
		new:  "backlog = 2\n",
		fail: []string{blFixNoDrops, blFixOneSyn, blFixConnectFast, blFixQueued, blFixAcceptAll},
	},
	{
		name: "fixed server accepts from 2s",
		lab:  "backlog-overflow",
		old:  "backlog = 16\n  accept_at = \"5s\"",
		new:  "backlog = 16\n  accept_at = \"2s\"",
		fail: []string{blFixNoAccept, blFixAcceptAll},
	},
}

// TestExemplaryLabsCatchRegressions alters keepalive-mismatch and
// backlog-overflow the way a regression would (the incident's timeouts or
// backlog made harmless, the fix's made harmful) and checks, under seeds 1
// to 5, that exactly the expectations pinning that behaviour fail, and that
// the unaltered labs pass, so a failure here is the alteration's doing.
func TestExemplaryLabsCatchRegressions(t *testing.T) {
	for _, tt := range exemplaryAlterations {
		t.Run(tt.lab+"/"+tt.name, func(t *testing.T) {
			lab := alteredLab(t, tt.lab, tt.old, tt.new)
			wantFail := make([]bool, len(lab.Expect))
			for _, part := range tt.fail {
				wantFail[expectationByWhy(t, lab, part)] = true
			}
			for seed := uint64(1); seed <= 5; seed++ {
				run, err := Execute(context.Background(), lab, RunOptions{Seed: &seed})
				if err != nil {
					t.Fatalf("seed %d: Execute: %v", seed, err)
				}
				if run.Result.Reason != topology.Idle {
					t.Errorf("seed %d: the run stopped on %v at %v, want it to end with nothing left to happen", seed, run.Result.Reason, run.Result.End)
				}
				for i, o := range Check(run) {
					switch {
					case wantFail[i] && o.OK:
						t.Errorf("seed %d: %s still holds, want it to fail (why: %s)", seed, o.Exp, o.Exp.Why)
					case !wantFail[i] && !o.OK:
						t.Errorf("seed %d: %s fails, want it to hold: %s (why: %s)", seed, o.Exp, o.Message, o.Exp.Why)
					}
				}
				if t.Failed() {
					return // the other seeds would repeat the story
				}
			}
		})
	}
}

// TestExemplaryLabsPinTheCatalogue checks that every expectation of the two
// exemplary labs is broken by at least one alteration of
// TestExemplaryLabsCatchRegressions: an expectation that no regression can
// break pins nothing.
func TestExemplaryLabsPinTheCatalogue(t *testing.T) {
	for _, name := range []string{"keepalive-mismatch", "backlog-overflow"} {
		t.Run(name, func(t *testing.T) {
			lab, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			broken := make([]bool, len(lab.Expect))
			for _, tt := range exemplaryAlterations {
				if tt.lab != name {
					continue
				}
				for _, part := range tt.fail {
					broken[expectationByWhy(t, lab, part)] = true
				}
			}
			for i := range lab.Expect {
				if e := &lab.Expect[i]; !broken[i] {
					t.Errorf("%s: %s is broken by no alteration (why: %s)", e.Where, e, e.Why)
				}
			}
		})
	}
}

// alteredLab loads the built-in lab name with old replaced by repl. It fails
// the test unless old occurs exactly once, so that a lab edited since the
// alteration was written is reported instead of silently left unaltered.
func alteredLab(t *testing.T, name, old, repl string) *Lab {
	t.Helper()
	data, err := BuiltinSource(name)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if old != "" {
		if n := strings.Count(src, old); n != 1 {
			t.Fatalf("labs/%s.toml holds %q %d times, want exactly once", name, old, n)
		}
		src = strings.Replace(src, old, repl, 1)
	}
	lab, err := Load(path.Join("labs", name+".toml"), []byte(src))
	if err != nil {
		t.Fatalf("Load(%s with %q replaced by %q): %v", name, old, repl, err)
	}
	return lab
}

// expectationByWhy returns the index of the one expectation of lab whose
// why contains part.
func expectationByWhy(t *testing.T, lab *Lab, part string) int {
	t.Helper()
	var found []int
	for i, e := range lab.Expect {
		if strings.Contains(e.Why, part) {
			found = append(found, i)
		}
	}
	if len(found) != 1 {
		var where []string
		for _, i := range found {
			where = append(where, lab.Expect[i].Where)
		}
		t.Fatalf("%s: %d expectations have %q in their why (%s), want exactly one", lab.Name, len(found), part, strings.Join(where, ", "))
	}
	return found[0]
}
