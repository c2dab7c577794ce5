package tap

import (
	"io"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/pcapng"
)

// PcapView says which capture a PcapWriter writes.
type PcapView int

// Capture points.
const (
	// ViewSent is every packet as its sender emitted it, stamped with the
	// time it entered its link, including packets the network then
	// dropped: the capture a tcpdump on each sending host would make.
	ViewSent PcapView = iota
	// ViewReceived is every packet (and copy) as it reached its receiver,
	// stamped with its arrival time, after loss, delay, reordering,
	// duplication and corruption: the capture a tcpdump on each
	// receiving host would make.
	ViewReceived
)

// PcapWriter writes a pcapng capture as the run goes: one interface per
// host and address family (LINKTYPE_IPV4 or LINKTYPE_IPV6), a Name
// Resolution Block naming every host address, and each packet's
// explanation as its packet comment. In the sent view a packet is on its
// sender's interface; in the received view, on its receiver's. It
// implements ArrivalSink.
//
// libpcap (tcpdump) reads a file only when all its interfaces share one link
// type, so a lab that mixes IPv4 and IPv6 hosts gives a capture that
// Wireshark and tshark read but tcpdump refuses.
type PcapWriter struct {
	t      *Tap
	pw     *pcapng.Writer
	view   PcapView
	epoch  time.Time
	lang   i18n.Lang
	ifaces map[ifKey]int
	row    *Row                // the row Row is writing, for appendNotes
	notes  func([]byte) []byte // pw.appendNotes, bound once
}

var _ ArrivalSink = (*PcapWriter)(nil)

type ifKey struct {
	host string
	v6   bool
}

// NewPcapWriter returns a writer of the capture view on w. epoch is the
// wall-clock instant of virtual time zero; comments are in lang. The
// interfaces are declared at once, for each host and each address family
// any host has; a packet of another family (a forged one) gets its
// interface when it comes.
func (t *Tap) NewPcapWriter(w io.Writer, view PcapView, epoch time.Time, lang i18n.Lang) *PcapWriter {
	pw := &PcapWriter{t: t, pw: pcapng.NewWriter(w), view: view, epoch: epoch, lang: lang, ifaces: map[ifKey]int{}}
	pw.notes = pw.appendNotes
	var fams [2]bool
	for _, h := range t.hosts {
		for _, a := range h.addrs {
			fams[b2i(a.Is6())] = true
		}
	}
	for _, h := range t.hosts {
		for _, v6 := range []bool{false, true} {
			if fams[b2i(v6)] {
				pw.iface(h.name, v6)
			}
		}
	}
	for _, h := range t.hosts {
		for _, a := range h.addrs {
			pw.pw.AddName(a, h.name)
		}
	}
	return pw
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// iface returns the interface of host for a family, declaring it if new.
func (pw *PcapWriter) iface(host string, v6 bool) int {
	k := ifKey{host, v6}
	if i, ok := pw.ifaces[k]; ok {
		return i
	}
	lt, desc := pcapng.LinkTypeIPv4, "tcplab host "+host
	if v6 {
		lt = pcapng.LinkTypeIPv6
	}
	for _, h := range pw.t.hosts {
		if h.name != host {
			continue
		}
		for _, a := range h.addrs {
			if a.Is6() == v6 {
				desc += " " + a.String()
			}
		}
	}
	if pw.view == ViewReceived {
		desc += " (received)"
	}
	i := pw.pw.AddInterface(host, desc, lt)
	pw.ifaces[k] = i
	return i
}

// Row implements Sink: the sent view writes every segment and packet row.
func (pw *PcapWriter) Row(r *Row) error {
	if pw.view != ViewSent || (r.Kind != KindSegment && r.Kind != KindPacket) {
		return nil
	}
	pw.row = r
	return pw.pw.WritePacketAppend(pw.iface(r.Host, isV6(r.Data)), pw.epoch.Add(r.At), r.Data, pw.notes)
}

// appendNotes appends the notes of the row being written (pw.row) as
// NoteText renders them.
func (pw *PcapWriter) appendNotes(b []byte) []byte {
	return pw.t.appendNotes(b, pw.row, pw.lang)
}

// Arrival implements ArrivalSink: the received view writes every packet
// that arrived, with the frame it was sent as.
func (pw *PcapWriter) Arrival(r *Row, a *Arrival) error {
	if pw.view != ViewReceived {
		return nil
	}
	comment := i18n.M("pcap.recv", r.No).Text(pw.lang, pw.t.Names)
	if a.Ref.Copy > 0 {
		comment = i18n.M("pcap.recv.copy", a.Ref.Copy, r.No).Text(pw.lang, pw.t.Names)
	}
	if n := pw.t.NoteText(r, pw.lang); n != "" {
		comment += " " + n
	}
	return pw.pw.WritePacket(pw.iface(a.Host, isV6(a.Data)), pw.epoch.Add(a.At), a.Data, comment)
}

// Flush writes the header blocks if no packet came, and returns the first
// error.
func (pw *PcapWriter) Flush() error { return pw.pw.Flush() }

func isV6(pkt []byte) bool { return len(pkt) > 0 && pkt[0]>>4 == 6 }
