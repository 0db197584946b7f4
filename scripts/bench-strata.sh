#!/usr/bin/env bash
# bench-strata.sh DEST: put the strata to benchmark at DEST, with
# strata-full beside it (the front hands registry commands and build to
# it: docs/architecture.md, "Two builds of the CLI"): the binaries make
# bench built ($STRATA and the strata-full next to it), or both built as
# make build builds them (static, CGO_ENABLED=0): a cgo build links libc
# at every start, which the shipped binaries do not.
#
# Always a copy, written by cp as make install's install writes it: the
# Go linker writes its output through a memory mapping, which leaves the
# file's page cache in 4 KiB pages until it is evicted, and strata started
# from those pages takes about 1 ms more CPU (a quarter of strata
# version's) than from a copy's or a read from disk's, which are large
# folios. The peers timed against strata are installed binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
full=$(dirname "$1")/strata-full
if [ -n "${STRATA:-}" ]; then
	cp "$STRATA" "$1"
	if [ -e "$(dirname "$STRATA")/strata-full" ]; then
		cp "$(dirname "$STRATA")/strata-full" "$full"
	fi
else
	built=$(mktemp -d)
	trap 'rm -rf "$built"' EXIT
	CGO_ENABLED=0 go build -o "$built/strata-full" ./cmd/strata
	CGO_ENABLED=0 go build -tags strata_front -o "$built/strata" ./cmd/strata
	cp "$built/strata-full" "$full"
	cp "$built/strata" "$1"
fi
