#!/bin/sh
# bench/remote-history.sh: clone of a deep history from a local
# docker-registry (issue 15: 10,000 commits in under 20 s). Builds, with
# repo/internal/benchhistory, a history of COMMITS commits (default
# 10000; a config each, a small layer every 100th), pushes it once, then
# clones it RUNS times (default 3) with `clone --no-checkout` and prints
# the median, with the registry's own CPU time per clone: a commit not
# in a history bundle (the tip's partial ancestor list) costs a manifest
# and a config request, the rest come in one bundle per 1,000 commits, so
# the registry's time per request bounds the clone on a small machine.
# The push before them is timed once, with the registry's CPU time: it
# costs docker-registry three requests a commit (POST and PUT of the
# config, PUT of the manifest), which bound it on two cores.
# remote/ancestors_test.go's BenchmarkCloneDeepHistory times the same
# depth with one config shared by all commits (manifest requests only).
set -eu
cd "$(dirname "$0")/.."
. bench/figure.sh
COMMITS=${COMMITS:-10000}
RUNS=${RUNS:-3}
if smoke; then COMMITS=150 RUNS=1; fi
command -v docker-registry >/dev/null || apt-get install -y docker-registry >/dev/null
work=$(mktemp -d /var/tmp/strata-bench-rhist.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
scripts/bench-strata.sh "$work/strata"
CGO_ENABLED=0 go build -o "$work/benchhistory" ./repo/internal/benchhistory
S="$work/strata"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<EOC
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOC
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/v2/" >/dev/null; do sleep 0.05; done
R=127.0.0.1:$port/strata/history

"$work/benchhistory" "$work/src" "$COMMITS"
now() { date +%s.%N; }
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$pid/stat"; }
c0=$(cpu)
t0=$(now)
# strata's own CPU beside the registry's: which of the two bounds it.
/usr/bin/time -f '%U %S' -o "$work/push.time" $S -C "$work/src" push -q "$R" main
push=$(figure "push seconds" "$(echo "$(now) $t0" | awk '{print $1 - $2}')")
pushcpu=$(figure "push registry CPU" "$(echo "$(cpu) $c0" | awk '{print $1 - $2}')")
strcpu=$(figure "push strata CPU" "$(tail -1 "$work/push.time" | awk '{print $1 + $2}')")
i=0
while [ $i -lt "$RUNS" ]; do
	c0=$(cpu)
	t0=$(now)
	$S clone -q --no-checkout "$R:main" "$work/clone"
	t1=$(now)
	echo "$t1 $t0" | awk '{print $1 - $2}' >>"$work/clone.s"
	echo "$(cpu) $c0" | awk '{print $1 - $2}' >>"$work/registry.s"
	n=$($S -C "$work/clone" log --oneline main | wc -l)
	[ "$n" -eq "$COMMITS" ] || { echo "remote-history: the clone has $n commits, want $COMMITS" >&2; exit 1; }
	rm -rf "$work/clone"
	i=$((i + 1))
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "| deep history, local docker-registry | median s | goal |"
echo "|---|---|---|"
clone=$(figure "clone median" "$(median <"$work/clone.s")")
clonecpu=$(figure "clone registry CPU" "$(median <"$work/registry.s")")
awk -v n="$COMMITS" -v c="$clone" -v r="$clonecpu" 'BEGIN {
	printf "| clone of %d commits (a config each), %d runs | %.1f (registry CPU %.1f s) | < 20 s |\n", n, '"$RUNS"', c, r
}'
awk -v n="$COMMITS" -v p="$push" -v r="$pushcpu" -v c="$strcpu" 'BEGIN { printf "| push of the same history, once | %.1f (registry CPU %.1f s, strata CPU %.1f s) | < 30 s |\n", p, r, c }'
echo
echo "The push sends three requests a commit (POST and PUT of its config, PUT of its manifest), the fewest docker-registry takes: it answers a POST that carries the blob and its digest with 202 and stores nothing, so every blob needs its own PUT. The registry's time per request bounds the push: more requests in flight do not make it faster (docs/remote.md)."
