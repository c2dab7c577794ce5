package topology

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Direction describes one direction of a link: what happens to a packet
// between the moment a host sends it and the moment it reaches the switch
// (a link's Out direction), or between the switch and the host (In).
type Direction struct {
	// Latency is the one-way propagation delay.
	Latency time.Duration
	// Jitter adds a uniformly distributed delay in [-Jitter, +Jitter] to
	// Latency. Packets still leave a direction in the order they entered it.
	Jitter time.Duration
	// Loss is the probability in [0, 1] that a packet is dropped.
	Loss float64
	// Rate is the line rate in bits per second; each packet is delayed by
	// its serialisation time. Zero means unlimited.
	Rate int64
	// QueueLimit is the number of packets that may wait for the line
	// (drop-tail) when Rate is set. Zero means unlimited.
	QueueLimit int
}

// Validate reports a configuration error in d, if any.
func (d Direction) Validate() error {
	switch {
	case d.Latency < 0:
		return fmt.Errorf("latency %v is negative", d.Latency)
	case d.Jitter < 0:
		return fmt.Errorf("jitter %v is negative", d.Jitter)
	case d.Jitter > d.Latency:
		return fmt.Errorf("jitter %v is larger than latency %v", d.Jitter, d.Latency)
	case !(d.Loss >= 0 && d.Loss <= 1): // also rejects NaN
		return fmt.Errorf("loss %v is outside [0, 1]", d.Loss)
	case d.Rate < 0:
		return fmt.Errorf("rate %d is negative", d.Rate)
	case d.QueueLimit < 0:
		return fmt.Errorf("queue limit %d is negative", d.QueueLimit)
	}
	return nil
}

// Link attaches a host to the switch. A packet from host A to host B crosses
// A's Out direction and then B's In direction.
type Link struct {
	Out Direction
	In  Direction
}

// pipe is the runtime state of one direction of one link.
type pipe struct {
	name string // "client→switch"
	dir  Direction
	rng  *rand.Rand

	busyUntil   time.Duration   // when the line finishes the last queued packet
	lastArrival time.Duration   // keeps delivery in FIFO order despite jitter
	departures  []time.Duration // serialisation end times of queued packets
}

// admit decides the fate of a packet of size bytes entering the pipe at now.
// It returns the arrival time at the far end, or a drop reason.
func (p *pipe) admit(now time.Duration, size int) (time.Duration, string) {
	if p.dir.Loss > 0 && p.rng.Float64() < p.dir.Loss {
		return 0, "loss on " + p.name
	}
	start := now
	if p.dir.Rate > 0 {
		i := 0
		for i < len(p.departures) && p.departures[i] <= now {
			i++
		}
		p.departures = p.departures[i:]
		if p.dir.QueueLimit > 0 && len(p.departures) >= p.dir.QueueLimit {
			return 0, fmt.Sprintf("queue full on %s (%d packets)", p.name, len(p.departures))
		}
		start = max(now, p.busyUntil)
		p.busyUntil = start + time.Duration(int64(size)*8*int64(time.Second)/p.dir.Rate)
		p.departures = append(p.departures, p.busyUntil)
		start = p.busyUntil
	}
	arrive := start + p.dir.Latency
	if p.dir.Jitter > 0 {
		arrive += time.Duration(p.rng.Int64N(int64(2*p.dir.Jitter)+1)) - p.dir.Jitter
	}
	arrive = max(arrive, p.lastArrival, start)
	p.lastArrival = arrive
	return arrive, ""
}
