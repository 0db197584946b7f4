#!/usr/bin/env bash
# bench/run.sh: start-to-exit time of /bin/true in a busybox container,
# strata against crun and runc, N interleaved runs each; prints a markdown
# table of medians and ratios, and strata's memory while a container runs.
# Host network: strata --network host, crun and runc without a network
# namespace, and the floor "unshare -m -p -f -u -i chroot ROOT /bin/true"
# (the same namespaces, nothing else). Network none: strata --network none
# against crun with a network namespace (runc spec's default).
# crun and runc get the seccomp filter strata loads (Docker's default
# profile for strata's default capabilities, native arch only, from
# exec/internal/seccompjson): "runc spec" has none, and a runtime that
# skips the filter skips work strata does (compiling and attaching it) on
# every start. Docker and podman always hand crun and runc that profile.
#
#   STRATA=/path/to/strata [N=30] [NEXEC=4N] bench/run.sh
#
# STRATA is the strata CLI (timed as "strata -C REPO run --network host --
# /bin/true" on a checkout of the same rootfs), or a binary that runs a
# container as "$STRATA -network MODE ROOT ARGS..." (exec/internal/benchcmd:
# the runtime alone). Needs root, busybox-static, runc, crun and unshare.
# crun 1.8 refuses this machine's hybrid cgroups, so everything runs inside
# "unshare -m --propagation private" with /sys/fs/cgroup/unified unmounted
# there (see /work/shared/PEERS.md); strata runs in the same namespace so
# the comparison is fair.
set -euo pipefail
. "$(dirname "$0")/figure.sh"

N=${N:-30}
# exec rows are a few ms each and swing most from run to run (crun exec
# moved 27% between two quiet runs at N=30): four times the samples cost
# about five seconds and steady the medians.
NEXEC=${NEXEC:-$((N * 4))}
if smoke; then N=1 NEXEC=1; fi
: "${STRATA:?set STRATA to the strata binary}"
STRATA=$(readlink -f "$STRATA")
for tool in busybox runc crun python3 unshare chroot shuf; do
	command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d /tmp/strata-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# A copy, as the other benches time (scripts/bench-strata.sh says why).
mkdir "$work/bin"
(cd "$(dirname "$0")/.." && scripts/bench-strata.sh "$work/bin/strata")
STRATA=$work/bin/strata

# The same busybox rootfs for all three (as internal/testrootfs builds it).
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,root,tmp}
chmod 1777 "$rootfs/tmp"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
busybox --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$rootfs/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\n' >"$rootfs/etc/group"

# OCI bundles from "runc spec": no terminal, /bin/true; "bundle" on the
# host network (no network namespace), "bundle-net" with runc spec's own
# network namespace (only lo, as strata --network none), same rootfs.
(cd "$work/bundle" && runc spec)
mkdir "$work/bundle-net" "$work/bundle-sleep"
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
(cd "$(dirname "$0")/.." && go build -o "$work/seccomp-json" ./exec/internal/seccompjson)
"$work/seccomp-json" >"$work/seccomp.json"
python3 - "$work/bundle/config.json" "$work/bundle-net/config.json" "$rootfs" "$work/seccomp.json" <<'PY'
import json, sys
p, pnet, rootfs, seccomp = sys.argv[1:]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"]["path"] = rootfs
c["linux"]["seccomp"] = json.load(open(seccomp))
json.dump(c, open(pnet, "w"), indent=1)
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
json.dump(c, open(p, "w"), indent=1)
c["process"]["args"] = ["/bin/sleep", "600"]
json.dump(c, open(p.replace("/bundle/", "/bundle-sleep/"), "w"), indent=1)
PY

# The CLI runs in a checkout of the same tree, made before the namespace
# is entered (the overlay mount is copied into it).
mode=runtime
if "$STRATA" version >/dev/null 2>&1; then
	mode=cli
	"$STRATA" init "$work/repo" >/dev/null
	"$STRATA" -C "$work/repo" import "$rootfs" -m bench >/dev/null
	"$STRATA" -C "$work/repo" checkout main >/dev/null
	trap '"$STRATA" -C "$work/repo" umount >/dev/null 2>&1; rm -rf "$work"' EXIT
