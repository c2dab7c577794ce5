package reference

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcplab/tcplab/hosts"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/topology"
	"golang.org/x/sys/unix"
)

// tracefs is where the kernel's tracing file system is mounted.
const tracefs = "/sys/kernel/tracing"

// Available returns nil when kernel runs are possible here, or an error
// that says why not.
func Available() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("not Linux (%s)", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return errors.New("not root: network namespaces, sysctls and tracefs need root")
	}
	for _, tool := range []string{"ip", "tcpdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s(8) is not installed", tool)
		}
	}
	if _, err := os.Stat(filepath.Join(tracefs, "instances")); err != nil {
		return fmt.Errorf("tracefs is not mounted at %s (mount -t tracefs nodev %s)", tracefs, tracefs)
	}
	if _, err := os.Stat(filepath.Join(tracefs, "events/sock/inet_sock_set_state")); err != nil {
		return errors.New("the kernel has no sock:inet_sock_set_state tracepoint")
	}
	name := fmt.Sprintf("tcplab-probe-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("cannot create a network namespace: %v: %s", err, strings.TrimSpace(string(out)))
	}
	exec.Command("ip", "netns", "del", name).Run()
	return nil
}

// runs numbers kernel runs within this process.
var runs atomic.Int32

// kernelRun is one run of a lab on the kernel.
type kernelRun struct {
	lab      *labs.Lab
	prefix   string // namespace names start with it
	sw       string // the switch's namespace
	ns       []string
	toRun    map[netip.Addr]netip.Addr // lab address → run address
	fromRun  map[netip.Addr]string     // run address → host name
	defaults []hosts.Options
	start    time.Time
	monoAt   time.Duration // CLOCK_MONOTONIC at start
	deadline time.Time
	wg       sync.WaitGroup
	fds      fds

	mu     sync.Mutex
	errors []AppError
}

// ErrIncompleteCapture is the error of a kernel run whose capture lost
// packets (tcpdump's ring was full): what it recorded is not all that was
// sent. Running it again may succeed.
var ErrIncompleteCapture = errors.New("the kernel run's capture is incomplete")

