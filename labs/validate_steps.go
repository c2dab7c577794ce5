package labs

import (
	"strings"

	"github.com/tcplab/tcplab/hosts"
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
