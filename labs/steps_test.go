package labs

import (
	"context"
	"testing"
	"time"

	"github.com/tcplab/tcplab/hosts"
	"github.com/tcplab/tcplab/internal/segment"
)

// TestLoadStepErrors checks the errors of the keys a connect timeout,
// on_error, so_error and tcp_info bring, each at its place.
func TestLoadStepErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{
			name: "unknown on_error",
			src:  withA(`  [[hosts.steps]]`, `  do = "close"`, `  on_error = "ignore"`),
			want: `x.toml:6:14: unknown on_error "ignore" (want stop or continue)`,
		},
		{
			name: "connect timeout not positive",
			src:  withA(`  [[hosts.steps]]`, `  do = "connect"`, `  to = "a:80"`, `  timeout = "0s"`),
			want: `x.toml:7:13: timeout must be positive`,
		},
		{
			name: "so_error takes no keys",
			src:  withA(`  [[hosts.steps]]`, `  do = "so_error"`, `  timeout = "1s"`),
			want: `x.toml:6:3: action "so_error" does not take "timeout"`,
		},
		{
			name: "tcp_info takes no keys",
			src:  withA(`  [[hosts.steps]]`, `  do = "tcp_info"`, `  bytes = 3`),
			want: `x.toml:6:3: action "tcp_info" does not take "bytes"`,
		},
		{
			name: "mtu too small for IPv4",
			src:  withA(`[[links]]`, `host = "a"`, `mtu = 500`),
			want: `x.toml:6:7: mtu 500 is smaller than 576, the least every IPv4 host must accept`,
		},
		{
			name: "mtu too small for IPv6",
			src:  lines(`[[hosts]]`, `name = "a"`, `ipv6 = "fd00::1"`, `[[links]]`, `host = "a"`, `mtu = 1000`),
			want: `x.toml:6:7: mtu 1000 is smaller than 1280, the least an IPv6 link must carry (the host has an IPv6 address)`,
		},
		{
			name: "mtu zero",
			src:  withA(`[[links]]`, `host = "a"`, `mtu = 0`),
			want: `x.toml:6:7: mtu must be positive`,
		},
		{
			name: "mtu too large",
			src:  withA(`[[links]]`, `host = "a"`, `mtu = 70000`),
			want: `x.toml:6:7: mtu 70000 is larger than 65535, the largest IP packet`,
		},
		{
			name: "mtu in one direction",
			src:  withA(`[[links]]`, `host = "a"`, `[links.out]`, `mtu = 1400`),
			want: `x.toml:7:1: unknown key "links.out.mtu"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := loadErrors(t, tt.src)
			if got := list.Error(); got != tt.want {
				t.Errorf("Load(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

// TestLoadSteps checks what the new step keys become.
func TestLoadSteps(t *testing.T) {
	lab, err := Load("x.toml", []byte(withA(
		`  [[hosts.steps]]`, `  do = "connect"`, `  to = "a:80"`, `  timeout = "3s"`, `  on_error = "continue"`,
		`  [[hosts.steps]]`, `  do = "so_error"`, `  on_error = "stop"`,
		`  [[hosts.steps]]`, `  do = "tcp_info"`, `  socket = "c2"`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	got := lab.Hosts[0].Steps
	if len(got) != 3 {
		t.Fatalf("Load: %d steps, want 3", len(got))
	}
	if s := got[0]; s.Action != hosts.Connect || s.Timeout != 3*time.Second || s.OnError != hosts.Continue {
		t.Errorf("step 1 = %+v, want connect, timeout 3s, on_error continue", s)
	}
	if s := got[1]; s.Action != hosts.SoError || s.OnError != hosts.Stop {
		t.Errorf("step 2 = %+v, want so_error, on_error stop", s)
	}
	if s := got[2]; s.Action != hosts.TCPInfo || s.Socket != "c2" || s.OnError != hosts.Stop {
		t.Errorf("step 3 = %+v, want tcp_info on c2, on_error stop (the default)", s)
	}
}

// TestLoadMTU checks that a link's mtu reaches the lab's link and, through
// the runner, its host's NIC (the SYN's MSS).
func TestLoadMTU(t *testing.T) {
	lab, err := Load("x.toml", []byte(lines(
		`[[hosts]]`, `name = "a"`, `ipv4 = "10.0.0.1"`,
		`  [[hosts.steps]]`, `  do = "connect"`, `  to = "b:80"`,
		`[[hosts]]`, `name = "b"`, `ipv4 = "10.0.0.2"`,
		`  [[hosts.steps]]`, `  do = "listen"`, `  port = 80`,
		`[[links]]`, `host = "a"`, `mtu = 1400`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	if lab.Links[0].MTU != 1400 || lab.Links[1].MTU != 0 {
		t.Fatalf("links' MTUs = %d, %d; want 1400, 0 (the default)", lab.Links[0].MTU, lab.Links[1].MTU)
	}
	run, err := Execute(context.Background(), lab, RunOptions{KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	mss := map[string]int{}
	for _, r := range run.Rows {
		if r.Seg != nil && r.Seg.Flags&segment.SYN != 0 {
			mss[r.Host] = r.Seg.Opts.MSS
		}
	}
	if mss["a"] != 1360 || mss["b"] != 1460 {
		t.Errorf("MSS advertised = %v, want a 1360 (MTU 1400), b 1460 (MTU 1500)", mss)
	}
}