fi

settled=$("$(dirname "$0")/../scripts/bench-settle.sh") # the steps before load the cores too

cat >"$work/inner.sh" <<'INNER'
set -euo pipefail
umount /sys/fs/cgroup/unified 2>/dev/null || true
ns() { date +%s%N; }
strata_run() { # NETWORK ARGS...
	local net=$1
	shift
	if [ "$mode" = cli ]; then "$STRATA" -C "$work/repo" run --network "$net" -- "$@"; else "$STRATA" -network "$net" "$rootfs" "$@"; fi
}
for i in $(seq "$N"); do
	# A new order each round: a network namespace is torn down by a
	# kernel worker after its last process exits, on the CPU of whatever
	# runs next. In a fixed order strata always ran right after crun's
	# network namespace run, and crun's after strata's.
	for tool in $(printf '%s\n' strata crun runc floor strata-none crun-net | shuf); do
		s=$(ns)
		case $tool in
		strata) strata_run host /bin/true ;;
		crun) crun run --bundle "$work/bundle" "bench-crun-$$-$i" ;;
		runc) runc run --bundle "$work/bundle" "bench-runc-$$-$i" ;;
		floor) unshare -m -p -f -u -i chroot "$rootfs" /bin/true ;;
		strata-none) strata_run none /bin/true ;;
		crun-net) crun run --bundle "$work/bundle-net" "bench-crunnet-$$-$i" ;;
		esac
		e=$(ns)
		echo "$tool $(( (e - s) / 1000 ))"
	done
done >"$work/times"
# exec into a running container (docker exec): one of each, the same
# root, then NEXEC interleaved joins of /bin/true each.
if [ "$mode" = cli ]; then
	stop_exec_targets() {
		"$STRATA" -C "$work/repo" stop -t 0 bench-exec >/dev/null 2>&1 || true
		"$STRATA" -C "$work/repo" rm bench-exec >/dev/null 2>&1 || true
		crun delete -f "bench-crunexec-$$" 2>/dev/null || true
		runc delete -f "bench-runcexec-$$" 2>/dev/null || true
	}
	trap stop_exec_targets EXIT # also when a step fails
	"$STRATA" -C "$work/repo" run -d --name bench-exec --network host -- /bin/sleep 600 >/dev/null
	crun run -d --bundle "$work/bundle-sleep" "bench-crunexec-$$"
	runc run -d --bundle "$work/bundle-sleep" "bench-runcexec-$$" >/dev/null
	for i in $(seq "$NEXEC"); do
		for tool in $(printf '%s\n' strata crun runc | shuf); do
			s=$(ns)
			case $tool in
			strata) "$STRATA" -C "$work/repo" exec bench-exec /bin/true ;;
			crun) crun exec "bench-crunexec-$$" /bin/true ;;
			runc) runc exec "bench-runcexec-$$" /bin/true ;;
			esac
			e=$(ns)
			echo "$tool $(( (e - s) / 1000 ))"
		done
	done >"$work/exectimes"
	stop_exec_targets
	trap - EXIT
fi
# strata's memory while a container runs (the parent process).
if [ "$mode" = cli ]; then "$STRATA" -C "$work/repo" run --network host -- /bin/sleep 1 & else "$STRATA" -network host "$rootfs" /bin/sleep 1 & fi
pid=$!
sleep 0.5
grep -E '^(VmRSS|VmHWM)' "/proc/$pid/status" >"$work/mem" || true
wait "$pid"
INNER
export N NEXEC STRATA rootfs work mode
unshare -m --propagation private bash "$work/inner.sh"

