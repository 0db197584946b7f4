#!/usr/bin/env bash
# bench/files.sh: many files (issue 15, "flat at scale"). A commit of
# 100,000 new files against `strata import` of the same tree, and the peak
# RSS of `checkout`, `status` and `diff` on a work tree of 1,000,000 files
# with 1,000 of them changed. FILES_MILLION=0 skips the million (a 30 GB
# sparse loop file on /var/tmp and some minutes to check out). Needs
# python3 (the tar) and mkfs.ext4.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/figure.sh
rounds=${1:-5}
dirs=1000 mdirs=1000 mfs_size=30G mfs_inodes=3000000 # 100,000 files; 1,000,000
if smoke; then rounds=1 dirs=10 mdirs=2 mfs_size=1G mfs_inodes=100000; fi
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/strata-bench-files.XXXXXX")
cleanup() {
	for e in "$work"/*/rootfs "$work"/mfs/m/rootfs; do umount -l "$e" 2>/dev/null || true; done
	umount -l "$work/mfs" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
bin=$work/strata
scripts/bench-strata.sh "$bin"
export STRATA_AUTHOR_NAME=bench GIT_AUTHOR_NAME=bench

# tree DIR DIRS FILES: DIRS directories of FILES small files each.
tree() {
	mkdir -p "$1"
	(cd "$1" && seq -f 'd%05g' 0 $(($2 - 1)) | xargs mkdir)
	awk -v root="$1" -v dirs="$2" -v files="$3" 'BEGIN {
		for (d = 0; d < dirs; d++) for (f = 0; f < files; f++) {
			p = sprintf("%s/d%05d/f%04d", root, d, f)
			printf "file %d of dir %d\n", f, d > p; close(p)
		}
	}'
}
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
st() { "$bin" -C "$1" "${@:2}"; }

tree "$work/t100k" "$dirs" 100
mkdir "$work/empty"
# Writing the tree, and the benches before this one, load the cores: a
# commit timed under that load read 1.29x of the import, 0.99x without.
settled=$(scripts/bench-settle.sh)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$work/import.ms"; : >"$work/commit.ms"; : >"$work/status.ms"
for _ in $(seq "$rounds"); do
	rm -rf "$work/imp" && "$bin" init "$work/imp" >/dev/null
	sync
	t0=$(now); st "$work/imp" import "$work/t100k" -m t >/dev/null; t1=$(now)
	ms "$t0" "$t1" >>"$work/import.ms"

	rm -rf "$work/com" && "$bin" init "$work/com" >/dev/null
	st "$work/com" import "$work/empty" -m base >/dev/null
	st "$work/com" checkout main >/dev/null
	cp -a "$work/t100k/." "$work/com/rootfs/"
	sync
	t0=$(now); st "$work/com" commit -m files >/dev/null; t1=$(now)
	ms "$t0" "$t1" >>"$work/commit.ms"
	# The committed files stay in the mounted upper with their own
	# mtimes; the layer has whole seconds. status must not hash them all.
	t0=$(now); st "$work/com" status >/dev/null; t1=$(now)
	ms "$t0" "$t1" >>"$work/status.ms"
	st "$work/com" umount >/dev/null
done
imp=$(figure "import median" "$(median <"$work/import.ms")")
com=$(figure "commit median" "$(median <"$work/commit.ms")")
status_ms=$(figure "status median" "$(median <"$work/status.ms")")

echo "Commit against import: $rounds interleaved rounds; load average $load0 before (after $settled s waiting for it to settle), $(cut -d' ' -f1-3 /proc/loadavg) after."
echo
echo "| many files | strata | against | goal |"
echo "|---|---|---|---|"
awk -v c="$com" -v i="$imp" 'BEGIN { printf "| commit of 100,000 new files | %d ms | import of the same tree %d ms: %.2fx | <= 1.2x |\n", c, i, c/i }'
awk -v s="$status_ms" 'BEGIN { printf "| `status` right after that commit (no file hashed again) | %d ms | | |\n", s }'
if [ -n "${BENCH_CHART:-}" ]; then
	printf 'commit of 100,000 new files\tstrata\t%s\tms\n' "$com" >>"$BENCH_CHART"
	printf 'commit of 100,000 new files\tstrata import of the tree\t%s\tms\n' "$imp" >>"$BENCH_CHART"
fi

if [ "${FILES_MILLION:-1}" = 1 ]; then
	scripts/bench-smalltar.py "$work/t1m.tar" "$mdirs"
	# Each on an ext4 of its own (mkfs.ext4 defaults, a journal): on
	# /var/tmp, an ext4 without a journal where the rounds above deleted
	# trees, every create skipped, and read, each recently deleted inode,
	# and the checkout took 235-294 s where a fresh ext4 took 36-65 s.
	freshfs() {
		truncate -s "$mfs_size" "$work/mfs.img"
		mkfs.ext4 -q -F -N "$mfs_inodes" "$work/mfs.img"
		mkdir -p "$work/mfs"
		mount -o loop "$work/mfs.img" "$work/mfs"
	}
	dropfs() { umount "$work/mfs"; rm -f "$work/mfs.img"; }
	# The repository is made on one, then copied (a few files) to a new
	# one for the timed checkout; zstd | tar gets a third.
	freshfs
	"$bin" init "$work/mfs/m" >/dev/null
	st "$work/mfs/m" import "$work/t1m.tar" -m million >/dev/null
	rm -f "$work/t1m.tar"
	cp -a "$work/mfs/m" "$work/mrepo"
	dropfs
	layer=$(ls -S "$work"/mrepo/.strata/blobs/sha256/* | head -1)
	freshfs
	cp "$layer" "$work/mfs/layer"
	mkdir "$work/mfs/x"
	sync
	/usr/bin/time -f '%e' -o "$work/tar.t" sh -c "zstd -qdc '$work/mfs/layer' | tar -x -C '$work/mfs/x'"
	dropfs
	freshfs
	m=$work/mfs/m
	cp -a "$work/mrepo" "$m"
	sync
	(cd "$m" && /usr/bin/time -f '%e %M' -o "$work/checkout.t" "$bin" checkout main >/dev/null)
	for d in $(seq -f 'd%05g' 0 $((mdirs - 1))); do echo changed >>"$m/rootfs/$d/f0000"; done
	tar_s=$(figure "zstd | tar seconds" "$(cat "$work/tar.t")")
	figure "checkout seconds" "$(awk '{print $1}' "$work/checkout.t")" >/dev/null
	figure "checkout peak RSS" "$(awk '{print $2}' "$work/checkout.t")" >/dev/null
	awk -v tar="$tar_s" '{ printf "| `checkout`, 1,000,000 files, fresh ext4 | %.1f s, peak RSS %.0f MB | zstd -dc \\| tar -x of the layer, fresh ext4: %.1f s | |\n", $1, $2/1024, tar }' "$work/checkout.t"
	for what in status diff; do
		(cd "$m" && /usr/bin/time -f '%e %M' -o "$work/$what.t" "$bin" "$what" >/dev/null)
		figure "$what seconds" "$(awk '{print $1}' "$work/$what.t")" >/dev/null
		figure "$what peak RSS" "$(awk '{print $2}' "$work/$what.t")" >/dev/null
		awk -v w="$what" '{ printf "| `%s`, 1,000,000 files, 1,000 changed | %.1f s, peak RSS %.0f MB | | RSS < 500 MB |\n", w, $1, $2/1024 }' "$work/$what.t"
	done
	st "$m" umount >/dev/null
	dropfs
	rm -rf "$work/mrepo"
fi
