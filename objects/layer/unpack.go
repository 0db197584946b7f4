package layer

import (
	"archive/tar"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// UnpackMode says what whiteouts become.
type UnpackMode int

const (
	// Apply deletes what whiteouts name, so that layers unpacked one after
	// another into the same directory flatten into one tree.
	Apply UnpackMode = iota
	// ToOverlayLower keeps whiteouts as overlay whiteouts (character device
	// 0:0; opaque directories get trusted.overlay.opaque=y), so that the
	// directory can be one lower of an overlay mount.
	ToOverlayLower
)

// ErrUnsafePath is wrapped by Unpack errors for entries that would reach
// outside the target directory.
var ErrUnsafePath = errors.New("path escapes root")

// ErrOwnerNeedsRoot is wrapped by Unpack errors for an entry whose owner
// is not the unpacking user's: only root gives a file another owner, and
// an unpack that left it the user's would not be the tar's tree.
var ErrOwnerNeedsRoot = errors.New("only root can give a file another owner")

// Unpack extracts the uncompressed tar r into dir, which must exist.
// Nothing outside dir is ever created, followed or written: every parent
// directory is resolved by openat2 with RESOLVE_IN_ROOT, and the last
// component is created with *at calls that do not follow symlinks. On
// error the caller removes dir: it may hold part of the layer.
func Unpack(ctx context.Context, r io.Reader, dir string, mode UnpackMode) error {
	_, err := unpackTar(ctx, r, dir, mode, false)
	return err
}

// unpackTar is Unpack; with index set it also returns the file index of the
// tar, as Index would, built from the same headers and content.
func unpackTar(ctx context.Context, r io.Reader, dir string, mode UnpackMode, index bool) ([]Entry, error) {
	root, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("unpack layer: %w", &os.PathError{Op: "open", Path: dir, Err: err})
	}
	growFDTable(root)
	u := &unpacker{
		mode: mode, root: root, dirs: map[string]int{}, created: newPathSet(), whited: newPathSet(), holds: newPathSet(),
		buf:      make([]byte, 1<<20),
		inherits: map[int]inherit{}, uid: os.Geteuid(), gid: os.Getegid(), umask: processUmask(),
	}
	if index {
		u.ix = &indexer{files: map[string]int{}, nodes: map[string]int{}, hash: blake3.New()}
	}
	defer u.close()
	if fr, ok := r.(*frameReader); ok {
		u.src = &tarSource{fr: fr}
		r = u.src
	}
	if u.fresh, err = isEmptyDir(root); err != nil {
		return nil, fmt.Errorf("unpack layer: %w", &os.PathError{Op: "read", Path: dir, Err: err})
	}
	u.pool = newFilePool(u)
	defer func() {
		if u.pool != nil {
			u.pool.wait()
			u.pool = nil
		}
	}()
	if u.src != nil {
		// Files queued but not handed over hold frames the reader may
		// need to go on.
		u.src.fr.next = u.pool.flush
		defer func() { u.src.fr.next = nil }()
	}
	tr := newTarReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("unpack layer: %w", err)
		}
		if err := u.pool.Err(); err != nil {
			return nil, fmt.Errorf("unpack layer: %w", err)
		}
		hdr, err := tr.Next()
		if u.src != nil && u.src.ahead != 0 {
			return nil, fmt.Errorf("unpack layer: tar reader skipped %d bytes less than the content taken", u.src.ahead)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("unpack layer: %w", err)
		}
		if index {
			if err := u.indexEntry(hdr); err != nil {
				return nil, fmt.Errorf("unpack layer: entry %s: %w", quoteName(hdr.Name), err)
			}
		}
		err = u.entry(hdr, tr)
		u.closeStale()
		if perr := u.pool.Err(); err != nil && perr != nil && errors.Is(err, perr) {
			// An earlier file's, which the pool names: this entry only
			// waited for it.
			return nil, fmt.Errorf("unpack layer: %w", perr)
		}
		if err != nil {
			return nil, fmt.Errorf("unpack layer: entry %s: %w", quoteName(hdr.Name), err)
		}
	}
	err = u.pool.wait()
	u.pool = nil
	if err != nil {
		return nil, fmt.Errorf("unpack layer: %w", err)
	}
	if err := u.setDirTimes(); err != nil {
		return nil, err
	}
	if !index {
		return nil, nil
	}
	return u.finishIndex(), nil
}

