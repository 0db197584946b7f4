package worktree

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestScannedEntry: the layer writer finds each kept lstat by path, and
// only those.
func TestScannedEntry(t *testing.T) {
	r := &statusResult{scanned: map[string]*scannedDir{}}
	keep := func(dir, name string, ino uint64) {
		sd := r.scanned[dir]
		if sd == nil {
			sd = &scannedDir{}
			r.scanned[dir] = sd
		}
		st := unix.Stat_t{Ino: ino, Mode: unix.S_IFREG | 0o644, Nlink: 1, Size: int64(ino)}
		sd.names = append(sd.names, name)
		sd.stats = append(sd.stats, keepStat(&st))
	}
	keep("", "a", 1)
	keep("", "b", 2)
	keep("/d", "a", 3)
	keep("/d", "z", 4)
	keep("/d/e", "f", 5)
	for p, ino := range map[string]uint64{"/a": 1, "/b": 2, "/d/a": 3, "/d/z": 4, "/d/e/f": 5} {
		ue, ok := r.scannedEntry(p)
		if !ok || ue.St.Ino != ino || ue.St.Size != int64(ino) || ue.Name != p[len(p)-1:] {
			t.Errorf("%s: got %v %+v, want inode %d", p, ok, ue, ino)
		}
	}
	for _, p := range []string{"/c", "/d", "/d/b", "/e/a", "/d/e", "a", ""} {
		if ue, ok := r.scannedEntry(p); ok {
			t.Errorf("%s: found %+v, want nothing", p, ue)
		}
	}
}
