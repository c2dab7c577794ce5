#!/usr/bin/env bash
# scale.sh — how tcplab's cost grows with connections, hosts and SYNs.
#
# Generates labs of growing size and runs each with `tcplab run --quiet`,
# printing wall time, CPU time, peak RSS, events and CPU per event (the
# run's CPU less a run that does nothing, over its events). The
# cost of an event should stay flat as the lab grows: each event costs what
# it touches, not what the lab holds.
#
#   bash bench/scale.sh              # every family
#   bash bench/scale.sh conns hosts  # some of them
#
# Families:
#   conns   N connections held open on one server (100 ... 10,000)
#   hosts   N client hosts, one 100-byte exchange each (100 ... 3,000)
#   flood   N spoofed SYNs against one listener (10,000, 100,000)
#   serial  N connections one after the other (1 KB each way, a 1 s
#           TIME_WAIT: about 250 live at a time) (2,000, 20,000): peak
#           memory should stay flat, as it follows the live connections
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/tcplab" ./cmd/tcplab
families=("$@")
[ ${#families[@]} -gt 0 ] || families=(conns hosts flood serial)

conns() { # N
	cat <<EOT
name = "conns-$1"
title = "$1 connections held open on one server"
time_limit = "1h"
max_events = 200000000
[[hosts]]
name = "server"
ipv4 = "10.1.0.2"
  [[hosts.apps]]
  model = "sink"
  port = 9000
  backlog = 65535
[[hosts]]
name = "client"
ipv4 = "10.1.0.1"
  [[hosts.apps]]
  model = "holder"
  to = "server:9000"
  count = $1
  interval = "1ms"
[[links]]
host = "client"
latency = "1ms"
EOT
}

hosts() { # N
	cat <<EOT
name = "hosts-$1"
title = "$1 client hosts, one exchange each"
time_limit = "1h"
max_events = 200000000
[[hosts]]
name = "server"
ipv4 = "10.0.0.1"
  [[hosts.apps]]
  model = "echo-server"
  port = 9000
  backlog = 4096
EOT
	for ((i = 0; i < $1; i++)); do
		a=$((i + 2))
		cat <<EOT
[[hosts]]
name = "c$i"
ipv4 = "10.$((1 + a / 65536)).$(((a / 256) % 256)).$((a % 256))"
  [[hosts.steps]]
  do = "connect"
  to = "server:9000"
  [[hosts.steps]]
  do = "send"
  bytes = 100
  [[hosts.steps]]
  do = "recv"
  bytes = 100
  [[hosts.steps]]
  do = "close"
EOT
	done
}

flood() { # N
	cat <<EOT
name = "flood-$1"
title = "$1 spoofed SYNs against one listener"
time_limit = "1h"
max_events = 200000000
[[hosts]]
name = "server"
ipv4 = "10.0.0.2"
  [[hosts.steps]]
  do = "listen"
  port = 80
  backlog = 128
[[hosts]]
name = "attacker"
ipv4 = "10.0.0.66"
[[inject]]
name = "flood"
via = "attacker"
at = "10ms"
from = "10.9.0.0/16"
to = "server:80"
flags = "SYN"
count = $1
interval = "10us"
EOT
}

serial() { # N
	cat <<EOT
name = "serial-$1"
title = "$1 connections one after the other"
time_limit = "10h"
max_events = 200000000
[[hosts]]
name = "server"
ipv4 = "10.1.1.2"
  [[hosts.apps]]
  model = "echo-server"
  port = 9000
  backlog = 128
[[hosts]]
name = "client"
ipv4 = "10.1.1.1"
  [hosts.tcp]
  time_wait = "1s"
  [[hosts.apps]]
  repeat = $1
    [[hosts.apps.steps]]
    do = "connect"
    to = "server:9000"
    [[hosts.apps.steps]]
    do = "send"
    bytes = 1024
    [[hosts.apps.steps]]
    do = "recv"
    bytes = 1024
    [[hosts.apps.steps]]
    do = "close"
[[links]]
host = "client"
latency = "1ms"
rate = "100Mbit/s"
EOT
}

sizes_conns=(100 1000 3000 10000)
sizes_hosts=(100 1000 3000)
sizes_flood=(10000 100000)
sizes_serial=(2000 20000)

# measure LAB: runs tcplab on LAB and prints "wall_s cpu_s rss_kb" with
# microsecond CPU times (wait4's rusage; /usr/bin/time rounds to 10 ms).
measure() {
	python3 - "$tmp/tcplab" "$1" "$tmp/err" <<'PYEOF'
import os, sys, time
exe, lab, err = sys.argv[1:4]
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.execv(exe, [exe, "run", lab, "--quiet"])
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
if os.waitstatus_to_exitcode(status) != 0:
    sys.stderr.write(open(err).read())
    sys.exit(1)
print(f"{wall:.4f} {ru.ru_utime + ru.ru_stime:.4f} {ru.ru_maxrss}")
PYEOF
}

# The CPU of a run that does nothing (start-up, one host): subtracted from
# every lab's CPU before dividing by its events, so that CPU per event is
# the cost of the events, whatever the lab's size.
cat >"$tmp/empty.toml" <<EOT
name = "empty"
title = "one host, nothing to do"
[[hosts]]
name = "a"
ipv4 = "10.1.0.1"
EOT
base=1e9
for _ in 1 2 3 4 5; do
	read -r _ c _ < <(measure "$tmp/empty.toml")
	base=$(awk -v a="$base" -v b="$c" 'BEGIN { print (b < a) ? b : a }')
done
printf 'start-up CPU (a lab with nothing to do, least of 5 runs): %.1f ms\n' "$(awk -v b="$base" 'BEGIN { print b * 1000 }')"

printf '%-14s %9s %9s %10s %10s %12s\n' lab wall cpu peak-RSS events cpu/event
for f in "${families[@]}"; do
	declare -n sizes="sizes_$f"
	for n in "${sizes[@]}"; do
		"$f" "$n" >"$tmp/lab.toml"
		read -r wall cpu rss < <(measure "$tmp/lab.toml")
		events=$(sed -n 's/.*(\([0-9]*\) events.*/\1/p' "$tmp/err")
		awk -v l="$f-$n" -v w="$wall" -v c="$cpu" -v b="$base" -v r="$rss" -v e="$events" 'BEGIN {
			printf "%-14s %8.2fs %8.3fs %7d MB %10d %10.1fµs\n", l, w, c, r / 1024, e, (c - b) / e * 1e6 }'
	done
done
echo "cpu/event = (CPU - start-up CPU) / events"
