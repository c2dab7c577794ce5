package hosts

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/tcplab/tcplab/internal/field"
)

// The models describe themselves. Each parameter a lab file can set is a
// field of the model's struct with a tag, and everything else is derived
// from the tags: the keys labs decodes, their kinds, defaults and lower
// bounds, the checks of ValidateModel, and the parameter table of
// docs/LABS.md (a labs test regenerates and compares it). Adding a
// parameter is one edit: a tagged field (and its use in the model).
//
//	IdleTimeout time.Duration `lab:"idle_timeout" doc:"closes a connection idle this long"`
//
// The lab tag holds the key and, after commas, "required", "size" (an
// integer a lab may write as "64KB") and "min=N" (the least value a lab
// may write; ValidateModel holds the value to it, but for a 0 that means
// "unset", see Param.ZeroUnset). The default tag is the value as a lab writes it, or the
// name of a constant listed in namedDefaults (DefaultBacklog), applied by
// New; without one the default is the zero value. The doc tag says what
// the parameter does, for the reference. The Go type gives the kind:
// uint16 a port, int an integer, time.Duration a duration, bool, []byte a
// text, []time.Duration a list of times, netip.AddrPort a target
// ("server:80"; a sibling field named after it plus "Name" gets the text).

// DefaultBacklog is the listen backlog of a listen step and of a server
// model that do not set one.
const DefaultBacklog = 16

// namedDefaults are the defaults a default tag may name instead of
// spelling them, so that a default kept in a constant has one source.
var namedDefaults = map[string]string{"DefaultBacklog": strconv.Itoa(DefaultBacklog)}

// ParamKind is the kind of value a model parameter takes.
type ParamKind int

// Parameter kinds.
const (
	ParamPort     ParamKind = iota // a port, 1–65535
	ParamInt                       // an integer
	ParamSize                      // a byte count: 1500 or "64KB"
	ParamDuration                  // a duration: "75s"
	ParamBool                      // true or false
	ParamText                      // a string, sent as bytes
	ParamTimes                     // a list of durations: ["1s", "80s"]
	ParamTarget                    // a host and port: "server:80"
)

var paramKindNames = [...]string{"port", "integer", "size", "duration", "bool", "string", "durations", "host:port"}

// String names the kind as the reference does ("duration").
func (k ParamKind) String() string { return paramKindNames[k] }

// Param is one parameter of a model.
type Param struct {
	// Key is the parameter's key in a [[hosts.apps]] table.
	Key string
	// Kind is the kind of value it takes.
	Kind ParamKind
	// Required is set for a parameter a lab must write.
	Required bool
	// Default is the default as a lab writes it ("16"); "" means the zero
	// value.
	Default string
	// Min is the least value a lab may write, for an integer or a size.
	// ValidateModel holds the value to it, except a 0 that is the
	// parameter's "unset" (ZeroUnset).
	Min int64
	// Doc says what the parameter does.
	Doc string

	index []int // the field's index in the model's struct
	name  []int // the index of the target's Name field, if any
}

// ZeroUnset reports whether the parameter's zero value is its "unset",
// with a meaning the model's doc gives ("0 means no limit"), though below
// Min: it has a Min but neither a default nor Required. The model accepts
// it; a lab that writes it is told the Min (labs), since the key left out
// says the same thing.
func (p *Param) ZeroUnset() bool { return p.Min > 0 && p.Default == "" && !p.Required }

// ModelInfo describes one ready-made application model.
type ModelInfo struct {
	// Name is the model's name in a lab file ("http-server").
	Name string
	// Doc says what the model does.
	Doc string
	// Params are the model's parameters, in the order of its fields.
	Params []Param

	typ reflect.Type
}

