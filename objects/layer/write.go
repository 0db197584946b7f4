package layer

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"time"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// WriteOptions control how a directory becomes a tar stream.
type WriteOptions struct {
	// Overlay says the directory is an overlay upper: character devices
	// 0:0 become ".wh.NAME" whiteouts, opaque directories get a
	// ".wh..wh..opq" entry, and overlay xattrs are left out.
	Overlay bool
	// Lowers are the overlay's lower directories, topmost first. They are
	// read only for directories renamed under redirect_dir=on, whose content
	// partly lives in a lower; such a directory is written whole, as opaque.
	Lowers []string
	// Exclude, if set, is called with each absolute path ("/var/cache");
	// true leaves the entry out, and a directory is not descended.
	Exclude func(path string, isDir bool) bool
	// Mtime, if set, rewrites each entry's mtime: whole seconds for
	// import, clamped to SOURCE_DATE_EPOCH for reproducible commits (as
	// buildkit's rewrite-timestamp).
	Mtime func(time.Time) time.Time
	// Skipped, if set, is called with the absolute path of each entry
	// that a layer cannot hold (a socket), which is left out.
	Skipped func(path string)
	// Attr, if set, may change an entry's mode bits, owner and mtime
	// (st.Mode's permission bits, Uid, Gid, Mtim) before it is written;
	// path is absolute ("/usr/share"). strata build's COPY owns files by
	// --chown and keeps an image's directory attributes with it.
	Attr func(path string, st *unix.Stat_t)
	// Index, if set, receives the file index line by line as the tar is
	// written (EncodeIndex's format), and WriteTar returns no entries:
	// memory then stays flat however many files the tree has (an entry
	// is about 350 bytes; a 10 GB tree of small files has 340,000).
	Index io.Writer
	// Scanned, if set, returns what a scan of the same directory just
	// found for the entry at path ("/a/b"): its lstat and class (Classify's
	// UpperEntry), which are then not read again. commit scans the upper
	// for its changes first; a tree of many small files is written at the
	// speed of its system calls. ok false: the entry is looked at as usual.
	// The checks made when an entry is opened (same inode, not a symlink)
	// are made either way.
	Scanned func(path string) (ue UpperEntry, ok bool)
	// Stated, if set, returns an lstat of the entry at path ("/a/b")
	// that the caller just made, which is then not made again; unlike
	// Scanned's, the entry is still classified (its xattrs read). strata
	// build's COPY has walked its source for the step's key first. ok
	// false: the entry is lstat'ed as usual. Scanned is asked first.
	Stated func(path string) (st unix.Stat_t, ok bool)
}

// Errors callers may branch on.
var (
	ErrRedirectNeedsLowers = errors.New("directory renamed in overlay (redirect) but no lower directories given")
	ErrMetacopy            = errors.New("overlay metacopy file: its data lives in a lower layer, mount without metacopy")
	ErrFileChanged         = errors.New("file changed while being read")
)

// epoch is the mtime of whiteout and opaque entries: they carry no
// metadata, and a fixed time keeps identical changes byte-identical.
var epoch = time.Unix(0, 0)

type devIno struct{ dev, ino uint64 }

type firstLink struct {
	rel    string
	size   int64
	digest string
}

type tarWriter struct {
	ctx     context.Context
	opts    WriteOptions
	tw      *tarStream
	links   map[devIno]firstLink
	entries []Entry
	index   *bufio.Writer // opts.Index, if set: entries go there instead
	line    []byte
	buf     []byte // file copy buffer
	xbuf    []byte // xattr name list buffer
	hash    *blake3.Hasher
	hdr     header    // emit's, reused
	lowers  []*Dir    // opts.Lowers, opened on first need
	windows []*window // free windows of walk (one in use per depth)
}

func (t *tarWriter) getWindow() *window {
	if n := len(t.windows); n > 0 {
		w := t.windows[n-1]
		t.windows = t.windows[:n-1]
		return w
	}
	return newWindow()
}

func (t *tarWriter) putWindow(w *window) { t.windows = append(t.windows, w) }

// WriteTar writes dir as an uncompressed PAX tar to w and returns its file
// index. The output depends only on the tree: names are sorted bytewise,
// owners are numeric, atime and ctime are left out. The root directory
// itself is not an entry. Sockets are skipped. The tree is walked through
// directory fds without following symlinks (see Dir), so a container
// writing into it meanwhile cannot make it read outside; a ".wh." name is
// ErrReservedName.
func WriteTar(ctx context.Context, dir string, w io.Writer, opts WriteOptions) ([]Entry, error) {
	root, err := OpenDirForRead(dir)
	if err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	defer root.Close()
	return writeTar(ctx, w, opts, func(t *tarWriter) error {
		if err := t.walk("", root); err != nil {
			return fmt.Errorf("write layer from %s: %w", dir, err)
		}
		return nil
	})
}

