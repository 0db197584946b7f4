#!/usr/bin/env bash
# bench/service.sh: a service's start on a private network, strata against
# podman on the same busybox tree, N interleaved runs each:
#   - `run -d -p` to the first HTTP response on the published port;
#   - start to exit of /bin/true with --network host, none and private
#     (what a private network adds);
#   - the supervisor's resident memory while its service idles.
# Prints a markdown section; appends chart rows to $BENCH_CHART if set.
#
#   STRATA=/path/to/strata [N=15] bench/service.sh
#
# Needs root, busybox-static, podman (run as ../shared/PEERS.md says) and
# python3.
set -euo pipefail
. "$(dirname "$0")/figure.sh"

N=${N:-15}
if smoke; then N=1; fi
: "${STRATA:?set STRATA to the strata binary}"
STRATA=$(readlink -f "$STRATA")
for tool in busybox podman python3; do
	command -v "$tool" >/dev/null || { echo "bench/service.sh: $tool not found" >&2; exit 1; }
done
PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs --events-backend=file)
PODMAN_RUN=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

work=$(mktemp -d /tmp/strata-bench-service.XXXXXX)
image=localhost/strata-bench-httpd:latest
cleanup() {
	"$STRATA" -C "$work/env" rm -f $("$STRATA" -C "$work/env" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
	"${PODMAN[@]}" rm -f -t 0 $("${PODMAN[@]}" ps -aq --filter name=strata-bench- 2>/dev/null) >/dev/null 2>&1 || true
	"${PODMAN[@]}" rmi -f "$image" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
# A copy, as the other benches time (scripts/bench-strata.sh says why).
mkdir "$work/bin"
(cd "$(dirname "$0")/.." && scripts/bench-strata.sh "$work/bin/strata")
STRATA=$work/bin/strata

root=$work/rootfs
mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,www}
cp "$(command -v busybox)" "$root/bin/busybox"
for a in sh httpd true; do ln -s busybox "$root/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo hello >"$root/www/index.html"
"$STRATA" init "$work/env" >/dev/null
"$STRATA" -C "$work/env" import "$root" -m httpd >/dev/null
tar -C "$root" -cf "$work/rootfs.tar" .
"${PODMAN[@]}" import "$work/rootfs.tar" "$image" >/dev/null 2>&1
# One podman run first: its network and storage are set up once.
"${PODMAN[@]}" run --rm "${PODMAN_RUN[@]}" "$image" true

python3 - "$STRATA" "$work/env" "$image" "$N" "${BENCH_CHART:-}" "${PODMAN[@]}" -- "${PODMAN_RUN[@]}" <<'EOF'
import os, socket, statistics, subprocess, sys, time

strata, env, image, n, chart = sys.argv[1:6]
rest = sys.argv[6:]
sep = rest.index("--")
podman, podman_run = rest[:sep], rest[sep + 1:]
n = int(n)

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

def first_response(port, deadline=10.0):
    end = time.perf_counter() + deadline
    while time.perf_counter() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                c.sendall(b"GET / HTTP/1.0\r\n\r\n")
                if c.recv(64).startswith(b"HTTP/1.") :
                    return
        except OSError:
            pass
        time.sleep(0.001)
    raise SystemExit(f"no HTTP response on port {port}")

def quiet(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)

def strata_service(i):
    port = free_port()
    t = time.perf_counter()
    quiet([strata, "-C", env, "run", "-d", "--name", f"s{i}", "-p", f"127.0.0.1:{port}:80",
           "--rev", "main", "--", "httpd", "-f", "-p", "80", "-h", "/www"])
    first_response(port)
    return (time.perf_counter() - t) * 1000

def podman_service(i):
    port = free_port()
    t = time.perf_counter()
    quiet(podman + ["run", "-d", *podman_run, "--name", f"strata-bench-{i}", "-p", f"127.0.0.1:{port}:80",
                    image, "httpd", "-f", "-p", "80", "-h", "/www"])
    first_response(port)
    return (time.perf_counter() - t) * 1000

svc = {"strata": [], "podman": []}
for i in range(n):
    svc["strata"].append(strata_service(i))
    svc["podman"].append(podman_service(i))
    if i == n // 2:
        # The supervisor of the newest service, idle after one request
        # (it releases memory a second after the start).
        pid = open(os.path.join(env, ".strata", "services", f"s{i}", "supervisor.pid")).read().strip()
        time.sleep(2)
        rss = [l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:")][0]
    quiet([strata, "-C", env, "rm", "-f", f"s{i}"])
    quiet(podman + ["rm", "-f", "-t", "0", f"strata-bench-{i}"])

start = {"host": [], "none": [], "private": []}
for i in range(n * 2):
    for net in start:
        t = time.perf_counter()
        quiet([strata, "-C", env, "run", "--network", net, "--rev", "main", "--", "/bin/true"])
        start[net].append((time.perf_counter() - t) * 1000)

m = {k: statistics.median(v) for k, v in svc.items()}
s = {k: statistics.median(v) for k, v in start.items()}
print(f"Busybox httpd, {n} interleaved runs each ({2 * n} for the start rows); "
      f"podman {subprocess.run(podman + ['--version'], capture_output=True, text=True).stdout.split()[-1]} "
      f"with runc and its default bridge network; load average {os.getloadavg()[0]:.2f}.")
print()
print("| work | strata median | podman median | ratio | goal |")
print("|---|---|---|---|---|")
print(f"| `run -d -p` to the first HTTP response | {m['strata']:.1f} ms | {m['podman']:.1f} ms | "
      f"{m['strata'] / m['podman']:.2f}x | <= 1.5x podman and < 150 ms |")
print()
print("| start to exit of `/bin/true` (`strata run --rev`) | median | against host |")
print("|---|---|---|")
for net in start:
    print(f"| `--network {net}` | {s[net]:.1f} ms | {s[net] - s['host']:+.1f} ms |")
print()
print(f"Goal: a private network adds at most 30 ms; here {s['private'] - s['host']:+.1f} ms.")
print()
print(f"Supervisor of an idle service: VmRSS {int(rss) / 1024:.1f} MB (goal <= 15 MB).")
if chart:
    with open(chart, "a") as f:
        f.write(f"run -d to first HTTP response\tstrata\t{m['strata']:.1f}\tms\n")
        f.write(f"run -d to first HTTP response\tpodman run -d -p\t{m['podman']:.1f}\tms\n")
EOF
