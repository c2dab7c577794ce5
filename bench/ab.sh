#!/usr/bin/env bash
# ab.sh — is tcplab build NEW faster than build OLD? Wall time, side by side.
#
# Runs a lab with each binary, ROUNDS rounds of RUNS runs each
# (`perf stat -r RUNS` when perf is there, else a shell loop), in ABBA
# order: odd rounds time OLD first, even rounds NEW first (ROUNDS is
# rounded up to even), so that neither build gains from running second or
# from the machine drifting during the script. Prints each round's wall
# times and NEW/OLD ratio, then the median over the pairs of rounds, each
# pair's two ratios taken together (below 1: NEW is faster). Two identical
# builds come out within about 1-2% of each other (1.008 over 8 pairs here;
# 1.005 and 0.986 timed always in the same order): a smaller difference is
# noise. Both write the lab's capture, as bench/peer.sh does; check with
# bench/same-output.sh that they write the same things.
#
#   git stash; go build -o /tmp/old ./cmd/tcplab; git stash pop
#   go build -o /tmp/new ./cmd/tcplab
#   bash bench/ab.sh /tmp/old /tmp/new                     # bench/peer/bulk.toml at 1% loss
#   ROUNDS=12 RUNS=10 bash bench/ab.sh /tmp/old /tmp/new bench/peer/conns.toml
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: ab.sh OLD-BINARY NEW-BINARY [LAB]" >&2
	exit 2
fi
old=$(realpath "$1") new=$(realpath "$2")
lab=${3:-}
if [ -n "$lab" ]; then
	lab=$(realpath "$lab")
fi
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-10}
ROUNDS=$(((ROUNDS + 1) / 2 * 2)) # as many rounds with OLD first as with NEW first
RUNS=${RUNS:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$lab" ]; then
	lab=$tmp/bulk1.toml
	sed 's/^loss = 0.0$/loss = 0.01/' bench/peer/bulk.toml >"$lab"
fi
for b in "$old" "$new"; do
	"$b" run "$lab" --quiet --pcap "$tmp/t.pcapng" >/dev/null 2>&1 || {
		echo "ab.sh: $b run $lab failed" >&2
		exit 1
	}
done

# wall BINARY: the mean wall time of RUNS runs, in seconds.
wall() {
	if command -v perf >/dev/null && perf stat -r 1 true >/dev/null 2>&1; then
		perf stat -r "$RUNS" "$1" run "$lab" --quiet --pcap "$tmp/t.pcapng" 2>&1 >/dev/null |
			awk '/seconds time elapsed/ { print $1 }'
	else
		local t0 t1
		t0=$(date +%s%N)
		for _ in $(seq "$RUNS"); do "$1" run "$lab" --quiet --pcap "$tmp/t.pcapng" >/dev/null 2>&1 || exit 1; done
		t1=$(date +%s%N)
		awk -v d=$((t1 - t0)) -v n="$RUNS" 'BEGIN { printf "%.5f\n", d / n / 1e9 }'
	fi
}

printf '%-6s %10s %10s %8s\n' round old-wall new-wall new/old
for r in $(seq "$ROUNDS"); do
	if ((r % 2 == 1)); then
		a=$(wall "$old")
		b=$(wall "$new")
	else
		b=$(wall "$new")
		a=$(wall "$old")
	fi
	awk -v r="$r" -v a="$a" -v b="$b" 'BEGIN { printf "%-6d %9.4fs %9.4fs %8.3f\n", r, a, b, b / a }'
done | tee "$tmp/rounds"
# Each OLD-first round is taken together with the NEW-first round after
# it (geometric mean), so that the order's own effect cancels; the median
# is over those pairs.
awk 'NR % 2 == 1 { prev = $4 } NR % 2 == 0 { print sqrt(prev * $4) }' "$tmp/rounds" | sort -g |
	awk -v runs="$RUNS" '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median new/old %.3f over %d ABBA pairs of rounds of %d runs\n", m, NR, runs }'
