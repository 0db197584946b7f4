package build

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/strata-sh/strata/internal/kmount"
	"github.com/strata-sh/strata/internal/stagedir"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"golang.org/x/sys/unix"
)

// errNotDirect: this COPY takes the overlay path.
var errNotDirect = errors.New("not a direct copy")

// copyDirect writes a COPY of one context directory straight into a layer,
// without copying a byte: the directory is bind-mounted, read-only, at
// its destination in an empty staging tree and that tree is written as
// the layer, with owners, modes and the image's directory attributes set
// as the overlay path would leave them (layer.WriteOptions.Attr). Each
// file is read once, by the layer writer, whose file index gives the
// content hashes of the key. Anything this cannot mirror exactly (a
// source that is not one directory, an existing path of another type in
// the image, "!" exceptions in .dockerignore) is errNotDirect.
func (b *builder) copyDirect(ctx context.Context, s *state, cs copySpec, ents []entry, chmod fs.FileMode, text, statKey string, start time.Time) (*objects.Commit, bool, error) {
	if !directCopy || cs.from != "" || len(cs.sd.SourcePaths) != 1 || len(ents) == 0 || !ents[0].fi.IsDir() || b.ignore.descend() {
		return nil, false, errNotDirect
	}
	srcDir, dest := ents[0].src, ents[0].dst
	for _, e := range ents[1:] {
		if e.top || srcDir != "." && !strings.HasPrefix(e.src, srcDir+"/") {
			return nil, false, errNotDirect
		}
	}
	if mounted, err := b.mountInside(srcDir); err != nil || mounted {
		return nil, false, errNotDirect
	}
	dir, unlock, err := stagedir.Make(b.o.Repo.Objects.TempDir(), stagedir.Build)
	if err != nil {
		return nil, false, err
	}
	defer unlock() // last: once dir is gone
	defer os.Remove(dir)
	// The parent's tree, for --chown names and the attributes of what exists.
	image, err := os.OpenRoot(dir)
	if err != nil {
		return nil, false, err
	}
	if s.parent != nil && len(s.parent.Layers()) > 0 {
		image.Close()
		ov, err := b.mount(ctx, s.parent, 0)
		if err != nil {
			return nil, false, err
		}
		defer ov.close()
		if image, err = os.OpenRoot(ov.target); err != nil {
			return nil, false, err
		}
	}
	defer image.Close()
	uid, gid, err := resolveOwner(image, cs.chown)
	if err != nil {
		return nil, false, err
	}
	have, err := existingDirs(image, dest, ents)
	if err != nil {
		return nil, false, err
	}
	stage := filepath.Join(dir, "stage")
	target := filepath.Join(stage, filepath.FromSlash(strings.TrimPrefix(dest, "/")))
	made, err := mkdirs(stage, target)
	defer removeDirs(made) // never RemoveAll: the context is mounted in there
	if err != nil {
		return nil, false, err
	}
	src, err := os.OpenRoot(b.o.Context)
	if err != nil {
		return nil, false, err
	}
	defer src.Close()
	unmount, err := bindReadOnly(src, srcDir, target)
	if err != nil {
		return nil, false, err
	}
	defer unmount()

	now := unix.NsecToTimespec(time.Now().UnixNano())
	_, destExists := have[dest]
	attr := func(p string, st *unix.Stat_t) {
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		parent := p != dest && strings.HasPrefix(dest, p+"/")
		if old, ok := have[p]; ok && isDir {
			// As the overlay path leaves them: an existing directory keeps
			// its mode and owner; one the copy fills takes the source's
			// mtime, a parent the one it had, or now if the destination
			// was made in it.
			st.Mode, st.Uid, st.Gid = st.Mode&^0o7777|old.Mode&0o7777, old.Uid, old.Gid
			switch {
			case parent && !destExists && p == path.Dir(dest):
				st.Mtim = now
			case parent:
				st.Mtim = old.Mtim
			}
			return
		}
		if parent {
			// A parent made for the destination: 0755, owned as the
			// copy (--chown), as the overlay path makes it.
			st.Mode, st.Uid, st.Gid = st.Mode&^0o7777|0o755, uint32(uid), uint32(gid)
			st.Mtim = now
			return
		}
		st.Uid, st.Gid = uint32(uid), uint32(gid)
		switch {
		case p == dest && isDir:
			st.Mode = st.Mode&^0o7777 | unixBits(ents[0].fi.Mode()) // the destination made: madeDir's, --chmod or not
		case chmod != 0 && st.Mode&unix.S_IFMT != unix.S_IFLNK:
			st.Mode = st.Mode&^0o7777 | unixBits(chmod)
		}
	}
	listed := make(map[string]bool, len(ents))
	for _, e := range ents {
		listed[e.dst] = true
	}
	exclude := func(p string, isDir bool) bool {
		// Only what collect listed (and the destination's parents): the
		// step's key is made of that list, and of the layer's hashes.
		if !listed[p] && !strings.HasPrefix(dest, p+"/") {
			return true
		}
		rel, ok := strings.CutPrefix(p, strings.TrimSuffix(dest, "/")+"/")
		if !ok || dest == "/" && p != "/" {
			rel, ok = strings.TrimPrefix(p, "/"), dest == "/"
		}
		return ok && b.ignore.excluded(path.Join(srcDir, rel))
	}
	opts := layer.WriteOptions{Mtime: b.o.Mtime, Attr: attr, Exclude: exclude, Stated: statedBy(ents)}
	l, sums, err := b.addLayer(ctx, stage, opts)
	if err == nil && opts.Mtime != nil && inChain(s.parent, l.DiffID) {
		opts.Mtime = nil // overlayfs refuses the same lower twice (see layer)
		l, sums, err = b.addLayer(ctx, stage, opts)
	}
	if err != nil {
		return nil, false, err
	}
	sum, err := indexDigest(sums, ents, chmod)
	if err != nil {
		return nil, false, err
	}
	key := b.stepKey(s, text, sum)
	if !racy(ents, start) {
		if err := b.cache.putMemo(statKey, key); err != nil {
			return nil, false, err
		}
	}
	if hit := b.lookup(key); hit != nil {
		return hit, true, nil // touched, not changed (the layer blob is gc's)
	}
	c, err := b.commit(ctx, s, []objects.Layer{l}, s.cfg, text, key)
	return c, false, err
}