median() { grep "^$1 " "${2:-$work/times}" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
s=$(figure strata "$(median strata)")
c=$(figure crun "$(median crun)")
r=$(figure runc "$(median runc)")
f=$(figure floor "$(median floor)")
sn=$(figure "strata, network none" "$(median strata-none)")
cn=$(figure "crun, network namespace" "$(median crun-net)")
rss=$(awk '/VmRSS/ {print $2}' "$work/mem"); hwm=$(awk '/VmHWM/ {print $2}' "$work/mem")

echo "| runtime | median start-to-exit of /bin/true (ms) | strata / runtime |"
echo "|---|---:|---:|"
awk -v s="$s" -v c="$c" -v r="$r" -v f="$f" -v sn="$sn" -v cn="$cn" 'BEGIN {
	printf "| strata --network host | %.2f | 1.00 |\n", s/1000
	printf "| crun | %.2f | %.2f |\n", c/1000, s/c
	printf "| runc | %.2f | %.2f |\n", r/1000, s/r
	printf "| floor: unshare -m -p -f -u -i chroot | %.2f | %.2f |\n", f/1000, s/f
	printf "| strata --network none | %.2f | 1.00 |\n", sn/1000
	printf "| crun, network namespace | %.2f | %.2f |\n", cn/1000, sn/cn
}'
if [ -s "$work/exectimes" ]; then
	es=$(figure "strata exec" "$(median strata "$work/exectimes")")
	ec=$(figure "crun exec" "$(median crun "$work/exectimes")")
	er=$(figure "runc exec" "$(median runc "$work/exectimes")")
	echo
	echo "| exec of /bin/true into a running container | median (ms) | strata / runtime |"
	echo "|---|---:|---:|"
	awk -v s="$es" -v c="$ec" -v r="$er" 'BEGIN {
		printf "| strata exec | %.2f | 1.00 |\n", s/1000
		printf "| crun exec | %.2f | %.2f |\n", c/1000, s/c
		printf "| runc exec | %.2f | %.2f |\n", r/1000, s/r
	}'
fi
echo
echo "strata timed as: $([ "$mode" = cli ] && echo 'strata -C REPO run --network host|none -- /bin/true, on a checkout' || echo 'the runtime alone')."
echo "crun and runc load the seccomp filter strata loads (Docker's default profile, native arch)."
echo "N=$N interleaved runs each (exec: NEXEC=$NEXEC; in a new random order each round), inside one private mount namespace; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (they began after ${settled} s waiting for the load to settle); crun $(crun --version | head -1 | awk '{print $3}'), $(runc --version | head -1)."
echo "strata parent while a container runs: VmRSS ${rss:-?} kB, VmHWM ${hwm:-?} kB."
if [ -n "${BENCH_CHART:-}" ]; then
	awk -v s="$s" -v c="$c" -v r="$r" -v f="$f" -v sn="$sn" -v cn="$cn" 'BEGIN {
		printf "start to exit of /bin/true\tstrata\t%.2f\tms\n", s/1000
		printf "start to exit of /bin/true\tcrun\t%.2f\tms\n", c/1000
		printf "start to exit of /bin/true\trunc\t%.2f\tms\n", r/1000
		printf "start to exit of /bin/true\tfloor (unshare+chroot)\t%.2f\tms\n", f/1000
		printf "start to exit of /bin/true, network none\tstrata\t%.2f\tms\n", sn/1000
		printf "start to exit of /bin/true, network none\tcrun (netns)\t%.2f\tms\n", cn/1000
	}' >>"$BENCH_CHART"
	if [ -s "$work/exectimes" ]; then
		printf 'exec of /bin/true into a running container\tstrata\t%.2f\tms\n' "$(echo "$es" | awk '{print $1/1000}')" >>"$BENCH_CHART"
		printf 'exec of /bin/true into a running container\tcrun exec\t%.2f\tms\n' "$(echo "$ec" | awk '{print $1/1000}')" >>"$BENCH_CHART"
		printf 'exec of /bin/true into a running container\trunc exec\t%.2f\tms\n' "$(echo "$er" | awk '{print $1/1000}')" >>"$BENCH_CHART"
	fi
fi
