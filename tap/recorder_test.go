package tap

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
)

// The tests below check the recorder's structure (which rows, in which
// order, released when, with which note keys), not the notes' wording.

// rowID names a row in failure messages and comparisons: "segment #3",
// "copy #3.1", "state@10ms".
func rowID(s rowSnap) string {
	switch s.kind {
	case KindSegment, KindPacket, KindDrop:
		return fmt.Sprintf("%v #%d", s.kind, s.no)
	case KindCopy:
		return fmt.Sprintf("%v #%d.%d", s.kind, s.no, s.copy)
	}
	return fmt.Sprintf("%v@%v", s.kind, s.at)
}

func rowIDs(snaps []rowSnap) []string {
	var out []string
	for _, s := range snaps {
		out = append(out, rowID(s))
	}
	return out
}

// checkIDs compares the rows released with want.
func checkIDs(t *testing.T, what string, got []rowSnap, want ...string) {
	t.Helper()
	if ids := rowIDs(got); !slices.Equal(ids, want) {
		t.Errorf("%s: rows released = %v, want %v", what, ids, want)
	}
}

// checkReleased checks how many rows the tap released so far.
func checkReleased(t *testing.T, d *driver, s *released, want int, when string) {
	t.Helper()
	if got := d.tap.Released(); got != want || len(s.rows) != want {
		t.Errorf("%s: Released() = %d, sink got %d rows, want %d: %v", when, got, len(s.rows), want, rowIDs(s.snaps))
	}
}

// TestReleaseOrder checks that rows are released in the order they were
// created, each as soon as it and every row before it are complete: a
// segment row once its fate is known, other rows at once.
func TestReleaseOrder(t *testing.T) {
	var s released
	d := newDriver(t, &s)
	c := newConv()

	d.state(0, "client", c.cl, c.sv, event.Closed, event.SynSent, event.AppCause("connect"))
	checkReleased(t, d, &s, 1, "a state row")
	syn := d.send(0, "client", c.c2s(fSYN, 0, 0, ""), event.AppCause("connect"))
	checkReleased(t, d, &s, 1, "a SYN on its way")
	d.app(0, "client", "connect server:80", "connect", -1, i18n.M("app.connected", c.cl))
	d.state(5*ms, "server", epListener, netipZero, event.Closed, event.Listen, event.AppCause("listen"))
	checkReleased(t, d, &s, 1, "rows behind the SYN")
	d.arrive(syn, 10*ms, "server")
	checkReleased(t, d, &s, 1, "the SYN arrived, its receipt not yet")
	d.state(10*ms, "server", c.sv, c.cl, event.Listen, event.SynRcvd, event.Arrival(syn))
	d.receipt(syn, 10*ms, "server", event.Processed)
	checkReleased(t, d, &s, 5, "the SYN's receipt")
	synAck := d.send(10*ms, "server", c.s2c(fSYN|fACK, 0, 1, ""), event.Arrival(syn))
	// A RST sent after the SYN-ACK, dropped at once, waits behind it.
	rst := d.send(11*ms, "server", c.s2c(fRST, 1, 0, ""), event.AppCause("abort"))
	d.drop(rst, 11*ms, outServer, event.Loss)
	checkReleased(t, d, &s, 5, "a dropped RST behind the SYN-ACK")
	d.drop(synAck, 12*ms, inClient, event.QueueFull)
	checkReleased(t, d, &s, 7, "the SYN-ACK dropped")
	d.finish(time.Second)

	checkIDs(t, "the whole run", s.snaps,
		"state@0s", "segment #1", "app@0s", "state@5ms", "state@10ms", "segment #2", "segment #3")
	for _, r := range s.snaps {
		if r.kind == KindSegment && !r.dropped && !(r.arrived && r.verdict != 0) {
			t.Errorf("%s released before its fate was known", rowID(r))
		}
	}
	if got := s.snaps[1].keys; !slices.Contains(got, "seg.hs1") {
		t.Errorf("SYN: note keys %v, want seg.hs1", got)
	}
	for _, i := range []int{5, 6} {
		if got := s.snaps[i].keys; !slices.Contains(got, "sw.dropped") {
			t.Errorf("%s: note keys %v, want sw.dropped", rowID(s.snaps[i]), got)
		}
	}
	// What a sink got is final: nothing changes a row after its release.
	for i, r := range s.rows {
		if now := snap(r); !slices.Equal(now.keys, s.snaps[i].keys) || now.at != s.snaps[i].at || now.host != s.snaps[i].host {
			t.Errorf("%s changed after its release: %+v, then %+v", rowID(s.snaps[i]), s.snaps[i], now)
		}
	}
}

