#!/usr/bin/env bash
# demo.sh STRATA: the main job end to end on a busybox root filesystem
# built offline from the busybox-static package.
set -euo pipefail
strata=$(realpath "$1")
work=$(mktemp -d /tmp/strata-demo.XXXXXX)
cleanup() {
	"$strata" -C "$work/env" umount >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

# A busybox root filesystem: the static binary and a link per applet.
rootfs=$work/busybox
mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list-full); do
	[ -e "$rootfs/$applet" ] || { mkdir -p "$rootfs/$(dirname "$applet")"; ln -s /bin/busybox "$rootfs/$applet"; }
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
echo "Welcome to busybox" >"$rootfs/etc/motd"

cd "$work"
step "$strata" init env
cd env
step "$strata" config user.name "Demo User"
step "$strata" config user.email demo@example.com
step "$strata" import "$rootfs" -m "busybox root filesystem"
step "$strata" branch dev
step "$strata" tag v1
step "$strata" log
step "$strata" show v1
step "$strata" branch
step "$strata" fsck
echo
echo "demo: done"
