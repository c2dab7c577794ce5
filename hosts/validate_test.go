package hosts

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tcplab/tcplab/internal/field"
)

// fields returns the fields and messages of err, a field.List.
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var l field.List
	if !errors.As(err, &l) {
		t.Fatalf("error %v is a %T, want a field.List", err, err)
	}
	var out []string
	for _, e := range l {
		out = append(out, e.Field+": "+e.Msg)
	}
	return out
}

func TestModelDefaults(t *testing.T) {
	srv := mustModel(t, "http-server").New().(*HTTPServer)
	if srv.Backlog != DefaultBacklog || !srv.KeepAlive {
		t.Errorf("http-server defaults: backlog %d, persistent %v; want %d, true", srv.Backlog, srv.KeepAlive, DefaultBacklog)
	}
	for _, name := range []string{"echo-server", "sink"} {
		m := mustModel(t, name).New()
		if b := reflectBacklog(m); b != DefaultBacklog {
			t.Errorf("%s default backlog %d, want %d", name, b, DefaultBacklog)
		}
	}
	if h := mustModel(t, "holder").New().(*Holder); h.Count != 1 {
		t.Errorf("holder default count %d, want 1", h.Count)
	}
	var names []string
	for _, m := range Models() {
		names = append(names, m.Name)
		if len(m.Params) == 0 || m.Doc == "" {
			t.Errorf("model %s: %d parameters, doc %q", m.Name, len(m.Params), m.Doc)
		}
	}
	if want := []string{"http-server", "pool-client", "echo-server", "bulk-sender", "sink", "holder"}; !slices.Equal(names, want) {
		t.Errorf("Models() = %v, want %v", names, want)
	}
}

func reflectBacklog(m Model) int {
	switch m := m.(type) {
	case *EchoServer:
		return m.Backlog
	case *Sink:
		return m.Backlog
	}
	return -1
}

func mustModel(t *testing.T, name string) ModelInfo {
	t.Helper()
	m, ok := LookupModel(name)
	if !ok {
		t.Fatalf("LookupModel(%q) = false", name)
	}
	return m
}

func TestValidateModel(t *testing.T) {
	s := time.Second
	tests := []struct {
		name  string
		model Model
		want  []string
	}{
		{name: "valid", model: &HTTPServer{Port: 80, Backlog: 0}},
		{name: "required", model: &PoolClient{}, want: []string{`to: model "pool-client" needs to`, `requests: model "pool-client" needs requests`}},
		{name: "negatives", model: HTTPServer{Port: 80, IdleTimeout: -s, Backlog: -1, MaxConnections: -2},
			want: []string{"backlog: backlog -1 is negative", "idle_timeout: idle_timeout -1s is negative", "max_connections: max_connections -2 is negative"}},
		{name: "response twice", model: &HTTPServer{Port: 80, Response: []byte("x"), ResponseBytes: 5},
			want: []string{"response_bytes: http-server takes response or response_bytes, not both"}},
		{name: "requests out of order", model: &PoolClient{Target: netip.MustParseAddrPort("10.0.0.2:80"), Requests: []time.Duration{2 * s, s}},
			want: []string{"requests.1: request times must not decrease: 1s comes after 2s"}},
		{name: "a 0 that means no limit", model: &HTTPServer{Port: 80, MaxConnections: 0}},
		{name: "a 0 below min with a default", model: &Holder{Target: netip.MustParseAddrPort("10.0.0.2:80")},
			want: []string{"count: count must be at least 1"}},
		{name: "no requests", model: &PoolClient{Target: netip.MustParseAddrPort("10.0.0.2:80"), Requests: []time.Duration{}},
			want: []string{`requests: requests needs at least one time, such as ["1s", "80s"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fields(t, ValidateModel(tt.model)); !slices.Equal(got, tt.want) {
				t.Errorf("ValidateModel(%+v) = %q, want %q", tt.model, got, tt.want)
			}
		})
	}
}

func TestParamSet(t *testing.T) {
	info := mustModel(t, "pool-client")
	m := info.New()
	to, _ := info.Param("to")
	to.Set(m, Target{Addr: netip.MustParseAddrPort("10.0.0.2:80"), Name: "server:80"})
	req, _ := info.Param("requests")
	req.Set(m, []time.Duration{time.Second})
	c := m.(*PoolClient)
	if c.TargetName != "server:80" || c.Target.Port() != 80 || len(c.Requests) != 1 {
		t.Errorf("after Set: %+v", c)
	}
	if err := ValidateModel(m); err != nil {
		t.Errorf("ValidateModel(%+v) = %v, want nil", c, err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{name: "valid", cfg: Config{Name: "a", IPv4: netip.MustParseAddr("10.0.0.1"), IPv6: netip.MustParseAddr("fd00::1")}},
		{name: "none", cfg: Config{Name: "a"}, want: []string{`ipv4: host "a" needs an address: ipv4 = "10.0.0.1" or ipv6 = "fd00::1"`}},
		{name: "families", cfg: Config{IPv4: netip.MustParseAddr("fd00::1"), IPv6: netip.MustParseAddr("::ffff:10.0.0.1")},
			want: []string{`ipv4: "fd00::1" is not an IPv4 address`, `ipv6: "::ffff:10.0.0.1" is not an IPv6 address`}},
		{name: "loopback", cfg: Config{IPv4: netip.MustParseAddr("127.0.0.1")},
			want: []string{`ipv4: 127.0.0.1 is a loopback address: it never leaves its host, so nothing on the switch can reach it; use an address such as "10.0.0.1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fields(t, tt.cfg.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("%+v.Validate() = %q, want %q", tt.cfg, got, tt.want)
			}
		})
	}
}

func TestOptionsAndAppValidate(t *testing.T) {
	half, zero := 500*time.Millisecond, 0
	o := Options{KeepIdle: &half, MSS: &zero, SendBuffer: &zero}
	want := []string{"keepalive_idle: keepalive_idle 500ms must be at least 1s", "send_buffer: send_buffer must be positive", "mss: mss must be at least 1"}
	if got := fields(t, o.Validate()); !slices.Equal(got, want) {
		t.Errorf("Options.Validate() = %q, want %q", got, want)
	}
	a := App{Model: &Sink{Port: 9}, Repeat: 2, Options: Options{KeepIdle: &half}}
	want = []string{"repeat: a model cannot repeat", "options.keepalive_idle: keepalive_idle 500ms must be at least 1s"}
	if got := fields(t, a.Validate()); !slices.Equal(got, want) {
		t.Errorf("App.Validate() = %q, want %q", got, want)
	}
}