// TestSampleReleased checks the sample's rows as the tap released them:
// every segment with its fate known, every row complete and never changed
// afterwards.
func TestSampleReleased(t *testing.T) {
	var s released
	sample(t, func(*Tap) Sink { return &s })
	var kinds []Kind
	for i, r := range s.snaps {
		kinds = append(kinds, r.kind)
		switch r.kind {
		case KindSegment, KindPacket, KindCopy:
			if !r.dropped && !(r.arrived && r.verdict != 0) {
				t.Errorf("row %d, %s: released before its fate was known", i+1, rowID(r))
			}
		}
		if now := snap(s.rows[i]); !slices.Equal(now.keys, r.keys) || now.at != r.at {
			t.Errorf("row %d, %s: changed after its release: %+v, then %+v", i+1, rowID(r), r, now)
		}
	}
	if !slices.Equal(kinds, sampleKinds) {
		t.Errorf("kinds released = %v, want %v", kinds, sampleKinds)
	}
}

// TestHeldSegment checks that a segment a fault rule holds keeps every
// later row from being released until it arrives, and that the capture of
// what was received has it where it arrived.
func TestHeldSegment(t *testing.T) {
	var s released
	d := newDriver(t, &s)
	c := newConv()
	d.handshake(c, 0)
	before := d.tap.Released()

	held := d.send(100*ms, "client", c.c2s(fPSH|fACK, 1, 1, "first"), event.AppCause("send"))
	d.fate(event.Fate{Kind: event.Held, Ref: held, At: 105 * ms, Place: atSwitch, Rule: &event.Rule{Name: "hold1", Match: 1}, Until: 5 * time.Second})
	d.app(100*ms, "client", `send "first"`, "send", 5, i18n.M("app.sent", 5))
	next := d.send(200*ms, "client", c.c2s(fPSH|fACK, 6, 1, "second"), event.AppCause("send"))
	d.deliver(next, 210*ms, "server")
	ack := d.send(210*ms, "server", c.s2c(fACK, 1, 1, ""), event.Arrival(next))
	d.deliver(ack, 220*ms, "client")
	d.state(3*time.Second, "server", c.sv, c.cl, event.Established, event.CloseWait, event.Cause{})
	checkReleased(t, d, &s, before, "while frame 4 is held")

	d.arrive(held, 5*time.Second, "server")
	checkReleased(t, d, &s, before, "frame 4 arrived, its receipt not yet")
	d.receipt(held, 5*time.Second, "server", event.Processed)
	checkReleased(t, d, &s, before+5, "frame 4's receipt")
	d.finish(6 * time.Second)

	checkIDs(t, "after the handshake", s.snaps[before:],
		"segment #4", "app@100ms", "segment #5", "segment #6", "state@3s")
	if keys := s.snaps[before].keys; !slices.Contains(keys, "sw.fault.hold") {
		t.Errorf("held frame 4: note keys %v, want sw.fault.hold", keys)
	}
	var order []int
	for _, a := range s.arrivals {
		order = append(order, a.frame)
	}
	if want := []int{1, 2, 3, 5, 6, 4}; !slices.Equal(order, want) {
		t.Errorf("frames in arrival order = %v, want %v", order, want)
	}
}

// TestFinishInFlight checks that Finish releases the rows of segments
// still on their way, with a note saying so, and the rows behind them.
func TestFinishInFlight(t *testing.T) {
	var s released
	d := newDriver(t, &s)
	c := newConv()
	d.handshake(c, 0)
	before := d.tap.Released()
	lost := d.send(100*ms, "client", c.c2s(fPSH|fACK, 1, 1, "hello"), event.AppCause("send"))
	d.arrive(lost, 110*ms, "server") // arrived, never processed
	d.send(120*ms, "client", c.c2s(fFIN|fACK, 6, 1, ""), event.AppCause("close"))
	d.app(120*ms, "client", "close", "close", -1, i18n.M("app.closed"))
	d.timer(130*ms, "server", c.sv, c.cl, event.TimerKeepalive, event.Established, 0)
	checkReleased(t, d, &s, before, "before Finish")
	d.finish(150 * ms)
	checkIDs(t, "after Finish", s.snaps[before:], "segment #4", "segment #5", "app@120ms", "timer@130ms")
	for _, r := range s.snaps[before : before+2] {
		if len(r.keys) == 0 || r.keys[len(r.keys)-1] != "seg.inflight.end" {
			t.Errorf("%s: note keys %v, want seg.inflight.end last", rowID(r), r.keys)
		}
		if r.dropped {
			t.Errorf("%s: dropped, want still in flight", rowID(r))
		}
	}
	if s.rows[before+1].Arrival != nil {
		t.Errorf("frame 5: Arrival = %+v, want nil (it never arrived)", s.rows[before+1].Arrival)
	}
	for _, a := range s.arrivals {
		if a.frame >= 4 {
			t.Errorf("frame %d was never processed, but the ArrivalSink saw it", a.frame)
		}
	}
}

