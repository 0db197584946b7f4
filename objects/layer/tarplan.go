package layer

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/strata-sh/strata/internal/pagewrite"
	"golang.org/x/sys/unix"
)

// ErrTarNeedsUnpack says CreateFromTar cannot write this tar's layer
// without unpacking it: the tar holds something only a real unpack
// decides (see planTar), or the process could not give the tar's owners
// to an unpacked tree. Callers unpack it into a directory and write that.
var ErrTarNeedsUnpack = errors.New("tar needs unpacking")

// A plan holds every entry in memory (about 300 bytes each, with the map
// of names, plus the names and link targets), and is written depth
// first: a tar with more entries, more bytes of names or deeper
// directories than these is unpacked instead, which needs no memory per
// entry. At the bounds an import's peak RSS stays under 150 MB: 129 MB
// for 130,000 files on the benchmark VM (83 MB for their directory).
var (
	planMax      = 1 << 17
	planMaxBytes = 16 << 20
	planMaxDepth = 512
)

// CreateFromTar writes the layer that Create would write for the
// directory Unpack(..., Apply) makes of the plain tar in f, without making
// it: the headers are read first into a plan of that directory (content
// is skipped, not read), then the plan's entries are written in the
// directory's walk order, each file's content read from f where the tar
// holds it. Importing a tar then costs reading it and compressing the
// layer, not creating and deleting every file of it.
//
// The plan covers tars whose every entry is a directory, a regular file,
// a symlink, a device or FIFO, or a hard link to an earlier file, each
// under a directory of the tar, named once, with no extended attributes;
// anything else is ErrTarNeedsUnpack, returned before anything is written
// to out. The plan is the directory a root unpack makes, whoever reads
// the tar: its owners and devices are the tar's, which only root could
// give an unpacked tree (ErrOwnerNeedsRoot).
func CreateFromTar(ctx context.Context, f *os.File, out io.Writer, opts WriteOptions) (Result, error) {
	root, err := planTar(ctx, f)
	if err != nil {
		return Result{}, err
	}
	return compress(out, func(w io.Writer) ([]Entry, error) {
		return writeTar(ctx, w, opts, func(t *tarWriter) error {
			return t.walkPlan(&planDir{f: f}, "", root)
		})
	})
}

// planNode is one entry of the directory a tar unpacks to: what lstat
// would give of it after the unpack (stat), and where its content is.
type planNode struct {
	name  string
	mode  uint32 // with the type bits
	uid   uint32
	gid   uint32
	mtime unix.Timespec
	size  int64
	rdev  uint64
	ino   uint64      // a regular file's inode, shared by its hard links
	off   int64       // a regular file's content, in the tar
	link  string      // a symlink's target
	nlink *uint64     // a regular file's link count, shared by its names
	kids  []*planNode // a directory's entries, in tar order
}

func (n *planNode) isDir() bool { return n.mode&unix.S_IFMT == unix.S_IFDIR }

func (n *planNode) stat() unix.Stat_t {
	st := unix.Stat_t{Mode: n.mode, Uid: n.uid, Gid: n.gid, Mtim: n.mtime, Size: n.size, Rdev: n.rdev, Ino: n.ino, Nlink: 1}
	if n.nlink != nil {
		st.Nlink = *n.nlink
	}
	return st
}

// planTar reads the headers of the tar in f into the tree an unpack of it
// would make, or returns ErrTarNeedsUnpack.
func planTar(ctx context.Context, f *os.File) (*planNode, error) {
	needs := func(why string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrTarNeedsUnpack, fmt.Sprintf(why, args...))
	}
	// A SectionReader seeks: the tar reader skips content by seeking, so
	// only the headers are read. It is the unpack's own reader.
	sr := io.NewSectionReader(f, 0, 1<<62)
	tr := newTarReader(sr)
	root := &planNode{mode: unix.S_IFDIR}
	nodes := map[string]*planNode{".": root}
	var inos uint64
	names := 0 // bytes of names and link targets
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, needs("%v", err) // the unpack reports it
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // as the unpack ignores it
		}
		if len(nodes) > planMax {
			return nil, needs("more than %d entries", planMax)
		}
		if names += len(hdr.Name) + len(hdr.Linkname); names > planMaxBytes {
			return nil, needs("more than %d bytes of names", planMaxBytes)
		}
		if why := unplannable(hdr); why != "" {
			return nil, needs("%s: %s", hdr.Name, why)
		}
		rel, err := cleanName(hdr.Name)
		if err != nil {
			return nil, needs("%s: %v", hdr.Name, err)
		}
		if rel == "." {
			if hdr.Typeflag != tar.TypeDir {
				return nil, needs("root not a directory")
			}
			continue // the root is not an entry of a layer
		}
		if nodes[rel] != nil {
			return nil, needs("%s: named twice", rel)
		}
		dir, base := split(rel)
		if dir == "" {
			dir = "."
		}
		parent := nodes[dir]
		if parent == nil || !parent.isDir() {
			return nil, needs("%s: parent not a directory of the tar", rel)
		}
		if len(base) > 255 || ReservedName(base) {
			return nil, needs("%s: name", rel)
		}
		if strings.Count(rel, "/") >= planMaxDepth {
			return nil, needs("deeper than %d directories", planMaxDepth)
		}
		n := &planNode{name: base, mode: uint32(hdr.Mode) & 0o7777, uid: uint32(hdr.Uid), gid: uint32(hdr.Gid),
			mtime: unix.Timespec{Sec: hdr.ModTime.Unix(), Nsec: int64(hdr.ModTime.Nanosecond())}}
		switch hdr.Typeflag {
		case tar.TypeDir:
			n.mode |= unix.S_IFDIR
		case tar.TypeReg:
			n.mode |= unix.S_IFREG
			n.size = hdr.Size
			if n.off, err = sr.Seek(0, io.SeekCurrent); err != nil {
				return nil, err
			}
			inos++
			n.ino, n.nlink = inos, new(uint64)
			*n.nlink = 1
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			n.mode |= nodeType(hdr.Typeflag)
			n.rdev = nodeDev(hdr)
		case tar.TypeSymlink:
			n.mode = unix.S_IFLNK | 0o777 // as lstat gives every symlink
			n.link = hdr.Linkname
		case tar.TypeLink:
			target, err := cleanName(hdr.Linkname)
			t := nodes[target]
			if err != nil || t == nil || t.nlink == nil {
				return nil, needs("%s: hard link to %q", rel, hdr.Linkname)
			}
			// Another name of the same inode: its owner, mode and times
			// are the first name's, as link(2) leaves them.
			*t.nlink++
			name := n.name
			*n = *t
			n.name = name
		}
		nodes[rel] = n
		parent.kids = append(parent.kids, n)
	}
}

