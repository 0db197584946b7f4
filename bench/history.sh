#!/usr/bin/env bash
# bench/history.sh: the history walk at scale (issue 15, "flat at scale").
# Builds, with repo/internal/benchhistory, a 10,000- and a 50,000-commit
# history (commits of the walk alone: see that command's comment) on tmpfs,
# and times `log -n 20`, a full `log --oneline`, and `fsck` on each: fsck
# per commit must stay flat from 10k to 50k (linear), and its CPU time over
# its wall time shows how many cores it keeps busy (parallel).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/strata-bench-hist.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin=$work/strata
scripts/bench-strata.sh "$bin"
CGO_ENABLED=0 go build -o "$work/benchhistory" ./repo/internal/benchhistory
"$work/benchhistory" "$work/h50k" 50000 d10k@10000
"$work/benchhistory" "$work/h10k" 10000

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# timed DIR CMD...: median wall ms of rounds runs; also leaves the median
# (user+sys)/wall of the runs in $work/cpu.
timed() {
	local dir=$1
	shift
	: >"$work/ms"
	: >"$work/cpu"
	for _ in $(seq "$rounds"); do
		# Wall time from the clock in ns (time(1) counts in 10 ms steps);
		# time(1) for the CPU seconds.
		local t0 t1
		t0=$(date +%s%N)
		(cd "$dir" && /usr/bin/time -f '%e %U %S' -o "$work/t" "$@" >/dev/null)
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000000 )) >>"$work/ms"
		awk -v w="$(( (t1 - t0) / 1000 ))" '{ if (w > 0) print ($2 + $3) * 1e6 / w }' "$work/t" >>"$work/cpu"
	done
	median <"$work/ms"
}
log20=$(timed "$work/h50k" "$bin" log -n 20)
log10k=$(timed "$work/h50k" "$bin" log --oneline d10k)
fsck10=$(timed "$work/h10k" "$bin" fsck)
cpu10=$(median <"$work/cpu")
fsck50=$(timed "$work/h50k" "$bin" fsck)
cpu50=$(median <"$work/cpu")

echo "| history at scale (commits of the walk alone) | median | goal |"
echo "|---|---|---|"
echo "| \`log -n 20\`, 50,000 commits | $log20 ms | < 50 ms |"
echo "| \`log --oneline\`, all of 10,000 commits | $log10k ms | < 300 ms |"
awk -v a="$fsck10" -v b="$fsck50" -v c="$cpu10" -v d="$cpu50" 'BEGIN {
	printf "| `fsck`, 10,000 commits | %d ms (%.1f µs a commit, %.2f cores busy) | linear |\n", a, a/10, c
	printf "| `fsck`, 50,000 commits | %d ms (%.1f µs a commit, %.2f cores busy) | linear: per commit as at 10k |\n", b, b/50, d
}'
