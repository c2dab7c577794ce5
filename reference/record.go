package reference

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/tap"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// Seg is one segment as it was sent, reduced to what both a kernel and
// tcplab must agree on.
type Seg struct {
	// At is when it was sent, since the start of the run.
	At time.Duration
	// Conn numbers the connection, from 1, in the order of their first
	// segment.
	Conn int
	// From and To are host names (an address when no host owns it).
	From, To string
	Flags    segment.Flags
	// Seq and Ack are relative to the sender's and the receiver's initial
	// sequence numbers; Ack is 0 without the ACK flag.
	Seq, Ack uint32
	// Len is the payload length.
	Len int
	// TS says whether the segment carries a timestamp option.
	TS bool
}

// String renders the segment as "client>server SYN seq 0 len 0 ts".
func (s Seg) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s>%s %s seq %d", s.From, s.To, flagText(s.Flags), s.Seq)
	if s.Flags&segment.ACK != 0 {
		fmt.Fprintf(&b, " ack %d", s.Ack)
	}
	fmt.Fprintf(&b, " len %d", s.Len)
	if s.TS {
		b.WriteString(" ts")
	}
	return b.String()
}

// key is what Compare compares: everything but the time.
func (s Seg) key() string { return s.String() }

// flagText renders flags compactly: "SYN,ACK".
func flagText(f segment.Flags) string {
	return strings.ReplaceAll(f.String(), ", ", ",")
}

// StateChange is one endpoint moving from one state to another.
type StateChange struct {
	At   time.Duration
	Conn int
	// Host is the endpoint's host.
	Host     string
	From, To event.State
}

// AppError is an error an application saw.
type AppError struct {
	At    time.Duration
	Host  string
	Op    string // the socket call: "connect", "recv" ...
	Errno string // "ETIMEDOUT"
}

// Record is what one run did, reduced for comparison.
type Record struct {
	Segs   []Seg
	States []StateChange
	Errors []AppError
	// Counters holds each host's counters at the end, by host and by
	// Linux's name ("TcpAttemptFails", "TcpExtSyncookiesSent").
	Counters map[string]map[string]uint64
	// End is how long the run lasted.
	End time.Duration
}

// linuxCounters maps Linux's counter names to netstack's: a Linux counter
// is the sum of the netstack counters listed.
var linuxCounters = map[string][]string{
	"TcpAttemptFails":       {"FailedConnectionAttempts"},
	"TcpEstabResets":        {"EstablishedResets"},
	"TcpOutRsts":            {"ResetsSent"},
	"TcpRetransSegs":        {"Retransmits"},
	"TcpOutSegs":            {"SegmentsSent"},
	"TcpExtTCPTimeouts":     {"Timeouts"},
	"TcpExtListenOverflows": {"ListenOverflowSynDrop", "ListenOverflowAckDrop"},
	"TcpExtSyncookiesSent":  {"ListenOverflowSynCookieSent"},
	"TcpExtSyncookiesRecv":  {"ListenOverflowSynCookieRcvd"},
}

// conns numbers connections by their address pair and knows each side's
// ISN.
type conns struct {
	names map[netip.Addr]string
	ids   map[[2]netip.AddrPort]int
	isn   map[netip.AddrPort]seqnum.Value
	// done marks a pair whose connection is over (RST seen, or both FINs
	// acknowledged), so that a new SYN on it starts a new one.
	n int
}

func newConns(names map[netip.Addr]string) *conns {
	return &conns{names: names, ids: map[[2]netip.AddrPort]int{}, isn: map[netip.AddrPort]seqnum.Value{}}
}

// pair is an address pair in a canonical order.
func pair(a, b netip.AddrPort) [2]netip.AddrPort {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return [2]netip.AddrPort{a, b}
}

// name returns the host name of an address.
func (c *conns) name(a netip.Addr) string {
	if n, ok := c.names[a]; ok {
		return n
	}
	return a.String()
}

