#!/usr/bin/env bash
# bench-strata.sh DEST: put the strata to benchmark at DEST: the binary
# make bench built ($STRATA), or one built as make build builds it
# (static, CGO_ENABLED=0): a cgo build links libc at every start, which
# the shipped binary does not.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${STRATA:-}" ]; then
	cp "$STRATA" "$1"
else
	CGO_ENABLED=0 go build -o "$1" ./cmd/strata
fi
