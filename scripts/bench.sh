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
		awk '/^Benchmark/ { n=$1; sub(/-[0-9]+$/, "", n); print n, $3 }' | sort -k1,1 -k2,2n >"$tmp.go"
	for n in $(cut -d' ' -f1 "$tmp.go" | sort -u); do
		m=$(awk -v n="$n" '$1 == n {v[++c]=$2} END {print v[int((c+1)/2)]}' "$tmp.go")
		case $n in *Log1000*) t="< 100 ms" ;; *Resolve*) t="< 5 ms" ;; *) t="" ;; esac
		awk -v n="$n" -v m="$m" -v t="$t" 'BEGIN {printf "| %s | %.3f ms | %s |\n", n, m/1e6, t}'
	done
	rm -f "$tmp.go"
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
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out"
