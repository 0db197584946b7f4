package layer

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"slices"
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
	tw      *tar.Writer
	links   map[devIno]firstLink
	entries []Entry
	buf     []byte // file copy buffer
	xbuf    []byte // xattr name list buffer
	hash    *blake3.Hasher
}

// WriteTar writes dir as an uncompressed PAX tar to w and returns its file
// index. The output depends only on the tree: names are sorted bytewise,
// owners are numeric, atime and ctime are left out. The root directory
// itself is not an entry. Sockets are skipped.
func WriteTar(ctx context.Context, dir string, w io.Writer, opts WriteOptions) ([]Entry, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	t := &tarWriter{
		ctx: ctx, opts: opts, tw: tar.NewWriter(bw),
		links: map[devIno]firstLink{},
		buf:   make([]byte, 1<<20), xbuf: make([]byte, 4096), hash: blake3.New(),
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("write layer: %s: not a directory", dir)
	}
	if err := t.walk("", dir); err != nil {
		return nil, fmt.Errorf("write layer from %s: %w", dir, err)
	}
	if err := t.tw.Close(); err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	return t.entries, nil
}

// walk writes the children of the upper (or plain) directory abs, whose
// path in the layer is rel ("" for the root).
func (t *tarWriter) walk(rel, abs string) error {
	names, err := readNames(abs)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		crel, cabs := path.Join(rel, name), abs+"/"+name
		var st unix.Stat_t
		if err := unix.Lstat(cabs, &st); err != nil {
			return fmt.Errorf("%s: %w", cabs, err)
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if t.opts.Exclude != nil && t.opts.Exclude("/"+crel, isDir) {
			continue
		}
		if t.opts.Overlay && isWhiteout(&st) {
			if err := t.whiteout(crel); err != nil {
				return err
			}
			continue
		}
		xs, err := lxattrs(cabs, t.xbuf)
		if err != nil {
			return fmt.Errorf("%s: %w", cabs, err)
		}
		if err := t.emit(crel, cabs, &st, xs); err != nil {
			return err
		}
		if !isDir {
			continue
		}
		if t.opts.Overlay {
			if isOpaque(xs) {
				if err := t.opaque(crel); err != nil {
					return err
				}
			} else if target, ok := redirect(xs); ok {
				lower, err := t.redirectStack(target, rel, nil, false)
				if err != nil {
					return fmt.Errorf("%s: %w", cabs, err)
				}
				if err := t.opaque(crel); err != nil {
					return err
				}
				if err := t.walkMerged(crel, append([]layerDir{{cabs, true}}, lower...)); err != nil {
					return err
				}
				continue
			}
		}
		if err := t.walk(crel, cabs); err != nil {
			return err
		}
	}
	return nil
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", dir, err)
	}
	slices.Sort(names)
	return names, nil
}

func isWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// emit writes one entry (and a regular file's content) and records it in
// the index.
func (t *tarWriter) emit(rel, abs string, st *unix.Stat_t, xs []xattr) error {
	mtime := time.Unix(st.Mtim.Sec, st.Mtim.Nsec)
	hdr := &tar.Header{
		Name: rel, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: mtime, Format: tar.FormatPAX,
	}
	e := Entry{Path: "/" + rel, Mode: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid), ModTime: mtime.UTC()}
	kept := xs[:0:0]
	for _, x := range xs {
		if x.name == "trusted.overlay.metacopy" && t.opts.Overlay {
			return fmt.Errorf("%s: %w", abs, ErrMetacopy)
		}
		if overlayPrivate(x.name) && (t.opts.Overlay || x.name[0] == 't') {
			continue
		}
		kept = append(kept, x)
	}
	if len(kept) > 0 {
		hdr.PAXRecords = make(map[string]string, len(kept))
		for _, x := range kept {
			hdr.PAXRecords[paxXattr+x.name] = x.value
		}
		e.Xattrs = xattrDigest(kept)
	}
	var key devIno
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		key = devIno{st.Dev, st.Ino}
		if first, ok := t.links[key]; ok && st.Nlink > 1 {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first.rel
			e.Type, e.Link, e.Size, e.Digest = TypeHardlink, "/"+first.rel, first.size, first.digest
			break
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
		e.Type, e.Size = TypeFile, st.Size
		if err := t.tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", abs, err)
		}
		d, err := t.copyFile(abs, st.Size)
		if err != nil {
			return fmt.Errorf("%s: %w", abs, err)
		}
		e.Digest = d
		if st.Nlink > 1 {
			t.links[key] = firstLink{rel, st.Size, d}
		}
		t.entries = append(t.entries, e)
		return nil
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, rel+"/"
		e.Type = TypeDir
	case unix.S_IFLNK:
		target, err := os.Readlink(abs)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		e.Type, e.Link = TypeSymlink, target
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag, e.Type = tar.TypeChar, TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag, e.Type = tar.TypeBlock, TypeBlock
		}
		e.Major, e.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
		hdr.Devmajor, hdr.Devminor = int64(e.Major), int64(e.Minor)
	case unix.S_IFIFO:
		hdr.Typeflag, e.Type = tar.TypeFifo, TypeFIFO
	default:
		slog.Debug("layer: skipping socket or unknown file type", "path", abs)
		return nil
	}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", abs, err)
	}
	t.entries = append(t.entries, e)
	return nil
}

// copyFile streams size bytes of a regular file into the tar, hashing them
// on the way so that each byte is read once.
func (t *tarWriter) copyFile(abs string, size int64) (string, error) {
	f, err := os.OpenFile(abs, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	t.hash.Reset()
	n, err := io.CopyBuffer(io.MultiWriter(t.tw, t.hash), io.LimitReader(f, size), t.buf)
	if err != nil {
		return "", err
	}
	if n != size {
		return "", fmt.Errorf("%w: read %d of %d bytes", ErrFileChanged, n, size)
	}
	return "blake3:" + hex.EncodeToString(t.hash.Sum(nil)), nil
}

// whiteout records that rel was deleted.
func (t *tarWriter) whiteout(rel string) error {
	dir, name := path.Split(rel)
	hdr := &tar.Header{Name: dir + whiteoutPrefix + name, Typeflag: tar.TypeReg, ModTime: epoch, Format: tar.FormatPAX}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("whiteout %s: %w", rel, err)
	}
	t.entries = append(t.entries, Entry{Path: "/" + rel, Type: TypeWhiteout, ModTime: epoch.UTC()})
	return nil
}

// opaque records that the directory rel hides what lies below it.
func (t *tarWriter) opaque(rel string) error {
	hdr := &tar.Header{Name: rel + "/" + opaqueName, Typeflag: tar.TypeReg, ModTime: epoch, Format: tar.FormatPAX}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("opaque %s: %w", rel, err)
	}
	t.entries = append(t.entries, Entry{Path: "/" + rel, Type: TypeOpaque, ModTime: epoch.UTC()})
	return nil
}

const (
	whiteoutPrefix = ".wh."
	opaqueName     = ".wh..wh..opq"
)
