// Package topology is the virtual world's time and wires: the Scheduler (one
// virtual clock over a heap of events ordered by time and insertion number,
// which every host's netstack stack uses as its tcpip.Clock), the Network's
// event loop that runs one event at a time and then settles the hosts it
// touched, and the switch that joins hosts through Links whose two
// Directions each add latency, jitter, loss, a line rate and a drop-tail
// queue. Randomness comes only from the lab seed, so a run is reproducible.
//
// The package knows hosts only through the Node interface (deliver a packet,
// settle, drain what was sent, run pending application work) and reports
// packets and drops to an Observer.
package topology
