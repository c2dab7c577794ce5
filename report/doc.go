// Package report writes a run as one self-contained HTML page: a ladder
// diagram of every segment between the hosts' lifelines (slanted from
// emission to arrival, a cross where one was dropped), the TCP state of
// each endpoint as bands beside its lifeline, application steps, queues
// and timers as markers, long pauses compressed into visible breaks; per
// connection, graphs drawn from the stacks' own state sampled at each
// segment (a tcptrace-style time-sequence graph, cwnd and ssthresh, bytes
// in flight, SRTT and RTO, receive windows) and a listener's queues; the
// lab's description and expectations; and every text in English and
// Chinese, switched in the page without reloading.
//
// The page needs nothing from the network: its SVG is written by this
// package, its style sheet and its small script are embedded. A Writer is a
// tap.Sink that reduces rows to bounded state as the run goes (the
// ladder's first and last rows, every state change up to a bound, and
// graph lines that merge into buckets beyond a number of points), so the
// report of a long bulk transfer stays a few megabytes.
package report
