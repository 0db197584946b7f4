#!/usr/bin/env bash
# bench/checkout.sh [ROUNDS]: benchmarks of package worktree on a Debian
# minbase tree (scripts/bench-tree.sh), printed as a markdown table of
# medians. Cold checkout is compared, interleaved in the same run, with
# `zstd -dc LAYER | tar -x` of the same layer and with `umoci unpack`.
# Needs root, zstd, tar, umoci, skopeo and mkfs.ext4.
#
# Every timed extraction gets a filesystem of its own, made just before:
# ext4 (mkfs.ext4 with its defaults, on a sparse loop file) and tmpfs.
# Extracting into a directory of a long-lived filesystem is not fair: on
# an ext4 without a journal (this VM's root), creating an inode skips
# every free inode deleted in the last dirty_expire interval, reading its
# inode table block (recently_deleted() in __ext4_new_inode), so a create
# costs ~7 µs or ~450 µs depending on how many files the previous round
# deleted, and whichever tool ran after the larger deletion lost seconds.
# The input (the layer blob for tar, the repository for strata, the gzip
# image for umoci) is copied into the new filesystem and synced first, so
# each tool reads it from the page cache and writes to an empty, quiet
# filesystem; the order of the tools alternates from round to round.
# BENCH_DIR (default /var/tmp) holds the loop files.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/figure.sh
rounds=${1:-7}
small_dirs=100 # of 1,000 files
gobench=(-benchtime 30x)
if smoke; then rounds=1 small_dirs=1 gobench=(-short -benchtime 1x); fi
tree=$(scripts/bench-tree.sh)
export STRATA_BENCH_TREE=$tree
# BENCH_DIR=/dev/shm takes the disk out of the comparison (tmpfs).
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/strata-bench-co.XXXXXX")
bin=$work/strata
cleanup() {
	umount -l "$work/fs/env/rootfs" 2>/dev/null || true
	umount -l "$work/fs" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
scripts/bench-strata.sh "$bin"

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "n/a"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

"$bin" init "$work/env" >/dev/null
(
	cd "$work/env"
	"$bin" import "$tree" -m debian --date 2024-01-01T00:00:00Z >/dev/null
	# umoci 0.4 reads gzip layers only: give it the same image, recompressed.
	skopeo copy -q --dest-compress-format gzip oci:.strata:main "oci:$work/gz:main" >/dev/null
)
layer=$(ls -S "$work"/env/.strata/blobs/sha256/* | head -1)

# Many small files: 100 directories of 1,000 files of ~20 bytes, where
# the cost is the kernel's per-file work (create, write, utimes, close)
# and the parsing of 100,000 tar headers, not decompression.
scripts/bench-smalltar.py "$work/small.tar" "$small_dirs"
"$bin" init "$work/small" >/dev/null
(cd "$work/small" && "$bin" import "$work/small.tar" -m small --date 2024-01-01T00:00:00Z >/dev/null)
rm -f "$work/small.tar"
small_layer=$(ls -S "$work"/small/.strata/blobs/sha256/* | head -1)

fs=$work/fs
mkdir "$fs"
# fresh KIND: mount a new, empty filesystem of KIND (ext4 or tmpfs) at $fs.
fresh() {
	if [ "$1" = ext4 ]; then
		rm -f "$work/img"
		truncate -s 4G "$work/img"
		mkfs.ext4 -q -F "$work/img"
		mount -o loop "$work/img" "$fs"
	else
		mount -t tmpfs -o size=4g tmpfs "$fs"
	fi
}
# done_fs: unmount it (which writes it back, untimed) and drop it.
done_fs() { umount "$fs"; rm -f "$work/img"; }

# timed KIND TOOL: one extraction by TOOL into a fresh KIND filesystem,
# its milliseconds appended to $work/KIND-TOOL.ms.
timed() {
	local kind=$1 tool=$2 t0 t1 ok=1
	fresh "$kind"
	case $tool in
	tar) cp "$layer" "$fs/layer"; mkdir "$fs/x" ;;
	tar-small) cp "$small_layer" "$fs/layer"; mkdir "$fs/x" ;;
	strata) cp -a "$work/env" "$fs/env" ;;
	strata-small) cp -a "$work/small" "$fs/env" ;;
	umoci) cp -a "$work/gz" "$fs/gz" ;;
	esac
	sync
	t0=$(now)
	case $tool in
	tar | tar-small) zstd -qdc "$fs/layer" | tar -x -C "$fs/x" ;;
	strata | strata-small) (cd "$fs/env" && "$bin" checkout main >/dev/null) ;;
	umoci) umoci unpack --image "$fs/gz:main" "$fs/bundle" >/dev/null 2>"$work/umoci.err" || ok=0 ;;
	esac
	t1=$(now)
	case $tool in strata*) (cd "$fs/env" && "$bin" umount >/dev/null) ;; esac
	done_fs
	if [ "$ok" = 1 ]; then ms "$t0" "$t1" >>"$work/$kind-$tool.ms"; else umoci_ok=0; fi
}

# A guest whose virtio balloon reports free pages hands them back to its
# host, and a page handed back costs a host fault when it is touched
# again: say how much went back while the rounds ran (nothing where no
# page went back).
reported() { cat /sys/module/page_reporting/parameters/reported_kib 2>/dev/null || echo -1; }
reported0=$(reported)
umoci_ok=1
for i in $(seq "$rounds"); do
	for kind in ext4 tmpfs; do
		if [ $((i % 2)) = 1 ]; then order="tar strata"; else order="strata tar"; fi
		for tool in $order; do timed "$kind" "$tool"; done
	done
	if [ "$umoci_ok" = 1 ]; then timed ext4 umoci; fi
	if [ $((i % 2)) = 1 ]; then order="tar-small strata-small"; else order="strata-small tar-small"; fi
	for tool in $order; do timed ext4 "$tool"; done
done

tar_ms=$(figure "tar, ext4" "$(median <"$work/ext4-tar.ms")")
strata_ms=$(figure "cold checkout, ext4" "$(median <"$work/ext4-strata.ms")")
tar_tmpfs_ms=$(figure "tar, tmpfs" "$(median <"$work/tmpfs-tar.ms")")
strata_tmpfs_ms=$(figure "cold checkout, tmpfs" "$(median <"$work/tmpfs-strata.ms")")
umoci_ms=$(median <"$work/ext4-umoci.ms")
tar_small_ms=$(figure "tar, small files" "$(median <"$work/ext4-tar-small.ms")")
strata_small_ms=$(figure "cold checkout, small files" "$(median <"$work/ext4-strata-small.ms")")
[ "$umoci_ok" = 0 ] || umoci_ms=$(figure "umoci unpack" "$umoci_ms")
load=$(cut -d' ' -f1-3 /proc/loadavg)
reported1=$(reported)
[ "$umoci_ok" = 1 ] || umoci_ms="failed: $(head -c 120 "$work/umoci.err" | tr '\n' ' ')"

go test -count=1 -run '^$' -bench 'CommitOneFile|CheckoutCached|DiffRevisions|Status1000|Rebase20|Merge1000' "${gobench[@]}" ./worktree >"$work/go.txt" || { cat "$work/go.txt" >&2; exit 1; }
metric() { figure "$1 median-ms" "$(awk -v n="$1" '$1 ~ n {for (i=1;i<=NF;i++) if ($(i+1)=="median-ms") print $i}' "$work/go.txt")"; }
# The depths BenchmarkCheckoutCached ran (1, 100 and 1,000; smaller
# with -short).
depths=$(grep -o '^BenchmarkCheckoutCached/depth=[0-9]*' "$work/go.txt" | cut -d= -f2 | tr '\n' ' ')
[ "$(echo $depths | wc -w)" = 3 ] || { echo "bench/checkout.sh: BenchmarkCheckoutCached ran depths '$depths', want three" >&2; exit 1; }
# Each figure read before the table, so that a missing one stops the script.
for n in 'BenchmarkCommitOneFile-' 'BenchmarkCommitOneFileShell-' 'BenchmarkDiffRevisions' 'BenchmarkStatus1000-' \
	'BenchmarkStatus1000Stacked50-' 'BenchmarkRebase20-' 'BenchmarkMerge1000-'; do
	metric "$n" >/dev/null
done
for d in $depths; do metric "BenchmarkCheckoutCached/depth=$d-" >/dev/null; done

echo "| benchmark | median | target |"
echo "|---|---|---|"
echo "| commit of one changed file | $(metric 'BenchmarkCommitOneFile-') ms | < 50 ms |"
echo "| commit of one file, shell inside (stacked) | $(metric 'BenchmarkCommitOneFileShell-') ms | < 50 ms |"
for d in $depths; do
	echo "| cached checkout, depth $d | $(metric "BenchmarkCheckoutCached/depth=$d-") ms | < 30 ms |"
done
echo "| diff between revisions | $(metric 'BenchmarkDiffRevisions') ms | < 100 ms |"
echo "| status, 1,000 changed files | $(metric 'BenchmarkStatus1000-') ms | < 100 ms |"
echo "| status, 1,000 changed files, 50 commits stacked | $(metric 'BenchmarkStatus1000Stacked50-') ms | < 100 ms |"
echo "| rebase of 20 commits, no conflict (no layer written) | $(metric 'BenchmarkRebase20-') ms | < 200 ms |"
echo "| merge, 1,000 changed paths a side, no conflict | $(metric 'BenchmarkMerge1000-') ms | < 500 ms |"
echo "| cold checkout (strata), fresh ext4 | $strata_ms ms | <= 0.8x zstd\|tar |"
echo "| zstd -dc \| tar -x, same layer, fresh ext4 | $tar_ms ms | |"
echo "| umoci unpack (same image, gzip), fresh ext4 | $umoci_ms ms | slower than strata |"
echo "| cold checkout (strata), fresh tmpfs | $strata_tmpfs_ms ms | <= 0.8x zstd\|tar |"
echo "| zstd -dc \| tar -x, same layer, fresh tmpfs | $tar_tmpfs_ms ms | |"
echo "| cold checkout (strata), 100,000 small files, fresh ext4 | $strata_small_ms ms | <= 0.8x zstd\|tar |"
echo "| zstd -dc \| tar -x, same layer, fresh ext4 | $tar_small_ms ms | |"
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a/b}'; }
echo "Cold checkout ratio: $(ratio "$strata_ms" "$tar_ms") of zstd -dc | tar -x on ext4," \
	"$(ratio "$strata_tmpfs_ms" "$tar_tmpfs_ms") on tmpfs (goal <= 0.8x); $rounds interleaved rounds, load average $load." \
	"Each timed extraction runs on a filesystem made for it (mkfs.ext4 defaults on a loop file, or a new tmpfs):" \
	"on a long-lived ext4 without a journal, a create after many deletes pays for every recently deleted inode" \
	"it skips, and the earlier benchmark timed each tool after different deletions."
if [ "$reported0" != -1 ] && [ "$reported1" -gt "$reported0" ]; then
	echo
	echo "This machine is a guest that hands free memory back to its host (virtio-balloon free page reporting):" \
		"$(( (reported1 - reported0) / 1024 )) MB went back while these rounds ran. A page handed back costs a host fault" \
		"when it is touched again, so the time to fill the page cache moves from run to run (docs/checkout.md, Benchmarks)."
fi
echo
echo "With 100,000 small files: $(ratio "$strata_small_ms" "$tar_small_ms") of zstd -dc | tar -x on ext4 (goal <= 0.8x)." \
	"There the kernel's per-file work dominates, and a directory's creates are serialised by its lock however many threads make them;" \
	"strata creates small new files on its worker pool, a directory to a worker, while the unpacker parses the next headers (docs/checkout.md)."
if [ -n "${BENCH_CHART:-}" ]; then
	printf 'cold checkout\tstrata\t%s\tms\n' "$strata_ms" >>"$BENCH_CHART"
	printf 'cold checkout\tzstd -dc | tar -x\t%s\tms\n' "$tar_ms" >>"$BENCH_CHART"
	if [ "$umoci_ok" = 1 ]; then printf 'cold checkout\tumoci unpack (gzip)\t%s\tms\n' "$umoci_ms" >>"$BENCH_CHART"; fi
	printf 'cold checkout, 100,000 small files\tstrata\t%s\tms\n' "$strata_small_ms" >>"$BENCH_CHART"
	printf 'cold checkout, 100,000 small files\tzstd -dc | tar -x\t%s\tms\n' "$tar_small_ms" >>"$BENCH_CHART"
fi
