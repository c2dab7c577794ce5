package capture_test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tcplab/tcplab/capture"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/tap"
)

// Captures no one tuned to: the machine's own kernel, in two network
// namespaces joined by a veth pair, with tcpdump capturing on each side and
// ss polled in both, and small Python clients and servers
// (testdata/netns/peer.py) running eight scenarios at once: handshake and
// close, half-close, simultaneous close (both FINs dropped by nftables
// until their retransmissions cross), a RST by SO_LINGER 0, a refused connection, a SYN to a port
// nftables drops, a keep-alive mismatch (short keep-alive sysctls on the
// client, an idle timeout on the server), and an accept queue that
// overflows. Each capture is explained, and every state ss saw an endpoint
// in must be on the endpoint's inferred path, in order, and ss's last
// state its inferred final state.

// The two namespaces' addresses.
var (
	clientAddr = netip.MustParseAddr("10.77.0.1")
	serverAddr = netip.MustParseAddr("10.77.0.2")
)

// The scenarios and their server ports, as peer.py numbers them.
var scenarioPorts = map[string]uint16{
	"close": 7001, "halfclose": 7002, "simclose": 7003, "linger": 7004,
	"refused": 7005, "dropped": 7006, "keepalive": 7007, "backlog": 7008,
}

// needNetns skips the test when it cannot run here, saying why, and fails
// it instead under CI when it should be able to run (root).
func needNetns(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("namespace tests run the kernel for seconds: not with -short")
	}
	why := ""
	switch {
	case os.Geteuid() != 0:
		t.Skip("namespace tests need root (they create network namespaces); run as root to include them")
	default:
		for _, tool := range []string{"ip", "tcpdump", "ss", "python3", "nft"} {
			if _, err := exec.LookPath(tool); err != nil {
				why = fmt.Sprintf("%s is not installed", tool)
				break
			}
		}
	}
	if why == "" {
		name := fmt.Sprintf("tcplabprobe%d", os.Getpid())
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			why = fmt.Sprintf("cannot create a network namespace: %v: %s", err, bytes.TrimSpace(out))
		} else {
			exec.Command("ip", "netns", "del", name).Run()
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("namespace tests must run under CI as root: %s", why)
	}
	t.Skipf("namespace tests cannot run: %s", why)
}

// netns is the pair of namespaces.
type netns struct {
	t    *testing.T
	a, b string // client and server namespaces
	dir  string
}

func (n *netns) run(ns string, args ...string) {
	n.t.Helper()
	cmd := append([]string{"netns", "exec", ns}, args...)
	if out, err := exec.Command("ip", cmd...).CombinedOutput(); err != nil {
		n.t.Fatalf("ip %s: %v: %s", strings.Join(cmd, " "), err, out)
	}
}