// Run runs lab's scenario on the machine's kernel for the lab's time limit
// of real time and returns what happened. The lab may use IPv4 hosts with
// step scripts (no models), up to 250 hosts; links without impairments;
// no faults and no injections. A connect to an address no host owns goes
// into a black hole; a fault rule that drops everything from one host to
// another (from and to, nothing else) is a one-way partition. Run needs
// what Available checks.
func Run(ctx context.Context, lab *labs.Lab) (*Record, error) {
	if err := supported(lab); err != nil {
		return nil, err
	}
	n := runs.Add(1)
	r := &kernelRun{
		lab:     lab,
		prefix:  fmt.Sprintf("tcplab-%d-%d", os.Getpid(), n),
		toRun:   map[netip.Addr]netip.Addr{},
		fromRun: map[netip.Addr]string{},
		fds:     fds{open: map[int]bool{}},
	}
	// A /24 of the run's own: 10.(200 + pid%50).(n%250).x.
	net := [3]byte{10, byte(200 + os.Getpid()%50), byte(n % 250)}
	for i, h := range lab.Hosts {
		a := netip.AddrFrom4([4]byte{net[0], net[1], net[2], byte(i + 1)})
		r.toRun[h.IPv4] = a
		r.fromRun[a] = h.Name
		r.defaults = append(r.defaults, socketDefaults(h.Settings))
	}
	holes := blackHoles(lab)
	for i, a := range holes {
		ra := netip.AddrFrom4([4]byte{net[0], net[1], net[2], byte(200 + i)})
		r.toRun[a] = ra
		r.fromRun[ra] = a.String()
	}
	defer r.teardown()
	if err := r.setup(len(holes)); err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// supported checks that the lab uses only what a kernel run can do.
func supported(lab *labs.Lab) error {
	if len(lab.Injections) > 0 {
		return errors.New("reference: injections are not supported")
	}
	for _, f := range lab.Faults {
		if f.Action != topology.FaultDrop || f.From == "" || f.To == "" || f != (topology.Fault{Name: f.Name, Action: f.Action, From: f.From, To: f.To}) {
			return fmt.Errorf("reference: fault %s: only drop rules with from and to and nothing else (a one-way partition) are supported", f.Name)
		}
	}
	if len(lab.Hosts) > 199 {
		return errors.New("reference: too many hosts")
	}
	for i, h := range lab.Hosts {
		if !h.IPv4.IsValid() || h.IPv6.IsValid() {
			return fmt.Errorf("reference: host %s: only IPv4 hosts are supported", h.Name)
		}
		for _, a := range h.Apps {
			if a.Model != nil {
				return fmt.Errorf("reference: host %s: models are not supported, only scripts", h.Name)
			}
		}
		if l := lab.Links[i]; l.Out != l.In || l.Out.Latency != 0 || l.Out.Loss != 0 || l.Out.Rate != 0 {
			return fmt.Errorf("reference: host %s: link impairments are not supported (no netem here)", h.Name)
		}
		if lab.Links[i].MTU != 0 {
			return fmt.Errorf("reference: host %s: a link mtu is not supported", h.Name)
		}
		if err := supportedSteps(h); err != nil {
			return fmt.Errorf("reference: host %s: %v", h.Name, err)
		}
	}
	return nil
}

// blackHoles returns the addresses scripts connect to that no host owns.
func blackHoles(lab *labs.Lab) []netip.Addr {
	owned := map[netip.Addr]bool{}
	for _, h := range lab.Hosts {
		owned[h.IPv4] = true
	}
	var out []netip.Addr
	var walk func([]hosts.Step)
	walk = func(steps []hosts.Step) {
		for _, st := range steps {
			if st.Action == hosts.Connect && !owned[st.Addr.Addr()] && !slices.Contains(out, st.Addr.Addr()) {
				out = append(out, st.Addr.Addr())
			}
			walk(st.Each)
		}
	}
	for _, h := range lab.Hosts {
		walk(h.Steps)
		for _, a := range h.Apps {
			walk(a.Steps)
		}
	}
	return out
}

// socketDefaults are the options every socket of a host starts with: the
// [hosts.tcp] settings that Linux has as socket options, not sysctls.
func socketDefaults(s *hosts.Settings) hosts.Options {
	var o hosts.Options
	if s == nil {
		return o
	}
	if s.Keepalive {
		o.KeepAlive = ptr(true)
	}
	if !s.Nagle {
		o.NoDelay = ptr(true)
	}
	if s.MSS != 0 {
		o.MSS = ptr(s.MSS)
	}
	if s.SendBuffer != 0 {
		o.SendBuffer = ptr(s.SendBuffer)
	}
	if s.RecvBuffer != 0 {
		o.RecvBuffer = ptr(s.RecvBuffer)
	}
	if s.UserTimeout != 0 {
		o.UserTimeout = ptr(s.UserTimeout)
	}
	return o
}

func ptr[T any](v T) *T { return &v }

// sysctls returns a host's settings as the sysctls of its namespace.
func sysctls(s *hosts.Settings) []string {
	d := hosts.DefaultSettings(hosts.Linux)
	if s == nil {
		s = &d
	}
	sec := func(t time.Duration) string { return fmt.Sprint(int(t / time.Second)) }
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	out := []string{
		"net.ipv6.conf.all.disable_ipv6=1",
		"net.ipv4.tcp_no_metrics_save=1",
		"net.core.somaxconn=" + fmt.Sprint(max(s.Somaxconn, 1)),
		"net.ipv4.tcp_syncookies=" + fmt.Sprint(s.SynCookies),
		"net.ipv4.tcp_fin_timeout=" + sec(s.FinTimeout),
		"net.ipv4.tcp_keepalive_time=" + sec(s.KeepaliveTime),
		"net.ipv4.tcp_keepalive_intvl=" + sec(s.KeepaliveInterval),
		"net.ipv4.tcp_keepalive_probes=" + fmt.Sprint(s.KeepaliveProbes),
		"net.ipv4.tcp_sack=" + b(s.SACK),
		"net.ipv4.tcp_retries2=" + fmt.Sprint(s.Retries2),
		"net.ipv4.tcp_rto_min_us=" + fmt.Sprint(int(s.RTOMin/time.Microsecond)),
		"net.ipv4.tcp_rto_max_ms=" + fmt.Sprint(int(s.RTOMax/time.Millisecond)),
	}
	if s.Congestion != "cubic" {
		// A namespace may pick only the allowed algorithms; cubic is the
		// default of every new one.
		out = append(out, "net.ipv4.tcp_congestion_control="+s.Congestion)
	}
	out = append(out, linuxSysctls(s)...)
	return out
}

// sh runs a command and returns its error with its output.
func sh(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// mac returns the MAC address of host i (or, from 200 on, of a black hole).
func mac(i int) string { return fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8, i&0xff) }

// setup creates the namespaces, the bridge, the veths, the neighbours and
// the sysctls.
func (r *kernelRun) setup(holes int) error {
	r.sw = r.prefix + "-sw"
	cmds := [][]string{
		{"ip", "netns", "add", r.sw},
		{"ip", "-n", r.sw, "link", "add", "br0", "type", "bridge"},
		{"ip", "-n", r.sw, "link", "set", "br0", "up"},
	}
	for _, c := range cmds {
		if err := sh(c...); err != nil {
			return err
		}
	}
	for i, h := range r.lab.Hosts {
		ns := fmt.Sprintf("%s-h%d", r.prefix, i)
		if err := sh("ip", "netns", "add", ns); err != nil {
			return err
		}
		r.ns = append(r.ns, ns)
		port := fmt.Sprintf("p%d", i)
		addr := r.toRun[h.IPv4].String() + "/24"
		cmds := [][]string{
			{"ip", "-n", r.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns},
			{"ip", "-n", r.sw, "link", "set", port, "master", "br0", "up"},
			{"ip", "-n", ns, "link", "set", "lo", "up"},
			{"ip", "-n", ns, "link", "set", "eth0", "address", mac(i + 1), "gso_max_segs", "1", "gro_max_size", "1500"},
			{"ip", "-n", ns, "addr", "add", addr, "dev", "eth0"},
			{"ip", "-n", ns, "link", "set", "eth0", "up"},
		}
		for j, o := range r.lab.Hosts {
			if j != i {
				m := mac(j + 1)
				if r.partitioned(h.Name, o.Name) {
					m = mac(250) // nobody's: the bridge floods it, every host ignores it
				}
				cmds = append(cmds, []string{"ip", "-n", ns, "neigh", "replace", r.toRun[o.IPv4].String(), "lladdr", m, "dev", "eth0", "nud", "permanent"})
			}
		}
		for k := range holes {
			hole := netip.AddrFrom4(r.toRun[h.IPv4].As4())
			hole = netip.AddrFrom4([4]byte{hole.As4()[0], hole.As4()[1], hole.As4()[2], byte(200 + k)})
			cmds = append(cmds, []string{"ip", "-n", ns, "neigh", "replace", hole.String(), "lladdr", mac(200 + k), "dev", "eth0", "nud", "permanent"})
		}
		set := []string{"ip", "netns", "exec", ns, "sysctl", "-q", "-w"}
		cmds = append(cmds, append(set, sysctls(h.Settings)...))
		for _, c := range cmds {
			if err := sh(c...); err != nil {
				return err
			}
		}
	}
	return nil
}

// partitioned reports whether a fault rule drops everything from one host
// to another.
func (r *kernelRun) partitioned(from, to string) bool {
	for _, f := range r.lab.Faults {
		if f.From == from && f.To == to {
			return true
		}
	}
	return false
}

// teardown removes what setup made and closes every socket.
func (r *kernelRun) teardown() {
	r.fds.mu.Lock()
	for fd := range r.fds.open {
		unix.Close(fd)
	}
	r.fds.open = map[int]bool{}
	r.fds.mu.Unlock()
	for _, ns := range append(r.ns, r.sw) {
		if ns != "" {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	}
}

// appError records an application's error.
func (r *kernelRun) appError(host int, op, errno string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, AppError{At: time.Since(r.start), Host: r.lab.Hosts[host].Name, Op: op, Errno: errno})
}

// monotonic returns CLOCK_MONOTONIC, the trace's clock.
func monotonic() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

// run captures, traces and runs the scripts for the lab's time limit.
func (r *kernelRun) run(ctx context.Context) (*Record, error) {
	dir, err := os.MkdirTemp("", "tcplab-reference-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tr, err := startTrace(r.prefix)
	if err != nil {
		return nil, err
	}
	defer tr.remove()
	pcap := filepath.Join(dir, "sent.pcap")
	dump := exec.Command("ip", "netns", "exec", r.sw, "tcpdump", "-i", "any", "-Q", "in", "-n", "-U", "--immediate-mode", "-B", "16384", "-w", pcap, "tcp")
	stderr, err := dump.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := dump.Start(); err != nil {
		return nil, err
	}
	ready := make(chan string, 1)
	// The packets tcpdump says the kernel dropped (its ring was full), from
	// the statistics it prints as it exits.
	stats := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "listening on") {
				ready <- ""
				dropped := 0
				for sc.Scan() {
					var n int
					if _, err := fmt.Sscanf(sc.Text(), "%d packets dropped by kernel", &n); err == nil {
						dropped = n
					}
				}
				stats <- dropped
				return
			}
		}
		ready <- strings.Join(lines, "; ")
	}()
	select {
	case msg := <-ready:
		if msg != "" {
			dump.Wait()
			return nil, fmt.Errorf("tcpdump: %s", msg)
		}
	case <-time.After(10 * time.Second):
		dump.Process.Kill()
		dump.Wait()
		return nil, errors.New("tcpdump did not start")
	}
	time.Sleep(50 * time.Millisecond) // tcpdump listens a moment after saying so
	r.monoAt = monotonic()
	r.start = time.Now()
	limit := r.lab.TimeLimit
	r.deadline = r.start.Add(limit)
	if dl, ok := ctx.Deadline(); ok && dl.Before(r.deadline) {
		r.deadline = dl
	}
	for i, h := range r.lab.Hosts {
		apps := h.Apps
		if len(h.Steps) > 0 {
			apps = append([]hosts.App{{Steps: h.Steps}}, apps...)
		}
		for _, a := range apps {
			for range max(a.Copies, 1) {
				r.wg.Go(func() { r.inNamespace(i, a) })
			}
		}
	}
	time.Sleep(time.Until(r.deadline))
	end := time.Since(r.start)
	time.Sleep(20 * time.Millisecond) // frames in the capture's buffer
	dump.Process.Signal(unix.SIGINT)
	dropped := <-stats // read to the end before Wait closes the pipe
	dump.Wait()
	changes, err := tr.read()
	if err != nil {
		return nil, err
	}
	counters := map[string]map[string]uint64{}
	for i, h := range r.lab.Hosts {
		out, err := exec.Command("ip", "netns", "exec", r.ns[i], "cat", "/proc/net/snmp", "/proc/net/netstat").Output()
		if err != nil {
			return nil, fmt.Errorf("counters of %s: %v", h.Name, err)
		}
		counters[h.Name] = parseSNMP(string(out))
	}
	r.teardownSockets()
	r.wg.Wait()
	if dropped > 0 {
		return nil, fmt.Errorf("%w: tcpdump says the kernel dropped %d packets", ErrIncompleteCapture, dropped)
	}
	rec := &Record{End: end, Counters: counters}
	frames, err := readPcap(pcap)
	if err != nil {
		return nil, err
	}
	c := newConns(r.fromRun)
	for _, f := range frames {
		at := f.at.Sub(r.start)
		if at < 0 || at > end {
			continue
		}
		rec.Segs = append(rec.Segs, c.seg(at, &f.seg))
	}
	for _, ch := range changes {
		name, ok := r.fromRun[ch.local.Addr()]
		if !ok || ch.remote.Port() == 0 || ch.remote.Addr().IsUnspecified() {
			continue
		}
		at := ch.at - r.monoAt
		if at < 0 || at > end {
			continue
		}
		rec.States = append(rec.States, StateChange{At: at, Conn: c.conn(ch.local, ch.remote), Host: name, From: ch.from, To: ch.to})
	}
	r.mu.Lock()
	rec.Errors = r.errors
	r.mu.Unlock()
	normalize(rec)
	return rec, nil
}

