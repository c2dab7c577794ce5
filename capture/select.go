package capture

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParseNames reads host names given as ADDR=NAME, each argument possibly a
// comma-separated list: "10.0.0.1=client,10.0.0.2=server".
func ParseNames(args []string) (map[netip.Addr]string, error) {
	names := map[netip.Addr]string{}
	for _, arg := range args {
		for _, part := range strings.Split(arg, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			addr, name, ok := strings.Cut(part, "=")
			if !ok || name == "" {
				return nil, fmt.Errorf("%q: want ADDR=NAME", part)
			}
			a, err := netip.ParseAddr(strings.Trim(addr, "[]"))
			if err != nil {
				return nil, fmt.Errorf("%q: %v", part, err)
			}
			if strings.ContainsAny(name, " \t:") {
				return nil, fmt.Errorf("%q: a name has no spaces or colons", part)
			}
			if old, dup := names[a.Unmap()]; dup && old != name {
				return nil, fmt.Errorf("%s is named twice (%s and %s)", a, old, name)
			}
			names[a.Unmap()] = name
		}
	}
	return names, nil
}

// Selection picks connections (--conn): by index, by port, or by both
// endpoints. An empty selection picks every connection.
type Selection struct {
	ids   map[int]bool
	ports map[uint16]bool
	pairs map[connKey]bool
}

// ParseSelection reads connection selectors, each argument possibly a
// comma-separated list: an index ("3"), a port (":80"), or both endpoints
// ("10.0.0.1:40000-10.0.0.2:80", "[fd00::1]:40000-[fd00::2]:80"), in
// either order.
func ParseSelection(args []string) (*Selection, error) {
	s := &Selection{ids: map[int]bool{}, ports: map[uint16]bool{}, pairs: map[connKey]bool{}}
	for _, arg := range args {
		for _, part := range strings.Split(arg, ",") {
			part = strings.TrimSpace(part)
			switch {
			case part == "":
			case strings.HasPrefix(part, ":"):
				p, err := strconv.ParseUint(part[1:], 10, 16)
				if err != nil || p == 0 {
					return nil, fmt.Errorf("%q: a port is :1 to :65535", part)
				}
				s.ports[uint16(p)] = true
			case strings.Contains(part, "-"):
				a, b, _ := strings.Cut(part, "-")
				pa, err := netip.ParseAddrPort(a)
				if err != nil {
					return nil, fmt.Errorf("%q: %v", part, err)
				}
				pb, err := netip.ParseAddrPort(b)
				if err != nil {
					return nil, fmt.Errorf("%q: %v", part, err)
				}
				s.pairs[keyOfEnds(pa, pb)] = true
			default:
				n, err := strconv.Atoi(part)
				if err != nil || n < 1 {
					return nil, fmt.Errorf("%q: want an index (1, 2 ...), a port (:80) or both endpoints (A:P-B:P)", part)
				}
				s.ids[n] = true
			}
		}
	}
	return s, nil
}

// Match reports whether connection id between a and b is selected; it is
// Options.Select. Nil or empty selects all.
func (s *Selection) Match(id int, a, b netip.AddrPort) bool {
	if s == nil || len(s.ids)+len(s.ports)+len(s.pairs) == 0 {
		return true
	}
	return s.ids[id] || s.ports[a.Port()] || s.ports[b.Port()] || s.pairs[keyOfEnds(a, b)]
}

// keyOfEnds returns the port pair of two endpoints.
func keyOfEnds(a, b netip.AddrPort) connKey {
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	b = netip.AddrPortFrom(b.Addr().Unmap(), b.Port())
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return connKey{a, b}
}
