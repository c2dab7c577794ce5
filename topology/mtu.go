package topology

import "fmt"

// Link MTUs: what a link carries, and what a host's NIC is given.
const (
	// DefaultMTU is the MTU of a link that sets none: Ethernet's.
	DefaultMTU = 1500
	// MinMTU4 is the smallest MTU a link of an IPv4-only host may have:
	// the datagram size every IPv4 host must accept (RFC 791), which
	// leaves an MSS of 536.
	MinMTU4 = 576
	// MinMTU6 is the smallest MTU a link of a host with an IPv6 address
	// may have (RFC 8200): an IPv6 link must carry 1280 bytes.
	MinMTU6 = 1280
	// MaxMTU is the largest MTU: the largest IPv4 packet (its total length
	// field is 16 bits; netstack's IPv6 sends no jumbograms).
	MaxMTU = 65535
)

// ValidateMTU reports whether mtu (0: DefaultMTU) is a usable MTU for a
// link of a host that has an IPv6 address (ipv6) or only IPv4.
func ValidateMTU(mtu int, ipv6 bool) error {
	switch {
	case mtu == 0:
		return nil
	case mtu < 0:
		return fmt.Errorf("mtu %d is negative", mtu)
	case mtu > MaxMTU:
		return fmt.Errorf("mtu %d is larger than %d, the largest IP packet", mtu, MaxMTU)
	case ipv6 && mtu < MinMTU6:
		return fmt.Errorf("mtu %d is smaller than %d, the least an IPv6 link must carry (the host has an IPv6 address)", mtu, MinMTU6)
	case mtu < MinMTU4:
		return fmt.Errorf("mtu %d is smaller than %d, the least every IPv4 host must accept", mtu, MinMTU4)
	}
	return nil
}

// EffectiveMTU returns the MTU a link gives its host's NIC: its own, or
// DefaultMTU.
func (l Link) EffectiveMTU() int {
	if l.MTU == 0 {
		return DefaultMTU
	}
	return l.MTU
}
