package labs

import (
	"context"
	"testing"

	"github.com/tcplab/tcplab/tap"
)

// TestHeldRowsBounded checks that one segment held at the switch while a
// bulk transfer goes on does not keep every later row in memory: past
// 10,000 rows it is written as it is, saying its fate comes later, and
// when the switch finally drops it (its receiver's link is down by then)
// the drop gets a row of its own.
func TestHeldRowsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10 MB transfer; the full suite runs it")
	}
	src := `
name = "held"
time_limit = "2m"
[[hosts]]
name = "server"
ipv4 = "10.0.0.2"
  [[hosts.apps]]
  model = "sink"
  port = 9000
[[hosts]]
name = "client"
ipv4 = "10.0.0.1"
  [[hosts.apps]]
  model = "bulk-sender"
  to = "server:9000"
  bytes = "10MB"
[[links]]
host = "client"
latency = "1ms"
rate = "100Mbit/s"
[[links]]
host = "server"
latency = "1ms"
  [[links.down]]
  from = "19s"
  to = "21s"
[[faults]]
name = "hold one"
action = "hold"
from = "client"
flags = "ACK,!SYN"
nth = 5
until = "20s"
`
	lab, err := Load("held.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var held *tap.Row
	var late int
	collect := tapFunc(func(r *tap.Row) {
		switch {
		case r.HasNote("seg.fate.later"):
			held = r
		case r.Kind == tap.KindDrop && r.HasNote("drop.late"):
			late = r.No
		}
	})
	run, err := Prepare(lab, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run.Tap.AddSink(collect)
	if err := run.Go(context.Background()); err != nil {
		t.Fatal(err)
	}
	if held == nil {
		t.Fatalf("no row was written before its fate: the held segment kept the timeline back")
	}
	if late != held.No {
		t.Errorf("drop.late row for frame %d, want one for the held frame %d", late, held.No)
	}
}

// tapFunc is a tap.Sink that calls a function.
type tapFunc func(*tap.Row)

func (f tapFunc) Row(r *tap.Row) error { f(r); return nil }
func (tapFunc) Flush() error           { return nil }
