package segment

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// TestDSACK checks the D-SACK rule: a first block below the ACK, or
// inside the second block.
func TestDSACK(t *testing.T) {
	seg := func(ack uint32, blocks ...[2]uint32) *Segment {
		s := &Segment{Flags: ACK, Ack: seqnum.Value(ack)}
		for _, b := range blocks {
			s.Opts.SACK = append(s.Opts.SACK, Block{Start: seqnum.Value(b[0]), End: seqnum.Value(b[1])})
		}
		return s
	}
	tests := []struct {
		name string
		s    *Segment
		want bool
	}{
		{"no SACK", seg(1000), false},
		{"below the ACK", seg(1000, [2]uint32{500, 600}), true},
		{"above the ACK", seg(1000, [2]uint32{2000, 3000}), false},
		{"inside the second block", seg(1000, [2]uint32{2100, 2200}, [2]uint32{2000, 3000}), true},
		{"beside the second block", seg(1000, [2]uint32{4000, 4100}, [2]uint32{2000, 3000}), false},
		{"across the wrap", seg(5, [2]uint32{0xfffffff0, 0xfffffff8}), true},
	}
	for _, tt := range tests {
		if got := tt.s.DSACK(); got != tt.want {
			t.Errorf("%s: DSACK() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