type unpacker struct {
	mode     UnpackMode
	root     int
	dirs     map[string]int // resolved directories by clean relative path
	stale    []int          // fds dropped from dirs, closed after the entry
	created  pathSet        // paths this layer made: its whiteouts spare them
	whited   pathSet        // ToOverlayLower: whiteout devices this layer made
	holds    pathSet        // Apply: directories above an entry of this layer (hold)
	dirTimes []dirTime
	redone   bool // this layer gave a path it had made again (dirTimes has it twice)
	buf      []byte
	pool     *filePool       // writes small files' content and metadata
	fresh    bool            // everything below root is this unpack's and in created
	inflight bool            // the pool may have files still to create (queueNew)
	src      *tarSource      // when reading a frameReader: content is taken in place
	ix       *indexer        // the file index being built, if asked for
	inherits map[int]inherit // by directory fd: what new files get there
	uid, gid int             // the owner new files get
	umask    int64           // the process's umask; -1 if unknown
}

// cleanName turns a tar name into a clean relative path ("." for the
// root), as docker's archive package does: cleaned lexically ("y/./../z"
// is "z", "a/.wh.../../bin" is "a/bin"), then refused if absolute or if it
// climbs above the root. The root's own "/" (umoci insert's first entry)
// is the root. What follows (whiteouts included) reads the clean name.
// A name longer than a checkout can unpack is refused too.
func cleanName(name string) (string, error) {
	rel, err := safeName(name)
	if err == nil && len(rel) > MaxPath {
		return "", ErrPathTooLong
	}
	return rel, err
}

// safeName is cleanName without the length limit: what the index
// refuses, so that no layer that could write outside a checkout enters
// the store. (An overlong name is stored: other tools may unpack it, and
// a checkout of it fails, changing nothing.)
func safeName(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		if path.Clean(name) == "/" {
			return ".", nil
		}
		return "", fmt.Errorf("absolute name: %w", ErrUnsafePath)
	}
	if climbs(name) {
		return "", ErrUnsafePath
	}
	return path.Clean(name), nil
}

// ErrOwnerRange: an entry's owner is not one a file system can hold.
var ErrOwnerRange = errors.New("a file system holds owners 0 to 4294967294")

// checkOwner refuses an owner that chown(2) would not give: it takes 32
// bits, so 4294967296 became 0 (root) and 4294967301 became 5, and
// 4294967295 (-1) means "leave it", which left the unpacker's own. The
// layer said one owner and the tree had another.
func checkOwner(hdr *tar.Header) error {
	const max = 1<<32 - 2
	if hdr.Uid < 0 || hdr.Uid > max || hdr.Gid < 0 || hdr.Gid > max {
		return fmt.Errorf("owner %d:%d: %w", hdr.Uid, hdr.Gid, ErrOwnerRange)
	}
	return nil
}

// quoteName quotes an entry's name for an error, cut to its first 128
// bytes: a hostile name can be many kilobytes long.
func quoteName(name string) string {
	if len(name) <= 128 {
		return strconv.Quote(name)
	}
	return fmt.Sprintf("%q... (%d bytes)", name[:128], len(name))
}

func split(rel string) (dir, base string) {
	dir, base = path.Split(rel)
	return strings.TrimSuffix(dir, "/"), base
}

