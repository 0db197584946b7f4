#!/usr/bin/env bash
# bench/history.sh: the history walk at scale (issue 15, "flat at scale").
# Builds, with repo/internal/benchhistory, a 10,000- and a 50,000-commit
# history (commits of the walk alone: see that command's comment) on tmpfs,
# and times `log -n 20`, a full `log --oneline`, and `fsck` on each: fsck
# per commit must stay flat from 10k to 50k (linear), and its CPU time over
# its wall time shows how many cores it keeps busy (parallel).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/figure.sh
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
rounds=${1:-15}
# Commits of each history: 50,000 with a branch 10,000 deep, 10,000; real
# commits 1,000, 2,000 and 10,000. Smoke: a hundredth, and 20, 40 and
# 200 real commits (the last past 128 layers: folded).
k=1000 realk=1000
if smoke; then rounds=1 k=10 realk=20; fi
work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/strata-bench-hist.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin=$work/strata
scripts/bench-strata.sh "$bin"
CGO_ENABLED=0 go build -o "$work/benchhistory" ./repo/internal/benchhistory
"$work/benchhistory" "$work/h50k" $((50 * k)) d10k@$((10 * k))
"$work/benchhistory" "$work/h10k" $((10 * k))
# Real commits, as strata commit writes them (a layer each on top of the
# parent's, folded past 128: docs/format.md, "Folds"): the shape the rows
# above leave out.
"$work/benchhistory" -full "$work/f1k" $((1 * realk))
"$work/benchhistory" -full "$work/f2k" $((2 * realk))
"$work/benchhistory" -full "$work/f10k" $((10 * realk))
# What its 10,000 commits noted: the first log of a history made here
# reads the journal (first, below).
cp "$work/f10k/.strata/indexes/summaries-journal" "$work/f10k.journal"

# timed DIR CMD...: the median wall time in ms of CMD run in DIR, and
# its CPU time over its wall time in $work/cpu. hyperfine -N execs CMD
# itself: a subshell, time(1) and two date(1) calls around each run, as
# this script timed before, added about 27 ms a run on the 2026-12-02 VM
# (log -n 20 on 50,000 commits: 54 ms that way, 27 ms by hyperfine).
#
# log keeps what it read in the summary cache (docs/format.md, "The
# summary cache"), and the warmup run writes it: cold DIR CMD... times
# CMD with the cache and its journal removed before each run, as the
# first log sees a history after the cache was deleted (a history made,
# fetched or cloned here has the cache from the start).
hyperfined() {
	local dir=$1
	shift
	rm -f "$work/hf.json"
	# || return: in a command substitution set -e is off.
	(cd "$dir" && hyperfine -N --style none --warmup 1 --runs "$rounds" ${PREPARE:+--prepare "$PREPARE"} --export-json "$work/hf.json" "$*" >/dev/null) || return
	python3 - "$work/hf.json" "$work/cpu" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
open(sys.argv[2], "w").write("%.2f\n" % ((r["user"] + r["system"]) / r["mean"]))
print(round(r["median"] * 1000))
PY
}
# The figures below are assignments: a timed command that fails, or a
# figure that is not a number, stops the script (set -e).
timed() { figure "$*" "$(hyperfined "$@")"; }
cold() {
	PREPARE="rm -f $1/.strata/indexes/summaries $1/.strata/indexes/summaries-journal" timed "$@"
}
# first DIR CMD...: CMD as the first log after the commits were made,
# with only the journal they wrote.
first() {
	PREPARE="sh -c 'rm -f $1/.strata/indexes/summaries && cp $work/f10k.journal $1/.strata/indexes/summaries-journal'" timed "$@"
}
log20=$(cold "$work/h50k" "$bin" log -n 20)
log10k=$(cold "$work/h50k" "$bin" log --oneline d10k)
log10kc=$(timed "$work/h50k" "$bin" log --oneline d10k)
logf10k=$(cold "$work/f10k" "$bin" log --oneline)
logf10kf=$(first "$work/f10k" "$bin" log --oneline)
logf10kc=$(timed "$work/f10k" "$bin" log --oneline)
fsck10=$(timed "$work/h10k" "$bin" fsck)
cpu10=$(figure "fsck cores busy" "$(cat "$work/cpu")")
fsck50=$(timed "$work/h50k" "$bin" fsck)
cpu50=$(figure "fsck cores busy" "$(cat "$work/cpu")")

echo "Wall times: medians of $rounds runs by \`hyperfine -N\` (no shell); process start included."
echo
echo "| history at scale (commits of the walk alone) | median | goal |"
echo "|---|---|---|"
echo "| \`log -n 20\`, 50,000 commits | $log20 ms | < 50 ms |"
echo "| \`log --oneline\`, all of 10,000 commits, the summary cache deleted | $log10k ms | < 300 ms |"
echo "| \`log --oneline\`, all of 10,000 commits, the summary cache the last log wrote | $log10kc ms | < 300 ms |"
echo "| \`log --oneline\`, all of 10,000 real commits (a layer each, folded), the summary cache deleted | $logf10k ms | < 300 ms |"
echo "| \`log --oneline\`, all of 10,000 real commits, the first log after they were made (the journal their commits wrote) | $logf10kf ms | < 300 ms |"
echo "| \`log --oneline\`, all of 10,000 real commits, the summary cache the last log wrote | $logf10kc ms | < 300 ms |"
awk -v a="$fsck10" -v b="$fsck50" -v c="$cpu10" -v d="$cpu50" 'BEGIN {
	printf "| `fsck`, 10,000 commits | %d ms (%.1f µs a commit, %.2f cores busy) | linear |\n", a, a/10, c
	printf "| `fsck`, 50,000 commits | %d ms (%.1f µs a commit, %.2f cores busy) | linear: per commit as at 10k |\n", b, b/50, d
}'

# The same walks on real commits: each manifest lists every layer below
# it, at most 128 with folds, so the time per commit from 1,000 to 2,000
# deep must stay the same; unfolded, it grew with the depth (the square).
logf1=$(cold "$work/f1k" "$bin" log --oneline)
logf2=$(cold "$work/f2k" "$bin" log --oneline)
fsckf1=$(timed "$work/f1k" "$bin" fsck)
fsckf2=$(timed "$work/f2k" "$bin" fsck)
mb1=$(figure "blobs MB" "$(du -sm "$work/f1k/.strata/blobs" | cut -f1)")
mb2=$(figure "blobs MB" "$(du -sm "$work/f2k/.strata/blobs" | cut -f1)")
echo
echo "| real commits (a layer each, folded past 128 layers) | 1,000 deep | 2,000 deep | per commit, 2,000 over 1,000 | goal |"
echo "|---|---|---|---|---|"
awk -v a="$logf1" -v b="$logf2" -v c="$fsckf1" -v d="$fsckf2" -v e="$mb1" -v f="$mb2" 'BEGIN {
	printf "| `log --oneline` | %d ms | %d ms | %.2fx | 1.0x (flat) |\n", a, b, (b/2)/a
	printf "| `fsck` | %d ms | %d ms | %.2fx | 1.0x (flat) |\n", c, d, (d/2)/c
	printf "| blobs | %d MB | %d MB | %.2fx | 1.0x (flat) |\n", e, f, (f/2)/e
}'
