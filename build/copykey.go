package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/zeebo/blake3"
)

// digestEntries hashes what decides a COPY's result: every name, type,
// mode (after --chmod), symlink target and content; not mtimes, not the
// source's owner (the copy's owner is --chown, in the instruction).
// writeEntries computes the same digest as it copies.
func digestEntries(src *os.Root, ents []entry, chmod fs.FileMode) (string, error) {
	dirs := newDirRoots(src, false)
	defer dirs.close()
	h := newEntryHasher(chmod)
	for _, e := range ents {
		var sum []byte
		if e.fi.Mode().IsRegular() {
			dir, base, err := dirs.at(e.src)
			var f *os.File
			if err == nil {
				f, err = dir.Open(base)
			}
			if err != nil {
				return "", fmt.Errorf("%s: %v", e.src, rootErr(err))
			}
			fh := blake3.New()
			_, err = io.Copy(fh, f)
			f.Close()
			if err != nil {
				return "", fmt.Errorf("%s: %w", e.src, err)
			}
			sum = fh.Sum(nil)
		}
		h.add(e, sum)
	}
	return h.sum(), nil
}

// entryHasher is the one definition of a COPY's digest.
type entryHasher struct {
	chmod fs.FileMode
	h     hash.Hash
}

func newEntryHasher(chmod fs.FileMode) *entryHasher {
	return &entryHasher{chmod: chmod, h: sha256.New()}
}

// add records one entry; content is a regular file's blake3 (the hash
// the layer's file index keeps, so a layer written straight from the
// context gives its key without a second read).
func (x *entryHasher) add(e entry, content []byte) {
	mode := e.fi.Mode()
	if x.chmod != 0 && mode&fs.ModeSymlink == 0 {
		mode = mode&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | x.chmod
	}
	fmt.Fprintf(x.h, "%q %q %o %d %t %q ", e.src, e.dst, uint32(mode), e.fi.Size(), e.top, e.link)
	if e.fi.Mode().IsRegular() {
		x.h.Write([]byte(hex.EncodeToString(content)))
	}
	x.h.Write([]byte{'\n'})
}

func (x *entryHasher) sum() string { return hex.EncodeToString(x.h.Sum(nil)) }

// statDigest hashes the entries' stat data: a file whose size, times,
// inode and mode are unchanged has unchanged content, as git's index
// assumes.
func statDigest(ents []entry, chmod fs.FileMode) string {
	h := sha256.New()
	fmt.Fprintf(h, "%o\n", uint32(chmod))
	for _, e := range ents {
		fmt.Fprintf(h, "%q %q %o %d %t %q", e.src, e.dst, uint32(e.fi.Mode()), e.fi.Size(), e.top, e.link)
		if st, ok := e.fi.Sys().(*syscall.Stat_t); ok {
			fmt.Fprintf(h, " %d %d %d.%d %d.%d", st.Dev, st.Ino, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// racyWindow is how recent a change makes stat data untrusted.
var racyWindow = 2 * time.Second

// racy: a file changed so shortly before the build began that a write
// within the same timestamp tick could follow unseen (git's "racily
// clean"); its stat data is then not trusted for the memo.
func racy(ents []entry, start time.Time) bool {
	limit := start.Add(-racyWindow)
	for _, e := range ents {
		if st, ok := e.fi.Sys().(*syscall.Stat_t); ok {
			if time.Unix(st.Ctim.Sec, st.Ctim.Nsec).After(limit) || e.fi.ModTime().After(limit) {
				return true
			}
		}
	}
	return false
}
