#!/usr/bin/env bash
# same-output.sh — do two tcplab binaries give byte-identical output?
#
# Runs every built-in lab, every lab in labs/testdata (linux/ too) and
# bench/peer, and the bulk benchmark at 1% and 5% loss, under several
# seeds, with both binaries:
# the JSON timeline, the pcapng capture at both points (send and recv) and
# standard error (less the wall time of the end line) must be identical. For
# a change meant to make tcplab faster without changing what it does:
#
#   git stash; go build -o /tmp/old ./cmd/tcplab; git stash pop
#   go build -o /tmp/new ./cmd/tcplab
#   bash bench/same-output.sh /tmp/old /tmp/new
#   SEEDS="3 4 5 6" bash bench/same-output.sh /tmp/old /tmp/new
#
# Prints each lab and seed that differs and exits 1 if any did.
set -u
if [ $# -ne 2 ]; then
	echo "usage: same-output.sh OLD-BINARY NEW-BINARY" >&2
	exit 2
fi
old=$1 new=$2
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sed 's/^loss = 0.0$/loss = 0.01/' bench/peer/bulk.toml >"$out/bulk-loss1.toml"
sed 's/^loss = 0.0$/loss = 0.05/' bench/peer/bulk.toml >"$out/bulk-loss5.toml"
labs=$("$old" list | awk '/^  [a-z0-9-]+ / {print $1}')
fail=0 n=0
for l in $labs labs/testdata/*.toml labs/testdata/linux/*.toml bench/peer/*.toml "$out"/bulk-loss*.toml; do
	for seed in ${SEEDS:-1 2 7}; do
		for b in old new; do
			rm -f "$out/c.pcap" "$out/c.recv.pcap"
			timeout 300 "${!b}" run "$l" --seed "$seed" --format json --pcap "$out/c.pcap" --pcap-at both >"$out/$b.json" 2>"$out/$b.err"
			echo "exit $?" >>"$out/$b.json"
			sed -i 's/ in [0-9.]*[mµn]*s (/ in X (/' "$out/$b.err"
			cat "$out/c.pcap" "$out/c.recv.pcap" 2>/dev/null | md5sum >"$out/$b.pcapsum"
		done
		n=$((n + 1))
		if ! cmp -s "$out/old.json" "$out/new.json" || ! cmp -s "$out/old.pcapsum" "$out/new.pcapsum" || ! cmp -s "$out/old.err" "$out/new.err"; then
			echo "differs: $l seed $seed"
			fail=1
		fi
	done
done
echo "same-output.sh: $n runs compared, $([ $fail = 0 ] && echo "all identical" || echo "some differ")"
exit $fail
