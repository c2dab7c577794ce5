package labs

import (
	"fmt"
	"strings"
)

// Template returns a commented starting lab called name: two hosts, a
// server and a client that exchange a message and close, and expectations
// that pin what happens. `tcplab new` writes it; it loads and passes as is.
func Template(name string) string {
	return strings.ReplaceAll(template, "NAME", name)
}

// ValidName reports whether name can name a lab or a host.
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("name %q must start with a letter and use only letters, digits, '-' and '_'", name)
	}
	return nil
}

const template = `# A tcplab lab. Run it:      tcplab run NAME.toml
# Check it without running:  tcplab validate NAME.toml
# Every key is described in docs/LABS.md; durations read "200ms", "2h",
# sizes "64KB", rates "100Mbit/s".

name = "NAME"
title = "A client sends a request and closes"
description = """
Say here what the lab shows and what to look for in the timeline.
"""
seed = 1              # same seed, same run: byte for byte
time_limit = "5m"     # virtual time; the run also stops when nothing is left to happen

[[hosts]]
name = "server"
ipv4 = "10.0.0.2"
profile = "linux"     # Linux defaults where netstack has the knob; or "netstack"

  # [hosts.tcp]       # per-host TCP settings, named after Linux's sysctls
  # time_wait = "60s"
  # keepalive_time = "2h"

  [[hosts.steps]]
  do = "listen"
  port = 80

  [[hosts.steps]]
  do = "accept"

  [[hosts.steps]]
  do = "recv"

  [[hosts.steps]]
  do = "send"
  data = "HTTP/1.1 200 OK\r\n\r\n"

  [[hosts.steps]]
  do = "recv"         # end of stream: the client closed

  [[hosts.steps]]
  do = "close"

[[hosts]]
name = "client"
ipv4 = "10.0.0.1"

  [[hosts.steps]]
  at = "1ms"
  do = "connect"
  to = "server:80"
  # timeout = "3s"      # give up on the connect (ETIMEDOUT); on_error = "continue" goes on after a failure

  [[hosts.steps]]
  do = "send"
  data = "GET / HTTP/1.1\r\n\r\n"

  [[hosts.steps]]
  do = "recv"

  [[hosts.steps]]
  do = "close"

[[links]]
host = "client"
latency = "10ms"      # one way, client to switch and back
# loss = 0.01         # also: jitter, duplicate, reorder, corrupt, rate, queue_limit, mtu

# [[faults]]          # drop, delay, duplicate or hold chosen segments
# action = "drop"
# flags = "FIN"
# from = "client"
# nth = 1

# [[crashes]]         # a host that crashes (forgets its connections) and reboots
# host = "server"
# at = "5s"
# reboot_after = "10s"

# [[middleboxes]]     # a NAT that forgets an idle flow, then drops (or resets) it
# kind = "nat"
# link = "client"
# idle_timeout = "350s"

[[expect]]
segment = "client > server FIN"
# note = "seg.close1" # or match the explanation itself by its note key

[[expect]]
state = "TIME_WAIT"
host = "client"
why = "the client closed first, so it is the one that waits 2MSL"
`
