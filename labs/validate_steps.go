package labs

import (
	"strings"

	"github.com/tcplab/tcplab/hosts"
	"github.com/tcplab/tcplab/topology"
)

// onError converts a step's on_error ("stop", the default, or "continue").
func (v *validator) onError(p string, s *string) hosts.OnError {
	if s == nil {
		return hosts.Stop
	}
	o, ok := hosts.ParseOnError(*s)
	if !ok {
		v.valuef(p+".on_error", "unknown on_error %q (want %s)", *s, strings.Join(hosts.OnErrorNames(), " or "))
	}
	return o
}

// mtu converts a link's mtu, checked for its host's address families.
func (v *validator) mtu(p string, n *int64, h hosts.Config) int {
	if n == nil {
		return 0
	}
	if *n <= 0 {
		v.valuef(p+".mtu", "mtu must be positive")
		return 0
	}
	m := int(min(*n, 1<<20))
	if err := topology.ValidateMTU(m, h.IPv6.IsValid()); err != nil {
		v.valuef(p+".mtu", "%v", err)
		return 0
	}
	return m
}
