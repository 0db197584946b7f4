#!/bin/sh
# bench/remote.sh: strata push and clone against skopeo copy of the same
# image, on a local docker-registry, plus a no-op push and a one-file
# change, and two floors: curl sending the layer blob alone, and the
# whole image (layer, config, manifest). Runs are interleaved (timings move by up to 2x from run to run);
# medians and ratios are printed as a markdown table.
#   STRATA_BENCH_TREE  a debootstrap minbase tree (default: built once under
#                      /var/cache/strata-bench/debian by scripts/bench-tree.sh)
#   RUNS               runs of each step (default 5)
#   STRATA_BASE        another strata binary (an earlier build) to time in
#                      the same interleaved runs: before/after in one run
set -eu
cd "$(dirname "$0")/.."
. bench/figure.sh
RUNS=${RUNS:-5}
if smoke; then RUNS=1; fi
command -v docker-registry >/dev/null || apt-get install -y docker-registry >/dev/null
command -v skopeo >/dev/null || apt-get install -y skopeo >/dev/null
TREE=$(scripts/bench-tree.sh)

work=$(mktemp -d /var/tmp/strata-bench-remote.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	[ -d "$work/env/rootfs" ] && "$work/strata" -C "$work/env" umount >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
scripts/bench-strata.sh "$work/strata"
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
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOC
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/v2/" >/dev/null; do sleep 0.05; done
R=127.0.0.1:$port

$S init "$work/env" >/dev/null
$S -C "$work/env" import "$TREE" -m debian --author 'Bench <b@example.com>' >/dev/null

now() { date +%s.%N; }
# timed NAME CMD...: run CMD, appending its wall time to $work/NAME.
timed() {
	name=$1; shift
	t0=$(now)
	"$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
	t1=$(now)
	echo "$t1 $t0" | awk '{print $1 - $2}' >>"$work/$name"
}

# The registry's own floor for a push: the layer blob alone, sent by curl
# in the fewest requests the protocol allows (POST, then one PUT).
layer=$(ls -S "$work/env/.strata/blobs/sha256" | head -1)
# put_blob REPO HEX: POST, then one PUT with the body and ?digest=.
put_blob() {
	loc=$(curl -sf -i -X POST "http://$R/v2/$1/blobs/uploads/" | tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
	case $loc in /*) loc="http://$R$loc" ;; esac
	case $loc in *\?*) loc="$loc&" ;; *) loc="$loc?" ;; esac
	curl -sf -T "$work/env/.strata/blobs/sha256/$2" "${loc}digest=sha256:$2" >/dev/null
}
floor_push() { put_blob "floor/run$1" "$layer"; }
# The registry's floor for the whole image: the layer and the config
# side by side, then the manifest under the tag, by curl. A push cannot
# send the manifest before its blobs are in.
manifest=$($S -C "$work/env" rev-parse main | sed 's/^sha256://')
config=$(sed 's/.*"config":{[^}]*"digest":"sha256:\([0-9a-f]*\)".*/\1/' "$work/env/.strata/blobs/sha256/$manifest")
floor_image() {
	put_blob "image/run$1" "$config" &
	put_blob "image/run$1" "$layer" || { wait; return 1; }
	wait $! && curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$work/env/.strata/blobs/sha256/$manifest" "http://$R/v2/image/run$1/manifests/main" >/dev/null
}

i=0
while [ $i -lt "$RUNS" ]; do
	if [ -n "${STRATA_BASE:-}" ]; then
		timed base_push "$STRATA_BASE" -C "$work/env" push -q "$R/base/run$i" main
		timed base_clone "$STRATA_BASE" clone -q --no-checkout "$R/base/run$i:main" "$work/base$i"
		rm -rf "$work/base$i"
	fi
	timed strata_push $S -C "$work/env" push -q "$R/strata/run$i" main
	timed floor_push floor_push "$i"
	timed floor_image floor_image "$i"
	# skopeo remembers where blobs are and would mount them from strata's
	# repository: forget, so both send everything.
	rm -f /var/lib/containers/cache/blob-info-cache-v1.* "$HOME"/.local/share/containers/cache/blob-info-cache-v1.*
	timed skopeo_push skopeo copy -q --dest-tls-verify=false "oci:$work/env/.strata:main" "docker://$R/skopeo/run$i:main"
	timed strata_clone $S clone -q --no-checkout "$R/strata/run$i:main" "$work/clone$i"
	timed skopeo_clone skopeo copy -q --src-tls-verify=false "docker://$R/strata/run$i:main" "oci:$work/sk$i:main"
	timed strata_noop_push $S -C "$work/env" push -q "$R/strata/run$i" main
	rm -rf "$work/clone$i" "$work/sk$i"
	i=$((i + 1))
done

# One new commit of a one-file change on top of a pushed history.
$S -C "$work/env" remote add origin "$R/strata/run0"
$S -C "$work/env" push -q origin main
$S -C "$work/env" checkout main >/dev/null
echo "one change" >"$work/env/rootfs/etc/bench-change"
$S -C "$work/env" commit -q -m 'one file' >/dev/null 2>&1 || $S -C "$work/env" commit -m 'one file' >/dev/null
$S -C "$work/env" push origin main >/dev/null 2>"$work/change.out" # the report is on stderr, as git's
sent=$(awk '/blobs sent/ {print $1 " commit, " $3 " blobs sent " $6 " " $7 " (the layer and the config, then the manifest), " $8 " already there"}' "$work/change.out")
# Its figures: commits, blobs sent, blobs already there.
for f in 1 3 8; do figure "the push report's field $f ($(cat "$work/change.out"))" "$(awk -v f="$f" '/blobs sent/ {print $f}' "$work/change.out")" >/dev/null; done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
m() { figure "$1 median" "$(median <"$work/$1")"; }
# Each figure read before the table, so that a missing one stops the script.
for f in strata_push skopeo_push strata_clone skopeo_clone strata_noop_push floor_push floor_image ${STRATA_BASE:+base_push base_clone}; do m "$f" >/dev/null; done

entries=$(find "$TREE" | wc -l)
echo "Tree: $TREE ($entries entries, $(du -sh "$TREE" | cut -f1)); layer $(du -h "$work/env/.strata/blobs/sha256" | cut -f1) in the store; registry: docker-registry on $R; $RUNS interleaved runs"
echo
echo "| step | strata median s | skopeo copy median s | ratio |"
echo "|---|---|---|---|"
for step in push clone; do
	awk -v s="$step" -v a="$(m strata_$step)" -v b="$(m skopeo_$step)" 'BEGIN {printf "| %s | %.2f | %.2f | %.2fx |\n", s, a, b, a/b}'
done
if [ -n "${STRATA_BASE:-}" ]; then
	for step in push clone; do
		awk -v s="$step" -v a="$(m base_$step)" -v b="$(m skopeo_$step)" 'BEGIN {printf "| %s, STRATA_BASE | %.2f | %.2f | %.2fx |\n", s, a, b, a/b}'
	done
fi
awk -v a="$(m strata_noop_push)" 'BEGIN {printf "| push, nothing new | %.3f | | (target < 0.200) |\n", a}'
awk -v a="$(m floor_push)" -v b="$(m skopeo_push)" 'BEGIN {printf "| floor: curl POST + PUT of the layer blob alone | %.2f | %.2f | %.2fx |\n", a, b, a/b}'
awk -v a="$(m floor_image)" -v b="$(m skopeo_push)" 'BEGIN {printf "| floor: curl POST + PUT of the layer and the config, PUT of the manifest | %.2f | %.2f | %.2fx |\n", a, b, a/b}'
if [ -n "${BENCH_CHART:-}" ]; then
	for step in push clone; do
		printf '%s\tstrata\t%.2f\ts\n' "$step" "$(m strata_$step)" >>"$BENCH_CHART"
		printf '%s\tskopeo copy\t%.2f\ts\n' "$step" "$(m skopeo_$step)" >>"$BENCH_CHART"
	done
fi
echo
echo "The first floor row times the registry taking the layer blob alone: one POST and one PUT by curl, no config or manifest. Every push of this layer pays that; when the floor's own ratio is above 0.7x, the push goal (<= 0.7x skopeo copy) cannot be met against this registry. docker-registry hashes the body as it arrives (SHA-256, about 70% of its CPU here), writes and syncs it; no upload form avoids that for a blob it lacks (a PATCH and an empty PUT, or chunked PATCHes, cost it more; a POST with ?digest= keeps nothing), only a cross-repository mount of a blob another repository holds (docs/remote.md, Benchmarks). The second floor row adds what every push of the image needs beside the layer: the config (sent alongside it) and the manifest, which the registry takes only once both are in; strata's push adds to it a ping, the tag's HEAD and the layer's HEAD, and its own start."
echo
echo "Push of one new commit (one-file change) on the pushed history: $sent"