// seg reduces a parsed segment sent at time at.
func (c *conns) seg(at time.Duration, s *segment.Segment) Seg {
	p := pair(s.Src, s.Dst)
	pure := s.Flags&(segment.SYN|segment.ACK) == segment.SYN
	id, ok := c.ids[p]
	if !ok || pure && c.isnOf(s.Src, s.Seq) {
		c.n++
		id = c.n
		c.ids[p] = id
		delete(c.isn, s.Src)
		delete(c.isn, s.Dst)
	}
	if s.Flags&segment.SYN != 0 {
		// A SYN-ACK with a new ISN answers a SYN that a listener took for
		// a new connection (the half-open one before it was forgotten):
		// its numbers count from the new ISN.
		c.isn[s.Src] = s.Seq
	}
	out := Seg{At: at, Conn: id, From: c.name(s.Src.Addr()), To: c.name(s.Dst.Addr()), Flags: s.Flags, Len: int(s.Len), TS: s.Opts.HasTS}
	if base, known := c.isn[s.Src]; known {
		out.Seq = uint32(s.Seq - base)
	} else {
		out.Seq = uint32(s.Seq)
	}
	if s.Flags&segment.ACK != 0 {
		if base, known := c.isn[s.Dst]; known {
			out.Ack = uint32(s.Ack - base)
		} else {
			out.Ack = uint32(s.Ack)
		}
	}
	return out
}

// isnOf reports whether a SYN from a with sequence number seq starts a new
// connection: a is known with another ISN.
func (c *conns) isnOf(a netip.AddrPort, seq seqnum.Value) bool {
	base, known := c.isn[a]
	return known && base != seq
}

// conn returns the number of the connection of an endpoint pair, or 0.
func (c *conns) conn(local, remote netip.AddrPort) int {
	return c.ids[pair(local, remote)]
}

// FromRun reduces a tcplab run kept with labs.RunOptions.KeepRows.
func FromRun(run *labs.Run) *Record {
	names := map[netip.Addr]string{}
	for _, h := range run.Lab.Hosts {
		for _, a := range []netip.Addr{h.IPv4, h.IPv6} {
			if a.IsValid() {
				names[a] = h.Name
			}
		}
	}
	c := newConns(names)
	rec := &Record{End: run.Result.End, Counters: map[string]map[string]uint64{}}
	for host, counters := range run.Counters {
		m := map[string]uint64{}
		for name, sum := range linuxCounters {
			for _, n := range sum {
				m[name] += counters[n]
			}
		}
		rec.Counters[host] = m
	}
	for _, r := range run.Rows {
		switch r.Kind {
		case tap.KindSegment:
			if r.Seg != nil && r.Injected == nil {
				rec.Segs = append(rec.Segs, c.seg(r.At, r.Seg))
			}
		case tap.KindState:
			if r.Remote.Port() == 0 {
				continue // a listener
			}
			rec.States = append(rec.States, StateChange{At: r.At, Conn: c.conn(r.Local, r.Remote), Host: r.Host, From: r.FromState, To: r.ToState})
		case tap.KindApp:
			if r.App != nil && r.App.Errno != "" {
				rec.Errors = append(rec.Errors, AppError{At: r.At, Host: r.Host, Op: r.App.Op, Errno: r.App.Errno})
			}
		}
	}
	return rec
}

// Options say what Compare compares.
type Options struct {
	// Times, when positive, also compares each segment's time, within
	// this tolerance plus 5% of the time.
	Times time.Duration
	// Until, when positive, ignores what happened after it on both sides.
	Until time.Duration
	// Unordered, when positive, compares the segments of a connection sent
	// within the same span of this length as a set: which of two timers
	// due at the same instant fires first is chance on a kernel.
	Unordered time.Duration
	// Counters are the counters to compare, by Linux's names (see
	// linuxCounters), on every host.
	Counters []string
}

