package hosts

import (
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// TestLinuxFields fails when netstack's layout no longer has the fields
// the linux profile writes: the handshake's backoff timeout (linux_syn.go)
// and a listener's accept queue capacity (linux_edge.go).
func TestLinuxFields(t *testing.T) {
	if _, ok := handshakeLayout(); !ok {
		t.Error("tcp.Endpoint.h.retransmitTimer.timeout not found: the SYN schedule cannot be emulated")
	}
	h := &Host{}
	ep := &tcp.Endpoint{}
	h.setListenCapacity(ep, 7, 3)
	if !listenLayout.ok {
		t.Fatal("tcp.Endpoint.acceptQueue.capacity not found: Linux's SYN queue cannot be emulated")
	}
	if _, capacity, _, ok := acceptQueue(ep); !ok || capacity != 7 {
		t.Errorf("after setListenCapacity(7): capacity %d (ok %v), want 7", capacity, ok)
	}
	h.linuxRestore()
	if _, capacity, _, _ := acceptQueue(ep); capacity != 3 {
		t.Errorf("after restore: capacity %d, want 3", capacity)
	}
}

// TestSynBudget checks connect()'s time budget against Linux's
// tcp_model_timeout with a 1 s initial RTO.
func TestSynBudget(t *testing.T) {
	for _, c := range []struct {
		retries int
		want    time.Duration
	}{
		{1, 3 * time.Second},
		{2, 7 * time.Second},
		{6, 127 * time.Second},
		{7, 247 * time.Second}, // past ilog2(120): linear in TCP_RTO_MAX
	} {
		if got := synBudget(c.retries); got != c.want {
			t.Errorf("synBudget(%d) = %v, want %v", c.retries, got, c.want)
		}
	}
}

// TestKernelDefaults checks the defaults a kernel version sets.
func TestKernelDefaults(t *testing.T) {
	for _, c := range []struct {
		kernel    string
		somaxconn int
		linear    int
	}{
		{"4.19", 128, 0},
		{"5.4", 4096, 0},
		{"6.1", 4096, 0},
		{"6.5", 4096, 4},
		{"6.18", 4096, 4},
	} {
		s := DefaultSettings(Linux)
		s.SetKernel(c.kernel)
		if s.Somaxconn != c.somaxconn || s.Linux.SynLinearTimeouts != c.linear {
			t.Errorf("kernel %s: somaxconn %d, tcp_syn_linear_timeouts %d; want %d, %d", c.kernel, s.Somaxconn, s.Linux.SynLinearTimeouts, c.somaxconn, c.linear)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("kernel %s: %v", c.kernel, err)
		}
	}
	if ValidKernel("six") || ValidKernel("6") || ValidKernel("12.1") {
		t.Error("ValidKernel accepts a version that is not MAJOR.MINOR within 3–7")
	}
	n := DefaultSettings(Netstack)
	n.Linux.SynRetries = 3
	if err := n.Validate(); err == nil {
		t.Error("Validate accepts a linux setting under the netstack profile")
	}
}