// TestCopies checks copies: each is a row of its own at the time it
// arrives or is dropped, after the rows before that time, with the frame
// number and copy number, and a note on whether it brought anything new.
func TestCopies(t *testing.T) {
	var s released
	d := newDriver(t, &s)
	c := newConv()
	d.handshake(c, 0)
	before := d.tap.Released()
	rule := &event.Rule{Name: "dup", Flags: segment.FlagMatch{Set: fPSH}, Match: 1}

	// Frame 4 is duplicated by a rule at the switch; the copy comes 50 ms
	// after the original and changes nothing.
	f4 := d.send(100*ms, "client", c.c2s(fPSH|fACK, 1, 1, "hello"), event.AppCause("send"))
	c4 := d.duplicate(f4, 105*ms, atSwitch, rule, 50*ms)
	d.deliver(f4, 110*ms, "server")
	a4 := d.send(110*ms, "server", c.s2c(fACK, 1, 6, ""), event.Arrival(f4))
	d.deliver(a4, 120*ms, "client")
	d.app(130*ms, "client", `send "world"`, "send", 5, i18n.M("app.sent", 5))
	d.deliver(c4, 160*ms, "server")
	dupAck := d.send(160*ms, "server", c.s2c(fACK, 1, 6, ""), event.Arrival(c4))
	d.deliver(dupAck, 170*ms, "client")

	// Frame 7 is duplicated too; the original is lost after the switch, so
	// the copy brings the data.
	f7 := d.send(200*ms, "client", c.c2s(fPSH|fACK, 6, 1, "world"), event.AppCause("send"))
	c7 := d.duplicate(f7, 205*ms, atSwitch, rule, 50*ms)
	d.drop(f7, 205*ms, inServer, event.Loss)
	d.deliver(c7, 260*ms, "server")

	// Frame 8 is duplicated by the client's link, and the copy is lost.
	f8 := d.send(300*ms, "client", c.c2s(fACK, 11, 1, ""), event.AppCause("send"))
	c8 := d.duplicate(f8, 300*ms, outClient, nil, 0)
	d.deliver(f8, 310*ms, "server")
	d.drop(c8, 310*ms, inServer, event.Loss)
	d.finish(time.Second)

	checkIDs(t, "after the handshake", s.snaps[before:],
		"segment #4", "segment #5", "app@130ms", "copy #4.1", "segment #6", "segment #7", "copy #7.1", "segment #8", "copy #8.1")
	byID := map[string]rowSnap{}
	for _, r := range s.snaps[before:] {
		byID[rowID(r)] = r
	}
	tests := []struct {
		id   string
		at   time.Duration
		host string
		key  string
	}{
		{"segment #4", 100 * ms, "client", "sw.fault.duplicate"},
		{"copy #4.1", 160 * ms, "server", "copy.had"},
		{"copy #7.1", 260 * ms, "server", "copy.new"},
		{"segment #8", 300 * ms, "client", "sw.duplicate"},
		{"copy #8.1", 310 * ms, "client", "copy.dropped"},
	}
	for _, tt := range tests {
		r := byID[tt.id]
		if r.at != tt.at || r.host != tt.host || !slices.Contains(r.keys, tt.key) {
			t.Errorf("%s: at %v on %s with keys %v, want at %v on %s with %s", tt.id, r.at, r.host, r.keys, tt.at, tt.host, tt.key)
		}
	}
	if r := byID["copy #8.1"]; !r.dropped {
		t.Errorf("copy #8.1: not dropped")
	}
	if r := byID["segment #6"]; !slices.Contains(r.keys, "seg.ack.dupcopy") {
		t.Errorf("segment #6 answers the copy of frame 4: keys %v, want seg.ack.dupcopy", r.keys)
	}
}

// TestArrivalSink checks that an ArrivalSink sees every packet and copy
// that was processed, in the order they arrived (not the order they were
// sent), numbered as the capture of what was received numbers them, with
// their verdicts and final notes.
func TestArrivalSink(t *testing.T) {
	var s released
	d := newDriver(t, &s)
	c := newConv()
	d.handshake(c, 0)
	f4 := d.send(100*ms, "client", c.c2s(fPSH|fACK, 1, 1, "aaaa"), event.AppCause("send"))
	d.fate(event.Fate{Kind: event.Reordered, Ref: f4, At: 100 * ms, Place: outClient, Delay: 30 * ms})
	f5 := d.send(101*ms, "client", c.c2s(fPSH|fACK, 5, 1, "bbbb"), event.AppCause("send"))
	c5 := d.duplicate(f5, 101*ms, outClient, nil, 0)
	f6 := d.send(102*ms, "client", c.c2s(fPSH|fACK, 9, 1, "cccc"), event.AppCause("send"))
	d.drop(f6, 102*ms, outClient, event.Loss)
	d.deliver(f5, 111*ms, "server")
	d.deliver(c5, 111*ms, "server")
	d.corrupt(f4, 120*ms, inServer)
	d.arrive(f4, 140*ms, "server")
	d.receipt(f4, 140*ms, "server", event.BadChecksum, event.CounterMove{Name: "ChecksumErrors", Delta: 1, Total: 1})
	d.finish(time.Second)

	type arr struct {
		frame, copy, no int
		verdict         event.Verdict
	}
	var got []arr
	for _, a := range s.arrivals {
		got = append(got, arr{a.frame, a.copy, a.no, a.verdict})
	}
	want := []arr{
		{1, 0, 1, event.Processed}, {2, 0, 2, event.Processed}, {3, 0, 3, event.Processed},
		{5, 0, 4, event.Processed}, {5, 1, 5, event.Processed}, {4, 0, 6, event.BadChecksum},
	}
	if !slices.Equal(got, want) {
		t.Errorf("arrivals = %+v, want %+v", got, want)
	}
	// The notes an ArrivalSink sees are the ones the row is released with.
	for _, a := range s.arrivals {
		for _, r := range s.snaps {
			if r.no == a.frame && r.copy == a.copy && (r.kind == KindSegment || r.kind == KindCopy) && !slices.Equal(r.keys, a.keys) {
				t.Errorf("frame %d copy %d: keys %v at arrival, %v at release", a.frame, a.copy, a.keys, r.keys)
			}
		}
	}
	for _, r := range s.snaps {
		if r.kind == KindSegment && r.no == 4 && !slices.Contains(r.keys, "sw.reorder") {
			t.Errorf("frame 4: keys %v, want sw.reorder", r.keys)
		}
	}
	// Each arrival's row has its Arrival with the same numbers.
	for _, r := range s.rows {
		if a := r.Arrival; a != nil && a.No == 0 {
			t.Errorf("%v #%d: Arrival.No = 0 after its receipt", r.Kind, r.No)
		}
	}
}

