#!/usr/bin/env bash
# bench.sh STRATA: time strata against the peer tools installed here, in
# the same run, and write the medians and ratios to docs/benchmarks.md.
# Each bench/*.sh prints a markdown section; Go benchmarks are summarised
# by their median over several runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export STRATA=${1:-bin/strata}
STRATA=$(realpath "$STRATA")
export STRATA_BENCH_TREE=${STRATA_BENCH_TREE:-$(scripts/bench-tree.sh)}
out=docs/benchmarks.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` on $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)."
	echo "The machine is shared and noisy: figures are medians of interleaved runs,"
	echo "and comparisons are ratios measured in the same run."
	echo
	echo "Benchmark tree: \`$STRATA_BENCH_TREE\` ($(du -sh --apparent-size "$STRATA_BENCH_TREE" 2>/dev/null | cut -f1), $(find "$STRATA_BENCH_TREE" | wc -l) entries)."
	echo
	echo "## Go benchmarks (median of 5 runs)"
	echo
	echo "| benchmark | median | target |"
	echo "|---|---|---|"
	go test -run '^$' -bench . -benchtime 10x -count 5 ./refs ./cmd/strata 2>/dev/null |
		awk '/^Benchmark/ { n=$1; sub(/-[0-9]+$/, "", n); v[n]=v[n] " " $3 }
		END { for (n in v) { c=split(v[n], a, " "); asort(a); m=a[int((c+1)/2)];
			t = (n ~ /Log1000/) ? "< 100 ms" : (n ~ /Resolve/) ? "< 5 ms" : "";
			printf "| %s | %.3f ms | %s |\n", n, m/1e6, t } }' | sort
	echo
	for b in bench/*.sh; do
		[ -x "$b" ] || continue
		echo "<!-- $b -->"
		if ! "$b"; then
			echo
			echo "_$b failed in this run; see its output._"
		fi
		echo
	done
} >"$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out"
