#!/usr/bin/env bash
# busybox-rootfs.sh DIR: a busybox root filesystem in DIR, built offline
# from the busybox-static package: the static binary, a link per applet,
# root's passwd and group entries.
set -euo pipefail
rootfs=$1
[ -x /bin/busybox ] || { echo "busybox-rootfs.sh: no /bin/busybox: apt-get install busybox-static" >&2; exit 1; }
mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list-full); do
	[ -e "$rootfs/$applet" ] || { mkdir -p "$rootfs/$(dirname "$applet")"; ln -s /bin/busybox "$rootfs/$applet"; }
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