// TestTapAnalysis checks that the tap runs Wireshark's analysis over both
// captures: what was sent, where a retransmission is one, and what was
// received, where the original never came.
func TestTapAnalysis(t *testing.T) {
	var s released
	d := newDriver(t, &s)
	c := newConv()
	d.handshake(c, 0)
	f4 := d.send(100*ms, "client", c.c2s(fPSH|fACK, 1, 1, "hello"), event.AppCause("send"))
	d.drop(f4, 100*ms, outClient, event.Loss)
	f5 := d.send(400*ms, "client", c.c2s(fPSH|fACK, 1, 1, "hello"), event.TimerCause(event.TimerRTO))
	d.deliver(f5, 410*ms, "server")
	d.finish(time.Second)
	r := s.rows[len(s.rows)-1]
	if r.No != 5 || r.Analysis != Retransmission || r.Arrival == nil || r.Arrival.Analysis != 0 || r.Arrival.No != 4 {
		t.Errorf("frame 5: #%d Analysis %q, Arrival %+v; want #5 retransmission as sent, received as frame 4 with no flags", r.No, r.Analysis, r.Arrival)
	}
	if !r.HasNote("seg.retrans.rto") || !r.HasNote("why.prev") {
		t.Errorf("frame 5: keys %v, want seg.retrans.rto and why.prev", r.NoteKeys())
	}
}

// TestTimerRows checks when a timer that fired gets a row of its own:
// only when nothing it caused follows at the same instant on its host;
// otherwise the rows it caused name it.
func TestTimerRows(t *testing.T) {
	c := newConv()
	rto := event.TimerCause(event.TimerRTO)
	tests := []struct {
		name string
		then func(d *driver) // after an RTO on the client at 1 s
		want []string        // rows after the handshake
	}{
		{"a segment it sent", func(d *driver) {
			f := d.send(time.Second, "client", c.c2s(fFIN|fACK, 1, 1, ""), rto)
			d.deliver(f, time.Second+10*ms, "server")
		}, []string{"segment #4"}},
		{"a state change it made", func(d *driver) {
			d.state(time.Second, "client", c.cl, c.sv, event.Established, event.Closed, rto)
		}, []string{"state@1s"}},
		{"counters it moved", func(d *driver) {
			d.counter(time.Second, "client", rto, event.CounterMove{Name: "Timeouts", Delta: 1, Total: 1})
		}, []string{"counter@1s"}},
		{"nothing", func(d *driver) {}, []string{"timer@1s"}},
		{"a segment sent later", func(d *driver) {
			f := d.send(time.Second+ms, "client", c.c2s(fFIN|fACK, 1, 1, ""), rto)
			d.deliver(f, time.Second+10*ms, "server")
		}, []string{"timer@1s", "segment #4"}},
		{"a segment the other host sent for its own RTO", func(d *driver) {
			f := d.send(time.Second, "server", c.s2c(fFIN|fACK, 1, 1, ""), rto)
			d.deliver(f, time.Second+10*ms, "client")
		}, []string{"timer@1s", "segment #4"}},
		{"a segment sent for another reason", func(d *driver) {
			f := d.send(time.Second, "client", c.c2s(fFIN|fACK, 1, 1, ""), event.AppCause("close"))
			d.deliver(f, time.Second+10*ms, "server")
		}, []string{"timer@1s", "segment #4"}},
		{"a segment sent for another timer", func(d *driver) {
			f := d.send(time.Second, "client", c.c2s(fACK, 0, 1, ""), event.TimerCause(event.TimerKeepalive))
			d.deliver(f, time.Second+10*ms, "server")
		}, []string{"timer@1s", "segment #4"}},
		{"an app step", func(d *driver) {
			d.app(time.Second, "client", "close", "close", -1, i18n.M("app.closed"))
		}, []string{"timer@1s", "app@1s"}},
		{"another timer", func(d *driver) {
			d.timer(time.Second, "client", c.cl, c.sv, event.TimerKeepalive, event.Established, 0)
		}, []string{"timer@1s", "timer@1s"}},
		{"another timer that did something", func(d *driver) {
			d.timer(time.Second, "client", c.cl, c.sv, event.TimerKeepalive, event.Established, 0)
			f := d.send(time.Second, "client", c.c2s(fACK, 0, 1, ""), event.TimerCause(event.TimerKeepalive))
			d.deliver(f, time.Second+10*ms, "server")
		}, []string{"timer@1s", "segment #4"}},
		{"a stall", func(d *driver) {
			d.stall(event.Stall{At: time.Second, Host: "client", Local: c.cl, Remote: c.sv, State: event.Established, SndUna: 1001, SndNxt: 1002})
		}, []string{"timer@1s", "stall@1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s released
			d := newDriver(t, &s)
			d.handshake(c, 0)
			before := d.tap.Released()
			d.timer(time.Second, "client", c.cl, c.sv, event.TimerRTO, event.Established, 200*ms)
			tt.then(d)
			d.finish(2 * time.Second)
			checkIDs(t, tt.name, s.snaps[before:], tt.want...)
			for _, r := range s.rows[before:] {
				switch {
				case r.Kind == KindTimer && r.Timer.Kind == event.TimerRTO:
					if !r.HasNote("timer.idle.rto") || r.CauseMsg.Key != "cause.timer" {
						t.Errorf("RTO timer row: keys %v, cause %q; want timer.idle.rto, cause.timer", r.NoteKeys(), r.CauseMsg.Key)
					}
				case r.Kind == KindTimer:
					if !r.HasNote("timer.idle") {
						t.Errorf("timer row: keys %v, want timer.idle", r.NoteKeys())
					}
				}
			}
		})
	}
}

