package labs

import (
	"context"
	"runtime/metrics"
	"time"
)

// memoryCheckInterval is how often a run's memory is looked at.
const memoryCheckInterval = 20 * time.Millisecond

// heapMetric is the bytes held by heap objects, live or not yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

// heapBytes returns the bytes the process's heap objects take.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// watchMemory calls stop with ErrMemoryLimit once the heap takes more than
// limit bytes, and returns the function that ends the watch. The watch runs
// beside the run's loop, so where it stops a runaway depends on timing; it
// is a guard against exhausting the machine, not part of a lab's result.
func watchMemory(limit int64, stop context.CancelCauseFunc) (end func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(memoryCheckInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if heapBytes() > uint64(limit) {
					stop(ErrMemoryLimit)
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