func newNetns(t *testing.T) *netns {
	t.Helper()
	pid := os.Getpid()
	n := &netns{t: t, a: fmt.Sprintf("tcplabA%d", pid), b: fmt.Sprintf("tcplabB%d", pid), dir: t.TempDir()}
	for _, ns := range []string{n.a, n.b} {
		exec.Command("ip", "netns", "del", ns).Run()
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	if out, err := exec.Command("ip", "link", "add", "tla", "netns", n.a, "type", "veth", "peer", "name", "tlb", "netns", n.b).CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v: %s", err, out)
	}
	for _, c := range []struct{ ns, dev, addr string }{{n.a, "tla", clientAddr.String()}, {n.b, "tlb", serverAddr.String()}} {
		n.run(c.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
		n.run(c.ns, "ip", "addr", "add", c.addr+"/24", "dev", c.dev)
		n.run(c.ns, "ip", "link", "set", c.dev, "up")
		n.run(c.ns, "ip", "link", "set", "lo", "up")
	}
	// Short keep-alive on the client: probes after 1 s idle, 1 s apart.
	n.run(n.a, "sysctl", "-qw", "net.ipv4.tcp_keepalive_time=1", "net.ipv4.tcp_keepalive_intvl=1", "net.ipv4.tcp_keepalive_probes=3")
	// Both have a firewall; the server's drops SYNs to port 7006.
	for _, ns := range []string{n.a, n.b} {
		n.run(ns, "nft", "add table inet tcplab; add chain inet tcplab input { type filter hook input priority 0; }")
	}
	n.run(n.b, "nft", "add rule inet tcplab input tcp dport 7006 drop")
	return n
}

// start starts a long-running command in namespace ns; stop sends it
// SIGINT and waits.
func (n *netns) start(ns string, stdout io.Writer, args ...string) *exec.Cmd {
	n.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdout = stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	n.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// startErr is start with the command's standard error kept.
func (n *netns) startErr(ns string, stderr io.Writer, args ...string) *exec.Cmd {
	n.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	n.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// waitFile waits until path exists and is not empty (tcpdump has written
// its header), or fails.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for range 200 {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s was not created", path)
}

// ssLog is what ss saw: each endpoint's states in order.
type ssLog map[[2]netip.AddrPort][]string

// parseSS reads the output of the ss poll loop.
func parseSS(out string) (ssLog, map[[2]netip.AddrPort]bool) {
	log := ssLog{}
	var snaps []map[[2]netip.AddrPort]bool
	var cur map[[2]netip.AddrPort]bool
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "@" {
			cur = map[[2]netip.AddrPort]bool{}
			snaps = append(snaps, cur)
			continue
		}
		if len(f) < 5 || cur == nil {
			continue
		}
		local, err1 := netip.ParseAddrPort(f[3])
		remote, err2 := netip.ParseAddrPort(f[4])
		if err1 != nil || err2 != nil {
			continue // a listener: *:port
		}
		st := strings.ReplaceAll(f[0], "-", "_")
		switch st {
		case "ESTAB":
			st = "ESTABLISHED"
		case "SYN_RECV":
			st = "SYN_RCVD"
		}
		k := [2]netip.AddrPort{local, remote}
		cur[k] = true
		if s := log[k]; len(s) == 0 || s[len(s)-1] != st {
			log[k] = append(log[k], st)
		}
	}
	last := map[[2]netip.AddrPort]bool{}
	if len(snaps) > 0 {
		last = snaps[len(snaps)-1]
	}
	return log, last
}

// pythonPath returns the Python interpreter to run peer.py with: the
// system's, when there is one (a version manager's shim takes a second to
// start).
func pythonPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is a buffer a command writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// isSubsequence reports whether sub appears in seq in order.
func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}

