package tap

import (
	"io"
	"time"
)

// WritePcapng writes every captured frame as a pcapng file: one interface per
// host and address family (LINKTYPE_IPV4 or LINKTYPE_IPV6), a Name Resolution
// Block naming every host address, and each frame's explanation as its
// packet comment. epoch is the wall-clock instant of virtual time zero.
//
// libpcap (tcpdump) reads a file only when all its interfaces share one link
// type, so a lab that mixes IPv4 and IPv6 hosts gives a capture that
// Wireshark and tshark read but tcpdump refuses.
func (t *Tap) WritePcapng(w io.Writer, epoch time.Time) error {
	pw := NewPcapngWriter(w)
	type ifKey struct {
		host int
		v6   bool
	}
	ifaces := map[ifKey]int{}
	iface := func(host int, v6 bool) int {
		k := ifKey{host, v6}
		if i, ok := ifaces[k]; ok {
			return i
		}
		return -1
	}
	// Declare interfaces in host order, IPv4 before IPv6, for each family a
	// host has an address in or sent a frame of.
	used := map[ifKey]bool{}
	for _, r := range t.frames {
		used[ifKey{r.iface, isV6(r.packet)}] = true
	}
	for i, h := range t.hosts {
		for _, v6 := range []bool{false, true} {
			has := used[ifKey{i, v6}]
			for _, a := range h.addrs {
				has = has || a.Is6() == v6
			}
			if !has {
				continue
			}
			lt, desc := LinkTypeIPv4, "tcplab host "+h.name
			if v6 {
				lt = LinkTypeIPv6
			}
			for _, a := range h.addrs {
				if a.Is6() == v6 {
					desc += " " + a.String()
				}
			}
			ifaces[ifKey{i, v6}] = pw.AddInterface(h.name, desc, lt)
		}
	}
	for _, h := range t.hosts {
		for _, a := range h.addrs {
			pw.AddName(a, h.name)
		}
	}
	for _, r := range t.frames {
		i := iface(r.iface, isV6(r.packet))
		if i < 0 {
			continue
		}
		if err := pw.WritePacket(i, epoch.Add(r.At), r.packet, t.NoteText(r)); err != nil {
			return err
		}
	}
	return pw.Flush()
}

func isV6(pkt []byte) bool { return len(pkt) > 0 && pkt[0]>>4 == 6 }
