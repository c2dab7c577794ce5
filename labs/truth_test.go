package labs

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/tap"
)

// truthCase pins what the tap says of one row of a truth lab
// (testdata/truth): the note keys it must have and those it must not,
// each a class of wrong explanation the tap once gave (see
// testdata/truth/FINDINGS.md for how each was found).
type truthCase struct {
	lab   string
	kind  tap.Kind // the row's kind (segment rows by frame number)
	frame int      // frame number, for segment, copy and drop rows
	host  string   // for other rows: the host, and
	at    time.Duration
	want  []string // note keys the row must have
	not   []string // note keys it must not have
}

var truthCases = []truthCase{
	// Class 1: RTO retransmissions after a partition dropped the ACK are
	// not spurious from the sender's side; Wireshark's view is noted.
	{lab: "truth-partition-acks", frame: 6, want: []string{"seg.retrans.tlp", "why.had"}},
	{lab: "truth-partition-acks", frame: 7, want: []string{"seg.retrans.rto", "why.had", "ws.spurious"}},
	{lab: "truth-partition-acks", frame: 9, want: []string{"seg.retrans.rto", "why.had", "ws.spurious"}},
	{lab: "truth-partition-acks", frame: 10, want: []string{"seg.ack.dupdata"}, not: []string{"seg.winupdate"}},
	{lab: "truth-partition-mid", frame: 15, want: []string{"seg.retrans.rto", "why.had", "ws.spurious"}},
	{lab: "truth-partition-mid", frame: 18, want: []string{"seg.ack.dupdata"}, not: []string{"seg.ack.gap"}},
	// Class 2: resends of segments a full queue dropped are
	// retransmissions (here triggered by a SACK of later data), not
	// out-of-order segments; a RACK resend that Wireshark calls out of
	// order is in truth-fin-rack (frame 16).
	{lab: "truth-queue-drop", frame: 25, want: []string{"seg.retrans.sack", "why.prev"}},
	{lab: "truth-queue-drop", frame: 27, want: []string{"seg.retrans.sack", "why.prev"}},
	// Class 3: no fast retransmission without duplicate ACKs reaching the
	// sender; a real one where they do.
	{lab: "truth-fast-retrans-none", frame: 8, want: []string{"seg.ack.gap", "seg.sack"}, not: []string{"seg.dupack.num"}},
	{lab: "truth-fast-retrans-none", frame: 9, want: []string{"seg.retrans.rack", "why.prev"}, not: []string{"seg.retrans.fast"}},
	{lab: "truth-fast-retrans-lost-dupacks", frame: 13, want: []string{"seg.retrans.rto", "ws.fast"}, not: []string{"seg.retrans.fast"}},
	{lab: "truth-fast-retrans", frame: 19, want: []string{"seg.retrans.fast", "why.prev"}},
	// A FIN that reached its receiver above a hole, which netstack did not
	// keep: retransmitted, and the row says Linux would have kept it.
	{lab: "truth-fast-retrans", frame: 21, want: []string{"why.notkept", "diff.fin.ooo"}},
	{lab: "truth-bulk-loss", frame: 23, want: []string{"seg.fin.retrans", "why.notkept", "diff.fin.ooo"}},
	// Class 4: a duplicate ACK that answers duplicate data says nothing is
	// missing.
	{lab: "truth-dupack-dupdata", frame: 10, want: []string{"seg.dupack.num", "seg.ack.dupcopy"}, not: []string{"seg.ack.gap"}},
	{lab: "truth-reorder", frame: 17, want: []string{"seg.ack.dupdata"}, not: []string{"seg.ack.gap"}},
	// Class 5: keep-alive probes, counted from the last segment the
	// prober heard (checked with the silence below).
	{lab: "truth-keepalive-dropped-rst", frame: 7, want: []string{"seg.keepalive"}},
	{lab: "truth-keepalive-vanished", frame: 8, want: []string{"seg.keepalive"}},
	// Class 6: a final ACK dropped by a full accept queue, and the SYN-ACK
	// retransmission it causes.
	{lab: "truth-accept-full-ack", frame: 12, want: []string{"seg.hs3", "seg.stackdrop"}},
	{lab: "truth-accept-full-ack", kind: tap.KindDrop, frame: 12, want: []string{"drop.ack_queue_overflow", "diff.ackdrop"}},
	{lab: "truth-accept-full-ack", frame: 13, want: []string{"seg.synack.retrans", "why.finalack"}},
	{lab: "truth-accept-full-ack", frame: 14, want: []string{"seg.hs3.again", "seg.stackdrop"}, not: []string{"seg.challenge"}},
	// Class 7: a server in SYN_RCVD answering a repeated SYN is no
	// handshake step; the client's ACK of the SYN-ACK is.
	{lab: "truth-synrcvd-resyn", frame: 5, want: []string{"seg.synrcvd.ack"}, not: []string{"seg.hs3"}},
	{lab: "truth-synrcvd-resyn", frame: 6, want: []string{"seg.hs3"}},
	{lab: "truth-lost-synack", frame: 5, want: []string{"seg.synrcvd.ack"}, not: []string{"seg.hs3"}},
	{lab: "truth-lost-synack", frame: 6, want: []string{"seg.syn.retrans", "why.synack"}},
	// Class 8: a RST on a CLOSE_WAIT socket: EOF, then EPIPE, not
	// ECONNRESET.
	{lab: "truth-rst-closewait", frame: 9, want: []string{"seg.rst.closed"}},
	{lab: "truth-rst-closewait", kind: tap.KindState, host: "server", at: 120 * time.Millisecond, want: []string{"st.closed.reset.closewait"}, not: []string{"st.closed.reset"}},
	// The stall: the guard steps in; without it, the stall is reported.
	{lab: "truth-bulk-orphan", kind: tap.KindTimer, host: "client", at: 4209085 * time.Microsecond, want: []string{"diff.rtoguard"}},
	{lab: "truth-bulk-orphan-stuck", kind: tap.KindStall, host: "client", at: 3210819 * time.Microsecond, want: []string{"stall"}},
	// Found by adversarial labs: probes and their answers by what was
	// really sent (not Wireshark's guess), keep-alive and RST in
	// TIME_WAIT, how LAST_ACK ends.
	{lab: "truth-ka-timewait", frame: 9, want: []string{"seg.ack"}, not: []string{"seg.keepalive.ack"}},
	{lab: "truth-ka-timewait", frame: 13, want: []string{"seg.keepalive.tw", "diff.keepalive.timewait"}},
	{lab: "truth-ka-timewait", frame: 14, want: []string{"seg.rst.noconn", "diff.rst.timewait"}, not: []string{"seg.rst.closed.ack"}},
	{lab: "truth-ka-timewait", kind: tap.KindState, host: "client", at: 26630 * time.Millisecond, want: []string{"st.closed.keepalive"}, not: []string{"st.closed.timewait"}},
	{lab: "truth-fin-lost-lastack", kind: tap.KindState, host: "server", at: 1740 * time.Millisecond, want: []string{"st.closed.lastack.timeout"}, not: []string{"st.closed.lastack"}},
	{lab: "truth-fin-lost-lastack", kind: tap.KindState, host: "client", at: 5080 * time.Millisecond, want: []string{"st.closed.finwait2"}},
	{lab: "truth-last-ack-lost", frame: 9, want: []string{"seg.fin.tlp", "why.had"}, not: []string{"why.prev"}},
	{lab: "truth-last-ack-lost", kind: tap.KindState, host: "server", at: 5150 * time.Millisecond, want: []string{"st.closed.timewait"}, not: []string{"st.closed.timewait.restarted"}},
	{lab: "truth-simclose-ack-lost", frame: 12, want: []string{"seg.fin.tlp", "why.had"}},
	{lab: "truth-simclose-ack-lost", kind: tap.KindState, host: "peer-b", at: 3320 * time.Millisecond, want: []string{"st.closed.timewait.restarted"}},
	{lab: "truth-fin-rack", frame: 16, want: []string{"seg.retrans.rack", "why.prev", "ws.ooo"}},
	{lab: "truth-fin-rack", frame: 19, want: []string{"seg.fin.retrans.rack"}, not: []string{"seg.fin.retrans", "seg.fin.retrans.ack"}},
	// RACK resends a segment above every SACK block once a later-sent
	// resend is acknowledged.
	{lab: "truth-rescue", frame: 17, want: []string{"seg.retrans.sack", "why.prev"}},
	{lab: "truth-rescue", frame: 21, want: []string{"seg.retrans.rescue", "why.prev"}, not: []string{"seg.retrans.sack", "seg.retrans.rto"}},
	{lab: "truth-fin-recovery", frame: 37, want: []string{"seg.fin.retrans.ack"}, not: []string{"seg.fin.retrans"}},
	{lab: "truth-zwp-lost-updates", frame: 8, want: []string{"seg.zwp", "diff.zwp"}},
	{lab: "truth-zwp-lost-updates", frame: 9, want: []string{"seg.zwp.ack"}, not: []string{"seg.zerowin"}},
	{lab: "truth-zwp-lost-updates", frame: 12, want: []string{"seg.zwp"}, not: []string{"seg.retrans.rto", "why.had.acked"}},
	{lab: "truth-zwp-lost-updates", frame: 13, want: []string{"seg.zwp.ack"}, not: []string{"seg.keepalive.ack"}},
	// Resets: refused when the first RST was lost; the RST of a closed
	// socket; a forged RST at the receiver's exact next sequence number;
	// a stray one before the connection exists.
	{lab: "truth-refused-rst-lost", frame: 3, want: []string{"seg.syn.retrans", "why.synrst"}},
	{lab: "truth-refused-rst-lost", frame: 4, want: []string{"seg.rst.refused"}, not: []string{"seg.rst.noconn"}},
	{lab: "truth-simopen-loss", frame: 6, want: []string{"seg.synack.retrans", "why.prev"}},
	{lab: "truth-simopen-loss", kind: tap.KindState, host: "peer-a", at: 3020 * time.Millisecond, want: []string{"st.closed.ackbeyond", "diff.ackbeyond"}, not: []string{"st.closed.orphandata"}},
	{lab: "truth-simopen-loss", frame: 11, want: []string{"seg.rst.closed.ack"}, not: []string{"seg.rst.noconn"}},
	{lab: "truth-pool-fin-lost", frame: 9, want: []string{"seg.data.psh"}, not: []string{"seg.data.orphan", "seg.data.halfclose"}},
	{lab: "truth-pool-fin-lost", frame: 12, want: []string{"seg.challenge"}},
	{lab: "truth-forged-rst-exact", frame: 5, want: []string{"seg.rst.forged.exact"}, not: []string{"seg.rst.forged.window"}},
	{lab: "truth-stray-rst", frame: 4, want: []string{"seg.hs3"}, not: []string{"seg.challenge"}},
	// SYN cookies for spoofed SYNs, and a connection rebuilt from data
	// when the final ACK is lost; an old duplicate SYN.
	{lab: "truth-cookies-always", frame: 2, want: []string{"seg.synack.cookie"}, not: []string{"seg.hs2"}},
	{lab: "truth-cookie-ack-lost", frame: 4, want: []string{"seg.cookie.rebuilt"}},
	{lab: "truth-old-syn-copy", kind: tap.KindCopy, frame: 1, want: []string{"copy.oldsyn"}, not: []string{"copy.had"}},
	{lab: "truth-old-syn-copy", frame: 9, want: []string{"seg.synack.old"}},
	// A host that connects to itself: both ends are its own.
	{lab: "truth-self-connect", frame: 2, want: []string{"seg.hs2"}, not: []string{"seg.synack.retrans"}},
	{lab: "truth-self-connect", frame: 3, want: []string{"seg.hs3"}},
	// Rare rows.
	{lab: "truth-rare", kind: tap.KindCopy, frame: 6, want: []string{"copy.new"}},
	{lab: "truth-rare", kind: tap.KindDrop, frame: 22, want: []string{"drop.discarded"}},
	{lab: "truth-rare", frame: 24, want: []string{"seg.challenge"}},
	{lab: "truth-rare", frame: 25, want: []string{"ws.newdata", "seg.inflight.end"}, not: []string{"seg.retrans"}},
}

