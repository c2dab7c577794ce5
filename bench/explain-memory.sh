#!/usr/bin/env bash
# explain-memory.sh — how much memory `tcplab explain` needs for a big capture.
#
# Makes a capture of a bulk transfer of SIZE (default 1GB: bench/bulk.toml, a
# sink behind a 1 Gbit/s, 5 ms link; tcplab's own pcapng of what was sent,
# about 1.1 GB for 1 GB of data), then explains it with the text timeline
# written to /dev/null, and prints the capture's size, the wall time and the
# peak resident memory of the explanation. explain reads the capture once,
# looks ahead a bounded window, keeps per-connection state only and writes
# every row as soon as it is known, so the peak should stay flat as the
# capture grows (target: under 200 MB).
#
#   bash bench/explain-memory.sh          # 1GB
#   bash bench/explain-memory.sh 100MB 1GB
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1GB)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/tcplab" ./cmd/tcplab
printf '%-8s %12s %10s %10s %12s %12s\n' size pcap frames wall peak-RSS 'with --pcap'
for size in "${sizes[@]}"; do
	bytes=$(python3 -c "
import re,sys
s=sys.argv[1]; m=re.fullmatch(r'(\d+)(KB|MB|GB)',s)
print(int(m[1])*{'KB':10**3,'MB':10**6,'GB':10**9}[m[2]])" "$size")
	sed "s/bytes = \"1GB\"/bytes = \"$size\"/; s/received 1000000000 bytes/received $bytes bytes/" bench/bulk.toml >"$tmp/lab.toml"
	"$tmp/tcplab" run "$tmp/lab.toml" --quiet --pcap "$tmp/cap.pcapng" >/dev/null 2>"$tmp/err" || {
		cat "$tmp/err" >&2
		exit 1
	}
	/usr/bin/time -f '%e %M' -o "$tmp/time" "$tmp/tcplab" explain "$tmp/cap.pcapng" >"$tmp/out" 2>"$tmp/err" || {
		cat "$tmp/err" >&2
		exit 1
	}
	read -r wall rss <"$tmp/time"
	frames=$(sed -n 's/^end of capture at .*: \([0-9]*\) packets.*/\1/p' "$tmp/out")
	/usr/bin/time -f '%M' -o "$tmp/time2" "$tmp/tcplab" explain "$tmp/cap.pcapng" --pcap "$tmp/back.pcapng" >/dev/null 2>"$tmp/err" || {
		cat "$tmp/err" >&2
		exit 1
	}
	rss2=$(cat "$tmp/time2")
	printf '%-8s %9d MB %10s %9ss %9d MB %9d MB\n' "$size" $(($(stat -c %s "$tmp/cap.pcapng") / 1000000)) "$frames" "$wall" $((rss / 1024)) $((rss2 / 1024))
	rm -f "$tmp/cap.pcapng" "$tmp/back.pcapng" "$tmp/out"
done