// writeTar sets up a tarWriter on w, has body write the entries through
// it, and ends the tar and the index: WriteTar and CreateFromTar differ
// only in where the entries come from.
func writeTar(ctx context.Context, w io.Writer, opts WriteOptions, body func(*tarWriter) error) ([]Entry, error) {
	// A frameWriter buffers already; anything else gets a buffer.
	bw := bufio.NewWriterSize(w, 256<<10)
	var tw *tarStream
	if fw, ok := w.(*frameWriter); ok {
		tw = newTarStream(fw)
	} else {
		tw = newTarStream(bw)
	}
	t := &tarWriter{
		ctx: ctx, opts: opts, tw: tw,
		links: map[devIno]firstLink{},
		buf:   make([]byte, 1<<20), xbuf: make([]byte, 4096), hash: blake3.New(),
	}
	defer t.closeLowers()
	if opts.Index != nil {
		t.index = bufio.NewWriterSize(opts.Index, 64<<10)
		t.index.WriteString(indexHeader + "\n")
	}
	if err := body(t); err != nil {
		return nil, err
	}
	if err := t.tw.Close(); err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	if t.index != nil {
		if err := t.index.Flush(); err != nil {
			return nil, fmt.Errorf("write file index: %w", err)
		}
	}
	return t.entries, nil
}

// add records e in the file index.
func (t *tarWriter) add(e Entry) {
	if t.index == nil {
		t.entries = append(t.entries, e)
		return
	}
	t.line = appendEntry(t.line[:0], &e)
	t.index.Write(t.line) // a write error sticks; Flush reports it
}

// walk writes the children of the upper (or plain) directory d, whose
// path in the layer is rel ("" for the root).
func (t *tarWriter) walk(rel string, d *Dir) error {
	names, err := d.Names()
	if err != nil {
		return err
	}
	w := t.getWindow()
	defer t.putWindow(w)
	for len(names) > 0 {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		k := min(len(names), windowNames)
		items := t.look(w, d, rel, names[:k])
		names = names[k:]
		for i := range items {
			// Per entry, not per window: a window of large files is
			// seconds of work, and Ctrl-C must stop it.
			if err := t.ctx.Err(); err != nil {
				return err
			}
			if err := t.walkItem(rel, d, &items[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkItem writes one entry of d, found by look, and what lies below it.
func (t *tarWriter) walkItem(rel string, d *Dir, it *item) error {
	if it.lstatErr != nil {
		return it.lstatErr
	}
	if it.excluded {
		return nil
	}
	name, crel, e := it.name, it.abs[1:], &it.ue
	if len(crel) > MaxPath {
		return fmt.Errorf("/%s...: a path of %d bytes: %w", crel[:64], len(crel), ErrPathTooLong)
	}
	if errors.Is(it.classErr, ErrReservedName) {
		return fmt.Errorf("/%s: %w", crel, it.classErr)
	}
	if it.classErr != nil {
		return it.classErr
	}
	if t.opts.Attr != nil {
		t.opts.Attr(it.abs, &e.St)
	}
	if e.Class == Whiteout {
		return t.whiteout(crel)
	}
	if !t.opts.Overlay && isWhiteout(&e.St) {
		return fmt.Errorf("/%s: %w", crel, ErrWhiteoutDevice)
	}
	if e.St.Mode&unix.S_IFMT == unix.S_IFSOCK && t.opts.Overlay {
		// A socket (which no layer holds) in place of a lower entry
		// deletes that entry, as status reports it.
		shown, err := t.inLowers(crel)
		if err != nil {
			return fmt.Errorf("/%s: %w", crel, err)
		}
		if shown {
			return t.whiteout(crel)
		}
	}
	if err := t.emit(crel, d, e, it); err != nil {
		return err
	}
	if !e.IsDir() {
		return nil
	}
	switch e.Class {
	case Opaque:
		if err := t.opaque(crel); err != nil {
			return err
		}
	case Redirect:
		return t.redirected(rel, crel, d, e)
	}
	sub, err := d.Sub(name, &e.St)
	if err != nil {
		return err
	}
	err = t.walk(crel, sub)
	sub.Close()
	return err
}

// redirected writes a directory renamed in the overlay whole: its
// entries are spread over the upper and the lowers it was renamed from.
func (t *tarWriter) redirected(rel, crel string, d *Dir, e *UpperEntry) error {
	lower, err := t.redirectStack(e.Redirect, rel, nil, false)
	if err != nil {
		return fmt.Errorf("%s: %w", d.join(e.Name), err)
	}
	sub, err := d.Sub(e.Name, &e.St)
	if err != nil {
		closeStack(lower)
		return err
	}
	stack := append([]layerDir{{sub, true}}, lower...)
	defer closeStack(stack)
	if err := t.opaque(crel); err != nil {
		return err
	}
	return t.walkMerged(crel, stack)
}

func isWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// entryDir is the directory emit reads an entry's target or content
// from: a real one (*Dir), or a directory of a tar's plan (planDir).
type entryDir interface {
	join(name string) string
	Readlink(name string) (string, error)
	openRead(name string, st *unix.Stat_t) (int, unix.Stat_t, error)
}

// emit writes one entry (and a regular file's content) and records it in
// the index.
func (t *tarWriter) emit(rel string, d entryDir, ue *UpperEntry, pre *item) error {
	st, xs := &ue.St, ue.xattrs
	mtime := time.Unix(st.Mtim.Sec, st.Mtim.Nsec)
	if t.opts.Mtime != nil {
		mtime = t.opts.Mtime(mtime)
	}
	hdr := &t.hdr
	*hdr = header{
		name: rel, mode: int64(st.Mode & 0o7777), uid: int(st.Uid), gid: int(st.Gid),
		mtime: mtime, xattrs: xs, // Classify left out overlayfs's own
	}
	lpath := "/" + rel
	if pre != nil {
		lpath = pre.abs
	}
	e := Entry{Path: lpath, Mode: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid), ModTime: mtime.UTC()}
	if len(xs) > 0 {
		e.Xattrs = xattrDigest(xs)
	}
	var key devIno
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		key = devIno{st.Dev, st.Ino}
		if first, ok := t.links[key]; ok && st.Nlink > 1 {
			hdr.typ, hdr.link = tar.TypeLink, first.rel
			e.Type, e.Link, e.Size, e.Digest = TypeHardlink, "/"+first.rel, first.size, first.digest
			break
		}
		hdr.typ, hdr.size = tar.TypeReg, st.Size
		e.Type, e.Size = TypeFile, st.Size
		if err := t.tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", d.join(ue.Name), err)
		}
		var dg string
		var err error
		if pre != nil && pre.fetched {
			dg, err = pre.digest, pre.readErr
			if err == nil {
				if _, err = t.tw.Write(pre.data); err != nil {
					err = fmt.Errorf("%s: %w", d.join(ue.Name), err)
				}
			}
		} else {
			dg, err = t.copyFile(d, ue.Name, st)
		}
		if err != nil {
			return err
		}
		e.Digest = dg
		if st.Nlink > 1 {
			t.links[key] = firstLink{rel, st.Size, dg}
		}
		t.add(e)
		return nil
	case unix.S_IFDIR:
		hdr.typ, hdr.name = tar.TypeDir, rel+"/"
		e.Type = TypeDir
	case unix.S_IFLNK:
		target, err := d.Readlink(ue.Name)
		if err != nil {
			return err
		}
		hdr.typ, hdr.link = tar.TypeSymlink, target
		e.Type, e.Link = TypeSymlink, target
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.typ, e.Type = tar.TypeChar, TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.typ, e.Type = tar.TypeBlock, TypeBlock
		}
		e.Major, e.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
		hdr.devmajor, hdr.devminor = int64(e.Major), int64(e.Minor)
	case unix.S_IFIFO:
		hdr.typ, e.Type = tar.TypeFifo, TypeFIFO
	default:
		slog.Debug("layer: skipping socket or unknown file type", "path", d.join(ue.Name))
		if t.opts.Skipped != nil {
			t.opts.Skipped(lpath)
		}
		return nil
	}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", d.join(ue.Name), err)
	}
	t.add(e)
	return nil
}

