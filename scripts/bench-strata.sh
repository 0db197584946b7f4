#!/usr/bin/env bash
# bench-strata.sh DEST: put the strata to benchmark at DEST, with
# strata-full beside it (the front hands registry commands and build to
# it: docs/architecture.md, "Two builds of the CLI"): the binaries make
# bench built ($STRATA and the strata-full next to it), or both built as
# make build builds them (static, CGO_ENABLED=0): a cgo build links libc
# at every start, which the shipped binaries do not.
set -euo pipefail
cd "$(dirname "$0")/.."
full=$(dirname "$1")/strata-full
if [ -n "${STRATA:-}" ]; then
	cp "$STRATA" "$1"
	if [ -e "$(dirname "$STRATA")/strata-full" ]; then
		cp "$(dirname "$STRATA")/strata-full" "$full"
	fi
else
	CGO_ENABLED=0 go build -o "$full" ./cmd/strata
	CGO_ENABLED=0 go build -tags strata_front -o "$1" ./cmd/strata
fi
