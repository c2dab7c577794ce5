package reference

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/tcplab/tcplab/hosts"
	"golang.org/x/sys/unix"
)

// script runs one copy of a host's step script with real sockets. Every
// socket is non-blocking and every wait polls with the run's deadline, so
// that nothing outlives the run.
type script struct {
	r     *kernelRun
	host  int
	steps []hosts.Step
	socks map[string]int
	opts  map[string]hosts.Options // options set before the socket exists
}

// errDeadline ends a script when the run's time is up.
var errDeadline = errors.New("run time is up")

// run runs the script's steps in order; it stops at the first failure, as
// tcplab's scripts do.
func (s *script) run() {
	for _, st := range s.steps {
		if err := s.step(st); err != nil {
			return
		}
	}
}

// fail records an application error from a socket call.
func (s *script) fail(op string, err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		s.r.appError(s.host, op, errnoName(errno))
	}
	return err
}

// errnoName names the errors applications see, as tcplab does.
func errnoName(e unix.Errno) string {
	switch e {
	case unix.ECONNREFUSED:
		return "ECONNREFUSED"
	case unix.ECONNRESET:
		return "ECONNRESET"
	case unix.ETIMEDOUT:
		return "ETIMEDOUT"
	case unix.ECONNABORTED:
		return "ECONNABORTED"
	case unix.EPIPE:
		return "EPIPE"
	case unix.ENOTCONN:
		return "ENOTCONN"
	case unix.EADDRINUSE:
		return "EADDRINUSE"
	case unix.EHOSTUNREACH:
		return "EHOSTUNREACH"
	case unix.ENETUNREACH:
		return "ENETUNREACH"
	}
	return e.Error()
}

// name returns the socket a step acts on, as hosts does.
func sockName(st hosts.Step) string {
	switch {
	case st.Socket != "":
		return st.Socket
	case st.Action == hosts.Listen:
		return "listener"
	}
	return "conn"
}

// step runs one step.
func (s *script) step(st hosts.Step) error {
	if st.At > 0 {
		if !s.r.sleepUntil(st.At) {
			return errDeadline
		}
	}
	name := sockName(st)
	switch st.Action {
	case hosts.Listen:
		fd, err := s.newSocket(name)
		if err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(st.Port)}); err != nil {
			return s.fail("listen", err)
		}
		return s.fail("listen", unix.Listen(fd, st.Backlog))
	case hosts.Accept:
		from := st.From
		if from == "" {
			from = "listener"
		}
		lfd, ok := s.socks[from]
		if !ok {
			return fmt.Errorf("no listener %q", from)
		}
		for {
			if err := s.r.poll(lfd, unix.POLLIN, 0); err != nil {
				return err
			}
			nfd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			if err == unix.EAGAIN {
				continue
			}
			if err != nil {
				return s.fail("accept", err)
			}
			s.r.track(nfd)
			if len(st.Each) == 0 {
				s.socks[name] = nfd
				return s.apply(nfd, name)
			}
			each := &script{r: s.r, host: s.host, steps: st.Each, socks: map[string]int{name: nfd, from: lfd}, opts: map[string]hosts.Options{}}
			s.r.wg.Go(each.run)
		}
	case hosts.Connect:
		fd, err := s.newSocket(name)
		if err != nil {
			return err
		}
		if st.Port != 0 {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
				return err
			}
			if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(st.Port)}); err != nil {
				return s.fail("connect", err)
			}
		}
		to := s.r.mapAddr(st.Addr)
		err = unix.Connect(fd, &unix.SockaddrInet4{Addr: to.Addr().As4(), Port: int(to.Port())})
		if err != nil && err != unix.EINPROGRESS {
			return s.fail("connect", err)
		}
		if err := s.r.poll(fd, unix.POLLOUT, 0); err != nil {
			return err
		}
		if soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || soerr != 0 {
			if err == nil {
				err = unix.Errno(soerr)
			}
			return s.fail("connect", err)
		}
		return nil
	case hosts.Send:
		fd, ok := s.socks[name]
		if !ok {
			return fmt.Errorf("no socket %q", name)
		}
		data := st.Data
		if data == nil {
			data = make([]byte, st.Bytes)
			for i := range data {
				data[i] = 'x'
			}
		}
		for len(data) > 0 {
			n, err := unix.Write(fd, data)
			if err == unix.EAGAIN {
				if err := s.r.poll(fd, unix.POLLOUT, 0); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return s.fail("send", err)
			}
			data = data[n:]
		}
		return nil
	case hosts.Recv:
		fd, ok := s.socks[name]
		if !ok {
			return fmt.Errorf("no socket %q", name)
		}
		got := 0
		buf := make([]byte, 64<<10)
		for {
			if err := s.r.poll(fd, unix.POLLIN, st.Timeout); err != nil {
				if err == errTimeout {
					return nil // a recv that times out is a result, not an error
				}
				return err
			}
			n, err := unix.Read(fd, buf)
			if err == unix.EAGAIN {
				continue
			}
			if err != nil {
				return s.fail("recv", err)
			}
			got += n
			if n == 0 || st.Bytes == 0 || got >= st.Bytes {
				return nil
			}
		}
	case hosts.Shutdown:
		if fd, ok := s.socks[name]; ok {
			return s.fail("shutdown", unix.Shutdown(fd, unix.SHUT_WR))
		}
	case hosts.Close:
		if fd, ok := s.socks[name]; ok {
			delete(s.socks, name)
			s.r.closeFD(fd)
		}
	case hosts.Abort:
		if fd, ok := s.socks[name]; ok {
			delete(s.socks, name)
			if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
				return err
			}
			s.r.closeFD(fd)
		}
	case hosts.Set:
		if fd, ok := s.socks[name]; ok {
			return setOptions(fd, st.Options)
		}
		o := s.opts[name]
		o = hosts.MergeOptions(o, st.Options)
		s.opts[name] = o
	case hosts.Sleep:
		if !s.r.sleepFor(st.For) {
			return errDeadline
		}
	case hosts.Wait:
		if st.Until == 0 {
			return nil
		}
		fd, ok := s.socks[name]
		if !ok {
			return fmt.Errorf("no socket %q", name)
		}
		var ev int16
		switch st.Until {
		case hosts.EventReadable:
			ev = unix.POLLIN
		case hosts.EventPeerClosed:
			ev = unix.POLLRDHUP
		case hosts.EventConnected:
			ev = unix.POLLOUT
		default:
			ev = unix.POLLHUP | unix.POLLERR
		}
		if err := s.r.poll(fd, ev, st.Timeout); err != nil && err != errTimeout {
			return err
		}
	}
	return nil
}

