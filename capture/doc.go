// Package capture explains a real capture (pcap or pcapng, from tcpdump,
// Wireshark, tshark or tcplab itself) with the tap's explainer, by
// inferring the ground truth a lab run reports and a capture lacks.
//
// A lab run tells the tap why each host sent each segment, what became of
// it, what the receiving stack did with it and every state change. A
// capture shows only the packets that passed one point, at the times they
// passed it. The Explainer reads them in one pass and, per connection,
// infers both endpoints' states with a TCP state machine per side driven by
// the segments as seen at the capture point: which side the capture was
// taken on (the side whose answers follow arrivals quickly is near it),
// when a segment reached the far side (about half that side's round trip
// after the capture saw it), whether it reached it at all (its receiver's
// ACK, answer or RST shows it did; a retransmission before any of these
// leaves it unknown), and why each segment was sent (an application call,
// the arrival it answers, a retransmission or keep-alive timer). It feeds
// the tap the same typed events as a lab run, with every cause marked as
// inferred, so that the explainer and the writers produce the same notes in
// every language, and adds what only a capture can say: where it cannot
// tell, the named patterns (SYN retransmissions with no answer, SYN-ACK
// retransmissions answered by ACKs, a FIN then data then RST, many
// half-open connections), and a summary line per connection.
//
// Memory is bounded: the Explainer looks ahead a bounded window of packets
// (a few seconds of capture time) for the rare decisions that need the
// future (a FIN from close() or shutdown(), a final ACK or last ACK that
// did not take), keeps per-connection state only while a connection lives,
// and the tap releases rows as soon as they are complete.
package capture
