package topology

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

// faultTraffic is a scripted exchange between client c (10.0.0.1) and
// server s (10.0.0.2), one segment per millisecond, each named by its IP ID
// index. Connections in order of first segment: 1 = c:40000–s:80, 2 =
// c:40001–s:80, 3 = c:40002–10.0.0.99:80 (nobody), 4 = c:40002–s:22.
var faultTraffic = []struct {
	name     string
	fromC    bool
	src, dst string
	flags    segment.Flags
}{
	{"syn", true, "10.0.0.1:40000", "10.0.0.2:80", segment.SYN},                   // 0ms conn 1
	{"synack", false, "10.0.0.2:80", "10.0.0.1:40000", segment.SYN | segment.ACK}, // 1ms
	{"ack", true, "10.0.0.1:40000", "10.0.0.2:80", segment.ACK},                   // 2ms
	{"data", true, "10.0.0.1:40000", "10.0.0.2:80", segment.PSH | segment.ACK},    // 3ms
	{"ack2", false, "10.0.0.2:80", "10.0.0.1:40000", segment.ACK},                 // 4ms
	{"syn2", true, "10.0.0.1:40001", "10.0.0.2:80", segment.SYN},                  // 5ms conn 2
	{"fin", true, "10.0.0.1:40000", "10.0.0.2:80", segment.FIN | segment.ACK},     // 6ms
	{"fin2", false, "10.0.0.2:80", "10.0.0.1:40000", segment.FIN | segment.ACK},   // 7ms
	{"lost", true, "10.0.0.1:40002", "10.0.0.99:80", segment.SYN},                 // 8ms conn 3
	{"ssh", true, "10.0.0.1:40002", "10.0.0.2:22", segment.SYN},                   // 9ms conn 4
	{"rst", false, "10.0.0.2:22", "10.0.0.1:40002", segment.RST | segment.ACK},    // 10ms
}

// runFaults plays faultTraffic through a network with the given faults.
func runFaults(t *testing.T, faults []Fault) (n *Network, rec *recorder, c, s *fakeNode) {
	t.Helper()
	n, rec, c, ic, s := twoHosts(t, 1, Link{}, Link{})
	for _, f := range faults {
		if err := n.AddFault(f); err != nil {
			t.Fatalf("AddFault(%+v) = %v", f, err)
		}
	}
	for i, seg := range faultTraffic {
		node, idx := c, ic
		if !seg.fromC {
			node, idx = s, 1
		}
		sendAt(n, node, idx, time.Duration(i)*time.Millisecond, tcpPacket(uint16(i), seg.src, seg.dst, seg.flags, 1, 1, 0))
	}
	run(t, n, time.Hour)
	return n, rec, c, s
}

// faultDrops returns the name of each segment a fault rule dropped, in
// order.
func faultDrops(rec *recorder) []string {
	var out []string
	for _, d := range rec.drops() {
		if d.Reason == event.FaultDrop {
			out = append(out, faultTraffic[rec.ipID(d.Ref)].name)
		}
	}
	return out
}

func flags(t *testing.T, s string) segment.FlagMatch {
	t.Helper()
	m, err := segment.ParseFlagMatch(s)
	if err != nil {
		t.Fatalf("segment.ParseFlagMatch(%q) = %v", s, err)
	}
	return m
}

