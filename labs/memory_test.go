package labs

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/tcplab/tcplab/topology"
)

// flood is a runaway: 100,000 spoofed SYNs sent at one instant over a
// one-second link, so that every row waits for its segment's fate and the
// tap holds them all.
var flood = lines(
	`time_limit = "10s"`,
	`[[hosts]]`,
	`name = "server"`,
	`ipv4 = "10.0.0.2"`,
	`steps = [{do = "listen", port = 80}]`,
	`[[hosts]]`,
	`name = "attacker"`,
	`ipv4 = "10.0.0.66"`,
	`[[links]]`,
	`host = "attacker"`,
	`latency = "1s"`,
	`[[inject]]`,
	`via = "attacker"`,
	`from = "10.9.0.0/16"`,
	`to = "server:80"`,
	`flags = "SYN"`,
	`count = 100000`,
)

func TestMemoryLimit(t *testing.T) {
	lab, err := Load("flood.toml", []byte(flood))
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	limit := int64(heapBytes()) + 24<<20
	run, err := Execute(context.Background(), lab, RunOptions{MaxMemory: limit})
	if err != nil {
		t.Fatalf("Execute(flood) = %v", err)
	}
	if run.Result.Reason != topology.Interrupted || !errors.Is(run.Cause, ErrMemoryLimit) {
		t.Fatalf("Execute(flood, MaxMemory %d) stopped with %v, cause %v; want interrupted by ErrMemoryLimit", limit, run.Result.Reason, run.Cause)
	}
	if run.Result.Events == 0 || run.Result.Events >= 300000 {
		t.Errorf("Execute(flood) ran %d events, want it stopped part of the way", run.Result.Events)
	}
}

func TestCancelledPrepare(t *testing.T) {
	lab, err := Load("flood.toml", []byte(flood))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if run, err := Execute(ctx, lab, RunOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Execute(cancelled) = %v, %v, want context.Canceled", run, err)
	}
}