func (u *unpacker) entry(hdr *tar.Header, tr io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	rel, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if err := checkOwner(hdr); err != nil {
		return err
	}
	if rel == "." {
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("root must be a directory")
		}
		// Files still queued are created in the root as it is now: a new
		// group or setgid bit would reach them.
		if err := u.barrier(); err != nil {
			return err
		}
		defer u.forget(u.root)
		return u.metaFD(u.root, "", hdr, true, metaAll|exactXattrs)
	}
	dir, base := split(rel)
	if base == opaqueName {
		if err := u.barrier(); err != nil {
			return err
		}
		return u.opaque(dir)
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		if err := checkWhiteout(name); err != nil {
			return err
		}
		if err := u.barrier(); err != nil {
			return err
		}
		return u.whiteout(dir, name)
	}
	if u.mode == Apply {
		u.hold(dir)
	}
	// A new name in a tree this unpack made from empty cannot be there
	// yet, nor be queued: the pool may create it. Anything else may touch
	// a file the pool is still to create (the same name again, a hard
	// link to it, a path through it): the pool is drained first. A new
	// name is added to created here, before it is made: if making it
	// fails, so does the unpack.
	newName := u.fresh && u.created.addNew(rel)
	pfd, cached := u.cachedDir(dir)
	if !newName || hdr.Typeflag == tar.TypeLink || !cached {
		if err := u.barrier(); err != nil {
			return err
		}
	}
	if !cached {
		var err error
		if pfd, err = u.dirFD(dir, true); err != nil {
			return err
		}
	}
	// A whiteout of this layer, then an entry of the same name (containerd
	// writes ".wh.a" then "a" where a directory became a file): the
	// whiteout hid what lies below, the entry takes its place, and a
	// directory made there hides the lowers' content, as a whiteout would.
	replaced := len(u.whited.m) > 0 && u.whited.has(rel)
	if replaced {
		u.whited.remove(rel)
		if err := unix.Unlinkat(pfd, base, 0); err != nil {
			return fmt.Errorf("replace whiteout: %w", err)
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		if err := u.mkdir(pfd, rel, base, hdr); err != nil || !replaced {
			return err
		}
		return u.opaque(rel)
	}
	mode := uint32(hdr.Mode) & 0o7777
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse:
		if newName && hdr.Typeflag == tar.TypeReg && hdr.Size <= poolMax {
			return u.queueNew(pfd, base, hdr, tr)
		}
		return u.file(pfd, rel, base, hdr, tr)
	case tar.TypeSymlink:
		if err := u.replace(pfd, rel, base, "symlink", func() error {
			return unix.Symlinkat(hdr.Linkname, pfd, base)
		}); err != nil {
			return err
		}
	case tar.TypeLink:
		return u.link(pfd, rel, base, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		if err := u.replace(pfd, rel, base, "mknod", func() error {
			return unix.Mknodat(pfd, base, nodeType(hdr.Typeflag)|mode, int(nodeDev(hdr)))
		}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	return u.metaAt(pfd, base, hdr)
}

// replace makes the entry rel (base in the directory pfd) with mk. Most
// entries are new: whatever is there already (EEXIST; mk never follows
// or reuses it) is cleared only then, and mk tried again.
func (u *unpacker) replace(pfd int, rel, base, what string, mk func() error) error {
	err := mk()
	if errors.Is(err, unix.EEXIST) {
		if err := u.clear(pfd, rel, base); err != nil {
			return err
		}
		err = mk()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	u.created.add(rel)
	return nil
}

func (u *unpacker) mkdir(pfd int, rel, base string, hdr *tar.Header) error {
	// A directory already there is kept (its content too); anything
	// else there is replaced. A new one is made with its final mode
	// when nothing would change it (createHow) and its owner may write
	// in it: then it needs no fchmod, nor fchown if owned already.
	how := u.dirHow(pfd, hdr)
	perm := uint32(0o700)
	if p := uint32(hdr.Mode) & 0o777; how&needChmod == 0 && p&0o700 == 0o700 {
		perm = p
	} else {
		how |= needChmod
	}
	err := unix.Mkdirat(pfd, base, perm)
	if errors.Is(err, unix.EEXIST) {
		how = metaAll | exactXattrs // kept as it is: its owner, mode and xattrs are not known
		if u.created.has(rel) {
			u.redone = true // given twice: the last entry's times win
		}
		var st unix.Stat_t
		if err = unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := u.clear(pfd, rel, base); err != nil {
				return err
			}
			err = unix.Mkdirat(pfd, base, 0o700)
		}
	}
	if err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	u.created.add(rel)
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	u.cache(rel, fd)
	return u.metaFD(fd, rel, hdr, true, how)
}

func (u *unpacker) file(pfd int, rel, base string, hdr *tar.Header, tr io.Reader) (err error) {
	// Made with its permission bits: createHow says whether it still
	// needs fchmod (and fchown).
	fd := -1
	if err := u.replace(pfd, rel, base, "create", func() (err error) {
		fd, err = unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(hdr.Mode)&0o777)
		return err
	}); err != nil {
		return err
	}
	how := u.createHow(pfd, hdr)
	digest := u.ix.fileDigest()
	// Sparse content is expanded by tar.Reader: only plain content is
	// taken in place.
	inPlace := u.src != nil && hdr.Typeflag == tar.TypeReg && !sparse(hdr)
	if hdr.Size <= poolMax && hdr.Typeflag == tar.TypeReg {
		j := fileJob{fd: fd, hdr: hdr, digest: digest, how: how}
		if inPlace {
			return u.pool.addInPlace(j, u.src)
		}
		return u.pool.add(j, tr)
	}
	if inPlace && digest == nil {
		return u.pool.addBig(fd, hdr, u.src, how)
	}
	defer func() {
		if cerr := unix.Close(fd); cerr != nil && err == nil {
			err = fmt.Errorf("close: %w", cerr)
		}
	}()
	if digest != nil {
		u.ix.hash.Reset()
	}
	switch {
	case inPlace:
		for off := int64(0); off < hdr.Size; {
			b, f, err := u.src.span(hdr.Size - off)
			if err != nil {
				return fmt.Errorf("write: %w", err)
			}
			if digest != nil {
				u.ix.hash.Write(b)
			}
			err = pwriteHoles(fd, b, off)
			u.src.fr.release(f)
			if err != nil {
				return err
			}
			off += int64(len(b))
		}
	default:
		// The buffer is filled whole before it is written: a reader
		// that returns short pieces would hide every zero block.
		for off := int64(0); off < hdr.Size; {
			b := u.buf[:min(int64(len(u.buf)), hdr.Size-off)]
			if _, err := io.ReadFull(tr, b); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			if digest != nil {
				u.ix.hash.Write(b)
			}
			if err := pwriteHoles(fd, b, off); err != nil {
				return err
			}
			off += int64(len(b))
		}
	}
	if err := setSize(fd, hdr.Size); err != nil {
		return err
	}
	if digest != nil {
		*digest = "blake3:" + hex.EncodeToString(u.ix.hash.Sum(nil))
	}
	return u.metaFD(fd, "", hdr, false, how)
}

// sparse says whether tar.Reader expands hdr's content from a sparse map.
func sparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

func (u *unpacker) link(pfd int, rel, base, linkname string) error {
	target, err := cleanName(linkname)
	if err != nil {
		return fmt.Errorf("hardlink to %q: %w", linkname, err)
	}
	if target == "." || target == rel {
		return fmt.Errorf("hardlink to %q: bad target", linkname)
	}
	tdir, tbase := split(target)
	tfd, err := u.dirFD(tdir, false)
	if err != nil {
		return fmt.Errorf("hardlink to %q: %w", linkname, err)
	}
	// Flags 0: a symlink target is linked itself, never followed.
	return u.replace(pfd, rel, base, fmt.Sprintf("hardlink to %q", linkname), func() error {
		return unix.Linkat(tfd, tbase, pfd, base, 0)
	})
}