// models lists the models in their documented order, with what they do.
var models = []ModelInfo{
	describe(HTTPServer{}, "like nginx: answers each request; closes a connection idle for `idle_timeout` (nginx `keepalive_timeout`); with `persistent = false` closes after each response; serves at most `max_connections` at once (the rest wait in the accept queue); accepts nothing before `accept_at`"),
	describe(PoolClient{}, "like an HTTP client's connection pool: at each time in `requests` sends a request on an idle pooled connection (reusing it even if the server has closed it) or a new one; closes pooled connections idle longer than `idle_timeout`; logs errors as a Go client does; `retry` retries once on a fresh connection"),
	describe(EchoServer{}, "echoes every byte, closes when the peer closes"),
	describe(BulkSender{}, "connects, sends `bytes`, closes"),
	describe(Sink{}, "reads and discards, closes at end of stream"),
	describe(Holder{}, "opens `count` connections, one every `interval`, and sends nothing; closes each after `hold` if set"),
}

// Models returns the ready-made models, in their documented order.
func Models() []ModelInfo { return models }

// LookupModel returns the model named name.
func LookupModel(name string) (ModelInfo, bool) {
	for _, m := range models {
		if m.Name == name {
			return m, true
		}
	}
	return ModelInfo{}, false
}

// Param returns the model's parameter key.
func (m ModelInfo) Param(key string) (Param, bool) {
	for _, p := range m.Params {
		if p.Key == key {
			return p, true
		}
	}
	return Param{}, false
}

// Keys lists the model's parameter keys in order.
func (m ModelInfo) Keys() []string {
	keys := make([]string, len(m.Params))
	for i, p := range m.Params {
		keys[i] = p.Key
	}
	return keys
}

// New returns a new model of this kind (a pointer) with every parameter
// at its default.
func (m ModelInfo) New() Model {
	v := reflect.New(m.typ)
	for _, p := range m.Params {
		if p.Default != "" {
			setDefault(v.Elem().FieldByIndex(p.index), p)
		}
	}
	return v.Interface().(Model)
}

// Target is the value of a ParamTarget: the address and how the lab named
// it ("server:80").
type Target struct {
	Addr netip.AddrPort
	Name string
}

// Set sets parameter p of model m, which New returned, to v: a uint16 for a
// port, an int for an integer or a size, a time.Duration, a bool, a []byte,
// a []time.Duration or a Target.
func (p Param) Set(m Model, v any) {
	s := reflect.ValueOf(m).Elem()
	if t, ok := v.(Target); ok {
		s.FieldByIndex(p.index).Set(reflect.ValueOf(t.Addr))
		if p.name != nil {
			s.FieldByIndex(p.name).SetString(t.Name)
		}
		return
	}
	s.FieldByIndex(p.index).Set(reflect.ValueOf(v))
}

// describe reads a model's parameters from the tags of its type.
func describe(m Model, doc string) ModelInfo {
	t := reflect.TypeOf(m)
	info := ModelInfo{Name: m.modelName(), Doc: doc, typ: t}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("lab")
		if !ok {
			continue
		}
		parts := strings.Split(tag, ",")
		p := Param{Key: parts[0], Default: f.Tag.Get("default"), Doc: f.Tag.Get("doc"), index: f.Index}
		if d, ok := namedDefaults[p.Default]; ok {
			p.Default = d
		}
		switch f.Type {
		case reflect.TypeFor[uint16]():
			p.Kind = ParamPort
		case reflect.TypeFor[int]():
			p.Kind = ParamInt
		case reflect.TypeFor[time.Duration]():
			p.Kind = ParamDuration
		case reflect.TypeFor[bool]():
			p.Kind = ParamBool
		case reflect.TypeFor[[]byte]():
			p.Kind = ParamText
		case reflect.TypeFor[[]time.Duration]():
			p.Kind = ParamTimes
		case reflect.TypeFor[netip.AddrPort]():
			p.Kind = ParamTarget
			if nf, ok := t.FieldByName(f.Name + "Name"); ok {
				p.name = nf.Index
			}
		default:
			panic(fmt.Sprintf("hosts: model %s: parameter %s has type %v", info.Name, p.Key, f.Type))
		}
		for _, opt := range parts[1:] {
			switch {
			case opt == "required":
				p.Required = true
			case opt == "size" && p.Kind == ParamInt:
				p.Kind = ParamSize
			case strings.HasPrefix(opt, "min="):
				n, err := strconv.ParseInt(strings.TrimPrefix(opt, "min="), 10, 64)
				if err != nil {
					panic(fmt.Sprintf("hosts: model %s: parameter %s: bad %q", info.Name, p.Key, opt))
				}
				p.Min = n
			default:
				panic(fmt.Sprintf("hosts: model %s: parameter %s: unknown option %q", info.Name, p.Key, opt))
			}
		}
		if p.Default != "" {
			setDefault(reflect.New(f.Type).Elem(), p) // panics on a bad default
		}
		info.Params = append(info.Params, p)
	}
	return info
}