// copyFile streams size bytes of a regular file into the tar, hashing them
// on the way so that each byte is read once.
func (t *tarWriter) copyFile(d entryDir, name string, st *unix.Stat_t) (string, error) {
	fd, _, err := d.openRead(name, st)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	t.hash.Reset()
	n, err := t.tw.readContent(fd, st.Size, t.buf, func(b []byte) { t.hash.Write(b) })
	if err != nil {
		return "", fmt.Errorf("%s: %w", d.join(name), err)
	}
	if n < st.Size {
		return "", fmt.Errorf("%s: %w: read %d of %d bytes", d.join(name), ErrFileChanged, n, st.Size)
	}
	return blake3Digest(t.hash), nil
}

// readFull reads fd into b until b is full or the file ends; it returns
// how much it read.
func readFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("read: %w", err)
		}
		if k == 0 {
			break
		}
		n += k
	}
	return n, nil
}

// whiteout records that rel was deleted.
func (t *tarWriter) whiteout(rel string) error {
	dir, name := path.Split(rel)
	hdr := &header{name: dir + whiteoutPrefix + name, typ: tar.TypeReg, mtime: epoch}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("whiteout %s: %w", rel, err)
	}
	t.add(Entry{Path: "/" + rel, Type: TypeWhiteout, ModTime: epoch.UTC()})
	return nil
}

// opaque records that the directory rel hides what lies below it.
func (t *tarWriter) opaque(rel string) error {
	hdr := &header{name: rel + "/" + opaqueName, typ: tar.TypeReg, mtime: epoch}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("opaque %s: %w", rel, err)
	}
	t.add(Entry{Path: "/" + rel, Type: TypeOpaque, ModTime: epoch.UTC()})
	return nil
}

const (
	whiteoutPrefix = ".wh."
	opaqueName     = ".wh..wh..opq"
)
