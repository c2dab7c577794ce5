package labs

import (
	"context"
	"testing"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/tap"
)

// hasNote reports whether a row carries an annotation with key.
func hasNote(r *tap.Row, key string) bool {
	for _, m := range r.Notes {
		if m.Key == key {
			return true
		}
	}
	return false
}

// TestQueueAndCounterRows checks that a backlog overflow can be read from
// the timeline alone: the accept queue is shown filling up to its capacity,
// the overflow counter moves, and the SYN the server dropped says so.
func TestQueueAndCounterRows(t *testing.T) {
	tests := []struct {
		lab     string
		counter string
		segNote string // a segment annotation the counter explains
	}{
		{"backlog-overflow", "ListenOverflowSynDrop", "seg.stackdrop"},
		{"syn-cookies", "ListenOverflowSynCookieSent", "seg.synack.cookie"},
	}
	for _, tt := range tests {
		t.Run(tt.lab, func(t *testing.T) {
			lab, err := Builtin(tt.lab)
			if err != nil {
				t.Fatal(err)
			}
			run, err := Execute(context.Background(), lab, RunOptions{KeepRows: true})
			if err != nil {
				t.Fatal(err)
			}
			var full, moved, noted bool
			last := map[string]uint64{}
			for _, r := range run.Rows {
				switch r.Kind {
				case tap.KindQueue:
					if r.Capacity <= 0 || r.Waiting < 0 || r.Waiting > r.Capacity || r.HalfOpen < 0 {
						t.Errorf("implausible queue row: %s", run.Tap.RowText(r, i18n.EN))
					}
					full = full || r.Waiting == r.Capacity && hasNote(r, "q.full")
				case tap.KindCounter, tap.KindDrop:
					for _, c := range r.Counters {
						if c.Name == tt.counter {
							if c.Delta == 0 || c.Total != last[r.Host]+c.Delta {
								t.Errorf("%s: counter %s moved %d to %d after %d", r.Host, c.Name, c.Delta, c.Total, last[r.Host])
							}
							last[r.Host] = c.Total
							moved = true
						}
					}
				case tap.KindSegment:
					noted = noted || hasNote(r, tt.segNote)
				}
			}
			if tt.lab == "backlog-overflow" && !full {
				t.Error("no queue row shows the accept queue full")
			}
			if !moved {
				t.Errorf("no counter row for %s", tt.counter)
			}
			if !noted {
				t.Errorf("no segment annotated %s (%s)", tt.segNote, i18n.Format(i18n.EN, tt.segNote))
			}
			for host, got := range last {
				if want := run.Counters[host][tt.counter]; got != want {
					t.Errorf("%s: last %s row says %d, the stack's counter is %d at the end", host, tt.counter, got, want)
				}
			}
		})
	}
}