// teardownSockets closes every socket left open, which ends the scripts
// still waiting on them.
func (r *kernelRun) teardownSockets() {
	r.fds.mu.Lock()
	defer r.fds.mu.Unlock()
	for fd := range r.fds.open {
		unix.Shutdown(fd, unix.SHUT_RDWR)
	}
}

// inNamespace runs one copy of an app's script on a thread of the host's
// namespace. The thread stays locked, so the runtime discards it after.
func (r *kernelRun) inNamespace(host int, a hosts.App) {
	runtime.LockOSThread()
	f, err := os.Open("/var/run/netns/" + r.ns[host])
	if err != nil {
		return
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return
	}
	for range max(a.Repeat, 1) {
		s := &script{r: r, host: host, steps: a.Steps, socks: map[string]int{}, opts: map[string]hosts.Options{}}
		s.run()
	}
}

// parseSNMP reads /proc/net/snmp and /proc/net/netstat: pairs of lines,
// "Tcp: names..." then "Tcp: values...", into "TcpName" → value for the Tcp
// and TcpExt groups.
func parseSNMP(text string) map[string]uint64 {
	out := map[string]uint64{}
	lines := strings.Split(text, "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) == 0 || len(names) != len(values) || names[0] != values[0] {
			continue
		}
		group := strings.TrimSuffix(names[0], ":")
		if group != "Tcp" && group != "TcpExt" {
			continue
		}
		for j := 1; j < len(names); j++ {
			var v uint64
			fmt.Sscan(values[j], &v)
			out[group+names[j]] = v
		}
		i++
	}
	return out
}

// supportedSteps checks that the host's scripts use no step the kernel
// run's scripts lack: so_error, tcp_info, a connect timeout, on_error.
func supportedSteps(h hosts.Config) error {
	var check func([]hosts.Step) error
	check = func(steps []hosts.Step) error {
		for _, st := range steps {
			switch {
			case st.Action == hosts.SoError || st.Action == hosts.TCPInfo:
				return fmt.Errorf("%s steps are not supported", st.Action)
			case st.Action == hosts.Connect && st.Timeout > 0:
				return errors.New("a connect timeout is not supported")
			case st.OnError != hosts.Stop:
				return fmt.Errorf("on_error = %q is not supported", st.OnError)
			}
			if err := check(st.Each); err != nil {
				return err
			}
		}
		return nil
	}
	if err := check(h.Steps); err != nil {
		return err
	}
	for _, a := range h.Apps {
		if err := check(a.Steps); err != nil {
			return err
		}
	}
	return nil
}
