#!/usr/bin/env bash
# peer.sh — tcplab against ns-3, side by side, on the same scenarios.
#
# Builds tcplab and the ns-3 programs of ../shared/bench/ns3 (NS3 overrides
# that folder), then runs each scenario RUNS times (default 12, rounded up
# to an even number), tcplab and ns-3 alternating so that both see the same
# machine load, each first in half of the runs, and prints per scenario the
# median wall time and CPU time (user+sys) of each side and the ratio
# tcplab / ns-3 of the medians and the median of the ratios of each pair
# of runs (pairs). Whole processes are timed, as a user would run them:
# start-up, setup, the run, writing the capture.
#
#   bash bench/peer.sh                  # every scenario, 12 runs each
#   RUNS=4 bash bench/peer.sh bulk_loss0 conns
#
# Scenarios (tcplab's labs are in bench/peer/):
#   bulk_loss0   10 MB over 100 Mbit/s, 10 ms one way, no loss, pcap on
#   bulk_loss1   the same with 1% loss both ways, pcap on
#   bulk_text    bulk_loss0 with tcplab's text timeline rendered to /dev/null
#   conns        1,000 sequential connections (handshake, 1 KB each way,
#                close) over 1 ms, pcap on
#   idle         one connection idle for 2 h
#   relay        bulk_loss0 against bench/relay -one-by-one (two bare
#                netstack stacks joined by a goroutine, no switch, no tap,
#                no capture, each segment processed before the next is
#                relayed, so that the same ~14,000 packets are exchanged) in
#                place of ns-3: the CPU ratio is tcplab's overhead over
#                netstack itself (target 1.5x)
#   relay_batch  the same against plain bench/relay, whose receiver takes
#                segments in batches and acknowledges about one in twenty
#                (~7,300 packets): the baseline as first measured
#   floor        bench/relay -one-by-one (bare netstack, every segment
#                acknowledged, no switch, tap or capture) in tcplab's place against
#                ns-3's bulk_loss0: how near ns-3 netstack itself comes, the
#                floor under tcplab's bulk ratio
#
# tcplab runs with --quiet (no timeline; the capture with every segment's
# explanation as its comment is still written) except in bulk_text.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-12}
# An even number of runs: as many with tcplab first as with ns-3 first.
RUNS=$(((RUNS + 1) / 2 * 2))
NS3=${NS3:-../shared/bench/ns3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/tcplab" ./cmd/tcplab # with cmd/tcplab/default.pgo (bench/pgo.sh)
# The bare relay gets tcplab's profile-guided optimisation too (its hot
# paths are netstack's, which the profile covers), so that relay and floor
# compare like with like.
go build -pgo=cmd/tcplab/default.pgo -o "$tmp/relay" ./bench/relay
bash "$NS3/build.sh" >/dev/null
nsbin=$NS3/build
if [ ! -w "$NS3" ]; then nsbin=${TMPDIR:-/tmp}/ns3bench/build; fi

sed 's/^loss = 0.0$/loss = 0.01/' bench/peer/bulk.toml >"$tmp/bulk1.toml"

# name | tcplab command | ns-3 command
SCEN=(
	"bulk_loss0|run bench/peer/bulk.toml --quiet --pcap $tmp/t.pcapng|$nsbin/bulk --size=10000000 --rate=100Mbps --delay=10 --loss=0 --pcap=1 --pcapPrefix=$tmp/ns"
	"bulk_loss1|run $tmp/bulk1.toml --quiet --pcap $tmp/t.pcapng|$nsbin/bulk --size=10000000 --rate=100Mbps --delay=10 --loss=0.01 --pcap=1 --pcapPrefix=$tmp/ns"
	"bulk_text|run bench/peer/bulk.toml --pcap $tmp/t.pcapng|$nsbin/bulk --size=10000000 --rate=100Mbps --delay=10 --loss=0 --pcap=1 --pcapPrefix=$tmp/ns"
	"conns|run bench/peer/conns.toml --quiet --pcap $tmp/t.pcapng|$nsbin/conns --n=1000 --req=1024 --resp=1024 --delay=1 --loss=0 --pcap=1 --pcapPrefix=$tmp/ns"
	"idle|run bench/peer/idle.toml --quiet --pcap $tmp/t.pcapng|$nsbin/idle --idle=7200 --delay=10 --loss=0 --traceState=0"
	"relay|run bench/peer/bulk.toml --quiet --pcap $tmp/t.pcapng|$tmp/relay -one-by-one"
	"relay_batch|run bench/peer/bulk.toml --quiet --pcap $tmp/t.pcapng|$tmp/relay"
	"floor|@$tmp/relay -one-by-one|$nsbin/bulk --size=10000000 --rate=100Mbps --delay=10 --loss=0 --pcap=1 --pcapPrefix=$tmp/ns"
)
want=("$@")
relaylines=()

# timed CMD... : runs CMD, prints "wall_s cpu_s"; fails if CMD fails.
timed() {
	local t0 t1
	t0=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" || {
		echo "peer.sh: $* failed:" >&2
		cat "$tmp/err" >&2
		exit 1
	}
	t1=$(date +%s%N)
	read -r usr sys <"$tmp/time"
	awk -v w=$((t1 - t0)) -v u="$usr" -v s="$sys" 'BEGIN { printf "%.4f %.2f\n", w / 1e9, u + s }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

printf '%-11s %11s %11s %8s %8s   %11s %11s %8s\n' scenario tcplab-wall ns3-wall ratio pairs tcplab-cpu ns3-cpu ratio
for s in "${SCEN[@]}"; do
	IFS='|' read -r name tcmd ncmd <<<"$s"
	if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then continue; fi
	: >"$tmp/t" && : >"$tmp/n"
	for i in $(seq 1 "$RUNS"); do
		# Odd runs time tcplab first, even runs ns-3 first, so that
		# neither side gains from its place in the order.
		if ((i % 2 == 0)); then
			# shellcheck disable=SC2086
			timed $ncmd >>"$tmp/n"
			cp "$tmp/out" "$tmp/nout"
		fi
		if [[ $tcmd == @* ]]; then
			# shellcheck disable=SC2086
			timed ${tcmd#@} >>"$tmp/t"
		else
			# shellcheck disable=SC2086
			timed "$tmp/tcplab" $tcmd >>"$tmp/t"
		fi
		frames=$(sed -n 's/.*, \([0-9]*\) frames).*/\1/p' "$tmp/err")
		if ((i % 2 == 1)); then
			# shellcheck disable=SC2086
			timed $ncmd >>"$tmp/n"
			cp "$tmp/out" "$tmp/nout"
		fi
	done
	tw=$(cut -d' ' -f1 "$tmp/t" | median)
	tc=$(cut -d' ' -f2 "$tmp/t" | median)
	nw=$(cut -d' ' -f1 "$tmp/n" | median)
	nc=$(cut -d' ' -f2 "$tmp/n" | median)
	# pairs: each run's wall-time ratio to the other side's run just
	# beside it, which a machine whose speed drifts during the script
	# disturbs less than the ratio of the medians; the two runs of each
	# order are taken together (geometric mean) so that the order's own
	# effect cancels, and the median of those is printed.
	pr=$(paste -d' ' "$tmp/t" "$tmp/n" | awk '{ r = $1 / $3 } NR % 2 == 1 { prev = r } NR % 2 == 0 { print sqrt(prev * r) }' | median)
	awk -v n="$name" -v tw="$tw" -v nw="$nw" -v tc="$tc" -v nc="$nc" -v pr="$pr" 'BEGIN {
		printf "%-11s %10.3fs %10.3fs %7.2fx %7.2fx   %10.2fs %10.2fs %7.2fx\n", n, tw, nw, tw / nw, pr, tc, nc, (nc > 0 ? tc / nc : 0) }'
	if [[ $name == bulk* ]]; then
		# The packets each side exchanged: both receivers delay ACKs as
		# Linux does (tcplab's linux profile holds back netstack's).
		packets=$(sed -n 's/.*wire pkts n0->n1=\([0-9]*\) n1->n0=\([0-9]*\).*/\1 \2/p' "$tmp/nout" | awk '{ print $1 + $2 }')
		relaylines+=("$name: packets, tcplab ${frames:-?} frames, ns-3 ${packets:-?} (both receivers delay ACKs as Linux does, about one per two full segments)")
	fi
	if [[ $name == relay* ]]; then
		# The packets exchanged, and CPU per packet, side by side.
		packets=$(sed -n 's/.*CPU, \([0-9]*\) packets.*/\1/p' "$tmp/nout")
		relaylines+=("$(awk -v n="$name" -v tc="$tc" -v nc="$nc" -v f="$frames" -v p="$packets" 'BEGIN {
			printf "%s: per packet, tcplab %.1f µs (%d frames), bench/relay %.1f µs (%d packets): %.2fx", n, tc / f * 1e6, f, nc / p * 1e6, p, (tc / f) / (nc / p) }')")
	fi
done
for l in "${relaylines[@]}"; do echo "$l"; done
echo "medians of $RUNS alternating runs (tcplab first in odd runs, second in even ones); whole processes; ratio = tcplab / ns-3 (for relay: tcplab / bench/relay; for floor: bench/relay / ns-3) of the medians, pairs = median of the runs' ratios, each order's pair taken together"
