package labs

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
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
}

// Defaults for keys a lab leaves out.
const (
	DefaultSeed      = 1
	DefaultTimeLimit = time.Hour
	DefaultBacklog   = 16
)

// Load decodes and validates a lab file. file names the source in error
// messages. The error, if any, is an ErrorList.
func Load(file string, data []byte) (*Lab, error) {
	pos, _ := indexPositions(data) // nil on a syntax error, which Decode reports
	var spec fileSpec
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return nil, decodeErrors(file, data, pos, err)
	}
	if pos == nil {
		return nil, ErrorList{{File: file, Msg: "the file could not be indexed"}}
	}
	// go-toml matches keys case-insensitively; lab keys are exact.
	if l := keyCase(file, pos); len(l) > 0 {
		return nil, l.err()
	}
	v := &validator{file: file, pos: pos}
	lab := v.lab(&spec)
	if err := v.errs.err(); err != nil {
		return nil, err
	}
	return lab, nil
}

// decodeErrors converts go-toml's errors into an ErrorList with positions.
func decodeErrors(file string, data []byte, pos *positions, err error) error {
	var ue *unitError
	if errors.As(err, &ue) && pos != nil {
		if l := bareUnitValues(file, data, pos); len(l) > 0 {
			return l.err()
		}
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var l ErrorList
		for _, e := range strict.Errors {
			line, col := e.Position()
			l = append(l, &Error{File: file, Pos: Pos{line, col}, Msg: fmt.Sprintf("unknown key %q", strings.Join(e.Key(), "."))})
		}
		return l.err()
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return ErrorList{{File: file, Pos: Pos{line, col}, Msg: cleanDecodeMessage(de.Key(), de.Error())}}
	}
	return ErrorList{{File: file, Msg: err.Error()}}
}

// typeRE matches go-toml's message for a value of the wrong type.
var typeRE = regexp.MustCompile(`cannot decode TOML ([\w -]+?) into (?:struct field \S+ of type )?(\S+)`)

// cleanDecodeMessage rewrites go-toml's messages in the lab's terms, without
// Go type names.
func cleanDecodeMessage(key []string, m string) string {
	m = strings.TrimPrefix(m, "toml: ")
	sub := typeRE.FindStringSubmatch(m)
	if sub == nil {
		return m
	}
	want := "a value of another type"
	switch t := strings.TrimPrefix(sub[2], "*"); {
	case strings.Contains(t, "int"):
		want = "an integer"
	case strings.Contains(t, "float"):
		want = "a number"
	case t == "bool":
		want = "true or false"
	case t == "string":
		want = "a string"
	case strings.HasSuffix(t, "Duration"):
		want = `a duration string such as "200ms"`
	case strings.HasSuffix(t, "Rate"):
		want = `a rate string such as "100Mbit/s"`
	case strings.HasPrefix(t, "[]"):
		want = "an array of tables"
	case strings.Contains(t, "Spec"):
		want = "a table"
	}
	name := "value"
	if len(key) > 0 {
		name = strings.Join(key, ".")
	}
	return fmt.Sprintf("%s must be %s, not a TOML %s", name, want, sub[1])
}

// validator turns a fileSpec into a Lab, collecting every problem.
type validator struct {
	file string
	pos  *positions
	errs ErrorList
}

// errorf records a problem at the key path.
func (v *validator) errorf(path string, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Pos: v.pos.key(path), Msg: fmt.Sprintf(format, args...)})
}

// valuef records a problem at the value of the key path.
func (v *validator) valuef(path string, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Pos: v.pos.value(path), Msg: fmt.Sprintf(format, args...)})
}

var nameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]*$`)

func (v *validator) lab(s *fileSpec) *Lab {
	lab := &Lab{File: v.file, Name: s.Name, Title: s.Title, Description: s.Description, Seed: DefaultSeed, TimeLimit: DefaultTimeLimit}
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
	if len(s.Hosts) == 0 {
		v.errorf("", "a lab needs at least one [[hosts]] table")
	}
	index := map[string]int{}
	addrs := map[netip.Addr]string{}
	for i := range s.Hosts {
		h := &s.Hosts[i]
		p := fmt.Sprintf("hosts.%d", i)
		cfg := hosts.Config{Name: h.Name}
		switch {
		case h.Name == "":
			v.errorf(p, "host %d has no name", i+1)
		case !nameRE.MatchString(h.Name):
			v.valuef(p+".name", "host name %q must start with a letter and use only letters, digits, '-' and '_'", h.Name)
		default:
			if _, dup := index[h.Name]; dup {
				v.valuef(p+".name", "host %q is defined twice", h.Name)
			}
			index[h.Name] = i
		}
		cfg.IPv4 = v.addr(p+".ipv4", h.IPv4, true, h.Name, addrs)
		cfg.IPv6 = v.addr(p+".ipv6", h.IPv6, false, h.Name, addrs)
		if h.IPv4 == "" && h.IPv6 == "" {
			v.errorf(p, "host %q needs an address: ipv4 = \"10.0.0.1\" or ipv6 = \"fd00::1\"", h.Name)
		}
		lab.Hosts = append(lab.Hosts, cfg)
	}
	// Steps refer to hosts by name, so resolve them once every host is known.
	for i := range s.Hosts {
		for j := range s.Hosts[i].Steps {
			p := fmt.Sprintf("hosts.%d.steps.%d", i, j)
			if st, ok := v.step(p, &s.Hosts[i].Steps[j], lab.Hosts); ok {
				lab.Hosts[i].Steps = append(lab.Hosts[i].Steps, st)
			}
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
		// Jitter is checked against latency per effective direction, so
		// that a shared jitter with per-direction latencies is fine and a
		// problem of the shared keys is reported once.
		for _, d := range []struct {
			path string
			dir  topology.Direction
			own  bool
		}{{p + ".out", link.Out, l.Out != nil}, {p + ".in", link.In, l.In != nil}} {
			if d.dir.Jitter <= d.dir.Latency || d.dir.Latency < 0 || d.dir.Jitter < 0 {
				continue
			}
			at := p
			if d.own && (d.dir.Jitter != both.Jitter || d.dir.Latency != both.Latency) {
				at = d.path
			} else if d.path == p+".in" && link.Out.Jitter == d.dir.Jitter && link.Out.Latency == d.dir.Latency {
				continue // same problem as out, already reported at the link
			}
			v.errorf(at, "jitter %v is larger than latency %v", d.dir.Jitter, d.dir.Latency)
		}
		switch {
		case l.Host == "":
			v.errorf(p, "link %d has no host: host = \"client\"", i+1)
			continue
		case !ok:
			v.valuef(p+".host", "link names host %q, which is not defined", l.Host)
			continue
		case linked[l.Host]:
			v.valuef(p+".host", "host %q has two links; a host attaches to the switch once", l.Host)
			continue
		}
		linked[l.Host] = true
		lab.Links[hi] = link
	}
	return lab
}

// addr parses a host address.
func (v *validator) addr(path, s string, four bool, host string, seen map[netip.Addr]string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	family := "IPv6"
	if four {
		family = "IPv4"
	}
	switch {
	case err != nil:
		v.valuef(path, "%q is not an IP address", s)
		return netip.Addr{}
	case four != a.Is4() || a.Is4In6():
		v.valuef(path, "%q is not an %s address", s, family)
		return netip.Addr{}
	case a.IsUnspecified() || a.IsMulticast():
		v.valuef(path, "%s cannot be a host address", s)
		return netip.Addr{}
	}
	if other, dup := seen[a]; dup {
		v.valuef(path, "address %s is already used by host %q", a, other)
	}
	seen[a] = host
	return a
}

// direction converts one direction of a link, starting from base.
func (v *validator) direction(path string, d directionSpec, base topology.Direction) topology.Direction {
	out := base
	key := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	if d.Latency != nil {
		out.Latency = d.Latency.D()
		if out.Latency < 0 {
			v.valuef(key("latency"), "latency %v is negative", out.Latency)
		}
	}
	if d.Jitter != nil {
		out.Jitter = d.Jitter.D()
		if out.Jitter < 0 {
			v.valuef(key("jitter"), "jitter %v is negative", out.Jitter)
		}
	}
	if d.Loss != nil {
		out.Loss = *d.Loss
		if !(out.Loss >= 0 && out.Loss <= 1) { // also rejects NaN
			v.valuef(key("loss"), "loss %v is outside [0, 1]", out.Loss)
		}
	}
	if d.Rate != nil {
		out.Rate = d.Rate.BitsPerSecond()
	}
	if d.QueueLimit != nil {
		out.QueueLimit = *d.QueueLimit
		if out.QueueLimit < 0 {
			v.valuef(key("queue_limit"), "queue_limit %d is negative", out.QueueLimit)
		}
	}
	return out
}

// step converts one application step.
func (v *validator) step(p string, s *stepSpec, all []hosts.Config) (hosts.Step, bool) {
	act, ok := hosts.ParseAction(s.Do)
	if !ok {
		if s.Do == "" {
			v.errorf(p, "step has no action: do = %q", strings.Join(hosts.ActionNames(), "|"))
		} else {
			v.valuef(p+".do", "unknown action %q (want one of %s)", s.Do, strings.Join(hosts.ActionNames(), ", "))
		}
		return hosts.Step{}, false
	}
	st := hosts.Step{Action: act, Socket: s.Socket, From: s.From}
	before := len(v.errs)
	if s.At != nil {
		st.At = s.At.D()
		if st.At < 0 {
			v.valuef(p+".at", "at %v is negative", st.At)
		}
	}
	// allowed lists the keys each action takes besides do, at and socket.
	allowed := map[hosts.Action][]string{
		hosts.Listen:  {"port", "backlog"},
		hosts.Accept:  {"from"},
		hosts.Connect: {"to"},
		hosts.Send:    {"data", "bytes"},
		hosts.Recv:    {"bytes"},
		hosts.Sleep:   {"for"},
		hosts.Set:     {"nodelay", "keepalive", "keepalive_idle", "keepalive_interval", "keepalive_count", "send_buffer", "recv_buffer", "mss"},
	}
	present := s.present()
	for _, k := range present {
		if !slices.Contains(allowed[act], k) {
			v.errorf(p+"."+k, "action %q does not take %q", s.Do, k)
		}
	}
	switch act {
	case hosts.Listen:
		if s.Port == nil {
			v.errorf(p, "listen needs a port: port = 80")
		} else {
			st.Port = v.port(p+".port", *s.Port)
		}
		st.Backlog = DefaultBacklog
		if s.Backlog != nil {
			st.Backlog = *s.Backlog
			if st.Backlog < 0 {
				v.valuef(p+".backlog", "backlog %d is negative", st.Backlog)
			}
		}
	case hosts.Connect:
		if s.To == "" {
			v.errorf(p, "connect needs a target: to = \"server:80\"")
			break
		}
		st.Target = s.To
		st.Addr = v.target(p+".to", s.To, all)
	case hosts.Send:
		switch {
		case s.Data != nil && s.Bytes != nil:
			v.errorf(p+".bytes", "send takes data or bytes, not both")
		case s.Data != nil:
			st.Data = []byte(*s.Data)
		case s.Bytes != nil:
			st.Bytes = *s.Bytes
			if st.Bytes <= 0 {
				v.valuef(p+".bytes", "bytes must be positive")
			}
		default:
			v.errorf(p, "send needs data = \"...\" or bytes = N")
		}
	case hosts.Recv:
		if s.Bytes != nil {
			st.Bytes = *s.Bytes
			if st.Bytes <= 0 {
				v.valuef(p+".bytes", "bytes must be positive")
			}
		}
	case hosts.Sleep:
		if s.For == nil {
			v.errorf(p, "sleep needs a duration: for = \"1s\"")
		} else {
			st.For = s.For.D()
			if st.For < 0 {
				v.valuef(p+".for", "for %v is negative", st.For)
			}
		}
	case hosts.Set:
		st.Options = v.options(p, s)
		if st.Options.String() == "" {
			v.errorf(p, "set needs at least one option (%s)", strings.Join(allowed[hosts.Set], ", "))
		}
	}
	return st, len(v.errs) == before
}

func (v *validator) port(path string, n int) uint16 {
	if n < 1 || n > 65535 {
		v.valuef(path, "port %d is outside 1–65535", n)
		return 0
	}
	return uint16(n)
}

// target resolves "server:80", "10.0.0.2:80" or "[fd00::2]:80".
func (v *validator) target(path, s string, all []hosts.Config) netip.AddrPort {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		v.port(path, int(ap.Port()))
		return ap
	}
	host, portText, ok := strings.Cut(s, ":")
	n, err := strconv.Atoi(portText)
	if !ok || err != nil {
		v.valuef(path, "target %q must be host:port, such as \"server:80\"", s)
		return netip.AddrPort{}
	}
	port := v.port(path, n)
	for _, h := range all {
		if h.Name == host {
			a := h.IPv4
			if !a.IsValid() {
				a = h.IPv6
			}
			return netip.AddrPortFrom(a, port)
		}
	}
	v.valuef(path, "target %q names host %q, which is not defined", s, host)
	return netip.AddrPort{}
}

// options converts the socket options of a set step.
func (v *validator) options(p string, s *stepSpec) hosts.Options {
	o := hosts.Options{NoDelay: s.NoDelay, KeepAlive: s.KeepAlive}
	dur := func(k string, d *Duration) *time.Duration {
		if d == nil {
			return nil
		}
		t := d.D()
		if t < time.Second {
			v.valuef(p+"."+k, "%s %v must be at least 1s", k, t)
		}
		return &t
	}
	positive := func(k string, n *int) *int {
		if n != nil && *n <= 0 {
			v.valuef(p+"."+k, "%s must be positive", k)
		}
		return n
	}
	o.KeepIdle = dur("keepalive_idle", s.KeepAliveIdle)
	o.KeepInterval = dur("keepalive_interval", s.KeepAliveInterval)
	o.KeepCount = positive("keepalive_count", s.KeepAliveCount)
	o.SendBuffer = positive("send_buffer", s.SendBuffer)
	o.RecvBuffer = positive("recv_buffer", s.RecvBuffer)
	o.MSS = positive("mss", s.MSS)
	return o
}

// present lists the keys a step sets besides do, at and socket, in the
// order of the format.
func (s *stepSpec) present() []string {
	var out []string
	add := func(k string, set bool) {
		if set {
			out = append(out, k)
		}
	}
	add("from", s.From != "")
	add("port", s.Port != nil)
	add("backlog", s.Backlog != nil)
	add("to", s.To != "")
	add("data", s.Data != nil)
	add("bytes", s.Bytes != nil)
	add("for", s.For != nil)
	add("nodelay", s.NoDelay != nil)
	add("keepalive", s.KeepAlive != nil)
	add("keepalive_idle", s.KeepAliveIdle != nil)
	add("keepalive_interval", s.KeepAliveInterval != nil)
	add("keepalive_count", s.KeepAliveCount != nil)
	add("send_buffer", s.SendBuffer != nil)
	add("recv_buffer", s.RecvBuffer != nil)
	add("mss", s.MSS != nil)
	return out
}

// unitKeys are the keys whose values are strings with a unit.
var unitKeys = []string{"time_limit", "at", "for", "keepalive_idle", "keepalive_interval", "latency", "jitter", "rate"}

// bareUnitValues finds keys that take a duration or rate but were given a
// bare value (latency = 5), which go-toml reports without a position.
func bareUnitValues(file string, data []byte, pos *positions) ErrorList {
	lines := newLineIndex(data)
	var l ErrorList
	for _, path := range pos.paths() {
		key := path[strings.LastIndexByte(path, '.')+1:]
		if !slices.Contains(unitKeys, key) {
			continue
		}
		off := lines.offset(pos.value(path))
		if off < 0 || off >= len(data) || data[off] == '"' || data[off] == '\'' || data[off] == '[' || data[off] == '{' {
			continue
		}
		end := off
		for end < len(data) && data[end] != '\n' && data[end] != '#' && data[end] != ',' && data[end] != '}' {
			end++
		}
		l = append(l, &Error{File: file, Pos: pos.key(path), Msg: fmt.Sprintf("%s must be a string with a unit, such as \"200ms\" or \"100Mbit/s\", not %s", key, strings.TrimSpace(string(data[off:end])))})
	}
	return l
}

// knownKeys are the keys of the lab format, from the toml tags in format.go.
var knownKeys = func() map[string]bool {
	keys := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || keys["@"+t.Name()] {
			return
		}
		keys["@"+t.Name()] = true
		for i := range t.NumField() {
			f := t.Field(i)
			if tag := f.Tag.Get("toml"); tag != "" {
				keys[tag] = true
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[fileSpec]())
	return keys
}()

// keyCase reports keys that go-toml accepted only because it matches keys
// case-insensitively ("Name" for "name").
func keyCase(file string, pos *positions) ErrorList {
	var l ErrorList
	seen := map[string]bool{}
	for _, path := range pos.paths() {
		parts := strings.Split(path, ".")
		for i, part := range parts {
			if _, err := strconv.Atoi(part); err == nil || knownKeys[part] {
				continue
			}
			at := strings.Join(parts[:i+1], ".")
			if seen[at] {
				break
			}
			seen[at] = true
			l = append(l, &Error{File: file, Pos: pos.key(at), Msg: fmt.Sprintf("unknown key %q (keys are case-sensitive: %q)", part, strings.ToLower(part))})
			break
		}
	}
	return l
}
