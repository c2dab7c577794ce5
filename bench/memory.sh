#!/usr/bin/env bash
# memory.sh — how much memory tcplab needs for a bulk transfer, by size.
#
# Runs bench/bulk.toml (a sink behind a 1 Gbit/s, 5 ms link) with the text
# timeline written to /dev/null and the capture of what was sent written to
# a pcapng file, for each size given (default 10MB 100MB 1GB), and prints
# the wall time, the peak resident memory and the capture's size. tcplab
# keeps per-connection state only and writes every row as soon as it is
# known, so the peak should stay flat as the transfer grows (target: under
# 200 MB for 1 GB).
#
#   bash bench/memory.sh              # 10MB 100MB 1GB
#   bash bench/memory.sh 10MB 2GB
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10MB 100MB 1GB)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/tcplab" ./cmd/tcplab
printf '%-8s %10s %12s %12s %10s\n' size wall peak-RSS pcap frames
for size in "${sizes[@]}"; do
	bytes=$(python3 -c "
import re,sys
s=sys.argv[1]; m=re.fullmatch(r'(\d+)(KB|MB|GB)',s)
print(int(m[1])*{'KB':10**3,'MB':10**6,'GB':10**9}[m[2]])" "$size")
	sed "s/bytes = \"1GB\"/bytes = \"$size\"/; s/received 1000000000 bytes/received $bytes bytes/" bench/bulk.toml >"$tmp/lab.toml"
	/usr/bin/time -f '%e %M' -o "$tmp/time" "$tmp/tcplab" run "$tmp/lab.toml" --pcap "$tmp/cap.pcapng" >/dev/null 2>"$tmp/err" || {
		cat "$tmp/err" >&2
		exit 1
	}
	read -r wall rss <"$tmp/time"
	frames=$(sed -n 's/.*(\([0-9]*\) events, \([0-9]*\) frames).*/\2/p' "$tmp/err")
	printf '%-8s %9ss %9d MB %9d MB %10s\n' "$size" "$wall" $((rss / 1024)) $(($(stat -c %s "$tmp/cap.pcapng") / 1000000)) "$frames"
	rm -f "$tmp/cap.pcapng"
done
