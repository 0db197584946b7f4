package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/zeebo/blake3"
)

// digestEntries hashes what decides a COPY's result: every name, type,
// mode (after --chmod), symlink target, content and the xattrs of files
// and directories; not mtimes, not the source's owner (the copy's owner
// is --chown, in the instruction, or root). writeEntries computes the
// same digest as it copies (with every owner too for a COPY --from
// without --chown, which keeps the owners the stage gave the files).
func digestEntries(src *os.Root, ents []entry, chmod fs.FileMode) (string, error) {
	dirs := newDirRoots(src, false)
	defer dirs.close()
	h := newEntryHasher(chmod, false)
	for _, e := range ents {
		var sum []byte
		var xsum string
		if e.fi.Mode().IsRegular() || e.fi.IsDir() && e.dst != "/" {
			dir, base, err := dirs.at(e.src)
			var f *os.File
			if err == nil {
				f, err = dir.Open(base)
			}
			if err != nil {
				return "", fmt.Errorf("%s: %v", e.src, rootErr(err))
			}
			xsum, err = copyXattrs(int(f.Fd()), -1)
			if err == nil && e.fi.Mode().IsRegular() {
				fh := blake3.New()
				_, err = io.Copy(fh, f)
				sum = fh.Sum(nil)
			}
			f.Close()
			if err != nil {
				return "", fmt.Errorf("%s: %w", e.src, err)
			}
		}
		h.add(e, sum, xsum)
	}
	return h.sum(), nil
}

// entryHasher is the one definition of a COPY's digest.
type entryHasher struct {
	chmod      fs.FileMode
	keepOwners bool
	h          hash.Hash
	buf        []byte
}

func newEntryHasher(chmod fs.FileMode, keepOwners bool) *entryHasher {
	return &entryHasher{chmod: chmod, keepOwners: keepOwners, h: sha256.New()}
}

// add records one entry; content is a regular file's blake3 and xattrs
// the digest of a file's or directory's xattrs (the hashes the layer's
// file index keeps, so a layer written straight from the context gives
// its key without a second read). An entry without xattrs adds what it
// added before they were part of the key.
func (x *entryHasher) add(e entry, content []byte, xattrs string) {
	mode := e.fi.Mode()
	if chmod := chmodOf(e, x.chmod); chmod != 0 && mode&fs.ModeSymlink == 0 {
		mode = mode&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | chmod&^chmodSet
	}
	b := appendEntry(x.buf[:0], e, mode)
	b = append(b, ' ')
	if e.fi.Mode().IsRegular() {
		b = hex.AppendEncode(b, content)
	}
	if xattrs != "" {
		b = append(append(b, " xattrs="...), xattrs...)
	}
	if x.keepOwners {
		b = appendOwner(b, e)
	}
	x.buf = append(b, '\n')
	x.h.Write(x.buf)
}

// appendEntry appends what fmt's "%q %q %o %d %t %q" makes of e's
// names, mode, size, top and link, then " rdev=N" for a device node and
// " unpack" for an archive an ADD unpacks: the key's format, without
// fmt's cost for each of a large context's entries.
func appendEntry(b []byte, e entry, mode fs.FileMode) []byte {
	b = appendQuote(b, e.src)
	b = append(b, ' ')
	b = appendQuote(b, e.dst)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(uint32(mode)), 8)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.fi.Size(), 10)
	b = append(b, ' ')
	b = strconv.AppendBool(b, e.top)
	b = append(b, ' ')
	b = appendQuote(b, e.link)
	if st, ok := e.fi.Sys().(*syscall.Stat_t); ok && mode&fs.ModeDevice != 0 {
		b = strconv.AppendUint(append(b, " rdev="...), st.Rdev, 10)
	}
	if e.unpack {
		b = append(b, " unpack"...)
	}
	return b
}

// appendQuote is strconv.AppendQuote, which a large context's key calls
// three times an entry (most of statDigest's time went there): a name of
// printable ASCII without '"' or '\\', as most are, is quoted as it is,
// which is what AppendQuote makes of it.
func appendQuote(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func (x *entryHasher) sum() string { return hex.EncodeToString(x.h.Sum(nil)) }

// sourceOwner is the owner a COPY --from without --chown gives e: the
// source's, as docker, buildkit and buildah keep it between stages; a
// destination directory the copy makes is root's (madeDir), as theirs.
func sourceOwner(e entry) (uid, gid int) {
	if _, made := e.fi.(madeDir); made {
		return 0, 0
	}
	if st, ok := e.fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return 0, 0
}

// appendOwner appends " owner=UID:GID", e's sourceOwner.
func appendOwner(b []byte, e entry) []byte {
	uid, gid := sourceOwner(e)
	b = strconv.AppendInt(append(b, " owner="...), int64(uid), 10)
	return strconv.AppendInt(append(b, ':'), int64(gid), 10)
}

// statDigest hashes the entries' stat data: a file whose size, times,
// inode and mode are unchanged has unchanged content, as git's index
// assumes. With keepOwners the owners are part of it too, as they are
// of the digest the memo gives.
func statDigest(ents []entry, chmod fs.FileMode, keepOwners bool) string {
	h := sha256.New()
	b := strconv.AppendUint(nil, uint64(uint32(chmod&^chmodSet)), 8) // the text tells --chmod=0 from none
	if chmod != 0 {
		// Memos made when --chmod applied to a made destination too
		// lead to keys of that result: not these.
		b = append(b, " made-0755"...)
	}
	h.Write(append(b, '\n'))
	for _, e := range ents {
		b = appendEntry(b[:0], e, e.fi.Mode())
		if st, ok := e.fi.Sys().(*syscall.Stat_t); ok {
			// " %d %d %d.%d %d.%d"
			b = strconv.AppendUint(append(b, ' '), st.Dev, 10)
			b = strconv.AppendUint(append(b, ' '), st.Ino, 10)
			b = strconv.AppendInt(append(b, ' '), st.Mtim.Sec, 10)
			b = strconv.AppendInt(append(b, '.'), st.Mtim.Nsec, 10)
			b = strconv.AppendInt(append(b, ' '), st.Ctim.Sec, 10)
			b = strconv.AppendInt(append(b, '.'), st.Ctim.Nsec, 10)
		}
		if keepOwners {
			b = appendOwner(b, e)
		}
		h.Write(append(b, '\n'))
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