// statedBy gives the layer writer the lstats collect made of ents, by
// their paths in the image: the writer then does not make them again
// (the context is walked twice otherwise, once for the step's key).
// What it opens it still checks against them (the same inode), and the
// key's hashes are those of what it wrote.
func statedBy(ents []entry) func(p string) (unix.Stat_t, bool) {
	stats := make(map[string]*syscall.Stat_t, len(ents))
	for _, e := range ents {
		if st, ok := e.fi.Sys().(*syscall.Stat_t); ok {
			stats[e.dst] = st
		}
	}
	return func(p string) (unix.Stat_t, bool) {
		st, ok := stats[p]
		if !ok {
			return unix.Stat_t{}, false
		}
		return unix.Stat_t{
			Dev: st.Dev, Ino: st.Ino, Nlink: st.Nlink, Mode: st.Mode,
			Uid: st.Uid, Gid: st.Gid, Rdev: st.Rdev, Size: st.Size,
			Blksize: st.Blksize, Blocks: st.Blocks,
			Atim: unix.Timespec{Sec: st.Atim.Sec, Nsec: st.Atim.Nsec},
			Mtim: unix.Timespec{Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec},
			Ctim: unix.Timespec{Sec: st.Ctim.Sec, Nsec: st.Ctim.Nsec},
		}, true
	}
}