// setDefault sets field v of parameter p to p's default.
func setDefault(v reflect.Value, p Param) {
	var err error
	switch p.Kind {
	case ParamInt, ParamSize:
		var n int64
		n, err = strconv.ParseInt(p.Default, 10, 64)
		v.SetInt(n)
	case ParamPort:
		var n uint64
		n, err = strconv.ParseUint(p.Default, 10, 16)
		v.SetUint(n)
	case ParamBool:
		var b bool
		b, err = strconv.ParseBool(p.Default)
		v.SetBool(b)
	case ParamDuration:
		var d time.Duration
		d, err = time.ParseDuration(p.Default)
		v.SetInt(int64(d))
	default:
		err = fmt.Errorf("a %v parameter has no default", p.Kind)
	}
	if err != nil {
		panic(fmt.Sprintf("hosts: parameter %s: default %q: %v", p.Key, p.Default, err))
	}
}

// modelChecker is implemented by models with rules beyond those of their
// parameters' kinds.
type modelChecker interface {
	check(l *field.List)
}

// ValidateModel reports every problem of model m, as a field.List whose
// fields are its parameters' keys, or nil: required parameters left at
// zero, negative durations and counts, and the model's own rules.
func ValidateModel(m Model) error {
	v := reflect.ValueOf(m)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	info, ok := LookupModel(m.modelName())
	if !ok {
		return field.List{{Msg: fmt.Sprintf("unknown model %T", m)}}
	}
	var l field.List
	for _, p := range info.Params {
		f := v.FieldByIndex(p.index)
		if p.Required && f.IsZero() {
			l.Add(p.Key, "model %q needs %s", info.Name, p.Key)
			continue
		}
		switch p.Kind {
		case ParamDuration:
			if d := time.Duration(f.Int()); d < 0 {
				l.Add(p.Key, "%s %v is negative", p.Key, d)
			}
		case ParamInt, ParamSize:
			switch n := f.Int(); {
			case n < 0:
				l.Add(p.Key, "%s %d is negative", p.Key, n)
			case n < p.Min && (n != 0 || !p.ZeroUnset()):
				l.Add(p.Key, "%s must be at least %d", p.Key, p.Min)
			}
		case ParamTimes:
			for i, d := range f.Interface().([]time.Duration) {
				if d < 0 {
					l.Add(field.Index(p.Key, i), "%s %v is negative", p.Key, d)
				}
			}
		}
	}
	if c, ok := v.Interface().(modelChecker); ok {
		c.check(&l)
	}
	return l.Err()
}

func (m HTTPServer) check(l *field.List) {
	if m.Response != nil && m.ResponseBytes != 0 {
		l.AddKey("response_bytes", "http-server takes response or response_bytes, not both")
	}
}

func (m PoolClient) check(l *field.List) {
	if m.Requests != nil && len(m.Requests) == 0 {
		l.Add("requests", "requests needs at least one time, such as [\"1s\", \"80s\"]")
	}
	for j := 1; j < len(m.Requests); j++ {
		if m.Requests[j] < m.Requests[j-1] {
			l.Add(field.Index("requests", j), "request times must not decrease: %v comes after %v", m.Requests[j], m.Requests[j-1])
		}
	}
}