// TestStackDrops checks a segment the receiving stack dropped: a note on
// the segment's row and a drop row of its own at the arrival, right after
// it.
func TestStackDrops(t *testing.T) {
	tests := []struct {
		verdict  event.Verdict
		counters []event.CounterMove
		keys     []string
	}{
		{event.SynQueueOverflow, []event.CounterMove{{Name: "ListenOverflowSynDrop", Delta: 1, Total: 1}}, []string{"drop.syn_queue_overflow"}},
		{event.BadChecksum, nil, []string{"drop.bad_checksum"}},
		{event.CookieInvalid, nil, []string{"drop.cookie_invalid"}},
		{event.Discarded, nil, []string{"drop.discarded"}},
	}
	for _, tt := range tests {
		t.Run(tt.verdict.String(), func(t *testing.T) {
			var s released
			d := newDriver(t, &s)
			c := newConv()
			syn := d.send(0, "client", c.c2s(fSYN, 0, 0, ""), event.AppCause("connect"))
			d.arrive(syn, 10*ms, "server")
			d.receipt(syn, 10*ms, "server", tt.verdict, tt.counters...)
			d.finish(time.Second)
			checkIDs(t, tt.verdict.String(), s.snaps, "segment #1", "drop #1")
			if !slices.Contains(s.snaps[0].keys, "seg.stackdrop") {
				t.Errorf("segment: keys %v, want seg.stackdrop", s.snaps[0].keys)
			}
			if got := s.snaps[1]; !slices.Equal(got.keys, tt.keys) || got.at != 10*ms || got.host != "server" {
				t.Errorf("drop row: keys %v at %v on %s, want %v at 10ms on server", got.keys, got.at, got.host, tt.keys)
			}
			if got := s.rows[1].Counters; !slices.Equal(got, tt.counters) {
				t.Errorf("drop row: counters %v, want %v", got, tt.counters)
			}
		})
	}
}

// TestAckQueueOverflow checks the drop of a handshake's final ACK by a
// full accept queue: the difference from Linux is noted when netstack did
// not count it.
func TestAckQueueOverflow(t *testing.T) {
	for _, counted := range []bool{false, true} {
		var s released
		d := newDriver(t, &s)
		c := newConv()
		syn := d.send(0, "client", c.c2s(fSYN, 0, 0, ""), event.AppCause("connect"))
		d.deliver(syn, 10*ms, "server")
		synAck := d.send(10*ms, "server", c.s2c(fSYN|fACK, 0, 1, ""), event.Arrival(syn))
		d.deliver(synAck, 20*ms, "client")
		ack := d.send(20*ms, "client", c.c2s(fACK, 1, 1, ""), event.Arrival(synAck))
		d.arrive(ack, 30*ms, "server")
		var moves []event.CounterMove
		if counted {
			moves = []event.CounterMove{{Name: "ListenOverflowAckDrop", Delta: 1, Total: 1}}
		}
		d.receipt(ack, 30*ms, "server", event.AckQueueOverflow, moves...)
		d.finish(time.Second)
		last := s.snaps[len(s.snaps)-1]
		want := []string{"drop.ack_queue_overflow"}
		if !counted {
			want = append(want, "diff.ackdrop")
		}
		if rowID(last) != "drop #3" || !slices.Equal(last.keys, want) {
			t.Errorf("counted=%v: last row %s with keys %v, want drop #3 with %v", counted, rowID(last), last.keys, want)
		}
	}
}

