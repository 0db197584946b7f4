package build

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// writeEntries copies the entries into dst, the overlay of the parent,
// owned by uid:gid, or by their sources' owners with keepOwners (the
// missing parents of the destination are uid:gid's either way), and
// returns their digest (digestEntries'). Destination paths resolve
// inside dst: a symlink of the image that leads out is refused, never
// followed. Directories and symlinks are made in order; regular files are
// copied by a worker per core once their directory exists, unless two
// entries share a destination (then order decides, and all runs in
// order). Directory times are set last, after their files went in. A
// cancelled ctx stops it between files.
//
// An archive an ADD unpacks (entry.unpack) is unpacked in order, its
// files owned as the archive says, or by uid:gid with chown.
func writeEntries(ctx context.Context, src, dst *os.Root, ents []entry, chmod fs.FileMode, uid, gid int, keepOwners, chown bool) (string, error) {
	srcDirs, dstDirs := newDirRoots(src, false), newDirRoots(dst, true)
	// The destination's missing parents belong to --chown's owner, as
	// docker, buildkit and buildah make them.
	dstDirs.uid, dstDirs.gid = uid, gid
	defer srcDirs.close()
	defer dstDirs.close()
	sums := make([][]byte, len(ents))
	xsums := make([]string, len(ents)) // the xattrs' digests
	workers := runtime.GOMAXPROCS(0)
	seen := make(map[string]bool, len(ents))
	// Hard links among the copied files stay links (as the direct copy's
	// layer keeps them): linkOf[i] is the first entry of i's inode.
	type inode struct{ dev, ino uint64 }
	firstOf := map[inode]int{}
	linkOf := map[int]int{}
	if dirAfterItsFile(ents) {
		workers = 0
	}
	for i, e := range ents {
		if e.top || e.unpack || seen[e.dst] {
			workers = 0
		}
		seen[e.dst] = true
		if st, ok := e.fi.Sys().(*syscall.Stat_t); ok && e.fi.Mode().IsRegular() && st.Nlink > 1 {
			k := inode{uint64(st.Dev), st.Ino}
			if f, ok := firstOf[k]; ok {
				linkOf[i] = f
				workers = 0 // a link after its file: in order
			} else {
				firstOf[k] = i
			}
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		werr error
		jobs = make(chan int)
	)
	fail := func(err error) {
		mu.Lock()
		if werr == nil {
			werr = err
		}
		mu.Unlock()
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return werr != nil
	}
	do := func(i int) {
		if err := ctx.Err(); err != nil {
			fail(err) // Ctrl-C: stop between files
			return
		}
		e := ents[i]
		if f, ok := linkOf[i]; ok {
			if err := linkEntry(dstDirs, destName(ents[f]), destName(e)); err != nil {
				fail(fmt.Errorf("%s: %v", e.dst, rootErr(err)))
			}
			sums[i], xsums[i] = sums[f], xsums[f]
			return
		}
		if e.unpack {
			sum, err := unpackEntry(ctx, srcDirs, dstDirs, e, uid, gid, chown)
			if err != nil {
				fail(fmt.Errorf("%s: %w", e.src, err))
			}
			sums[i] = sum
			return
		}
		ou, og := uid, gid
		if keepOwners {
			ou, og = sourceOwner(e)
		}
		sum, xsum, err := writeEntry(srcDirs, dstDirs, e, destName(e), permOf(e, chmod), ou, og)
		if err != nil {
			fail(fmt.Errorf("%s: %v", e.dst, rootErr(err)))
		}
		sums[i], xsums[i] = sum, xsum
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				do(i)
			}
		}()
	}
	type dirTime struct {
		dir  *os.Root
		base string
		t    time.Time
	}
	var dirTimes []dirTime
	for i, e := range ents {
		if failed() {
			break
		}
		if e.fi.Mode().IsRegular() && workers > 0 {
			jobs <- i
			continue
		}
		do(i)
		if e.fi.IsDir() && !failed() {
			// Not through a symlink that was followed: the directory it
			// leads to is the image's.
			if dir, base, err := dstDirs.at(destName(e)); err == nil && destName(e) != "." {
				if fi, err := dir.Lstat(base); err == nil && fi.IsDir() {
					dirTimes = append(dirTimes, dirTime{dir, base, e.fi.ModTime()})
				}
			}
		}
	}
	close(jobs)
	wg.Wait()
	if werr != nil {
		return "", werr
	}
	for i := len(dirTimes) - 1; i >= 0; i-- {
		d := dirTimes[i]
		if err := d.dir.Chtimes(d.base, d.t, d.t); err != nil {
			return "", err
		}
	}
	h := newEntryHasher(chmod, keepOwners)
	for i, e := range ents {
		h.add(e, sums[i], xsums[i])
	}
	return h.sum(), nil
}

// dirAfterItsFile reports whether a directory entry comes after a file
// below it, as in COPY a/file a/dir /dst/ (the file goes in /dst, and
// the directory a/dir is /dst itself). Files are written on workers
// while the directories go in order: the file's worker would make the
// directory as a missing parent while the entry made it too, one
// winning at random (mkdirat: file exists, or the one mode or the
// other). Such a copy goes in order.
func dirAfterItsFile(ents []entry) bool {
	dirAt := map[string]int{}
	for i, e := range ents {
		if _, ok := dirAt[e.dst]; !ok && e.fi.IsDir() {
			dirAt[e.dst] = i
		}
	}
	for i, e := range ents {
		if e.fi.IsDir() {
			continue
		}
		for d := path.Dir(e.dst); ; d = path.Dir(d) {
			if j, ok := dirAt[d]; ok && j > i {
				return true
			}
			if d == "/" || d == "." {
				break
			}
		}
	}
	return false
}

func destName(e entry) string {
	name := strings.TrimPrefix(e.dst, "/")
	if name == "" {
		return "."
	}
	return name
}

func permOf(e entry, chmod fs.FileMode) fs.FileMode {
	if chmod = chmodOf(e, chmod); chmod != 0 {
		return chmod &^ chmodSet
	}
	return e.fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}
