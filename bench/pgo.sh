#!/usr/bin/env bash
# pgo.sh — refresh cmd/tcplab/default.pgo, the CPU profile that `go build`
# uses for profile-guided optimisation of the tcplab command.
#
# Go builds a main package with the default.pgo beside it (-pgo=auto, the
# default): it inlines and devirtualises the calls that are hot in the
# profile, here netstack's and the loop's per-packet paths. Outputs do not
# change (the compiler does the same program, faster); bench/same-output.sh
# checks that, bench/peer.sh measures the gain.
#
# The profile is what bench/peer.sh and CI run, each benchmark for
# BENCHTIME: the 10 MB bulk transfer at 0% loss with the capture written,
# with and without the text timeline (two benchmarks), the same at 1% loss,
# 1,000 short connections, and the whole catalogue with its goldens
# (`tcplab test labs`).
#
#   bash bench/pgo.sh            # writes cmd/tcplab/default.pgo
#   BENCHTIME=5s bash bench/pgo.sh
#
# Refresh it when the hot paths move (a profile of older code still works:
# Go matches functions by name and ignores what it no longer finds).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHTIME=${BENCHTIME:-3s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sed 's/^loss = 0.0$/loss = 0.01/' bench/peer/bulk.toml >"$tmp/bulk1.toml"

# The profiles are taken without PGO so that one profile does not feed
# on the last.
bench() { # name package pattern [env...]
	local name=$1 pkg=$2 pat=$3
	shift 3
	echo "pgo: profiling $name" >&2
	env "$@" go test -pgo=off "$pkg" -run '^$' -bench "$pat" -benchtime "$BENCHTIME" \
		-cpuprofile "$tmp/$name.prof" -o "$tmp/$name.test" >/dev/null
}
bench bulk ./labs 'PeerBulk$|PeerBulkQuiet$'
bench bulk1 ./labs 'LabFile$' TCPLAB_BENCH_LAB="$tmp/bulk1.toml"
bench conns ./labs 'Conns$'
bench catalogue ./cmd/tcplab 'TestCatalogueSources$'
go tool pprof -proto "$tmp"/*.prof >"$tmp/merged.pgo"
mv "$tmp/merged.pgo" cmd/tcplab/default.pgo
echo "pgo: wrote cmd/tcplab/default.pgo ($(wc -c <cmd/tcplab/default.pgo) bytes)" >&2