// mountInside says whether something is mounted in the context
// directory rel (a cache, a tmpfs) where the copy takes it: the bind
// copyDirect makes holds that directory's own mount only (a recursive
// one would also hold the project's checkouts, and keep their overlays
// busy), so what is mounted there would be missing and the files under
// the mount copied instead. The overlay path reads through mounts, as
// docker's context does.
func (b *builder) mountInside(rel string) (bool, error) {
	top, err := filepath.EvalSymlinks(filepath.Join(b.o.Context, rel))
	if err != nil {
		return false, err
	}
	prefix := strings.TrimSuffix(top, "/") + "/"
	points, err := kmount.Below(top)
	if err != nil {
		return false, err
	}
	for _, p := range points {
		if strings.HasPrefix(p, prefix) && !b.ignore.excluded(path.Join(rel, strings.TrimPrefix(p, prefix))) {
			return true, nil
		}
	}
	return false, nil
}

// existingDirs lstats the destination, its parents and every entry's
// path in the image: directories there keep their attributes; any other
// type where the copy puts a directory, or a directory where it puts a
// file, is errNotDirect (the overlay path decides those).
func existingDirs(image *os.Root, dest string, ents []entry) (map[string]unix.Stat_t, error) {
	have := map[string]unix.Stat_t{}
	dirs := newDirRoots(image, false)
	defer dirs.close()
	check := func(p string, wantDir bool) (bool, error) {
		name := strings.TrimPrefix(p, "/")
		if name == "" {
			return true, nil
		}
		d, base, err := dirs.at(name)
		if err != nil {
			return false, nil // its parent is missing or not a directory: checked there
		}
		fi, err := d.Lstat(base)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, errNotDirect
		}
		if fi.IsDir() != wantDir {
			return false, errNotDirect
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && wantDir {
			have[p] = unix.Stat_t{Mode: st.Mode, Uid: st.Uid, Gid: st.Gid, Mtim: unix.Timespec(st.Mtim)}
		}
		return true, nil
	}
	var parents []string
	for p := path.Dir(dest); p != "/"; p = path.Dir(p) {
		parents = append([]string{p}, parents...)
	}
	for _, p := range parents {
		if ok, err := check(p, true); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			return have, nil // a missing parent: nothing below exists
		}
	}
	for _, e := range ents {
		if _, err := check(e.dst, e.fi.IsDir()); err != nil {
			return nil, err
		}
	}
	return have, nil
}

// mkdirs makes target and its parents under stage, returning what it made.
func mkdirs(stage, target string) ([]string, error) {
	var made []string
	rel, err := filepath.Rel(stage, target)
	if err != nil {
		return nil, err
	}
	p := stage
	for _, c := range append([]string{""}, strings.Split(rel, string(filepath.Separator))...) {
		if c == "." {
			continue
		}
		p = filepath.Join(p, c)
		if err := os.Mkdir(p, 0o755); err != nil {
			return made, err
		}
		made = append(made, p)
	}
	return made, nil
}

func removeDirs(made []string) {
	for i := len(made) - 1; i >= 0; i-- {
		os.Remove(made[i])
	}
}

// bindReadOnly mounts the context directory rel (opened through the
// context's root, so no symlink leads out) read-only at target. The
// mount is made read-only before it is attached (open_tree, then
// mount_setattr, then move_mount): at no instant can anything that
// cleans .strata/tmp, gc included, delete the user's files through it.
func bindReadOnly(src *os.Root, rel, target string) (func(), error) {
	f, err := src.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", rel, rootErr(err))
	}
	defer f.Close()
	tree, err := unix.OpenTree(int(f.Fd()), "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return nil, fmt.Errorf("bind the context: %w", err)
	}
	defer unix.Close(tree)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return nil, fmt.Errorf("bind the context read-only: %w", err)
	}
	if err := unix.MoveMount(tree, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return nil, fmt.Errorf("bind the context: %w", err)
	}
	return func() {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			fmt.Fprintf(os.Stderr, "strata: build: unmount %s: %v\n", target, err)
		}
	}, nil
}

// indexSums are the hashes of a layer's file index, path by path
// ("/usr/share/x": "blake3:…"): contents, and xattrs of the entries that
// have some.
type indexSums struct {
	content, xattrs map[string]string
	types           map[string]layer.EntryType
	links           map[string]string // a symbolic link's target
}

