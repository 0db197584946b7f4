#!/usr/bin/env bash
# bench/checkout.sh [ROUNDS]: benchmarks of package worktree on a Debian
# minbase tree (scripts/bench-tree.sh), printed as a markdown table of
# medians. Cold checkout is compared, interleaved in the same run, with
# `zstd -dc LAYER | tar -x` of the same layer and with `umoci unpack`.
# Needs root, zstd, tar and umoci.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
tree=$(scripts/bench-tree.sh)
export STRATA_BENCH_TREE=$tree
# BENCH_DIR=/dev/shm takes the disk out of the comparison (tmpfs).
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/strata-bench-co.XXXXXX")
bin=$work/strata
cleanup() {
	umount -l "$work/env/rootfs" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$bin" ./cmd/strata

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "n/a"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

"$bin" init "$work/env" >/dev/null
cd "$work/env"
"$bin" import "$tree" -m debian --date 2024-01-01T00:00:00Z >/dev/null
layer=$(ls -S .strata/blobs/sha256/* | head -1)
# umoci 0.4 reads gzip layers only: give it the same image, recompressed.
skopeo copy -q --dest-compress-format gzip oci:.strata:main "oci:$work/gz:main" >/dev/null

: >"$work/tar.ms"; : >"$work/strata.ms"; : >"$work/umoci.ms"
umoci_ok=1
for i in $(seq "$rounds"); do
	rm -rf "$work/x"; mkdir "$work/x"; sync
	t0=$(now); zstd -qdc "$layer" | tar -x -C "$work/x"; t1=$(now)
	ms "$t0" "$t1" >>"$work/tar.ms"
	rm -rf "$work/x"

	"$bin" umount >/dev/null 2>&1 || true
	rm -rf .strata/snapshots .strata/worktree; sync
	t0=$(now); "$bin" checkout main >/dev/null; t1=$(now)
	ms "$t0" "$t1" >>"$work/strata.ms"

	if [ "$umoci_ok" = 1 ]; then
		rm -rf "$work/bundle"; sync
		t0=$(now)
		if umoci unpack --image "$work/gz:main" "$work/bundle" >/dev/null 2>"$work/umoci.err"; then
			t1=$(now); ms "$t0" "$t1" >>"$work/umoci.ms"
		else
			umoci_ok=0
		fi
		rm -rf "$work/bundle"
	fi
done
"$bin" umount >/dev/null
cd - >/dev/null

tar_ms=$(median <"$work/tar.ms")
strata_ms=$(median <"$work/strata.ms")
umoci_ms=$(median <"$work/umoci.ms")
[ "$umoci_ok" = 1 ] || umoci_ms="failed: $(head -c 120 "$work/umoci.err" | tr '\n' ' ')"

go test -count=1 -run '^$' -bench 'CommitOneFile|CheckoutCached|DiffRevisions|Status1000|Rebase20|Merge1000' -benchtime 30x ./worktree >"$work/go.txt"
metric() { awk -v n="$1" '$1 ~ n {for (i=1;i<=NF;i++) if ($(i+1)=="median-ms") print $i}' "$work/go.txt"; }

echo "| benchmark | median | target |"
echo "|---|---|---|"
echo "| commit of one changed file | $(metric 'BenchmarkCommitOneFile-') ms | < 50 ms |"
echo "| commit of one file, shell inside (stacked) | $(metric 'BenchmarkCommitOneFileShell-') ms | < 50 ms |"
for d in 1 100 1000; do
	echo "| cached checkout, depth $d | $(metric "BenchmarkCheckoutCached/depth=$d-") ms | < 30 ms |"
done
echo "| diff between revisions | $(metric 'BenchmarkDiffRevisions') ms | < 100 ms |"
echo "| status, 1,000 changed files | $(metric 'BenchmarkStatus1000-') ms | < 100 ms |"
echo "| status, 1,000 changed files, 50 commits stacked | $(metric 'BenchmarkStatus1000Stacked50-') ms | < 100 ms |"
echo "| rebase of 20 commits, no conflict (no layer written) | $(metric 'BenchmarkRebase20-') ms | < 200 ms |"
echo "| merge, 1,000 changed paths a side, no conflict | $(metric 'BenchmarkMerge1000-') ms | < 500 ms |"
echo "| cold checkout (strata) | $strata_ms ms | <= 0.8x zstd\|tar |"
echo "| zstd -dc \| tar -x, same layer | $tar_ms ms | |"
echo "| umoci unpack (same image, gzip) | $umoci_ms ms | slower than strata |"
echo
echo "Cold checkout ratio: $(awk -v a="$strata_ms" -v b="$tar_ms" 'BEGIN {printf "%.2fx", a/b}') of zstd -dc | tar -x (goal <= 0.8x)."
if [ -n "${BENCH_CHART:-}" ]; then
	printf 'cold checkout\tstrata\t%s\tms\n' "$strata_ms" >>"$BENCH_CHART"
	printf 'cold checkout\tzstd -dc | tar -x\t%s\tms\n' "$tar_ms" >>"$BENCH_CHART"
	if [ "$umoci_ok" = 1 ]; then printf 'cold checkout\tumoci unpack (gzip)\t%s\tms\n' "$umoci_ms" >>"$BENCH_CHART"; fi
fi