// TestNoteKeys checks the first note key of each row of a plain
// connection: handshake, data and its ACK, the close in four steps, and
// the states on both sides.
func TestNoteKeys(t *testing.T) {
	var s released
	d := newDriver(t, &s)
	c := newConv()
	d.state(0, "server", epListener, netipZero, event.Closed, event.Listen, event.AppCause("listen"))
	d.handshake(c, 0)
	data := d.send(100*ms, "client", c.c2s(fPSH|fACK, 1, 1, "hello"), event.AppCause("send"))
	d.deliver(data, 110*ms, "server")
	ack := d.send(110*ms, "server", c.s2c(fACK, 1, 6, ""), event.Arrival(data))
	d.deliver(ack, 120*ms, "client")

	d.state(200*ms, "client", c.cl, c.sv, event.Established, event.FinWait1, event.AppCause("close"))
	fin1 := d.send(200*ms, "client", c.c2s(fFIN|fACK, 6, 1, ""), event.AppCause("close"))
	d.arrive(fin1, 210*ms, "server")
	d.state(210*ms, "server", c.sv, c.cl, event.Established, event.CloseWait, event.Arrival(fin1))
	d.receipt(fin1, 210*ms, "server", event.Processed)
	ack1 := d.send(210*ms, "server", c.s2c(fACK, 1, 7, ""), event.Arrival(fin1))
	d.arrive(ack1, 220*ms, "client")
	d.state(220*ms, "client", c.cl, c.sv, event.FinWait1, event.FinWait2, event.Arrival(ack1))
	d.receipt(ack1, 220*ms, "client", event.Processed)
	d.state(300*ms, "server", c.sv, c.cl, event.CloseWait, event.LastAck, event.AppCause("close"))
	fin2 := d.send(300*ms, "server", c.s2c(fFIN|fACK, 1, 7, ""), event.AppCause("close"))
	d.arrive(fin2, 310*ms, "client")
	d.state(310*ms, "client", c.cl, c.sv, event.FinWait2, event.TimeWait, event.Arrival(fin2))
	d.receipt(fin2, 310*ms, "client", event.Processed)
	ack2 := d.send(310*ms, "client", c.c2s(fACK, 7, 2, ""), event.Arrival(fin2))
	d.arrive(ack2, 320*ms, "server")
	d.state(320*ms, "server", c.sv, c.cl, event.LastAck, event.Closed, event.Arrival(ack2))
	d.receipt(ack2, 320*ms, "server", event.Processed)
	d.state(60310*ms, "client", c.cl, c.sv, event.TimeWait, event.Closed, event.TimerCause(event.TimerTimeWait))
	d.finish(61 * time.Second)

	want := []string{
		"st.listen",
		"st.synsent", "seg.hs1", "st.synrcvd", "seg.hs2", "st.est.client", "seg.hs3", "st.est.server",
		"seg.data.psh", "seg.ack",
		"st.finwait1", "seg.close1", "st.closewait", "seg.close2", "st.finwait2",
		"st.lastack", "seg.close3", "st.timewait", "seg.close4", "st.closed.lastack",
		"st.closed.timewait",
	}
	var got []string
	for _, r := range s.snaps {
		if len(r.keys) == 0 {
			got = append(got, "")
			continue
		}
		got = append(got, r.keys[0])
	}
	if !slices.Equal(got, want) {
		t.Errorf("first note keys:\n got %v\nwant %v", got, want)
	}
}

// countSink counts the rows released and keeps none.
type countSink struct{ rows, segments int }

func (c *countSink) Row(r *Row) error {
	c.rows++
	if r.Kind == KindSegment {
		c.segments++
	}
	return nil
}

// TestLongTransfer sends 100 000 data segments, each acknowledged, and
// checks that the tap keeps no more for it than for a short one: no row
// waits, nothing is on its way, and the transmissions it remembers per
// connection stay few.
func TestLongTransfer(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	var sink countSink
	d := newDriver(t, &sink)
	c := newConv()
	d.handshake(c, 0)
	key := keyOfEnds(c.cl, c.sv)
	const size = 100
	payload := strings.Repeat("x", size)
	at := time.Second
	maxX, maxUnacked := 0, 0
	for i := range n {
		seq := uint32(1 + i*size)
		data := d.send(at, "client", c.c2s(fACK, seq, 1, payload), event.AppCause("send"))
		d.deliver(data, at+ms, "server")
		ack := d.send(at+ms, "server", c.s2c(fACK, 1, seq+size, ""), event.Arrival(data))
		d.deliver(ack, at+2*ms, "client")
		at += 3 * ms
		if i%1000 == 0 || i == n-1 {
			cn := d.tap.conns[key]
			maxX = max(maxX, len(cn.xmits[0]), len(cn.xmits[1]))
			for _, a := range []*analyzer{d.tap.sent, d.tap.recv} {
				for _, f := range a.flows {
					maxUnacked = max(maxUnacked, len(f.unacked))
				}
			}
			if len(d.tap.queue) != 0 || len(d.tap.open) != 0 || len(d.tap.copies) != 0 {
				t.Fatalf("after %d segments: %d rows queued, %d open, %d copies; want none", i+1, len(d.tap.queue), len(d.tap.open), len(d.tap.copies))
			}
		}
	}
	d.finish(at)
	if maxX > 2 {
		t.Errorf("the connection remembered up to %d transmission ranges, want at most 2", maxX)
	}
	if maxUnacked > 2 {
		t.Errorf("the analysis remembered up to %d unacknowledged segments, want at most 2", maxUnacked)
	}
	if want := 3 + 2*n; sink.segments != want {
		t.Errorf("released %d segment rows, want %d", sink.segments, want)
	}
	if len(d.tap.conns) != 1 || len(d.tap.queue) != 0 || len(d.tap.open) != 0 {
		t.Errorf("at the end: %d connections, %d rows queued, %d open; want 1, 0, 0", len(d.tap.conns), len(d.tap.queue), len(d.tap.open))
	}
}