func TestFaultSelection(t *testing.T) {
	ms := time.Millisecond
	all := []string{"syn", "synack", "ack", "data", "ack2", "syn2", "fin", "fin2", "lost", "ssh", "rst"}
	tests := []struct {
		name   string
		faults []Fault
		want   []string
	}{
		{name: "everything", faults: []Fault{{}}, want: all},
		{name: "SYN", faults: []Fault{{Flags: flags(t, "SYN")}}, want: []string{"syn", "synack", "syn2", "lost", "ssh"}},
		{name: "SYN,!ACK", faults: []Fault{{Flags: flags(t, "SYN,!ACK")}}, want: []string{"syn", "syn2", "lost", "ssh"}},
		{name: "SYN,ACK", faults: []Fault{{Flags: flags(t, "SYN,ACK")}}, want: []string{"synack"}},
		{name: "FIN", faults: []Fault{{Flags: flags(t, "FIN")}}, want: []string{"fin", "fin2"}},
		{name: "from b", faults: []Fault{{From: "b"}}, want: []string{"synack", "ack2", "fin2", "rst"}},
		{name: "to b", faults: []Fault{{To: "b", Flags: flags(t, "SYN")}}, want: []string{"syn", "syn2", "ssh"}},
		{name: "to a", faults: []Fault{{To: "a"}}, want: []string{"synack", "ack2", "fin2", "rst"}},
		{name: "unknown host", faults: []Fault{{To: "nobody"}}, want: nil},
		{name: "port 22", faults: []Fault{{Port: 22}}, want: []string{"ssh", "rst"}},
		{name: "port 40001", faults: []Fault{{Port: 40001}}, want: []string{"syn2"}},
		{name: "connection 1", faults: []Fault{{Connection: 1}}, want: []string{"syn", "synack", "ack", "data", "ack2", "fin", "fin2"}},
		{name: "connection 2", faults: []Fault{{Connection: 2}}, want: []string{"syn2"}},
		{name: "connection 3", faults: []Fault{{Connection: 3}}, want: []string{"lost"}},
		{name: "connection 4", faults: []Fault{{Connection: 4}}, want: []string{"ssh", "rst"}},
		{name: "connection 5", faults: []Fault{{Connection: 5}}, want: nil},
		{name: "nth 2", faults: []Fault{{Flags: flags(t, "SYN"), Nth: 2}}, want: []string{"synack"}},
		{name: "nth 2 count 2", faults: []Fault{{Flags: flags(t, "SYN"), Nth: 2, Count: 2}}, want: []string{"synack", "syn2"}},
		{name: "nth beyond", faults: []Fault{{Flags: flags(t, "FIN"), Nth: 3}}, want: nil},
		{name: "count 2", faults: []Fault{{Flags: flags(t, "SYN"), Count: 2}}, want: []string{"syn", "synack"}},
		{name: "window", faults: []Fault{{After: 5 * ms, Before: 8 * ms}}, want: []string{"syn2", "fin", "fin2"}},
		{name: "after only", faults: []Fault{{After: 9 * ms}}, want: []string{"ssh", "rst"}},
		{name: "window and nth", faults: []Fault{{After: 2 * ms, Flags: flags(t, "ACK"), Nth: 2}}, want: []string{"data"}},
		{
			// Both rules count syn as their first match; the first rule
			// acts on it, so the second (count 1, no nth) spends its count
			// on synack instead.
			name:   "first rule wins",
			faults: []Fault{{Flags: flags(t, "SYN"), Nth: 1}, {Flags: flags(t, "SYN"), Count: 1}},
			want:   []string{"syn", "synack"},
		},
		{
			// The second rule's second match is synack whatever the
			// first rule did.
			name:   "nth counts every match",
			faults: []Fault{{Flags: flags(t, "SYN"), Nth: 1}, {Flags: flags(t, "SYN"), Nth: 2}},
			want:   []string{"syn", "synack"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rec, _, _ := runFaults(t, tt.faults)
			if got := faultDrops(rec); !slices.Equal(got, tt.want) {
				t.Errorf("faults %+v dropped %q, want %q", tt.faults, got, tt.want)
			}
		})
	}
}

func TestFaultDropReason(t *testing.T) {
	_, rec, _, s := runFaults(t, []Fault{
		{Name: "no-fin", Flags: flags(t, "FIN"), Nth: 2},
		{Flags: flags(t, "SYN,!ACK"), To: "b"},
	})
	if got, want := faultDrops(rec), []string{"syn", "syn2", "fin2", "ssh"}; !slices.Equal(got, want) {
		t.Errorf("faults dropped %q, want %q", got, want)
	}
	ms := time.Millisecond
	synOnly, fin := flags(t, "SYN,!ACK"), flags(t, "FIN")
	// Frame i+1 is faultTraffic[i], sent at i ms.
	rule := func(i int, r event.Rule) fate {
		return fate{Kind: event.Dropped, Ref: event.Ref{Frame: i + 1}, At: time.Duration(i) * ms, Place: atSw, Reason: event.FaultDrop, Rule: r}
	}
	want := []fate{
		rule(0, event.Rule{Name: "faults[2]", Flags: synOnly, Match: 1}),
		rule(5, event.Rule{Name: "faults[2]", Flags: synOnly, Match: 2}),
		rule(7, event.Rule{Name: "no-fin", Flags: fin, Match: 2}),
		{Kind: event.Dropped, Ref: event.Ref{Frame: 9}, At: 8 * ms, Place: atSw, Reason: event.NoHost, Addr: netip.MustParseAddr("10.0.0.99")},
		rule(9, event.Rule{Name: "faults[2]", Flags: synOnly, Match: 3}),
	}
	if got := rec.drops(); !slices.Equal(got, want) {
		t.Errorf("drops =\n%v\nwant\n%v", got, want)
	}
	if len(s.delivered) != 3 { // ack, data, fin
		t.Errorf("b received %d segments, want 3", len(s.delivered))
	}
}

