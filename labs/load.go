package labs

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tcplab/tcplab/hosts"
	"github.com/tcplab/tcplab/topology"
)

// Lab is a validated lab, ready to run.
type Lab struct {
	// File is where the lab came from ("handshake.toml" for a built-in).
	File string
	// Name is the lab's short name.
	Name string
	// Title is a one-line summary.
	Title string
	// Description explains what the lab shows and what to look for.
	Description string
	// Seed drives every random choice of the run.
	Seed uint64
	// TimeLimit is the virtual time after which the run stops.
	TimeLimit time.Duration
	// Hosts are the hosts in the order they are attached.
	Hosts []hosts.Config
	// Links are the hosts' links to the switch, by host index.
	Links []topology.Link
	// Topic groups the lab in listings ("handshake", "close" ...).
	Topic string
	// MaxEvents bounds the run (0: topology.DefaultMaxEvents).
	MaxEvents int
	// Faults are the switch's targeted fault rules, in order.
	Faults []topology.Fault
	// Injections are raw segments hosts send.
	Injections []topology.Injection
	// Crashes are hosts crashing and rebooting; Middleboxes stateful
	// boxes on hosts' links (validate_crash.go).
	Crashes     []topology.Crash
	Middleboxes []topology.Middlebox
	// Expect are the checks the lab makes of its run.
	Expect []Expectation
}

// Topics are the lab topics, in the order listings show them.
var Topics = []string{"handshake", "close", "queues", "keepalive", "resets", "loss", "data", "other"}

// Defaults for keys a lab leaves out.
const (
	DefaultSeed      = 1
	DefaultTimeLimit = time.Hour
	// DefaultBacklog is hosts.DefaultBacklog, the backlog of a listen step
	// or server model that sets none.
	DefaultBacklog = hosts.DefaultBacklog
)

// Load decodes and validates a lab file. file names the source in error
// messages. The error, if any, is an ErrorList holding every problem found.
func Load(file string, data []byte) (*Lab, error) {
	data, err := checkSize(file, data)
	if err != nil {
		return nil, err
	}
	var spec fileSpec
	pos, errs, broken, unknown := parse(file, data, &spec)
	if pos == nil {
		return nil, errs.err() // a syntax error: there is nothing to validate
	}
	// Validation goes on past values of the wrong type, which the spec
	// holds as zero, skipping what depends on them (brokenPaths), so that
	// one report has every problem of the file.
	v := &validator{file: file, pos: pos, errs: errs, reported: map[string]bool{}, seen: map[string]bool{}, broken: map[string]bool{}, unknownIn: map[string]bool{}}
	for _, b := range broken {
		v.markBroken(b)
	}
	for _, u := range unknown {
		v.markUnknown(u)
	}
	lab := v.lab(&spec)
	if err := v.errs.err(); err != nil {
		return nil, err
	}
	return lab, nil
}

// validator turns a fileSpec into a Lab, collecting every problem.
type validator struct {
	file string
	pos  *positions
	errs ErrorList
	// reported holds the key paths of the problems found so far, so that
	// a core type's Validate does not report one again in other words.
	reported map[string]bool
	// seen holds the problems fieldErrors reported, by path and message.
	seen map[string]bool
	// broken holds the key paths whose values could not be decoded
	// (broken.go); unknownIn the tables that have an unknown key.
	broken    map[string]bool
	unknownIn map[string]bool
	// hostNameBroken is set when a host's name could not be decoded: a
	// name that is not defined may be that one.
	hostNameBroken bool
}

// errorf records a problem at the key path; a problem of the whole file
// (path "") is at its start.
func (v *validator) errorf(path string, format string, args ...any) {
	if v.dependsOnBroken(path, true) {
		return
	}
	v.reported[path] = true
	v.errs = append(v.errs, &Error{File: v.file, Pos: orStart(v.pos.key(path)), Msg: fmt.Sprintf(format, args...)})
}

// valuef records a problem at the value of the key path.
func (v *validator) valuef(path string, format string, args ...any) {
	if v.dependsOnBroken(path, false) {
		return
	}
	v.reported[path] = true
	v.errs = append(v.errs, &Error{File: v.file, Pos: orStart(v.pos.value(path)), Msg: fmt.Sprintf(format, args...)})
}

// orStart returns p, or the start of the file when p is unknown, so that
// every problem of a file has a position.
func orStart(p Pos) Pos {
	if !p.IsValid() {
		return Pos{1, 1}
	}
	return p
}

var nameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]*$`)

func (v *validator) lab(s *fileSpec) *Lab {
	lab := &Lab{File: v.file, Name: s.Name, Title: s.Title, Description: s.Description, Seed: DefaultSeed, TimeLimit: DefaultTimeLimit}
	if lab.Name == "" {
		lab.Name = strings.TrimSuffix(filepath.Base(v.file), ".toml")
	}
	if s.Seed != nil {
		if *s.Seed < 0 {
			v.valuef("seed", "seed %d is negative", *s.Seed)
		}
		lab.Seed = uint64(*s.Seed)
	}
	if s.TimeLimit != nil {
		if s.TimeLimit.D() <= 0 {
			v.valuef("time_limit", "time_limit must be positive")
		}
		lab.TimeLimit = s.TimeLimit.D()
	}
	if s.Topic != "" {
		if !slices.Contains(Topics, s.Topic) {
			v.valuef("topic", "unknown topic %q (want one of %s)", s.Topic, strings.Join(Topics, ", "))
		}
		lab.Topic = s.Topic
	}
	if s.MaxEvents != nil {
		switch {
		case *s.MaxEvents <= 0:
			v.valuef("max_events", "max_events must be positive")
		case *s.MaxEvents > MaxEvents:
			v.valuef("max_events", "max_events must be at most %d", int64(MaxEvents))
		}
		lab.MaxEvents = int(min(max(*s.MaxEvents, 0), MaxEvents))
	}
	if len(s.Hosts) == 0 {
		v.errorf("", "a lab needs at least one [[hosts]] table")
	}
	if len(s.Hosts) > MaxHosts {
		v.errorf(fmt.Sprintf("hosts.%d", MaxHosts), "a lab has %d hosts; it may have at most %d", len(s.Hosts), MaxHosts)
		return lab
	}
	index := map[string]int{}
	addrs := map[netip.Addr]string{}
	for i := range s.Hosts {
		h := &s.Hosts[i]
		p := fmt.Sprintf("hosts.%d", i)
		cfg := hosts.Config{Name: h.Name}
		switch {
		case h.Name == "":
			v.missingf(p, []string{"name"}, "host %d has no name", i+1)
		case !nameRE.MatchString(h.Name):
			v.valuef(p+".name", "host name %q must start with a letter and use only letters, digits, '-' and '_'", h.Name)
		default:
			if _, dup := index[h.Name]; dup {
				v.valuef(p+".name", "host %q is defined twice", h.Name)
			}
			index[h.Name] = i
		}
		cfg.IPv4 = v.addr(p+".ipv4", h.IPv4, h.Name, addrs)
		cfg.IPv6 = v.addr(p+".ipv6", h.IPv6, h.Name, addrs)
		v.fieldErrors(p, cfg.Validate(), nil)
		cfg.Settings = v.settings(p, h)
		lab.Hosts = append(lab.Hosts, cfg)
	}
	// Steps refer to hosts by name, so resolve them once every host is known.
	for i := range s.Hosts {
		p := fmt.Sprintf("hosts.%d.steps", i)
		lab.Hosts[i].Steps = v.steps(p, s.Hosts[i].Steps, lab.Hosts)
		v.fieldErrors(p, hosts.ValidateSteps(lab.Hosts[i].Steps).Err(), nil)
		apps := 0
		for j := range s.Hosts[i].Apps {
			if app, ok := v.app(fmt.Sprintf("hosts.%d.apps.%d", i, j), &s.Hosts[i].Apps[j], lab.Hosts); ok {
				lab.Hosts[i].Apps = append(lab.Hosts[i].Apps, app)
				apps += max(app.Copies, 1)
			}
		}
		if apps > MaxApps {
			v.errorf(fmt.Sprintf("hosts.%d.apps", i), "host %q runs %d applications (copies included); a host may run at most %d", s.Hosts[i].Name, apps, MaxApps)
		}
	}
	lab.Links = make([]topology.Link, len(lab.Hosts))
	linked := map[string]bool{}
	for i := range s.Links {
		l := &s.Links[i]
		p := fmt.Sprintf("links.%d", i)
		hi, ok := index[l.Host]
		both := v.direction(p, l.directionSpec, topology.Direction{})
		link := topology.Link{Out: both, In: both}
		if l.Out != nil {
			link.Out = v.direction(p+".out", *l.Out, both)
		}
		if l.In != nil {
			link.In = v.direction(p+".in", *l.In, both)
		}
		var downIndex []int
		link.Down, downIndex = v.outages(p, l.Down)
		v.fieldErrors(p, link.Validate(), func(f string) string { return linkField(p, l, downIndex, f) })
		switch {
		case l.Host == "":
			v.missingf(p, []string{"host"}, "link %d has no host: host = \"client\"", i+1)
			continue
		case !ok:
			v.undefinedf(p+".host", "%s", undefinedHost("link", l.Host, hostNames(lab.Hosts)))
			continue
		case linked[l.Host]:
			v.valuef(p+".host", "host %q has two links; a host attaches to the switch once", l.Host)
			continue
		}
		link.MTU = v.mtu(p, l.MTU, lab.Hosts[hi])
		linked[l.Host] = true
		lab.Links[hi] = link
	}
	names := hostNames(lab.Hosts)
	for i := range s.Faults {
		if f, ok := v.fault(fmt.Sprintf("faults.%d", i), i, &s.Faults[i], names); ok {
			lab.Faults = append(lab.Faults, f)
		}
	}
	for i := range s.Inject {
		if in, ok := v.injection(fmt.Sprintf("inject.%d", i), i, &s.Inject[i], lab.Hosts); ok {
			lab.Injections = append(lab.Injections, in)
		}
	}
	v.world(lab, s, names) // crashes and middleboxes (validate_crash.go)
	for i := range s.Expect {
		if e, ok := v.expectation(fmt.Sprintf("expect.%d", i), &s.Expect[i], names); ok {
			lab.Expect = append(lab.Expect, e)
		}
	}
	return lab
}

// addr parses a host address; Config's Validate checks it.
func (v *validator) addr(path, s string, host string, seen map[netip.Addr]string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		v.valuef(path, "%q is not an IP address", s)
		return netip.Addr{}
	}
	if other, dup := seen[a]; dup {
		v.valuef(path, "address %s is already used by host %q", a, other)
	}
	seen[a] = host
	return a
}
