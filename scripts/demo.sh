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

# step shows a command as a user would type it (strata by its name, an
# argument with spaces or quotes in single quotes), then runs it.
step() {
	local shown=() arg
	for arg in "$@"; do
		if [ "$arg" = "$strata" ]; then
			arg=strata
		elif [[ ! $arg =~ ^[A-Za-z0-9_./=:@%+,-]+$ ]]; then
			arg="'${arg//\'/\'\\\'\'}'"
		fi
		shown+=("$arg")
	done
	printf '\n\033[1m$ %s\033[0m\n' "${shown[*]}"
	"$@"
}

# A busybox root filesystem, with a motd the demo changes.
rootfs=$work/busybox
"$(dirname "$(realpath "$0")")"/busybox-rootfs.sh "$rootfs"
echo "Welcome to busybox" >"$rootfs/etc/motd"

cd "$work"
step "$strata" init env
cd env
step "$strata" config user.name "Demo User"
step "$strata" config user.email demo@example.com
step "$strata" import "$rootfs" -m "busybox root filesystem"
step "$strata" checkout main
step "$strata" run -- sh -c 'echo "built by strata run" > /etc/motd; mkdir -p /app; printf "#!/bin/sh\necho hello from the app\n" > /app/hello; chmod +x /app/hello'
step rm rootfs/usr/bin/wget          # changes by hand work too
step "$strata" status
step "$strata" diff
step "$strata" diff -p -- /etc/motd
step "$strata" commit -m "add the app" --change 'CMD ["/app/hello"]'
step "$strata" run
step "$strata" branch experiment
step "$strata" checkout experiment
step "$strata" run -- rm /bin/vi
step "$strata" commit -m "drop vi"
step "$strata" log --oneline
step "$strata" diff main experiment --name-status
step "$strata" tag v1 main
step "$strata" branch
step "$strata" fsck
step "$strata" umount
echo
echo "demo: done"