// TestFaultTiming checks what each action does to a segment and when it
// makes it arrive. The client's segment reaches the switch at 1ms (Out
// latency) and the server's In latency is 2ms.
func TestFaultTiming(t *testing.T) {
	ms, s := time.Millisecond, time.Second
	match1 := event.Rule{Name: "faults[1]", Match: 1}
	tests := []struct {
		name  string
		fault Fault
		sent  time.Duration
		want  []time.Duration // arrival times at b
		refs  []event.Ref     // what arrived at b
		fate  fate            // the rule's fate, at the switch at sent+1ms; zero for none
	}{
		{name: "none", fault: Fault{Port: 9}, want: []time.Duration{3 * ms}, refs: []event.Ref{{Frame: 1}}},
		{name: "drop", fault: Fault{Action: FaultDrop}, want: nil, fate: fate{Kind: event.Dropped, Reason: event.FaultDrop, Rule: match1}},
		{name: "delay", fault: Fault{Action: FaultDelay, Delay: 2 * s}, want: []time.Duration{2*s + 3*ms}, refs: []event.Ref{{Frame: 1}}, fate: fate{Kind: event.Delayed, Rule: match1, Delay: 2 * s}},
		{
			name: "hold", fault: Fault{Action: FaultHold, Until: 30 * s, Flags: flags(t, "SYN,!ACK")},
			want: []time.Duration{30*s + 2*ms}, refs: []event.Ref{{Frame: 1}},
			fate: fate{Kind: event.Held, Rule: event.Rule{Name: "faults[1]", Flags: flags(t, "SYN,!ACK"), Match: 1}, Until: 30 * s},
		},
		{name: "hold expired", fault: Fault{Action: FaultHold, Until: 30 * s}, sent: 31 * s, want: []time.Duration{31*s + 3*ms}, refs: []event.Ref{{Frame: 1}}},
		{
			name: "duplicate", fault: Fault{Action: FaultDuplicate, Delay: 30 * s},
			want: []time.Duration{3 * ms, 30*s + 3*ms}, refs: []event.Ref{{Frame: 1}, {Frame: 1, Copy: 1}},
			fate: fate{Kind: event.Duplicated, Rule: match1, Delay: 30 * s, Copy: 1},
		},
		{
			name: "duplicate now", fault: Fault{Action: FaultDuplicate},
			want: []time.Duration{3 * ms, 3 * ms}, refs: []event.Ref{{Frame: 1}, {Frame: 1, Copy: 1}},
			fate: fate{Kind: event.Duplicated, Rule: match1, Copy: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, a, ia, b := twoHosts(t, 1, Link{Out: Direction{Latency: ms}}, Link{In: Direction{Latency: 2 * ms}})
			if err := n.AddFault(tt.fault); err != nil {
				t.Fatalf("AddFault(%+v) = %v", tt.fault, err)
			}
			sendAt(n, a, ia, tt.sent, tcpPacket(1, "10.0.0.1:40000", "10.0.0.2:80", segment.SYN, 1, 0, 0))
			run(t, n, time.Hour)
			var got []time.Duration
			for _, d := range b.delivered {
				got = append(got, d.at)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("b received the segment at %v, want %v", got, tt.want)
			}
			if got := refs(b.delivered); !slices.Equal(got, tt.refs) {
				t.Errorf("b received %v, want %v", got, tt.refs)
			}
			var want []fate
			if tt.fate != (fate{}) {
				f := tt.fate
				f.Ref, f.At, f.Place = event.Ref{Frame: 1}, tt.sent+ms, atSw
				want = []fate{f}
			}
			if got := rec.fatesOf(event.Dropped, event.Delayed, event.Held, event.Duplicated); !slices.Equal(got, want) {
				t.Errorf("fates other than Arrived = %v, want %v", got, want)
			}
		})
	}
}

// TestFaultHoldRelease checks that a held segment is released into the
// receiver's In direction like any other and keeps its place there.
func TestFaultHoldRelease(t *testing.T) {
	s := time.Second
	n, _, a, ia, b := twoHosts(t, 1, Link{}, Link{In: Direction{Rate: 8000}}) // 100 bytes = 100ms
	if err := n.AddFault(Fault{Action: FaultHold, Nth: 1, Until: 10 * s}); err != nil {
		t.Fatal(err)
	}
	sendAt(n, a, ia, 0, tcpPacket(1, "10.0.0.1:40000", "10.0.0.2:80", segment.SYN, 1, 0, 56)) // 100 bytes
	sendAt(n, a, ia, 10*s, tcpPacket(2, "10.0.0.1:40000", "10.0.0.2:80", segment.ACK, 2, 0, 60))
	run(t, n, time.Hour)
	var got []string
	for _, d := range b.delivered {
		got = append(got, fmt.Sprintf("%d@%v", ids([]delivery{d})[0], d.at))
	}
	if want := []string{"1@10.1s", "2@10.2s"}; !slices.Equal(got, want) {
		t.Errorf("b received %q, want %q", got, want)
	}
}

