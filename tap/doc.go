// Package tap records everything that happens in a lab, in order: every
// segment as it enters the switch (stamped with virtual time), what the
// switch did to it, every TCP state change on every host, and every
// application step. It tracks each connection to number its segments
// relatively and explain them ("handshake 2/3: ..."), and writes the result
// as a text timeline (optionally in colour), JSON Lines, a Mermaid sequence
// diagram, or a pcapng capture with one interface per host, host names, and
// each segment's explanation as a packet comment.
//
// A Tap implements topology.Observer and hosts.Observer without importing
// either package; the lab runner wires it in.
package tap
