// Package pcapng reads and writes packet captures.
//
// The Writer writes pcapng captures as a run goes: a Section Header Block,
// one Interface Description Block per capture interface, a Name Resolution
// Block naming the hosts, and one Enhanced Packet Block per packet with its
// explanation as the packet comment. Wireshark, tshark and tcpdump read
// what it writes (the tests check with tshark and tcpdump). gopacket's
// pcapgo writer cannot write Name Resolution Blocks, which is why tcplab
// has its own.
//
// The Reader reads what tcpdump, Wireshark, tshark and tcplab write: classic
// pcap (either byte order, microsecond or nanosecond timestamps, gzip
// compressed too) and pcapng (sections in either byte order, interfaces
// of mixed link types with their if_name, if_tsresol and if_tsoffset,
// Enhanced, Simple and obsolete Packet Blocks, and the IPv4 and IPv6
// records of Name Resolution Blocks; other blocks and options are
// skipped). It streams: memory does not grow with the file, and lengths
// read from the file are checked before they size anything, so a damaged
// file gives an error, never a huge allocation or a panic. tcplab has its
// own reader so that its binary does not link gopacket, whose layers
// package fills megabytes of tables at start-up that the garbage collector
// then scans on every cycle.
package pcapng
