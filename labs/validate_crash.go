package labs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tcplab/tcplab/topology"
)

// world converts the lab's [[crashes]] and [[middleboxes]]. The rules of
// a crash and of a middlebox live on topology.Crash and
// topology.Middlebox (Validate, Overlaps); this maps their field-tagged
// errors to positions and resolves host names.
func (v *validator) world(lab *Lab, s *fileSpec, names []string) {
	for i := range s.Crashes {
		c := &s.Crashes[i]
		p := fmt.Sprintf("crashes.%d", i)
		out := topology.Crash{Host: c.Host}
		ok := v.hostRef(p, "host", c.Host, names, "crash", `host = "server"`)
		if c.At == nil {
			v.missingf(p, []string{"at"}, "a crash needs at = \"10s\" (when the host crashes)")
			ok = false
		} else {
			out.At = c.At.D()
		}
		if c.RebootAfter != nil {
			out.RebootAfter = c.RebootAfter.D()
			if out.RebootAfter == 0 {
				v.valuef(p+".reboot_after", "reboot_after must be positive; leave it out for a host that never comes back")
				ok = false
			}
		}
		if !ok || !v.fieldErr(p, out.Validate()) {
			continue
		}
		if j := slices.IndexFunc(lab.Crashes, out.Overlaps); j >= 0 {
			v.valuef(p+".at", "host %q is already down %s (an earlier crash); its crashes must not overlap", out.Host, lab.Crashes[j].Downtime())
			continue
		}
		lab.Crashes = append(lab.Crashes, out)
	}
	for i := range s.Middleboxes {
		m := &s.Middleboxes[i]
		p := fmt.Sprintf("middleboxes.%d", i)
		out := topology.Middlebox{Name: m.Name, Host: m.Link}
		ok := v.hostRef(p, "link", m.Link, names, "middlebox", `link = "client" (the host on whose link it sits)`)
		if m.Name == "" {
			out.Name = fmt.Sprintf("middleboxes[%d]", i+1)
		} else if !nameRE.MatchString(m.Name) {
			v.valuef(p+".name", "middlebox name %q must start with a letter and use only letters, digits, '-' and '_'", m.Name)
			ok = false
		}
		kind, err := topology.ParseMiddleboxKind(m.Kind)
		switch {
		case m.Kind == "":
			v.missingf(p, []string{"kind"}, "a middlebox needs kind = %q", strings.Join(topology.MiddleboxKinds(), "|"))
			ok = false
		case err != nil:
			v.valuef(p+".kind", "%v", err)
			ok = false
		}
		out.Kind = kind
		if m.OnForgotten != "" {
			a, err := topology.ParseForgottenAction(m.OnForgotten)
			if err != nil {
				v.valuef(p+".on_forgotten", "%v", err)
				ok = false
			}
			out.OnForgotten = a
		}
		if m.IdleTimeout == nil {
			v.missingf(p, []string{"idle_timeout"}, "a middlebox needs idle_timeout = \"350s\" (how long a flow may stay idle before the box forgets it)")
			ok = false
		} else {
			out.IdleTimeout = m.IdleTimeout.D()
		}
		if !ok || !v.fieldErr(p, out.Validate()) {
			continue
		}
		if j := slices.IndexFunc(lab.Middleboxes, func(o topology.Middlebox) bool { return o.Host == out.Host }); j >= 0 {
			v.valuef(p+".link", "the link of %q already has middlebox %s; a link has at most one", out.Host, lab.Middleboxes[j].Name)
			continue
		}
		if j := slices.IndexFunc(lab.Middleboxes, func(o topology.Middlebox) bool { return o.Name == out.Name }); j >= 0 {
			v.valuef(p+".name", "middlebox %q is defined twice", out.Name)
			continue
		}
		lab.Middleboxes = append(lab.Middleboxes, out)
	}
}

// hostRef checks that key of table p names a host; what says which table
// it is ("crash"), example how to write the key.
func (v *validator) hostRef(p, key, name string, names []string, what, example string) bool {
	if name == "" {
		v.missingf(p, []string{key}, "a %s needs %s", what, example)
		return false
	}
	return v.knownHost(p+"."+key, what, name, names)
}

// knownHost reports whether name, written at path by what ("fault"), is
// one of the hosts' names, and reports it undefined if not.
func (v *validator) knownHost(path, what, name string, names []string) bool {
	if slices.Contains(names, name) {
		return true
	}
	v.undefinedf(path, "%s", undefinedHost(what, name, names))
	return false
}

// fieldErr records the field-tagged errors of a core type's Validate at
// their keys in table p, and reports whether there were none.
func (v *validator) fieldErr(p string, err error) bool {
	v.fieldErrors(p, err, nil)
	return err == nil
}
