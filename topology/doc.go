// Package topology is the virtual world's time and wires: the Scheduler (one
// virtual clock over a heap of events ordered by time and insertion number,
// which every host's netstack stack uses as its tcpip.Clock), the Network's
// event loop that runs one event at a time and then settles the hosts it
// touched, and the switch that joins hosts through Links whose two
// Directions each add latency, jitter, loss, a line rate, a drop-tail queue,
// duplication, reordering and bit corruption, and whose scheduled outages
// (Link.Down) cut both directions. Randomness comes only from the lab seed,
// each impairment, link and injection drawing from its own stream, so a run
// is reproducible and adding one rule does not change the others' draws.
//
// At the switch, between the sender's Out direction and the receiver's In
// direction, targeted Faults drop, delay, duplicate or hold the TCP segments
// they select (by host, FlagMatch, port, connection, Nth match and time), and
// Injections send raw TCP segments, possibly spoofed, into the switch through
// an attacker's port, taking sequence numbers from the traffic the switch
// has seen. A Crash makes a host (a Crasher) crash and reboot, and drops
// what reaches it while it is down; a Middlebox on a host's link tracks
// flows and drops (or resets) the segments of flows it forgot after their
// idle time.
//
// The package knows hosts only through the Node interface (deliver a packet,
// settle, drain what was sent with the cause the host gave it, run pending
// application work). It parses every packet once (internal/segment), gives
// it a frame number, and reports it to an event.Observer as it enters the
// switch (Sent), then everything that happens to it and to its copies
// (Fate: dropped, with the reason and the place, delayed, held, duplicated,
// reordered, corrupted, arrived) as typed events.
package topology