func TestFaultValidate(t *testing.T) {
	s := time.Second
	tests := []struct {
		name  string
		fault Fault
		want  string
	}{
		{name: "zero drops everything", fault: Fault{}},
		{name: "full delay", fault: Fault{Action: FaultDelay, From: "a", To: "b", Flags: segment.FlagMatch{Set: segment.SYN}, Port: 80, Connection: 1, Nth: 1, Count: 2, After: s, Before: 2 * s, Delay: s}},
		{name: "hold", fault: Fault{Action: FaultHold, After: s, Until: 2 * s}},
		{name: "duplicate without delay", fault: Fault{Action: FaultDuplicate}},
		{name: "unknown action", fault: Fault{Action: 7}, want: "unknown fault action 7"},
		{name: "negative after", fault: Fault{After: -s}, want: "after -1s is negative"},
		{name: "negative before", fault: Fault{Before: -s}, want: "before -1s is negative"},
		{name: "before not after after", fault: Fault{After: 2 * s, Before: s}, want: "impossible time window: before 1s is not after after 2s"},
		{name: "empty window", fault: Fault{After: s, Before: s}, want: "impossible time window: before 1s is not after after 1s"},
		{name: "negative delay", fault: Fault{Action: FaultDuplicate, Delay: -s}, want: "delay -1s is negative"},
		{name: "negative until", fault: Fault{Action: FaultHold, Until: -s}, want: "until -1s is negative"},
		{name: "negative nth", fault: Fault{Nth: -1}, want: "nth -1 is negative"},
		{name: "negative count", fault: Fault{Count: -1}, want: "count -1 is negative"},
		{name: "negative connection", fault: Fault{Connection: -2}, want: "connection -2 is negative"},
		{name: "flags set and clear", fault: Fault{Flags: segment.FlagMatch{Set: segment.SYN | segment.ACK, Clear: segment.SYN}}, want: "flags SYN are both required and excluded"},
		{name: "delay without delay", fault: Fault{Action: FaultDelay}, want: `a delay fault needs delay = "500ms"`},
		{name: "hold without until", fault: Fault{Action: FaultHold}, want: `a hold fault needs until = "30s" (when the switch releases the segment)`},
		{name: "hold until before after", fault: Fault{Action: FaultHold, After: 5 * s, Until: 2 * s}, want: "impossible hold: until 2s is not after after 5s"},
		{name: "drop with delay", fault: Fault{Delay: s}, want: "only delay and duplicate faults take delay"},
		{name: "hold with delay", fault: Fault{Action: FaultHold, Until: s, Delay: s}, want: "only delay and duplicate faults take delay"},
		{name: "delay with until", fault: Fault{Action: FaultDelay, Delay: s, Until: s}, want: "only hold faults take until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errText(tt.fault.Validate()); got != tt.want {
				t.Errorf("%+v.Validate() = %q, want %q", tt.fault, got, tt.want)
			}
			n := New(1, nil, nil)
			if got := errText(n.AddFault(tt.fault)); got != tt.want {
				t.Errorf("AddFault(%+v) = %q, want %q", tt.fault, got, tt.want)
			}
		})
	}
}

func TestFaultAction(t *testing.T) {
	for _, a := range []FaultAction{FaultDrop, FaultDelay, FaultDuplicate, FaultHold} {
		for _, s := range []string{a.String(), strings.ToUpper(a.String()), " " + a.String()} {
			if got, err := ParseFaultAction(s); got != a || err != nil {
				t.Errorf("ParseFaultAction(%q) = %v, %v, want %v, nil", s, got, err, a)
			}
		}
	}
	if got, want := []string{FaultDrop.String(), FaultDelay.String(), FaultDuplicate.String(), FaultHold.String(), FaultAction(9).String()},
		[]string{"drop", "delay", "duplicate", "hold", "FaultAction(9)"}; !slices.Equal(got, want) {
		t.Errorf("String() = %q, want %q", got, want)
	}
	_, err := ParseFaultAction("reset")
	if got, want := errText(err), `unknown fault action "reset" (want drop, delay, duplicate, hold)`; got != want {
		t.Errorf("ParseFaultAction(%q) error = %q, want %q", "reset", got, want)
	}
}
