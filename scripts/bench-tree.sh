#!/usr/bin/env bash
# bench-tree.sh [DIR]: print the path of a Debian minbase tree for
# benchmarks, building it once with debootstrap (about 200 MB, 6,800
# entries). Cached outside the repository; concurrent callers wait.
set -euo pipefail
dir=${1:-${STRATA_BENCH_TREE:-/var/cache/strata-bench/debian}}
if [ ! -f "$dir/.complete" ]; then
	mkdir -p "$(dirname "$dir")"
	exec 9>"$dir.lock"
	flock 9
	if [ ! -f "$dir/.complete" ]; then
		"$(dirname "$0")/need-packages.sh" debootstrap >&2
		mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
		if [ -z "$mirror" ]; then
			echo "bench-tree: no URIs: line in /etc/apt/sources.list.d/debian.sources; set STRATA_BENCH_TREE to a Debian tree" >&2
			exit 1
		fi
		rm -rf "$dir"
		debootstrap --variant=minbase bookworm "$dir" "$mirror" >&2
		touch "$dir/.complete"
	fi
fi
echo "$dir"