// TestNonTCPCopy checks that a copy of a packet that is not TCP (a link
// duplicates any packet) is recorded and written like any copy.
func TestNonTCPCopy(t *testing.T) {
	var c Collector
	var text, js, mmd bytes.Buffer
	d := newDriver(t, &c)
	tw := d.tap.NewTextWriter(&text, Header{})
	jw := d.tap.NewJSONWriter(&js, i18n.EN)
	mw := d.tap.NewMermaidWriter(&mmd, MermaidOptions{})
	d.tap.AddSink(tw)
	d.tap.AddSink(jw)
	d.tap.AddSink(mw)
	// An IPv4 packet of protocol 17 (UDP) with an empty payload.
	udp := tcpSpec{src: epClient, dst: epServer}.build()[:20]
	udp[9] = 17
	udp[3] = 20
	p := d.send(0, "client", udp, event.Cause{})
	cp := d.duplicate(p, 0, outClient, nil, 0)
	d.arrive(p, 10*ms, "server")
	d.receipt(p, 10*ms, "server", event.NotTCP)
	d.arrive(cp, 10*ms, "server")
	d.receipt(cp, 10*ms, "server", event.NotTCP)
	d.finish(time.Second)
	for _, f := range []interface{ Flush() error }{tw, jw, mw} {
		if err := f.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	var kinds []Kind
	for _, r := range c.Rows {
		kinds = append(kinds, r.Kind)
	}
	if want := []Kind{KindPacket, KindCopy}; !slices.Equal(kinds, want) {
		t.Errorf("kinds = %v, want %v", kinds, want)
	}
	for name, out := range map[string]string{"text": text.String(), "json": js.String(), "mermaid": mmd.String()} {
		if !strings.Contains(out, "copy 1 of frame 1") && !strings.Contains(out, `"kind":"copy","no":1`) {
			t.Errorf("%s has no copy of frame 1:\n%s", name, out)
		}
	}
}

// netipZero is the zero address and port: no remote.
var netipZero netip.AddrPort

// TestExplainKeys checks the note keys of segments in clear cases of loss
// and recovery, from the ground truth the tap was given.
func TestExplainKeys(t *testing.T) {
	c := newConv()
	rto := event.TimerCause(event.TimerRTO)
	tests := []struct {
		name string
		play func(d *driver)
		want map[int][]string // frame → keys it must have
	}{
		{"lost SYN, retransmitted", func(d *driver) {
			syn := d.send(0, "client", c.c2s(fSYN, 0, 0, ""), event.AppCause("connect"))
			d.drop(syn, 0, outClient, event.Loss)
			again := d.send(time.Second, "client", c.c2s(fSYN, 0, 0, ""), event.TimerCause(event.TimerHandshake))
			d.deliver(again, time.Second+10*ms, "server")
		}, map[int][]string{1: {"seg.hs1", "sw.dropped"}, 2: {"seg.syn.retrans", "why.prev"}}},
		{"lost SYN-ACK, SYN retransmitted", func(d *driver) {
			syn := d.send(0, "client", c.c2s(fSYN, 0, 0, ""), event.AppCause("connect"))
			d.deliver(syn, 10*ms, "server")
			synAck := d.send(10*ms, "server", c.s2c(fSYN|fACK, 0, 1, ""), event.Arrival(syn))
			d.drop(synAck, 10*ms, outServer, event.Loss)
			again := d.send(time.Second, "client", c.c2s(fSYN, 0, 0, ""), event.TimerCause(event.TimerHandshake))
			d.deliver(again, time.Second+10*ms, "server")
			synAck2 := d.send(time.Second+10*ms, "server", c.s2c(fSYN|fACK, 0, 1, ""), event.Arrival(again))
			d.deliver(synAck2, time.Second+20*ms, "client")
		}, map[int][]string{3: {"seg.syn.retrans", "why.synack"}, 4: {"seg.synack.again"}}},
		{"fast retransmission after three duplicate ACKs", func(d *driver) {
			d.handshake(c, 0)
			var sent []event.Ref
			for i := range 4 {
				sent = append(sent, d.send(100*ms+time.Duration(i)*ms, "client", c.c2s(fACK, uint32(1+100*i), 1, strings.Repeat("x", 100)), event.AppCause("send")))
			}
			d.drop(sent[0], 100*ms, outClient, event.Loss)
			var last event.Ref
			for i := 1; i < 4; i++ {
				d.deliver(sent[i], 110*ms+time.Duration(i)*ms, "server")
				last = d.send(110*ms+time.Duration(i)*ms, "server", c.s2c(fACK, 1, 1, ""), event.Arrival(sent[i]))
				d.deliver(last, 120*ms+time.Duration(i)*ms, "client")
			}
			again := d.send(123*ms, "client", c.c2s(fACK, 1, 1, strings.Repeat("x", 100)), event.Arrival(last))
			d.deliver(again, 133*ms, "server")
		}, map[int][]string{4: {"sw.dropped"}, 8: {"seg.ack.gap", "why.missing"}, 10: {"seg.dupack.num", "seg.ack.gap"}, 11: {"seg.retrans.fast", "why.prev"}}},
		{"retransmission in SACK recovery", func(d *driver) {
			d.handshake(c, 0)
			var sent []event.Ref
			for i := range 3 {
				sent = append(sent, d.send(100*ms, "client", c.c2s(fACK, uint32(1+100*i), 1, strings.Repeat("x", 100)), event.AppCause("send")))
			}
			d.drop(sent[0], 100*ms, outClient, event.Loss)
			var last event.Ref
			for i := 1; i < 3; i++ {
				d.deliver(sent[i], 110*ms, "server")
				last = d.send(110*ms, "server", c.s2c(fACK, 1, 1, "", optSACK(c.isnC+101, c.isnC+1+100*uint32(i+1))), event.Arrival(sent[i]))
				d.deliver(last, 120*ms, "client")
			}
			again := d.send(120*ms, "client", c.c2s(fACK, 1, 1, strings.Repeat("x", 100)), event.Arrival(last))
			d.deliver(again, 130*ms, "server")
		}, map[int][]string{7: {"seg.ack.gap", "seg.sack"}, 8: {"seg.sack"}, 9: {"seg.retrans.sack", "why.prev"}}},
		{"retransmission of data that arrived, whose ACK was lost", func(d *driver) {
			d.handshake(c, 0)
			data := d.send(100*ms, "client", c.c2s(fPSH|fACK, 1, 1, "hello"), event.AppCause("send"))
			d.deliver(data, 110*ms, "server")
			ack := d.send(110*ms, "server", c.s2c(fACK, 1, 6, ""), event.Arrival(data))
			d.drop(ack, 110*ms, outServer, event.Loss)
			again := d.send(400*ms, "client", c.c2s(fPSH|fACK, 1, 1, "hello"), rto)
			d.deliver(again, 410*ms, "server")
			ack2 := d.send(410*ms, "server", c.s2c(fACK, 1, 6, ""), event.Arrival(again))
			d.deliver(ack2, 420*ms, "client")
		}, map[int][]string{6: {"seg.retrans.rto", "why.had"}, 7: {"seg.ack.dupdata"}}},
		{"keep-alive probe and its answer", func(d *driver) {
			d.handshake(c, 0)
			probe := d.send(75*time.Second, "client", c.c2s(fACK, 0, 1, ""), event.TimerCause(event.TimerKeepalive))
			d.deliver(probe, 75*time.Second+10*ms, "server")
			ack := d.send(75*time.Second+10*ms, "server", c.s2c(fACK, 1, 1, ""), event.Arrival(probe))
			d.deliver(ack, 75*time.Second+20*ms, "client")
		}, map[int][]string{4: {"seg.keepalive"}, 5: {"seg.keepalive.ack"}}},
		{"zero window", func(d *driver) {
			d.handshake(c, 0)
			data := d.send(100*ms, "client", c.c2s(fPSH|fACK, 1, 1, "hello"), event.AppCause("send"))
			d.deliver(data, 110*ms, "server")
			ack := d.send(110*ms, "server", tcpSpec{src: c.sv, dst: c.cl, flags: fACK, seq: c.isnS + 1, ack: c.isnC + 6}.build(), event.Arrival(data))
			d.deliver(ack, 120*ms, "client")
		}, map[int][]string{5: {"seg.zerowin"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var col Collector
			d := newDriver(t, &col)
			tt.play(d)
			d.finish(100 * time.Second)
			for frame, keys := range tt.want {
				var r *Row
				for _, x := range col.Segments() {
					if x.No == frame {
						r = x
					}
				}
				if r == nil {
					t.Errorf("no segment row for frame %d", frame)
					continue
				}
				for _, k := range keys {
					if !r.HasNote(k) {
						t.Errorf("frame %d: keys %v, want %s among them", frame, r.NoteKeys(), k)
					}
				}
			}
		})
	}
}