// newSocket opens a TCP socket in the host's namespace (the script runs on
// a thread in it) with the host's and the script's options.
func (s *script) newSocket(name string) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	s.r.track(fd)
	s.socks[name] = fd
	if err := setOptions(fd, s.r.defaults[s.host]); err != nil {
		return -1, err
	}
	return fd, s.apply(fd, name)
}

// apply sets the options a set step kept for a socket not yet open.
func (s *script) apply(fd int, name string) error {
	if o, ok := s.opts[name]; ok {
		delete(s.opts, name)
		return setOptions(fd, o)
	}
	return nil
}

// setOptions sets socket options with the kernel's names.
func setOptions(fd int, o hosts.Options) error {
	b := func(v *bool) int {
		if *v {
			return 1
		}
		return 0
	}
	var errs []error
	set := func(level, opt, v int) { errs = append(errs, unix.SetsockoptInt(fd, level, opt, v)) }
	if o.NoDelay != nil {
		set(unix.IPPROTO_TCP, unix.TCP_NODELAY, b(o.NoDelay))
	}
	if o.KeepAlive != nil {
		set(unix.SOL_SOCKET, unix.SO_KEEPALIVE, b(o.KeepAlive))
	}
	if o.KeepIdle != nil {
		set(unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, int(*o.KeepIdle/time.Second))
	}
	if o.KeepInterval != nil {
		set(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, int(*o.KeepInterval/time.Second))
	}
	if o.KeepCount != nil {
		set(unix.IPPROTO_TCP, unix.TCP_KEEPCNT, *o.KeepCount)
	}
	if o.SendBuffer != nil {
		set(unix.SOL_SOCKET, unix.SO_SNDBUF, *o.SendBuffer)
	}
	if o.RecvBuffer != nil {
		set(unix.SOL_SOCKET, unix.SO_RCVBUF, *o.RecvBuffer)
	}
	if o.MSS != nil {
		set(unix.IPPROTO_TCP, unix.TCP_MAXSEG, *o.MSS)
	}
	if o.UserTimeout != nil {
		set(unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(*o.UserTimeout/time.Millisecond))
	}
	if o.QuickAck != nil {
		set(unix.IPPROTO_TCP, unix.TCP_QUICKACK, b(o.QuickAck))
	}
	return errors.Join(errs...)
}

// errTimeout is a wait that reached its own timeout (not the run's).
var errTimeout = errors.New("timed out")

// poll waits for events on fd until they come, the timeout (if positive)
// passes, or the run's time is up.
func (r *kernelRun) poll(fd int, events int16, timeout time.Duration) error {
	deadline := r.deadline
	own := false
	if timeout > 0 {
		if d := time.Now().Add(timeout); d.Before(deadline) {
			deadline, own = d, true
		}
	}
	for {
		left := time.Until(deadline)
		if left <= 0 {
			if own {
				return errTimeout
			}
			return errDeadline
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(fds, int(min(left, 50*time.Millisecond)/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 && fds[0].Revents != 0 {
			return nil
		}
	}
}

// sleepUntil waits until the run's time at; false when the run ends first.
func (r *kernelRun) sleepUntil(at time.Duration) bool {
	return r.sleepFor(time.Until(r.start.Add(at)))
}

// sleepFor waits for d; false when the run ends first.
func (r *kernelRun) sleepFor(d time.Duration) bool {
	end := time.Now().Add(d)
	if end.After(r.deadline) {
		time.Sleep(time.Until(r.deadline))
		return false
	}
	time.Sleep(d)
	return true
}

// fds are the sockets of a run: closed only once the capture has stopped.
type fds struct {
	mu   sync.Mutex
	open map[int]bool
}

func (r *kernelRun) track(fd int) {
	r.fds.mu.Lock()
	defer r.fds.mu.Unlock()
	r.fds.open[fd] = true
}

// closeFD closes a socket as an application step.
func (r *kernelRun) closeFD(fd int) {
	r.fds.mu.Lock()
	delete(r.fds.open, fd)
	r.fds.mu.Unlock()
	unix.Close(fd)
}

// mapAddr maps a lab address to the run's.
func (r *kernelRun) mapAddr(ap netip.AddrPort) netip.AddrPort {
	if a, ok := r.toRun[ap.Addr()]; ok {
		return netip.AddrPortFrom(a, ap.Port())
	}
	return ap
}