func TestNetnsCaptures(t *testing.T) {
	needNetns(t)
	n := newNetns(t)
	peer, err := filepath.Abs("testdata/netns/peer.py")
	if err != nil {
		t.Fatal(err)
	}
	poll := `while :; do echo "@ $(date +%s%N)"; ss -tanH; sleep 0.003; done`
	var ssA, ssB syncBuffer
	pollA := n.start(n.a, &ssA, "sh", "-c", poll)
	pollB := n.start(n.b, &ssB, "sh", "-c", poll)
	capA, capB := filepath.Join(n.dir, "client.pcap"), filepath.Join(n.dir, "server.pcap")
	var dumpErrA, dumpErrB syncBuffer
	dumpA := n.startErr(n.a, &dumpErrA, "tcpdump", "--immediate-mode", "-B", "16384", "-i", "tla", "-U", "-s", "0", "-w", capA)
	dumpB := n.startErr(n.b, &dumpErrB, "tcpdump", "--immediate-mode", "-B", "16384", "-i", "tlb", "-U", "-s", "0", "-w", capB)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tcpdump (client side): %s\ntcpdump (server side): %s", dumpErrA.String(), dumpErrB.String())
		}
	})
	waitFile(t, capA)
	waitFile(t, capB)
	time.Sleep(100 * time.Millisecond) // tcpdump has its filter in place

	names := strings.Join(slices.Sorted(maps.Keys(scenarioPorts)), ",")
	python := pythonPath(t)
	var serverOut, serverErr, clientErr syncBuffer
	server := exec.Command("ip", "netns", "exec", n.b, python, peer, "server", names)
	server.Stdout, server.Stderr = &serverOut, &serverErr
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server's stderr:\n%s\nclient's stderr:\n%s", serverErr.String(), clientErr.String())
		}
	})
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Process.Kill(); server.Wait() })
	for i := 0; !strings.Contains(serverOut.String(), "listening"); i++ {
		if i == 500 {
			t.Fatal("the servers did not start listening within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Simultaneous close: both ends shut down at go+0.3 s. Each end's
	// firewall drops the other's FIN on input, after the capture on its
	// side saw it, until 0.15 s later, so that both FINs are out before
	// either is taken and their retransmissions cross. The rules are in
	// place before the clients start.
	n.run(n.b, "nft", "add rule inet tcplab input tcp dport 7003 tcp flags & fin == fin drop")
	n.run(n.a, "nft", "add rule inet tcplab input tcp sport 7003 tcp flags & fin == fin drop")
	// The clients start at go, once their interpreter is up.
	goAt := time.Now().Add(400 * time.Millisecond)
	startArg := strconv.FormatFloat(float64(goAt.UnixNano())/1e9, 'f', 6, 64)
	client := exec.Command("ip", "netns", "exec", n.a, python, peer, "client", names, startArg)
	client.Stderr = &clientErr
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(goAt.Add(450 * time.Millisecond)))
	n.run(n.b, "nft", "flush chain inet tcplab input; add rule inet tcplab input tcp dport 7006 drop")
	n.run(n.a, "nft", "flush chain inet tcplab input")
	done := make(chan error, 1)
	go func() { done <- client.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("client: %v", err)
		}
	case <-time.After(15 * time.Second):
		client.Process.Kill()
		t.Fatal("client did not finish")
	}
	t.Logf("clients done %v after go", time.Since(goAt))
	// Ending the server closes its listeners; the connections waiting in
	// the full accept queue are reset.
	server.Process.Signal(syscall.SIGTERM)
	server.Wait()
	time.Sleep(100 * time.Millisecond)
	stop(dumpA)
	stop(dumpB)
	stop(pollA)
	stop(pollB)

	logA, lastA := parseSS(ssA.String())
	logB, lastB := parseSS(ssB.String())
	seen := ssLog{}
	last := map[[2]netip.AddrPort]bool{}
	for k, v := range logA {
		seen[k] = v
	}
	for k, v := range logB {
		seen[k] = v
	}
	for k := range lastA {
		last[k] = true
	}
	for k := range lastB {
		last[k] = true
	}
	for _, c := range []struct {
		file string
		near netip.Addr
	}{{capA, clientAddr}, {capB, serverAddr}} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			data, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			rows, x := explain(t, data, capture.Options{})
			checkAgainstSS(t, rows, seen, last)
			checkScenarios(t, rows, x, c.near)
			if dir := os.Getenv("TCPLAB_KEEP_CAPTURES"); t.Failed() || dir != "" {
				if dir == "" {
					dir = os.TempDir()
				}
				keep := filepath.Join(dir, "tcplab-netns-"+filepath.Base(c.file))
				os.WriteFile(keep, data, 0o644)
				t.Logf("capture kept in %s; ss saw:\n%s", keep, ssSummary(seen))
			}
		})
	}
}

