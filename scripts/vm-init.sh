#!/bin/sh
# vm-init.sh: /init of the initramfs built by test-vm.sh.
#
# Stage 1 (on the initramfs) copies itself to a tmpfs and switch_roots
# there: pivot_root(2) refuses a root on the initial rootfs, and every
# container start pivots. Stage 2 mounts only cgroup2, runs the exec tests
# and prints "STRATA-VM-RESULT: exit=N" for test-vm.sh, then powers off.
bb=/usr/bin/busybox
if [ "$1" != stage2 ]; then
	$bb mount -t tmpfs -o mode=755 root /newroot
	for d in bin usr lib lib64 strata docs modules init; do
		[ -e /$d ] && $bb cp -a /$d /newroot/
	done
	$bb mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp
	exec $bb switch_root /newroot /init stage2
fi

$bb mkdir -p /sbin /usr/sbin
$bb --install -s
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp
mkdir -p /root /etc /var

result() {
	echo "STRATA-VM-RESULT: exit=$1"
	sync
	poweroff -f
}
fail() {
	echo "vm-init: $*"
	result 125
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts || fail "mount /dev/pts"
mount -t tmpfs -o mode=1777 tmpfs /tmp || fail "mount /tmp"
# Only the unified hierarchy; cgroup_no_v1=all keeps v1 controllers unbound.
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || fail "mount cgroup2"
if grep -q ' cgroup ' /proc/mounts; then
	fail "a cgroup v1 hierarchy is mounted"
fi
echo "vm-init: kernel $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "vm-init: subtree_control before the tests: '$(cat /sys/fs/cgroup/cgroup.subtree_control)'"

# A host network with an interface besides lo (TestRootless compares).
insmod /modules/dummy.ko || fail "insmod dummy"
ip link set lo up
ip link set dummy0 up || fail "dummy0" # dummy.ko makes dummy0 itself
# A host block device (the VM has no disk): the device tests make a node
# for it in a container and expect the open refused.
insmod /modules/loop.ko || fail "insmod loop"
dd if=/dev/zero of=/var/disk.img bs=1024 count=1024 2>/dev/null && losetup /dev/loop0 /var/disk.img || fail "loop0"
hostname strata-vm
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' >/etc/passwd
printf 'root:x:0:\nuser:x:1000:\n' >/etc/group

# Run the tests from a leaf cgroup, as systemd places every process on a
# v2 host, not from the root cgroup.
mkdir /sys/fs/cgroup/test.scope && echo $$ >/sys/fs/cgroup/test.scope/cgroup.procs || fail "enter test.scope"

cd /strata || fail "cd /strata"
# No Go toolchain here: TestSmallInitBinary takes this build instead.
export STRATA_TEST_INIT_BINARY=/strata/strata-init
# TestCgroupVersion fails unless exec takes its cgroup v2 path.
export STRATA_TEST_CGROUP=v2
# --network private (veth and nftables, loaded as modules by this kernel,
# which the VM's initramfs does not carry) does not depend on the cgroup
# version and runs in make test on the host. The skip is named here, and
# counted in the output, not hidden.
skip='TestNetworkPrivate(Publish|PublishUDP|PublishEphemeral|PublishNotToHost|NoSpoofing|LeavesNothing|PortInUse|Isolation|ForeignForwardDrop)$'
echo "vm-init: running exec.test -test.v -test.count=1 -test.skip '$skip' $(cat testflags)"
# shellcheck disable=SC2046
./exec.test -test.v -test.count=1 -test.timeout=25m -test.skip "$skip" $(cat testflags)
rc=$?
leftover=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 1 -type d -name 'strata-*')
if [ -n "$leftover" ]; then
	echo "vm-init: FAIL: cgroups left after the tests: $leftover"
	[ "$rc" -eq 0 ] && rc=1
fi
if [ "$rc" -eq 0 ]; then echo "vm-init: PASS"; else echo "vm-init: FAIL"; fi
result "$rc"