// Compare lists the differences between a kernel's record and tcplab's:
// per connection, the segments in order; per endpoint, the path of states;
// the applications' errors. An empty list means they agree.
func Compare(linux, tcplab *Record, opts Options) []string {
	var diffs []string
	cut := func(at time.Duration) bool { return opts.Until > 0 && at > opts.Until }
	segs := func(r *Record) map[int][]Seg {
		m := map[int][]Seg{}
		for _, s := range r.Segs {
			if !cut(s.At) {
				m[s.Conn] = append(m[s.Conn], s)
			}
		}
		return m
	}
	ls, ts := segs(linux), segs(tcplab)
	if opts.Unordered > 0 {
		for _, m := range []map[int][]Seg{ls, ts} {
			for _, list := range m {
				slices.SortStableFunc(list, func(a, b Seg) int {
					if x, y := a.At/opts.Unordered, b.At/opts.Unordered; x != y {
						return int(x - y)
					}
					return strings.Compare(a.key(), b.key())
				})
			}
		}
	}
	for _, id := range unionKeys(ls, ts) {
		a, b := ls[id], ts[id]
		same := len(a) == len(b)
		for i := 0; same && i < len(a); i++ {
			// The kernel's timers run late by a few percent (jiffies,
			// timer slack, a loaded machine): the tolerance grows by 5%
			// of the time.
			same = a[i].key() == b[i].key() && (opts.Times <= 0 || absDur(a[i].At-b[i].At) <= opts.Times+a[i].At/20)
		}
		if !same {
			diffs = append(diffs, fmt.Sprintf("connection %d: segments differ\n%s", id, sideBySide(segLines(a), segLines(b))))
		}
	}
	paths := func(r *Record) map[string][]string {
		m := map[string][]string{}
		for _, s := range r.States {
			if cut(s.At) {
				continue
			}
			k := fmt.Sprintf("connection %d %s", s.Conn, s.Host)
			if len(m[k]) == 0 {
				m[k] = append(m[k], s.From.String())
			}
			m[k] = append(m[k], s.To.String())
		}
		for k, path := range m {
			// A handshake that never completes is a request socket in
			// Linux, which has no states of its own.
			if len(path) >= 2 && path[0] == "LISTEN" && path[1] == "SYN_RCVD" && !slices.Contains(path, "ESTABLISHED") {
				delete(m, k)
			}
		}
		return m
	}
	lp, tp := paths(linux), paths(tcplab)
	for _, k := range unionKeys(lp, tp) {
		if a, b := strings.Join(lp[k], " → "), strings.Join(tp[k], " → "); a != b {
			diffs = append(diffs, fmt.Sprintf("%s: states differ: linux %s; tcplab %s", k, orNone(a), orNone(b)))
		}
	}
	errs := func(r *Record) []string {
		var out []string
		for _, e := range r.Errors {
			if !cut(e.At) {
				out = append(out, e.Host+" "+e.Op+" "+e.Errno)
			}
		}
		return out
	}
	if a, b := errs(linux), errs(tcplab); !slices.Equal(a, b) {
		diffs = append(diffs, fmt.Sprintf("application errors differ: linux %v; tcplab %v", a, b))
	}
	for _, host := range unionKeys(linux.Counters, tcplab.Counters) {
		for _, name := range opts.Counters {
			if a, b := linux.Counters[host][name], tcplab.Counters[host][name]; a != b {
				diffs = append(diffs, fmt.Sprintf("%s %s: linux %d, tcplab %d", host, name, a, b))
			}
		}
	}
	return diffs
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// unionKeys returns the keys of two maps, sorted.
func unionKeys[K int | string, V any](a, b map[K]V) []K {
	var keys []K
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// segLines renders segments one per line, with their times.
func segLines(segs []Seg) []string {
	var out []string
	for _, s := range segs {
		out = append(out, fmt.Sprintf("%9.3f %s", s.At.Seconds(), s))
	}
	return out
}

// sideBySide renders two columns, linux and tcplab, marking lines that
// differ (times aside).
func sideBySide(a, b []string) string {
	w := len("linux")
	for _, s := range a {
		w = max(w, len(s))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "    %-*s | %s\n", w, "linux", "tcplab")
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		mark := "  "
		if len(x) < 10 || len(y) < 10 || x[10:] != y[10:] {
			mark = "! "
		}
		fmt.Fprintf(&sb, "  %s%-*s | %s\n", mark, w, x, y)
	}
	return sb.String()
}
