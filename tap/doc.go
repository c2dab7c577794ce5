// Package tap records a lab run from its ground truth and explains it. It
// receives the typed events of the switch and the hosts (internal/event):
// every packet as it enters the switch with the cause that made its host
// send it, what the network did to it and where, when it reached its
// receiver and what the receiving stack did with it, every timer that
// fired, every state change, application call, queue and counter. It turns
// them into rows, explains each from what really happened (and says where
// Wireshark, seeing only the capture, would say otherwise), and releases
// the rows in order, each complete, to its sinks as the run goes: a text
// listing (optionally in colour), JSON Lines, a Mermaid sequence diagram,
// pcapng captures of what was sent and of what was received, and whatever
// else implements Sink (the lab's expectations). It keeps per-connection
// state and the rows whose segment is still on its way, not the timeline,
// so its memory follows the live connections rather than the traffic.
//
// A Tap implements event.Observer without importing the switch or the
// hosts; the lab runner wires it in.
package tap