// plainPAX are the PAX records an unpack reads only as header fields
// (names, size, owners, times); any other record (xattrs, sparse maps)
// changes what it makes.
var plainPAX = map[string]bool{
	"path": true, "linkpath": true, "size": true, "uid": true, "gid": true,
	"uname": true, "gname": true, "mtime": true, "atime": true, "ctime": true,
}

// unplannable says why the plan cannot model hdr as the unpack makes it,
// or "" if it can.
func unplannable(hdr *tar.Header) string {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeFifo:
	case tar.TypeChar, tar.TypeBlock:
		// What mknod(2) keeps of a device number; 0:0 is also what an
		// overlay upper would read as a whiteout.
		if hdr.Devmajor < 0 || hdr.Devminor < 0 || hdr.Devmajor == 0 && hdr.Devminor == 0 ||
			hdr.Devmajor >= 1<<12 || hdr.Devminor >= 1<<20 {
			return "device number"
		}
	default:
		return fmt.Sprintf("entry type %q", hdr.Typeflag)
	}
	for k := range hdr.PAXRecords {
		if !plainPAX[k] {
			return "PAX record " + k
		}
	}
	// chown(-1) changes nothing; times outside what every filesystem
	// stores may be clamped.
	if hdr.Uid < 0 || hdr.Gid < 0 || hdr.Uid >= 1<<31 || hdr.Gid >= 1<<31 {
		return "owner"
	}
	if s := hdr.ModTime.Unix(); s < 0 || s >= 1<<32 {
		return "mtime"
	}
	if strings.IndexByte(hdr.Name, 0) >= 0 || strings.IndexByte(hdr.Linkname, 0) >= 0 {
		return "NUL in a name"
	}
	if hdr.Typeflag == tar.TypeSymlink && (hdr.Linkname == "" || len(hdr.Linkname) >= unix.PathMax) {
		return "symlink target"
	}
	return ""
}

// walkPlan writes the entries below the plan directory n, whose path in
// the layer is rel, as walk writes a real directory's: sorted bytewise,
// each directory followed by what it holds.
func (t *tarWriter) walkPlan(d *planDir, rel string, n *planNode) error {
	slices.SortFunc(n.kids, func(a, b *planNode) int { return strings.Compare(a.name, b.name) })
	for _, k := range n.kids {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		crel := path.Join(rel, k.name)
		if t.opts.Exclude != nil && t.opts.Exclude("/"+crel, k.isDir()) {
			continue
		}
		ue := UpperEntry{Name: k.name, St: k.stat()}
		if t.opts.Attr != nil {
			t.opts.Attr("/"+crel, &ue.St)
		}
		d.dir, d.cur = rel, k
		if err := t.emit(crel, d, &ue, nil); err != nil {
			return fmt.Errorf("write layer from tar: %w", err)
		}
		if k.isDir() {
			if err := t.walkPlan(d, crel, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// planDir serves emit the entry of the plan being written: its symlink
// target, or its content where the tar holds it.
type planDir struct {
	f   *os.File
	dir string    // the directory being written
	cur *planNode // the entry being written
}

func (d *planDir) join(name string) string { return path.Join("/", d.dir, name) }

func (d *planDir) Readlink(name string) (string, error) { return d.cur.link, nil }

// openRead gives a new fd on the tar, at the file's content.
func (d *planDir) openRead(name string, st *unix.Stat_t) (int, unix.Stat_t, error) {
	fd, err := unix.Dup(int(d.f.Fd()))
	if err == nil {
		unix.CloseOnExec(fd)
		if _, err = unix.Seek(fd, d.cur.off, io.SeekStart); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		return -1, d.cur.stat(), &os.PathError{Op: "read tar", Path: d.join(name), Err: err}
	}
	return fd, d.cur.stat(), nil
}

// SpoolTar copies the tar read from r to w, up to its end-of-archive
// blocks, reading it as the unpack does on the way: for CreateFromTar,
// which needs the tar in a file. A stream that is not a tar fails at its
// first bad header instead of being copied whole first, and what follows
// the tar (the rest of a record, or of a device) is not copied.
//
// w, a file, gets writes of at most pagewrite.Max bytes (the spool is as
// large as the tar).
func SpoolTar(w io.Writer, r io.Reader) error {
	bw := bufio.NewWriterSize(pagewrite.Writer{W: w}, 1<<20)
	tr := newTarReader(io.TeeReader(r, bw))
	for {
		_, err := tr.Next()
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
	}
}
