package labs

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/tcplab/tcplab/hosts"
)

// Applications. A model's parameters are described by the model's own type
// (hosts.ModelInfo); this file only decodes the keys of a [[hosts.apps]]
// table by the kinds the model gives them.

// ModelNames lists the ready-made application models.
func ModelNames() []string {
	var out []string
	for _, m := range hosts.Models() {
		out = append(out, m.Name)
	}
	return out
}

// appKeys are the keys of an app table that are not model parameters.
var appKeys = tags(reflect.TypeFor[appSpec]())

// paramLimits bounds the model parameters a lab might otherwise ask too
// much of (limits.go).
var paramLimits = map[string]int{"count": MaxCount}

// modelTakes lists the models that take key.
func modelTakes(key string) []string {
	var out []string
	for _, m := range hosts.Models() {
		if _, ok := m.Param(key); ok {
			out = append(out, m.Name)
		}
	}
	return out
}

// app converts one [[hosts.apps]] table.
func (v *validator) app(p string, a *appSpec, all []hosts.Config) (hosts.App, bool) {
	before := len(v.errs)
	app := hosts.App{Name: a.Name}
	if a.Name != "" && !nameRE.MatchString(a.Name) {
		v.valuef(p+".name", "app name %q must start with a letter and use only letters, digits, '-' and '_'", a.Name)
	}
	if a.Copies != nil {
		app.Copies = v.countAtMost(p+".copies", *a.Copies, 1, MaxApps)
	}
	if a.Options != nil {
		app.Options = v.keepalive(p+".options", *a.Options)
	}
	keys := make([]string, 0, len(a.Params))
	for k := range a.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if a.Model == "" && v.broken[p+".model"] {
		return app, false // a model whose name could not be decoded: its keys are its own
	}
	if a.Model == "" {
		if a.Options != nil {
			v.errorf(p+".options", "options are for models; a script sets options with a step: do = \"set\"")
		}
		if a.Steps == nil {
			v.missingf(p, []string{"steps", "model"}, "an app needs steps ([[hosts.apps.steps]]) or a model (model = %q)", strings.Join(ModelNames(), "|"))
			return app, false
		}
		for _, k := range keys {
			if len(modelTakes(k)) > 0 {
				v.errorf(p+"."+k, "%q is a model parameter; an app with steps takes only name, copies, repeat and steps", k)
			} else {
				v.unknownParam(p, k, nil)
			}
		}
		if a.Repeat != nil {
			app.Repeat = v.count(p+".repeat", *a.Repeat, 1)
		}
		app.Steps = v.steps(p+".steps", a.Steps, all)
		v.fieldErrors(p, app.Validate(), nil)
		return app, len(v.errs) == before
	}
	info, ok := hosts.LookupModel(a.Model)
	if !ok {
		v.valuef(p+".model", "unknown model %q (want one of %s)", a.Model, strings.Join(ModelNames(), ", "))
		for _, k := range keys {
			if len(modelTakes(k)) == 0 {
				v.unknownParam(p, k, nil)
			}
		}
		return app, false
	}
	for _, k := range []string{"repeat", "steps"} {
		if k == "repeat" && a.Repeat != nil || k == "steps" && a.Steps != nil {
			v.errorf(p+"."+k, "model %q does not take %q (it takes %s)", a.Model, k, strings.Join(info.Keys(), ", "))
		}
	}
	m := info.New()
	for _, k := range keys {
		param, ok := info.Param(k)
		if !ok {
			if len(modelTakes(k)) > 0 {
				v.errorf(p+"."+k, "model %q does not take %q (it takes %s)", a.Model, k, strings.Join(info.Keys(), ", "))
			} else {
				v.unknownParam(p, k, info.Keys())
			}
			continue
		}
		if val, ok := v.param(p+"."+k, param, a.Params[k], all); ok {
			param.Set(m, val)
		}
	}
	app.Model = m
	v.fieldErrors(p, app.Validate(), nil)
	return app, len(v.errs) == before
}

// unknownParam reports key k of the app table at p, which no model (or
// not the app's, whose keys are params) takes, suggesting the key that
// was probably meant.
func (v *validator) unknownParam(p, k string, params []string) {
	known := slices.Clone(appKeys)
	if params == nil {
		for _, m := range hosts.Models() {
			params = append(params, m.Keys()...)
		}
	}
	known = append(known, params...)
	v.errorf(p+"."+k, "%s", unknownKeyIn(known, k, p+"."+k))
	v.markUnknown(p + "." + k) // perhaps a parameter misspelt
}

// param decodes the value raw of model parameter param, at key path path,
// into the Go value param.Set takes.
func (v *validator) param(path string, param hosts.Param, raw any, all []hosts.Config) (any, bool) {
	key := param.Key
	atLeast := func(n int64) int {
		if n == 0 && param.Min > 0 && param.Default == "" {
			// A 0 written where the model's 0 is "unset" or "missing",
			// which ValidateModel cannot tell from the key left out.
			v.valuef(path, "%s must be at least %d", key, param.Min)
		}
		if lim, ok := paramLimits[key]; ok {
			return v.countAtMost(path, n, 0, lim)
		}
		return v.integer(path, n) // ValidateModel checks it against Min
	}
	switch param.Kind {
	case hosts.ParamPort:
		var n int64
		if !v.decodeParam(path, key, raw, &n) {
			return nil, false
		}
		return v.port(path, n), true
	case hosts.ParamInt:
		var n int64
		if !v.decodeParam(path, key, raw, &n) {
			return nil, false
		}
		return atLeast(n), true
	case hosts.ParamSize:
		var n Size
		if !v.decodeParam(path, key, raw, &n) {
			return nil, false
		}
		return atLeast(max(min(n.Bytes(), 1<<40), -1<<40)), true
	case hosts.ParamDuration:
		var d Duration
		if !v.decodeParam(path, key, raw, &d) {
			return nil, false
		}
		return d.D(), true
	case hosts.ParamBool:
		var b bool
		return b, v.decodeParam(path, key, raw, &b)
	case hosts.ParamText:
		var s string
		if !v.decodeParam(path, key, raw, &s) {
			return nil, false
		}
		return []byte(s), true
	case hosts.ParamTimes:
		var ds []Duration
		if !v.decodeParam(path, key, raw, &ds) {
			return nil, false
		}
		out := make([]time.Duration, len(ds))
		for i, d := range ds {
			out[i] = d.D()
		}
		return out, true
	case hosts.ParamTarget:
		var s string
		if !v.decodeParam(path, key, raw, &s) || s == "" {
			return nil, false
		}
		return hosts.Target{Addr: v.target(path, s, all), Name: s}, true
	}
	panic(fmt.Sprintf("labs: parameter %s of kind %v", key, param.Kind))
}

// decodeParam decodes raw into dst, a pointer to a spec type, as the
// decoder decodes a file's keys, and reports whether it could.
func (v *validator) decodeParam(path, key string, raw any, dst any) bool {
	d := &decoder{file: v.file, pos: v.pos}
	d.value(reflect.ValueOf(dst).Elem(), raw, path, key)
	v.errs = append(v.errs, d.errs...)
	for _, b := range d.broken {
		v.markBroken(b)
	}
	for _, u := range d.unknown {
		v.markUnknown(u)
	}
	v.reported[path] = v.reported[path] || len(d.errs) > 0
	return len(d.errs) == 0
}
