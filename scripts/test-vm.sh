#!/bin/sh
# test-vm.sh: run the exec package's tests on a cgroup-v2-only kernel.
#
# Boots Debian's own kernel (linux-image-amd64) in qemu under TCG with a
# small initramfs: static busybox, util-linux nsenter, the exec test
# binary, strata-init, and the two modules the tests need (dummy, so the
# VM has a network interface besides lo; loop, so it has a block device a
# container must not open).
# The VM's init mounts only cgroup2 at /sys/fs/cgroup, runs exec.test and
# prints a marker line with its exit status; this script exits with it.
#
# Environment: STRATA_VM_TIMEOUT (seconds, default 1800), STRATA_VM_KERNEL
# (a vmlinuz path, default the newest /boot/vmlinuz-*-amd64),
# STRATA_VM_TESTFLAGS (extra exec.test flags, e.g. "-test.run TestMemory").
set -eu
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
GO=${GO:-go}
timeout_s=${STRATA_VM_TIMEOUT:-1800}

scripts/need-packages.sh qemu-system-x86 linux-image-amd64 busybox-static cpio

kernel=${STRATA_VM_KERNEL:-$(ls -v /boot/vmlinuz-*-amd64 2>/dev/null | tail -n 1)}
[ -n "$kernel" ] && [ -f "$kernel" ] || { echo "test-vm: no Debian kernel in /boot (apt-get install linux-image-amd64)" >&2; exit 1; }
kver=${kernel##*/vmlinuz-}
moddir=/lib/modules/$kver
[ -d "$moddir" ] || { echo "test-vm: no modules for $kver in $moddir" >&2; exit 1; }

work=$(mktemp -d /tmp/strata-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
root=$work/initramfs
mkdir -p "$root/bin" "$root/usr/bin" "$root/strata" "$root/modules" \
	"$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/newroot"

echo "test-vm: building the exec test binary and strata-init"
CGO_ENABLED=0 $GO test -c -o "$root/strata/exec.test" ./exec
CGO_ENABLED=0 $GO build -tags strata_init -ldflags "-s -w" -o "$root/strata/strata-init" ./exec/cmd/strata-init
# TestNoStrataImports reads the package's sources from its working directory.
cp exec/*.go "$root/strata/"
cp -r exec/testdata "$root/strata/" # TestSeccompCompileMatchesGoBPF's reference programs
# TestRuntimeDocAPI reads ../docs/runtime.md from there.
mkdir -p "$root/docs" && cp docs/runtime.md "$root/docs/"

# The tests copy /usr/bin/busybox into their root filesystems.
cp /usr/bin/busybox "$root/usr/bin/busybox"
ln -s ../usr/bin/busybox "$root/bin/sh"
# strata exec joins a container that may hold CAP_SYS_PTRACE, and the
# tests' nsenter way, through util-linux nsenter (busybox's has no -C):
# the host's, with the libraries it loads.
nsenter=$(command -v nsenter)
mkdir -p "$root/usr/local/bin"
cp "$nsenter" "$root/usr/local/bin/nsenter"
for lib in $(ldd "$nsenter" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
cp "$moddir/kernel/drivers/net/dummy.ko" "$moddir/kernel/drivers/block/loop.ko" "$root/modules/"
cp scripts/vm-init.sh "$root/init"
chmod 0755 "$root/init"
printf '%s\n' "${STRATA_VM_TESTFLAGS:-}" >"$root/strata/testflags"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$work/initramfs.gz"

echo "test-vm: booting $kernel under TCG (timeout ${timeout_s}s)"
log=$work/console.log
started=$(date +%s)
# stdin from /dev/null: qemu's -nographic monitor must not read the caller's
# terminal. panic=-1 and -no-reboot turn a kernel panic into a qemu exit.
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -nographic -no-reboot \
	-nic none -kernel "$kernel" -initrd "$work/initramfs.gz" \
	-append 'console=ttyS0 quiet panic=-1 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all' \
	</dev/null 2>&1 | tee "$log"
echo "test-vm: the VM ran $(($(date +%s) - started)) s"
# The pipeline's status is tee's; judge by the marker alone.
result=$(sed -n 's/^STRATA-VM-RESULT: exit=\([0-9]*\).*/\1/p' "$log" | tr -d '\r' | tail -n 1)
if [ -z "$result" ]; then
	echo "test-vm: FAIL: no result from the VM (timeout after ${timeout_s}s, kernel panic or init failure)" >&2
	exit 1
fi
if [ "$result" -ne 0 ]; then
	echo "test-vm: FAIL: exec tests exited $result on cgroup v2 ($kver)" >&2
	exit "$result"
fi
echo "test-vm: PASS: exec tests on cgroup v2 ($kver)"
