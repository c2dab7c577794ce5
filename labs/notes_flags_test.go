package labs

import (
	"strings"
	"testing"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/tap"
)

// TestNotesAgreeWithAnalysis checks, on every golden lab, that a segment's
// explanation and its Wireshark-style analysis flags tell the same story:
// a flagged retransmission, duplicate ACK, keep-alive or zero window is
// explained as one, and no segment is explained as a retransmission that
// Wireshark would not flag. (The tshark agreement test in cmd/tcplab checks
// the flags themselves against tshark.)
func TestNotesAgreeWithAnalysis(t *testing.T) {
	has := func(r *tap.Row, prefixes ...string) bool {
		for _, m := range r.Notes {
			for _, p := range prefixes {
				if m.Key == p || strings.HasPrefix(m.Key, p+".") {
					return true
				}
			}
		}
		return false
	}
	retransNotes := []string{"seg.retrans", "seg.syn.retrans", "seg.synack.retrans", "seg.synack.again", "seg.fin.retrans", "seg.fin.tlp"}
	for _, ref := range goldenLabs(t) {
		run := runLab(t, ref)
		for _, r := range run.Segments() {
			a := r.Analysis
			fail := func(why string) {
				t.Errorf("%s: frame %d (%s): %s\n  %s", ref, r.No, a, why, run.Tap.RowText(r, i18n.EN))
			}
			resent := a&(tap.Retransmission|tap.FastRetransmission|tap.SpuriousRetransmission|tap.OutOfOrder) != 0
			switch {
			case resent && !has(r, retransNotes...) && !has(r, "ws.newdata", "seg.zwp", "seg.keepalive", "seg.synack.old", "seg.simopen", "seg.syn.spoofed", "seg.forged", "seg.rst"):
				fail("flagged as resent but not explained as a retransmission")
			case !resent && has(r, retransNotes...):
				fail("explained as a retransmission that Wireshark would not flag")
			case a&tap.DupAck != 0 && !has(r, "seg.dupack", "seg.ack.gap", "seg.ack.dupdata", "seg.ack.dupcopy", "seg.synrcvd.ack", "seg.hs3.again", "seg.close4", "seg.keepalive", "seg.challenge", "seg.zwp", "seg.zerowin", "seg.simclose", "seg.simopen", "seg.forged"):
				fail("flagged as a duplicate ACK but not explained as one")
			case a&tap.KeepAlive != 0 && !has(r, "seg.keepalive", "seg.zwp"):
				fail("flagged as a keep-alive but not explained as one")
			case a&tap.ZeroWindow != 0 && !has(r, "seg.zerowin", "seg.dupack", "seg.zwp", "seg.data", "seg.keepalive"):
				fail("flagged as zero window but not explained")
			}
		}
	}
}