// addLayer stores the layer of dir and returns it with the hashes of its
// file index.
// The index is parsed as the layer writer streams it, on its own
// goroutine, not read back once the layer is written.
func (b *builder) addLayer(ctx context.Context, dir string, opts layer.WriteOptions) (objects.Layer, indexSums, error) {
	pr, pw := io.Pipe()
	sums := indexSums{content: map[string]string{}, xattrs: map[string]string{},
		types: map[string]layer.EntryType{}, links: map[string]string{}}
	parsed := make(chan error, 1)
	go func() {
		_, err := layer.DecodeIndexFunc(pr, func(e *layer.Entry) bool {
			// e's strings are the parser's buffer.
			if e.Digest != "" {
				sums.content[strings.Clone(e.Path)] = strings.Clone(e.Digest)
			}
			if e.Xattrs != "" {
				sums.xattrs[strings.Clone(e.Path)] = strings.Clone(e.Xattrs)
			}
			sums.types[strings.Clone(e.Path)] = e.Type
			if e.Type == layer.TypeSymlink {
				sums.links[strings.Clone(e.Path)] = strings.Clone(e.Link)
			}
			return false
		})
		pr.CloseWithError(err) // a parse error fails the writer's next line
		parsed <- err
	}()
	bw := bufio.NewWriterSize(pw, 64<<10)
	opts.Index = bw
	l, err := b.o.Repo.Objects.AddLayerFromDir(ctx, dir, opts)
	if err == nil {
		err = bw.Flush()
	}
	pw.CloseWithError(err)
	if perr := <-parsed; err == nil && perr != nil {
		err = fmt.Errorf("layer index: %w", perr)
	}
	return l, sums, err
}

// holds reports whether the layer holds e as collect listed it: of its
// type, and a symbolic link with its target. (A regular file's content
// is the layer's, its size collect's.)
func (sums indexSums) holds(e entry) bool {
	typ, ok := sums.types[e.dst]
	if !ok {
		return false
	}
	switch m := e.fi.Mode(); {
	case m.IsRegular():
		return typ == layer.TypeFile || typ == layer.TypeHardlink
	case m.IsDir():
		return typ == layer.TypeDir
	case m&fs.ModeSymlink != 0:
		return typ == layer.TypeSymlink && sums.links[e.dst] == e.link
	case m&fs.ModeNamedPipe != 0:
		return typ == layer.TypeFIFO
	case m&fs.ModeCharDevice != 0:
		return typ == layer.TypeChar
	case m&fs.ModeDevice != 0:
		return typ == layer.TypeBlock
	}
	return false
}

// indexDigest is digestEntries' digest of ents, with the content and
// xattr hashes the layer's file index recorded as it wrote them.
func indexDigest(sums indexSums, ents []entry, chmod fs.FileMode) (string, error) {
	h := newEntryHasher(chmod, false) // never a --from
	for _, e := range ents {
		if e.dst != "/" && !sums.holds(e) { // the layer has no entry for its root
			return "", fmt.Errorf("%s: changed while it was copied", e.src)
		}
		var content []byte
		var xattrs string
		if e.fi.Mode().IsRegular() || e.fi.IsDir() && e.dst != "/" {
			xattrs = sums.xattrs[e.dst]
		}
		if e.fi.Mode().IsRegular() {
			d, ok := sums.content[e.dst]
			if !ok {
				return "", fmt.Errorf("%s: changed while it was copied", e.src)
			}
			var err error
			if content, err = hex.DecodeString(strings.TrimPrefix(d, "blake3:")); err != nil {
				return "", fmt.Errorf("%s: index digest %q", e.dst, d)
			}
		}
		h.add(e, content, xattrs)
	}
	return h.sum(), nil
}

// unixBits is the inverse of unixMode.
func unixBits(m fs.FileMode) uint32 {
	n := uint32(m & fs.ModePerm)
	if m&fs.ModeSetuid != 0 {
		n |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		n |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		n |= unix.S_ISVTX
	}
	return n
}
