package layer

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Class is what an entry of a work tree means for a layer. Status, diff
// and commit all ask Classify, so they cannot disagree.
type Class int

const (
	// Content is an ordinary entry: added, or changed over a lower one.
	// A directory of this class merges with the lower directories.
	Content Class = iota
	// Whiteout is overlayfs's 0:0 character device: the lower entry is gone.
	Whiteout
	// Opaque is a directory that hides every lower entry below it.
	Opaque
	// Redirect is a directory renamed from Entry.Redirect (redirect_dir=on).
	Redirect
)

// ErrReservedName is a ".wh." name: the OCI layer format spends those on
// whiteouts, so such a file cannot be stored as itself.
var ErrReservedName = errors.New(`name reserved for OCI whiteouts (".wh." prefix); rename or remove it`)

// ErrWhiteoutDevice is a 0:0 character device in a tree that is not an
// overlay upper: stored, it would be a deletion to every overlay
// lower it is unpacked into (the entry and what lies below it hidden,
// or listed and not found) and a device in a flattened prefix.
var ErrWhiteoutDevice = errors.New("a 0:0 character device is how overlayfs marks a deletion: no checkout could show it; remove it")

// MaxPath is the longest path, relative to the root, that a layer
// strata writes may hold: unpacking opens each entry by its path from the
// root, which the kernel takes up to PATH_MAX bytes with its NUL.
const MaxPath = unix.PathMax - 1

// ErrPathTooLong is a path longer than MaxPath: stored, it would make a
// commit that no checkout can unpack, and a work tree stuck on it.
var ErrPathTooLong = fmt.Errorf("longer than the %d bytes a checkout can unpack; move it up the tree", MaxPath)

// UpperEntry is one classified entry of a directory.
type UpperEntry struct {
	Name     string
	St       unix.Stat_t
	Class    Class
	Redirect string  // for Class Redirect
	xattrs   []xattr // content xattrs: overlayfs's own are left out
}

// IsDir reports whether the entry is a directory.
func (e *UpperEntry) IsDir() bool { return e.St.Mode&unix.S_IFMT == unix.S_IFDIR }

// Plain reports whether the entry is ordinary content without xattrs:
// its lstat alone describes it.
func (e *UpperEntry) Plain() bool { return e.Class == Content && len(e.xattrs) == 0 }

// XattrDigest is the file index's digest of the entry's content xattrs.
func (e *UpperEntry) XattrDigest() string { return xattrDigest(e.xattrs) }

// ReservedName reports whether a file name is reserved by the OCI layer
// format.
func ReservedName(name string) bool { return strings.HasPrefix(name, whiteoutPrefix) }

// Classify reads the entry name of d and says what it means. With
// overlay, d is an overlay upper directory and only the overlay mount's
// own markers count: a 0:0 character device, trusted.overlay.opaque and
// trusted.overlay.redirect. Anything a container can write itself is
// content: user.overlay.* (strata mounts without userxattr) and the
// trusted.overlay.overlay.* names that overlayfs escapes a container's
// trusted.overlay.* into. A ".wh." name is ErrReservedName, unwrapped:
// the caller names the path as the work tree shows it.
func Classify(d *Dir, name string, overlay bool, buf []byte) (UpperEntry, error) {
	e := UpperEntry{Name: name}
	if ReservedName(name) {
		return e, ErrReservedName
	}
	st, err := d.Lstat(name)
	if err != nil {
		return e, err
	}
	return ClassifyStat(d, name, &st, overlay, buf)
}

// ClassifyStat is Classify for a caller that has just done d.Lstat(name).
func ClassifyStat(d *Dir, name string, st *unix.Stat_t, overlay bool, buf []byte) (UpperEntry, error) {
	e := UpperEntry{Name: name, St: *st}
	if ReservedName(name) {
		return e, ErrReservedName
	}
	if overlay && isWhiteout(st) {
		e.Class = Whiteout
		return e, nil
	}
	xs, err := d.Xattrs(name, buf)
	if err != nil {
		return e, err
	}
	var kept []xattr
	opaque, redirect, target := false, false, ""
	for _, x := range xs {
		if !overlayPrivate(x.name) {
			kept = append(kept, x)
			continue
		}
		if !overlay {
			continue // a plain tree: the marker means nothing here
		}
		switch x.name {
		case "trusted.overlay.metacopy":
			return e, fmt.Errorf("%s: %w", d.join(name), ErrMetacopy)
		case "trusted.overlay.opaque":
			opaque = x.value == "y"
		case "trusted.overlay.redirect":
			redirect, target = true, x.value
		}
	}
	switch {
	case !e.IsDir():
	case opaque: // hides the lowers whatever its name was
		e.Class = Opaque
	case redirect:
		e.Class, e.Redirect = Redirect, target
	}
	e.xattrs = kept
	return e, nil
}

// Looked is one name of a directory as ClassifyAll found it.
type Looked struct {
	Name     string
	St       unix.Stat_t
	LstatErr error // from d.Lstat; the rest is unset
	Entry    UpperEntry
	ClassErr error // from ClassifyStat
}

var lookScratch = sync.Pool{New: func() any { return &scratch{xbuf: make([]byte, 4096)} }}

// ClassifyAll is d.Lstat and ClassifyStat of each name, run on every
// core: a scan of many small files waits on these calls. out is reused
// if large enough. known, if set, is asked (on any core) about each
// regular file after its lstat: true says the caller knows it to be
// ordinary content without xattrs, so its xattrs are not read (Entry is
// Content and Plain).
func ClassifyAll(d *Dir, names []string, overlay bool, known func(name string, st *unix.Stat_t) bool, out []Looked) []Looked {
	if cap(out) < len(names) {
		out = make([]Looked, 0, max(len(names), windowNames))
	}
	out = out[:0]
	for _, n := range names {
		out = append(out, Looked{Name: n})
	}
	k := min(workerCount(), len(out))
	if len(out) < parallelMin {
		k = 1
	}
	var next atomic.Int64
	run := func() {
		s := lookScratch.Get().(*scratch)
		defer lookScratch.Put(s)
		for {
			i := int(next.Add(1) - 1)
			if i >= len(out) {
				return
			}
			l := &out[i]
			if l.St, l.LstatErr = d.Lstat(l.Name); l.LstatErr != nil {
				continue
			}
			if known != nil && l.St.Mode&unix.S_IFMT == unix.S_IFREG && !ReservedName(l.Name) && known(l.Name, &l.St) {
				l.Entry, l.ClassErr = UpperEntry{Name: l.Name, St: l.St}, nil
				continue
			}
			l.Entry, l.ClassErr = ClassifyStat(d, l.Name, &l.St, overlay, s.xbuf)
		}
	}
	var wg sync.WaitGroup
	wg.Add(k - 1)
	for range k - 1 {
		go func() { defer wg.Done(); run() }()
	}
	run()
	wg.Wait()
	return out
}
