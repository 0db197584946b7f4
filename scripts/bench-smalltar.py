#!/usr/bin/env python3
"""bench-smalltar.py OUT DIRS: write to OUT a tar (PAX) of DIRS directories
d00000... of 1,000 files f0000... each, every file about 20 bytes, for
the small-file rows of bench/checkout.sh and bench/files.sh. Written as a
tar, not as files first: a million files on disk would cost minutes."""
import io
import sys
import tarfile

out, dirs = sys.argv[1], int(sys.argv[2])
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for d in range(dirs):
        i = tarfile.TarInfo("d%05d" % d); i.type = tarfile.DIRTYPE; i.mode = 0o755
        t.addfile(i)
        for f in range(1000):
            b = b"file %d of dir %d\n" % (f, d)
            i = tarfile.TarInfo("d%05d/f%04d" % (d, f)); i.size = len(b); i.mode = 0o644
            t.addfile(i, io.BytesIO(b))