func ssSummary(s ssLog) string {
	var lines []string
	for k, v := range s {
		lines = append(lines, fmt.Sprintf("  %s ↔ %s: %s", k[0], k[1], strings.Join(v, " → ")))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// inferred returns each endpoint's inferred path and final state, by
// local and remote endpoint.
func inferred(rows []*tap.Row) map[[2]netip.AddrPort][]string {
	out := map[[2]netip.AddrPort][]string{}
	for _, r := range rows {
		if r.Kind != tap.KindState {
			continue
		}
		k := [2]netip.AddrPort{r.Local, r.Remote}
		if len(out[k]) == 0 {
			out[k] = append(out[k], r.FromState.String())
		}
		out[k] = append(out[k], r.ToState.String())
	}
	return out
}

// checkAgainstSS checks every endpoint of the scenarios that ss saw.
func checkAgainstSS(t *testing.T, rows []*tap.Row, seen ssLog, last map[[2]netip.AddrPort]bool) {
	t.Helper()
	inf := inferred(rows)
	checked := 0
	for k, states := range seen {
		port := k[1].Port()
		if k[0].Addr() == serverAddr {
			port = k[0].Port()
		}
		if !slices.Contains(slices.Collect(maps.Values(scenarioPorts)), port) {
			continue
		}
		path := inf[k]
		if !isSubsequence(states, path) {
			t.Errorf("%s ↔ %s: ss saw %s, inferred %s", k[0], k[1], strings.Join(states, " → "), strings.Join(path, " → "))
			continue
		}
		final := "CLOSED"
		if last[k] {
			final = states[len(states)-1]
		}
		got := ""
		if len(path) > 0 {
			got = path[len(path)-1]
		}
		// A connect() given up in SYN_SENT sends nothing: the capture
		// cannot see it.
		if got != final && !(got == "SYN_SENT" && final == "CLOSED") {
			t.Errorf("%s ↔ %s: ss's last state %s, inferred final state %s (path %s)", k[0], k[1], final, got, strings.Join(path, " → "))
		}
		checked++
	}
	t.Logf("%d endpoints agree with what ss saw", checked)
	if checked < 8 {
		t.Errorf("compared %d endpoints with ss, want at least 8 (eight scenarios)", checked)
	}
}

// checkScenarios checks what each scenario must show, by note keys and
// state paths.
func checkScenarios(t *testing.T, rows []*tap.Row, x *capture.Explainer, near netip.Addr) {
	t.Helper()
	keys := map[uint16]map[string]bool{}
	var sideNotes []string
	for _, r := range rows {
		var port uint16
		switch {
		case r.Kind == tap.KindSegment && r.Seg.Dst.Addr() == serverAddr:
			port = r.Seg.Dst.Port()
		case r.Kind == tap.KindSegment:
			port = r.Seg.Src.Port()
		case r.Kind == tap.KindState && r.Local.Addr() == serverAddr:
			port = r.Local.Port()
		case r.Kind == tap.KindState:
			port = r.Remote.Port()
		}
		if keys[port] == nil {
			keys[port] = map[string]bool{}
		}
		for _, m := range r.Notes {
			keys[port][m.Key] = true
			switch m.Key {
			case "cap.side":
				sideNotes = append(sideNotes, fmt.Sprint(m.Args[0]))
			case "cap.side.both":
				sideNotes = append(sideNotes, "both")
			}
		}
		if r.Kind == tap.KindState && r.Cause.Kind == event.ByApp && r.Cause.Op == "shutdown" {
			keys[port]["op.shutdown"] = true
		}
	}
	for _, c := range []struct {
		scenario string
		want     []string // each a key, or alternatives separated by |
	}{
		{"close", []string{"seg.hs1", "seg.hs2", "seg.hs3", "seg.close1", "st.timewait", "st.closed.lastack"}},
		{"halfclose", []string{"op.shutdown", "st.finwait1.shutdown", "seg.data.halfclose"}},
		{"linger", []string{"seg.rst.abort", "st.closed.abort", "st.closed.reset"}},
		{"refused", []string{"seg.rst.refused", "st.closed.refused"}},
		{"dropped", []string{"cap.pat.syn", "cap.syn.retrans", "cap.unseen"}},
		{"keepalive", []string{"seg.keepalive", "seg.keepalive.ack", "cap.pat.findatarst", "seg.rst.closed"}},
		{"backlog", []string{"cap.pat.finalack|cap.pat.syn"}},
		{"simclose", []string{"seg.close1", "seg.simclose.fin|seg.close23|seg.close3"}},
	} {
		got := keys[scenarioPorts[c.scenario]]
		for _, w := range c.want {
			if !slices.ContainsFunc(strings.Split(w, "|"), func(k string) bool { return got[k] }) {
				t.Errorf("%s: no row has note %s; notes: %v", c.scenario, w, slices.Sorted(maps.Keys(got)))
			}
		}
	}
	if len(sideNotes) == 0 {
		t.Errorf("no handshake says which side the capture was taken near")
	}
	// On a veth pair both ends answer within microseconds: the capture is
	// near both. It must never name the far end.
	for _, s := range sideNotes {
		if s != near.String() && s != "both" {
			t.Errorf("a handshake says the capture was taken near %s, want %s or both", s, near)
		}
	}
	sums, _ := x.Summaries()
	if len(sums) < 8 {
		t.Errorf("%d connection summaries, want at least 8", len(sums))
	}
}
