// Package hosts runs the virtual hosts of a lab: each host is one gVisor
// netstack TCP/IP stack with one NIC, seeded so that initial sequence numbers,
// ephemeral ports and IP IDs repeat run after run, and a non-blocking
// application runtime that plays a host's scripted steps (listen, accept,
// connect, send, recv, shutdown, close, abort, set options, sleep).
//
// A Host implements topology.Node: the network's loop delivers packets to it,
// settles it after every event (a Pause/Resume barrier over netstack's TCP
// processor goroutine), drains what it sent, and runs the application work
// that socket notifications queued. Only the loop goroutine calls into a
// stack; notifications arriving on netstack goroutines only enqueue work.
//
// After each settle the host compares the state of every TCP endpoint it
// knows with the last state seen and reports changes, with their cause, to
// its Observer, using Linux state names (SYN_SENT, TIME_WAIT, ...).
// netstack's errors never leave this package: they are converted to the
// messages an application on Linux would see ("connection refused").
package hosts
