#!/bin/sh
# bench/build.sh: strata build against strata import on the same files,
# and a fully cached rebuild of a 10-step recipe. Interleaved runs,
# medians and ratios, as a markdown section.
#   STRATA             the strata binary
#   STRATA_BENCH_TREE  a debootstrap minbase tree (its usr/share is the context)
#   RUNS               runs of each (default 9)
set -eu
cd "$(dirname "$0")/.."
. bench/figure.sh
RUNS=${RUNS:-9}
if smoke; then RUNS=1; fi
TREE=${STRATA_BENCH_TREE:-/var/cache/strata-bench/debian}
CTX=$TREE/usr/share
[ -d "$CTX" ] || { echo "bench/build.sh: no $CTX (run bench/import.sh first)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/strata-bench-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
# A copy, as the other benches time (scripts/bench-strata.sh says why).
mkdir "$work/bin"
scripts/bench-strata.sh "$work/bin/strata"
STRATA=$work/bin/strata
printf 'FROM scratch\nCOPY . /usr/share/\n' >"$work/Dockerfile.copy"

# run NAME CMD: time CMD, appending "seconds" to $work/NAME.
run() {
	name=$1; shift
	/usr/bin/time -f '%e' -o "$work/t" sh -c "$*" >/dev/null
	cat "$work/t" >>"$work/$name"
}

tar -cf - -C "$CTX" . >/dev/null # warm the page cache
i=0
while [ $i -lt "$RUNS" ]; do
	rm -rf "$work/a" "$work/b"
	"$STRATA" init "$work/a" >/dev/null; "$STRATA" init "$work/b" >/dev/null
	if [ $((i % 2)) = 0 ]; then
		run import "'$STRATA' -C '$work/a' import '$CTX' -m x"
		run copy "'$STRATA' -C '$work/b' build -q -f '$work/Dockerfile.copy' '$CTX'"
	else
		run copy "'$STRATA' -C '$work/b' build -q -f '$work/Dockerfile.copy' '$CTX'"
		run import "'$STRATA' -C '$work/a' import '$CTX' -m x"
	fi
	i=$((i + 1))
done

# The cached rebuild: a busybox-free recipe of ten steps, built once.
mkdir -p "$work/c/ctx/site"
echo hi >"$work/c/ctx/site/index.html"
printf 'FROM scratch\nARG V=1\nCOPY site/ /var/www/\nENV A=1 B=2\nCOPY site/index.html /etc/app.conf\nWORKDIR /srv\nUSER 1000\nLABEL v=1\nEXPOSE 8080\nVOLUME /data\nCMD ["httpd", "-f"]\n' >"$work/c/ctx/Dockerfile"
"$STRATA" init "$work/c/repo" >/dev/null
"$STRATA" -C "$work/c/repo" build -q "$work/c/ctx" >/dev/null
i=0
while [ $i -lt "$RUNS" ]; do
	run cached "'$STRATA' -C '$work/c/repo' build -q '$work/c/ctx'"
	i=$((i + 1))
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
imp=$(figure "import median" "$(median <"$work/import")")
cp=$(figure "build median" "$(median <"$work/copy")")
cached=$(figure "cached rebuild median" "$(median <"$work/cached")")
echo "## strata build"
echo
echo "Context: \`$CTX\` ($(find "$CTX" | wc -l) entries, $(du -sh "$CTX" | cut -f1)); $RUNS interleaved runs; load average $(cut -d' ' -f1 /proc/loadavg)."
echo
echo "| work | strata import s | strata build s | ratio | goal |"
echo "|---|---|---|---|---|"
awk -v i="$imp" -v c="$cp" 'BEGIN {printf "| FROM scratch + COPY of the context | %.2f | %.2f | %.2fx | <= 1.2x |\n", i, c, c/i}'
echo
echo "Fully cached rebuild of a 10-step recipe (CLI, process start included): median $cached s; goal under 0.1 s."
if [ -n "${BENCH_CHART:-}" ]; then
	printf 'COPY of usr/share (build)\tstrata\t%s\ts\n' "$cp" >>"$BENCH_CHART"
	printf 'COPY of usr/share (build)\tstrata import\t%s\ts\n' "$imp" >>"$BENCH_CHART"
fi
