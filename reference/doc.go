// Package reference runs a lab's scenario on the machine's own Linux kernel
// and compares what the kernel did with what tcplab's linux profile does.
//
// A kernel run gives every host of the lab its own network namespace,
// joined by veth pairs to a bridge in a namespace of its own (the switch),
// sets the host's [hosts.tcp] settings as the sysctls of its namespace, and
// runs the host's step scripts with real sockets in real time. tcpdump
// captures every frame as it enters the bridge (what was sent; a run whose
// tcpdump drops a frame fails with ErrIncompleteCapture), and a
// tracefs instance records every socket state change
// (sock:inet_sock_set_state). Addresses are remapped to a /24 of the run's
// own, so that runs can proceed side by side; records name hosts, never
// addresses.
//
// Both runs are reduced to a Record: segments per connection (flags,
// sequence and acknowledgement numbers relative to each side's ISN, payload
// length, whether a timestamp option is present), each endpoint's state
// path, and the errors the applications saw. Compare lists where they
// differ.
//
// Kernel runs need root, network namespaces, ip(8), tcpdump(8) and tracefs;
// Available says why they are impossible when they are.
package reference
