package pcapng

import "strconv"

// LinkType is the link-layer header type of a capture interface: a
// LINKTYPE_ value of https://www.tcpdump.org/linktypes.html.
type LinkType uint16

// Link types tcplab reads or writes.
const (
	LinkTypeNull      LinkType = 0   // BSD loopback, address family in host byte order
	LinkTypeEthernet  LinkType = 1   // Ethernet
	LinkTypeRaw       LinkType = 101 // raw IPv4 or IPv6, told apart by the version nibble
	LinkTypeLoop      LinkType = 108 // OpenBSD loopback, address family in network byte order
	LinkTypeLinuxSLL  LinkType = 113 // Linux cooked capture
	LinkTypeIPv4      LinkType = 228 // raw IPv4
	LinkTypeIPv6      LinkType = 229 // raw IPv6
	LinkTypeLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// String returns the link type's name ("Ethernet", "Linux SLL2") for the
// common ones, and its number otherwise. The names of the link types
// gopacket named too are its names, so that messages naming a link type
// read as they did when tcplab used gopacket.
func (lt LinkType) String() string {
	switch lt {
	case LinkTypeNull:
		return "Null"
	case LinkTypeEthernet:
		return "Ethernet"
	case LinkTypeRaw:
		return "Raw"
	case LinkTypeLoop:
		return "Loop"
	case LinkTypeLinuxSLL:
		return "Linux SLL"
	case LinkTypeIPv4:
		return "IPv4"
	case LinkTypeIPv6:
		return "IPv6"
	case LinkTypeLinuxSLL2:
		return "Linux SLL2"
	case 9:
		return "PPP"
	case 10:
		return "FDDI"
	case 105:
		return "802.11"
	case 117:
		return "PFLog"
	case 119:
		return "Prism"
	case 127:
		return "RadioTap"
	case 220:
		return "USB"
	}
	return strconv.Itoa(int(lt))
}
