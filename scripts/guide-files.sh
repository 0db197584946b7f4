#!/usr/bin/env bash
# guide-files.sh DIR: the files docs/guide.md's examples name, in DIR: a
# root filesystem DIR/rootfs (busybox's, unless DIR/rootfs is already
# there, debootstrap's say), the files the examples run and change in it,
# and the same tree as a tar (base.tar.zst), an OCI layout (layout, tag
# v1), an OCI archive (oci.tar) and a docker archive (img.tar).
# Needs strata on PATH (make install), busybox-static and zstd.
set -euo pipefail
scripts=$(dirname "$(realpath "$0")")
need() { command -v "$1" >/dev/null || { echo "guide-files.sh: $1 is not on PATH: $2" >&2; exit 1; }; }
need strata "make install puts it in /usr/local/bin"
need zstd "apt-get install zstd"
mkdir -p "$1"
cd "$1"
[ -e rootfs ] || "$scripts/busybox-rootfs.sh" rootfs
echo busybox >rootfs/etc/issue
echo welcome >rootfs/etc/motd
printf '#!/bin/sh\necho built > /built\n' >rootfs/build.sh
printf '#!/bin/sh\ntrue\n' >rootfs/job
chmod 755 rootfs/build.sh rootfs/job
# What --add-host and --dns bind over (a Debian root has them).
[ -e rootfs/etc/hosts ] || printf '127.0.0.1\tlocalhost\n' >rootfs/etc/hosts
[ -e rootfs/etc/resolv.conf ] || echo 'nameserver 127.0.0.53' >rootfs/etc/resolv.conf

# The images, written by strata from a scratch repository.
rm -rf layout guide-files.tmp
strata init -q guide-files.tmp
(
	cd guide-files.tmp
	strata config user.name guide && strata config user.email guide@example.com
	strata import ../rootfs -m base >/dev/null
	strata remote add l ../layout && strata tag v1 && strata push -q l v1
	strata export main -o ../img.tar >/dev/null
	strata export main --format oci -o ../oci.tar >/dev/null
)
rm -rf guide-files.tmp
tar -C rootfs -cf - . | zstd -q -f -o base.tar.zst
