#!/usr/bin/env bash
# bench.sh STRATA: time strata against the peer tools installed here, in
# the same run, and write the medians and ratios to docs/benchmarks.md.
# Each bench/*.sh prints a markdown section; Go benchmarks are summarised
# by their median over several runs.
#
# BENCH_SMOKE=1 (internal/benchsmoke runs it so in make test): every step
# once on a small tree (STRATA_BENCH_TREE), the Go benchmarks once on
# small inputs (-short), the report to BENCH_OUT and its chart to
# BENCH_SVG; a bench script that fails fails the run. It checks that
# the scripts still read strata's output, not how fast strata is.
set -euo pipefail
cd "$(dirname "$0")/.."
export STRATA=${1:-bin/strata}
STRATA=$(realpath "$STRATA")
export STRATA_BENCH_TREE=${STRATA_BENCH_TREE:-$(scripts/bench-tree.sh)}
out=${BENCH_OUT:-docs/benchmarks.md}
svg=${BENCH_SVG:-docs/bench.svg}
gobench=(-benchtime 10x -count 5)
if [ "${BENCH_SMOKE:-}" = 1 ]; then
	gobench=(-short -benchtime 1x -count 1)
fi
failed=
tmp=$(mktemp)
export BENCH_CHART=$tmp.chart
: >"$BENCH_CHART"
trap 'rm -f "$tmp" "$tmp.go" "$BENCH_CHART"' EXIT

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` on $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r)."
	echo
	# The model name alone can be as bare as "AMD EPYC": family and model
	# tell which generation the figures belong to.
	echo "Machine: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
		"(family $(awk -F': ' '/^cpu family/ {print $2; exit}' /proc/cpuinfo)," \
		"model $(awk -F': ' '/^model\t/ {print $2; exit}' /proc/cpuinfo)), $(nproc) cores;" \
		"SHA-NI $(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no)," \
		"AVX2 $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no)," \
		"AVX-512 $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)."
	echo
	echo "![start latency, import and cold checkout against peers](bench.svg)"
	echo
	echo "The machine is shared and noisy: figures are medians of interleaved runs,"
	echo "and comparisons are ratios measured in the same run."
	echo
	echo "Benchmark tree: \`$STRATA_BENCH_TREE\` ($(du -sh --apparent-size "$STRATA_BENCH_TREE" 2>/dev/null | cut -f1), $(find "$STRATA_BENCH_TREE" | wc -l) entries)."
	echo
	echo "## Go benchmarks (median of 5 runs)"
	echo
	echo "| benchmark | median | target |"
	echo "|---|---|---|"
	go test -run '^$' -bench . "${gobench[@]}" ./refs ./cmd/strata ./build ./fold ./snapshot ./internal/kmount 2>/dev/null |
		awk '/^Benchmark/ { n=$1; sub(/-[0-9]+$/, "", n); print n, $3 }' | sort -k1,1 -k2,2n >"$tmp.go"
	for n in $(cut -d' ' -f1 "$tmp.go" | sort -u); do
		m=$(awk -v n="$n" '$1 == n {v[++c]=$2} END {print v[int((c+1)/2)]}' "$tmp.go")
		case $n in *Log1000* | *CachedRebuild10*) t="< 100 ms" ;; *Resolve*) t="< 5 ms" ;; *BisectRun64*) t="< 3 s" ;; *PrepareOnABigTree*) t="< 1 s" ;; *) t="" ;; esac
		awk -v n="$n" -v m="$m" -v t="$t" 'BEGIN {printf "| %s | %.3f ms | %s |\n", n, m/1e6, t}'
	done
	rm -f "$tmp.go"
	echo
	for b in bench/*.sh; do
		[ -x "$b" ] || continue
		echo "<!-- $b -->"
		start=$SECONDS
		if ! "$b"; then
			echo
			echo "_$b failed in this run; see its output._"
			failed="$failed $b"
		fi
		echo "$b: $((SECONDS - start)) s" >&2
		echo
	done
} >"$tmp"
# Issue 15's goals, each row's strata figure against its first peer.
{
	echo "## Against the goals"
	echo
	echo "| work | strata | peer | ratio | goal |"
	echo "|---|---|---|---|---|"
	awk -F'\t' '
	{ k=$1; t=$2; gsub(/\|/, "\\|", t) }
	t == "strata" { s[k]=$3; u[k]=$4; if (!(k in o)) o[k]=++n; next }
	!(k in p) { p[k]=$3; pn[k]=t; if (!(k in o)) o[k]=++n }
	END {
		goal["start to exit of /bin/true"]="<= 1.0x crun"
		goal["start to exit of /bin/true, network none"]="<= 1.0x crun"
		goal["exec of /bin/true into a running container"]="<= 1.0x crun exec"
		goal["import (create the layer)"]="<= 0.8x, layer no larger than zstd -3"
		goal["cold checkout"]="<= 0.8x"
		goal["cold checkout, 100,000 small files"]="<= 0.8x"
		goal["COPY of usr/share (build)"]="<= 1.2x import"
		goal["run -d to first HTTP response"]="<= 1.5x podman, < 150 ms"
		goal["push"]="<= 0.7x skopeo copy"
		goal["clone"]="<= 0.7x skopeo copy"
		goal["commit of 100,000 new files"]="<= 1.2x import"
		for (k in o) idx[o[k]]=k
		for (i=1; i<=n; i++) { k=idx[i]; if (k in s && k in p && p[k] > 0)
			printf "| %s | %s %s | %s %s %s | %.2fx | %s |\n", k, s[k], u[k], pn[k], p[k], u[k], s[k]/p[k], goal[k] }
	}' "$BENCH_CHART"
} >>"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
sh bench/chart.sh "$BENCH_CHART" "$svg"
rm -f "$BENCH_CHART"
trap - EXIT
echo "wrote $out"
if [ -n "$failed" ] && [ "${BENCH_SMOKE:-}" = 1 ]; then
	echo "bench.sh: failed:$failed" >&2
	exit 1
fi
