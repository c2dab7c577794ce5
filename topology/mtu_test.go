package topology

import (
	"strings"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/event"
)

// TestLinkMTU checks that a packet larger than a link's MTU is dropped on
// that link (leaving its sender, or toward its receiver) with TooBig and
// the MTU, and that one of exactly the MTU crosses.
func TestLinkMTU(t *testing.T) {
	n, rec, a, ia, b := twoHosts(t, 1, Link{MTU: 1400}, Link{MTU: 1280})
	sendAt(n, a, ia, 0, ipv4Packet(1, "10.0.0.1", "10.0.0.2", 1280)) // fits both
	sendAt(n, a, ia, 0, ipv4Packet(2, "10.0.0.1", "10.0.0.2", 1300)) // too big for b's link
	sendAt(n, a, ia, 0, ipv4Packet(3, "10.0.0.1", "10.0.0.2", 1500)) // too big for a's link
	run(t, n, time.Second)
	if len(b.delivered) != 1 || len(b.delivered[0].pkt) != 1280 {
		t.Fatalf("b received %d packets, want the one of 1280 bytes", len(b.delivered))
	}
	drops := map[uint16]*event.Fate{}
	for _, f := range rec.fates {
		if f.Kind == event.Dropped {
			drops[rec.ipID(f.Ref)] = f
		}
	}
	for id, want := range map[uint16]struct {
		place event.Place
		mtu   int
	}{2: {bIn, 1280}, 3: {aOut, 1400}} {
		f := drops[id]
		if f == nil || f.Reason != event.TooBig || f.Place != want.place || f.MTU != want.mtu {
			t.Errorf("packet %d: drop %+v, want too_big at %v with MTU %d", id, f, want.place, want.mtu)
		}
	}
	if len(drops) != 2 {
		t.Errorf("%d drops, want 2", len(drops))
	}
}

func TestValidateMTU(t *testing.T) {
	tests := []struct {
		mtu  int
		ipv6 bool
		want string // "" for valid, else part of the error
	}{
		{0, false, ""},
		{0, true, ""},
		{576, false, ""},
		{575, false, "smaller than 576"},
		{1279, true, "smaller than 1280"},
		{1280, true, ""},
		{65535, true, ""},
		{65536, false, "larger than 65535"},
		{-1, false, "negative"},
	}
	for _, tt := range tests {
		err := ValidateMTU(tt.mtu, tt.ipv6)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ValidateMTU(%d, %v) = %v, want nil", tt.mtu, tt.ipv6, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ValidateMTU(%d, %v) = %v, want an error containing %q", tt.mtu, tt.ipv6, err, tt.want)
		}
	}
	if _, err := New(1, nil, nil).Attach("h", nil, Link{MTU: 100}, nil); err == nil {
		t.Error("Attach with MTU 100 = nil error, want one")
	}
}