// TestTruthNotes runs the truth labs and checks the note keys of their key
// rows: the ground truth each one sets up, not English prose.
func TestTruthNotes(t *testing.T) {
	runs := map[string]*Run{}
	for _, c := range truthCases {
		run := runs[c.lab]
		if run == nil {
			lab, err := Open("testdata/truth/" + c.lab + ".toml")
			if err != nil {
				t.Fatal(err)
			}
			if run, err = Execute(context.Background(), lab, RunOptions{KeepRows: true}); err != nil {
				t.Fatal(err)
			}
			runs[c.lab] = run
		}
		kind := c.kind
		if kind == 0 {
			kind = tap.KindSegment
		}
		i := slices.IndexFunc(run.Rows, func(r *tap.Row) bool {
			if r.Kind != kind {
				return false
			}
			if c.host != "" {
				return r.Host == c.host && r.At.Truncate(time.Microsecond) == c.at
			}
			return r.No == c.frame
		})
		if i < 0 {
			t.Errorf("%s: no %s row %d%s at %v", c.lab, kind, c.frame, c.host, c.at)
			continue
		}
		r := run.Rows[i]
		for _, k := range c.want {
			if !r.HasNote(k) {
				t.Errorf("%s: %s: no note %s; notes %v\n  %s", c.lab, kind, k, r.NoteKeys(), run.Tap.RowText(r, 0))
			}
		}
		for _, k := range c.not {
			if r.HasNote(k) {
				t.Errorf("%s: %s: note %s, which is wrong here\n  %s", c.lab, kind, k, run.Tap.RowText(r, 0))
			}
		}
	}
}

