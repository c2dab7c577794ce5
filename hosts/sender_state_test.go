package hosts

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
)

// TestSenderStateLayout checks that the netstack fields a snapshot reads
// (sender_state.go) exist with the types it expects.
func TestSenderStateLayout(t *testing.T) {
	if _, ok := senderLayout(); !ok {
		t.Fatal("senderLayout() found no layout: netstack renamed or retyped a field that sender_state.go reads")
	}
}

// TestSenderState sends 200 KB over a 10 ms link that drops the 20th
// segment the client sends, and checks the snapshots on what the client
// sent: none on its SYN, one on everything after; new data leaves at
// SND.NXT; the RTT estimate starts from the handshake's 20 ms round trip;
// the loss puts the sender into recovery and sets a finite slow-start
// threshold below the congestion window it had.
func TestSenderState(t *testing.T) {
	d := topology.Direction{Latency: 10 * time.Millisecond}
	target := netip.AddrPortFrom(serverAddr, 9000)
	rec, _ := network{hosts: []netHost{
		{modelHost("server", serverAddr, Sink{Port: 9000}), topology.Link{}},
		{modelHost("client", clientAddr, BulkSender{Target: target, TargetName: "server:9000", Bytes: 200000}), topology.Link{Out: d, In: d}},
	}, faults: []topology.Fault{{Name: "drop20", Action: topology.FaultDrop, From: "client", Nth: 20}}}.run(t)
	var maxCwnd, recovery int
	sawSsthresh := false
	for _, p := range rec.packets {
		if p.host != "client" || p.seg == nil {
			continue
		}
		s := p.sender
		if p.flags&segment.SYN != 0 {
			if s != nil {
				t.Errorf("frame %d (SYN) has sender state %+v, want none (no sender before the handshake)", p.ref.Frame, s)
			}
			continue
		}
		if s == nil {
			t.Fatalf("frame %d (%v) has no sender state", p.ref.Frame, p.flags)
		}
		if s.MSS != 1420 || s.Cwnd <= 0 || s.RTO <= 0 || s.RcvWnd == 0 || s.SndWnd == 0 {
			t.Errorf("frame %d: sender state %+v, want MSS 1420 and positive cwnd, RTO and windows", p.ref.Frame, s)
		}
		if !s.RTTValid || s.SRTT < 20*time.Millisecond || s.SRTT > 60*time.Millisecond {
			t.Errorf("frame %d: SRTT %v (valid %v), want 20–60ms from a 20 ms round trip", p.ref.Frame, s.SRTT, s.RTTValid)
		}
		if p.payload > 0 && !s.Recovery && !p.seg.Seq.LessThan(s.SndNxt) && p.seg.Seq != s.SndNxt {
			t.Errorf("frame %d: new data at seq %d but SND.NXT %d", p.ref.Frame, p.seg.Seq, s.SndNxt)
		}
		if s.Recovery {
			recovery++
		}
		if s.Ssthresh < 1<<31 {
			if !sawSsthresh && s.Ssthresh >= maxCwnd {
				t.Errorf("frame %d: first finite ssthresh %d, want below the largest cwnd before it (%d)", p.ref.Frame, s.Ssthresh, maxCwnd)
			}
			sawSsthresh = true
		} else {
			maxCwnd = max(maxCwnd, s.Cwnd)
		}
	}
	if recovery == 0 || !sawSsthresh {
		t.Errorf("segments sent in recovery: %d, finite ssthresh seen: %v; want both after the drop", recovery, sawSsthresh)
	}
	if maxCwnd <= 10 {
		t.Errorf("largest cwnd before the loss = %d, want slow start to grow it past the initial 10", maxCwnd)
	}
}
