#!/bin/sh
# bench/scale.sh: memory at scale. Imports and unpacks, with benchimport
# (the layer codec, with strata's soft memory limit, internal/memlimit),
# a tree of SCALE_COPIES (default 50) copies of the Debian bench tree
# (about 10 GB of tar, 338,000 entries) and prints the peak RSS of each,
# which must not grow with the layer. Issue 15 asks for a 10 GB layer
# under 150 MB; the size measured is stated in the output. It needs about
# 25 GB of free disk under /var/tmp.
set -eu
cd "$(dirname "$0")/.."
. bench/figure.sh
COPIES=${SCALE_COPIES:-50}
if smoke; then COPIES=1; fi
TREE=$(scripts/bench-tree.sh)
work=$(mktemp -d /var/tmp/strata-scale.XXXXXX)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/benchimport" ./objects/layer/internal/benchimport
mkdir "$work/tree" "$work/out"
i=0
while [ $i -lt "$COPIES" ]; do
	cp -a "$TREE" "$work/tree/copy$i"
	i=$((i + 1))
done
sync
/usr/bin/time -f '%e %M' -o "$work/create" "$work/benchimport" create "$work/tree" "$work/layer.zst" >"$work/ids"
sync
/usr/bin/time -f '%e %M' -o "$work/unpack" "$work/benchimport" unpack "$work/layer.zst" "$work/out" >/dev/null # it prints the digest
tarsize=$(figure "tar size" "$(awk '{print $3}' "$work/ids")")
for step in create unpack; do
	figure "$step seconds" "$(awk '{print $1}' "$work/$step")" >/dev/null
	figure "$step peak RSS" "$(awk '{print $2}' "$work/$step")" >/dev/null
done
echo "| at scale | tar size | layer size | seconds | peak RSS MB | goal |"
echo "|---|---|---|---|---|---|"
for step in create unpack; do
	awk -v s="$step" -v t="$tarsize" -v l="$(stat -c %s "$work/layer.zst")" '{printf "| %s | %.2f GB | %.2f GB | %.1f | %.0f | < 150 MB (at 10 GB) |\n", s, t/1e9, l/1e9, $1, $2/1024}' "$work/$step"
done
