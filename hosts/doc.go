// Package hosts runs the virtual hosts of a lab: each host is one gVisor
// netstack TCP/IP stack with one NIC, seeded so that initial sequence numbers,
// ephemeral ports and IP IDs repeat run after run, and a non-blocking
// application runtime.
//
// A host runs several applications (App) side by side: scripts of steps
// (listen, accept, connect, send, recv, shutdown, close, abort, set options,
// sleep, wait for a socket event), repeated or in several copies, with
// per-connection scripts for accepted connections (Step.Each); and
// ready-made models written natively on the same runtime: HTTPServer (an
// nginx-like keep-alive server with an idle timeout and a connection
// limit), PoolClient (a Go http.Transport-like pooled client), EchoServer,
// BulkSender, Sink and Holder. Every application reports what it does to
// the observer as App events, labelled "[name] ..." when a host runs more
// than one; scripts stop at their first error, models report it and go on.
//
// A Host implements topology.Node: the network's loop delivers packets to it,
// settles it after every event (a Pause/Resume barrier, during which
// netstack processes the segments delivered: the stack runs no processor
// goroutine), drains what it sent, and runs the application work that
// socket notifications queued. Only the loop goroutine calls into a stack;
// notifications, which netstack sends with locks held, only enqueue work.
//
// A host always knows what it is doing: handling the arrival of a frame,
// running one of its stack's timers (identified from the callback netstack
// arms, timers.go), or making an application's socket call. Every packet its
// stack sends and every state change carry that cause. After each settle the
// host reports to its event.Observer the state changes of its TCP endpoints
// (Linux state names), what its stack did with the packet delivered (a
// Receipt with its verdict), the counters that moved, a listener's queues,
// and, when a run ends idle, any endpoint left stuck. Its RTO guard
// (rtoguard.go) works around a netstack bug that can leave a sender with
// unacknowledged data and no retransmission timer. A host is also a
// topology.Crasher (crash.go): it crashes silently, forgetting every
// endpoint, and reboots with a fresh stack and its applications started
// again.
// netstack's errors never leave this package: they are converted to the
// errno an application on Linux would see (ECONNREFUSED) and its message,
// and every result and error is reported as an i18n message, rendered in
// the reader's language where output is written.
package hosts
