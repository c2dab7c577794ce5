#!/usr/bin/env bash
# gvisor-update.sh — rebuild third_party/gvisor from the module cache: the
# packages tcplab builds (tests, and other build configurations, included),
# their non-test files, gVisor's
# go.mod and LICENSE, then reapply tcplab's patches (third_party/gvisor-patches,
# described in PATCHES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(awk '$1 == "gvisor.dev/gvisor" {print $2}' go.mod | head -1)
GOFLAGS=-mod=mod go mod download "gvisor.dev/gvisor@$version"
src=$(GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' "gvisor.dev/gvisor@$version")
dst=third_party/gvisor
keep=$(mktemp); cp "$dst/PATCHES.md" "$keep"
pkgs=$(go list -deps -test ./... | grep '^gvisor.dev/gvisor/' | grep -v '\.test$\|\[' | sort -u)
rm -rf "$dst"; mkdir -p "$dst"
for p in $pkgs; do
	rel=${p#gvisor.dev/gvisor/}
	mkdir -p "$dst/$rel"
	find "$src/$rel" -maxdepth 1 -type f ! -name '*_test.go' -exec cp {} "$dst/$rel/" \;
done
cp "$src/go.mod" "$src/LICENSE" "$dst/"
chmod -R u+w "$dst"
# Packages only other build configurations import (race, other
# architectures): go mod tidy names each one the copy lacks.
for _ in $(seq 50); do
	missing=$(GOFLAGS=-mod=mod go mod tidy 2>&1 | grep -o 'does not contain package gvisor.dev/gvisor/[^ ]*' | awk '{print $5}' | sort -u || true)
	[ -z "$missing" ] && break
	for p in $missing; do
		rel=${p#gvisor.dev/gvisor/}
		mkdir -p "$dst/$rel"
		find "$src/$rel" -maxdepth 1 -type f ! -name '*_test.go' -exec cp {} "$dst/$rel/" \;
	done
	chmod -R u+w "$dst"
done
mv "$keep" "$dst/PATCHES.md"
chmod -R u+w "$dst"
# tcplab's patches, in order (third_party/gvisor-patches/*.patch; PATCHES.md
# says what each does and why).
for p in third_party/gvisor-patches/*.patch; do
	patch --quiet --no-backup-if-mismatch -d "$dst" -p1 <"$p"
done
echo "third_party/gvisor rebuilt from $src"
