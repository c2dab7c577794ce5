package hosts

import (
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/internal/field"
)

// The rules of a host's configuration live here, on the types: each
// Validate returns a field.List naming every problem's field as a lab file
// writes it, so that labs can point at the place. Settings.Validate is in
// profile.go, the models' in modelparams.go.

// Validate reports every problem of the host's addresses, as a field.List
// with fields "ipv4" and "ipv6", or nil. Settings and each App have their
// own Validate.
func (c *Config) Validate() error {
	var l field.List
	if !c.IPv4.IsValid() && !c.IPv6.IsValid() {
		l.AddEither("ipv4", []string{"ipv6"}, "host %q needs an address: ipv4 = \"10.0.0.1\" or ipv6 = \"fd00::1\"", c.Name)
	}
	checkAddr(&l, "ipv4", c.IPv4, true)
	checkAddr(&l, "ipv6", c.IPv6, false)
	return l.Err()
}

// checkAddr adds the problems of a, the host's IPv4 (four) or IPv6
// address, if set, to l.
func checkAddr(l *field.List, f string, a netip.Addr, four bool) {
	if !a.IsValid() {
		return
	}
	family, example := "IPv6", `"fd00::1"`
	if four {
		family, example = "IPv4", `"10.0.0.1"`
	}
	switch {
	case four != a.Is4() || a.Is4In6():
		l.Add(f, "%q is not an %s address", a.String(), family)
	case a.IsUnspecified() || a.IsMulticast():
		l.Add(f, "%s cannot be a host address", a)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		l.Add(f, "%s is the broadcast address, not a host address", a)
	case a.IsLoopback():
		l.Add(f, "%s is a loopback address: it never leaves its host, so nothing on the switch can reach it; use an address such as %s", a, example)
	case a.Zone() != "":
		l.Add(f, "%q has a zone (%%%s); a lab's host has one interface, so write the address without it", a.String(), a.Zone())
	}
}

// Validate reports every problem of the application, as a field.List with
// fields "repeat", "options.keepalive_idle", its steps' keys
// ("steps.2.bytes"), a model's parameters ("port", "idle_timeout") ..., or
// nil.
func (a *App) Validate() error {
	var l field.List
	if a.Model != nil && len(a.Steps) > 0 {
		l.AddKey("steps", "an app runs steps or a model, not both")
	}
	if a.Repeat < 0 {
		l.Add("repeat", "repeat %d is negative", a.Repeat)
	}
	if a.Copies < 0 {
		l.Add("copies", "copies %d is negative", a.Copies)
	}
	if a.Model != nil && a.Repeat > 1 {
		l.AddKey("repeat", "a model cannot repeat")
	}
	if errs, ok := a.Options.Validate().(field.List); ok {
		l.Append("options", errs)
	}
	l.Append("steps", ValidateSteps(a.Steps))
	if a.Model != nil {
		if errs, ok := ValidateModel(a.Model).(field.List); ok {
			l.Append("", errs)
		}
	}
	return l.Err()
}

// Validate reports every problem of the socket options, as a field.List
// with fields named as a set step writes them ("keepalive_idle", "mss"),
// or nil.
func (o *Options) Validate() error {
	var l field.List
	atLeastSecond := func(f string, d *time.Duration) {
		if d != nil && *d < time.Second {
			l.Add(f, "%s %v must be at least 1s", f, *d)
		}
	}
	atLeastSecond("keepalive_idle", o.KeepIdle)
	atLeastSecond("keepalive_interval", o.KeepInterval)
	atLeastOne := func(f string, n *int) {
		if n != nil && *n < 1 {
			l.Add(f, "%s must be at least 1", f)
		}
	}
	atLeastOne("keepalive_count", o.KeepCount)
	if o.UserTimeout != nil && *o.UserTimeout < 0 {
		l.Add("user_timeout", "user_timeout %v is negative", *o.UserTimeout)
	}
	for _, b := range []struct {
		f string
		n *int
	}{{"send_buffer", o.SendBuffer}, {"recv_buffer", o.RecvBuffer}} {
		if b.n != nil && *b.n <= 0 {
			l.Add(b.f, "%s must be positive", b.f)
		}
	}
	atLeastOne("mss", o.MSS)
	return l.Err()
}
