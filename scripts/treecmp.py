#!/usr/bin/env python3
"""treecmp.py [--no-mtime] DIR: list a tree for diff(1), one line an entry.

Each line: path, file type, mode, uid:gid, size and content hash (files),
link target (symlinks), device numbers, xattrs (name=hex value), mtime in
nanoseconds; then one line per hard link group. Two listings compare
what a checkout, umoci unpack or podman image mount made of one image:

    scripts/treecmp.py env/rootfs > a; scripts/treecmp.py bundle/rootfs > b
    diff a b

strata keeps mtimes in whole seconds in layers (docs/format.md), so a
work tree against its own checkout differs there: --no-mtime.
"""
import hashlib
import os
import stat
import sys


def entry(p, rel, st, mtime):
    m = st.st_mode
    extra = ''
    if stat.S_ISREG(m):
        h = hashlib.sha256()
        with open(p, 'rb') as f:
            for b in iter(lambda: f.read(1 << 20), b''):
                h.update(b)
        extra = f'size={st.st_size} sha={h.hexdigest()[:12]}'
    elif stat.S_ISLNK(m):
        extra = '-> ' + os.fsdecode(os.readlink(p))
    elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
        extra = f'dev={os.major(st.st_rdev)},{os.minor(st.st_rdev)}'
    try:
        names = sorted(os.listxattr(p, follow_symlinks=False))
    except OSError:
        names = []
    xs = []
    for x in names:
        try:
            v = os.getxattr(p, x, follow_symlinks=False).hex()
        except OSError as e:
            v = f'?{e.errno}'
        xs.append(f'{x}={v}')
    t = f' mtime={st.st_mtime_ns}' if mtime else ''
    return f'{rel!r} {stat.S_IFMT(m):o} {stat.S_IMODE(m):04o} {st.st_uid}:{st.st_gid} {extra} x[{",".join(xs)}]{t}'


def listing(root, mtime=True):
    out, inodes = [], {}
    for dp, dns, fns in os.walk(root):
        dns.sort()
        for n in sorted(dns + fns):
            p = os.path.join(dp, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            out.append(entry(p, rel, st, mtime))
            if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
                inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
    for names in inodes.values():
        if len(names) > 1:
            out.append('linkgroup ' + ' = '.join(repr(x) for x in sorted(names)))
    return out


def main(args):
    mtime = True
    if args and args[0] == '--no-mtime':
        mtime, args = False, args[1:]
    if len(args) != 1:
        sys.exit(__doc__.splitlines()[0])
    for line in listing(args[0], mtime):
        print(line)


if __name__ == '__main__':
    main(sys.argv[1:])