// TestKeepaliveSilence checks that each keep-alive probe counts the
// silence from the last segment its sender received, whatever the probes
// and dropped RSTs in between.
func TestKeepaliveSilence(t *testing.T) {
	for _, tc := range []struct {
		lab  string
		want map[int]time.Duration // frame → silence
	}{
		{"truth-keepalive-dropped-rst", map[int]time.Duration{7: 30 * time.Second, 9: 40 * time.Second, 11: 50 * time.Second}},
		{"truth-keepalive-vanished", map[int]time.Duration{6: 30 * time.Second, 7: 40 * time.Second, 8: 50 * time.Second}},
	} {
		lab, err := Open("testdata/truth/" + tc.lab + ".toml")
		if err != nil {
			t.Fatal(err)
		}
		run, err := Execute(context.Background(), lab, RunOptions{KeepRows: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range run.Segments() {
			want, ok := tc.want[r.No]
			if !ok {
				continue
			}
			delete(tc.want, r.No)
			i := slices.IndexFunc(r.Notes, func(m i18n.Msg) bool { return m.Key == "seg.keepalive" })
			if i < 0 {
				t.Errorf("%s frame %d: no keep-alive note: %v", tc.lab, r.No, r.NoteKeys())
				continue
			}
			if got := r.Notes[i].Args[2]; got != want {
				t.Errorf("%s frame %d: silence %v, want %v", tc.lab, r.No, got, want)
			}
		}
		if len(tc.want) > 0 {
			t.Errorf("%s: frames %v not found", tc.lab, tc.want)
		}
	}
}

// TestBulkOrphanSeeds runs the lossy transfer that once stalled netstack
// (seed 136; since the RACK tie-break patch, seed 1110) under 1000 seeds: every run must deliver everything and end
// with nothing stuck. -short runs 30 seeds and 1110.
func TestBulkOrphanSeeds(t *testing.T) {
	lab, err := Open("testdata/truth/truth-bulk-orphan.toml")
	if err != nil {
		t.Fatal(err)
	}
	seeds := make([]uint64, 0, 1000)
	for s := uint64(1); s <= 1000; s++ {
		if !testing.Short() || s <= 30 || s == 1110 {
			seeds = append(seeds, s)
		}
	}
	work := make(chan uint64)
	failed := make(chan string, len(seeds))
	var wg sync.WaitGroup
	for range max(runtime.GOMAXPROCS(0), 2) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range work {
				run, err := Execute(context.Background(), lab, RunOptions{Seed: &seed})
				if err != nil {
					failed <- fmt.Sprintf("seed %d: %v", seed, err)
					continue
				}
				for _, o := range Check(run) {
					if !o.OK {
						failed <- fmt.Sprintf("seed %d: %s: %s", seed, o.Exp, o.Message)
					}
				}
			}
		}()
	}
	for _, s := range seeds {
		work <- s
	}
	close(work)
	wg.Wait()
	close(failed)
	for f := range failed {
		t.Error(f)
	}
}
