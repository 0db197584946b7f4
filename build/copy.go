package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/strata-sh/strata/objects"
)

type copySpec struct {
	sd                 instructions.SourcesAndDest
	from, chown, chmod string
}

// entry is one file a COPY writes.
type entry struct {
	src  string      // path in the source root
	dst  string      // path in the image, relative to its root
	fi   fs.FileInfo // the source's (Lstat inside trees, Stat for a named file)
	link string      // a symlink's target
	top  bool        // a named file, not found by walking (lands inside dst if dst is a directory)
}

// copy carries out COPY and ADD from the context (or another stage with
// --from) into a throwaway overlay of the parent and commits it.
func (b *builder) copy(ctx context.Context, s *state, cs copySpec, text string) (*objects.Commit, bool, error) {
	start := time.Now()
	srcDir, ig := b.o.Context, b.ignore
	if cs.from != "" {
		c, ok := b.stages[strings.ToLower(cs.from)]
		if !ok {
			var err error
			if c, err = b.o.Repo.Resolve(cs.from); err != nil {
				return nil, false, fmt.Errorf("COPY --from=%s: no such stage or revision", cs.from)
			}
		}
		ov, err := b.mount(ctx, c, 0)
		if err != nil {
			return nil, false, err
		}
		defer ov.close()
		srcDir, ig = ov.target, nil
	}
	mode, err := parseChmod(cs.chmod)
	if err != nil {
		return nil, false, err
	}
	src, err := os.OpenRoot(srcDir)
	if err != nil {
		return nil, false, err
	}
	defer src.Close()
	ents, err := collect(src, ig, cs.sd, s.cfg.WorkingDir, cs.from != "")
	if err != nil {
		return nil, false, err
	}
	// The key needs every copied byte hashed. A memo keyed by the files'
	// stat data (as git's index and buildkit's content cache) finds it
	// without reading them when nothing was touched; otherwise the files
	// are hashed as they are copied, in one pass.
	statKey := stepKey(s.parent, text, "stat:"+statDigest(ents, mode))
	if key := b.cache.memo(statKey); key != "" {
		if hit := b.lookup(key); hit != nil {
			return hit, true, nil
		}
	}
	ov, err := b.mount(ctx, s.parent, inMemory(ents))
	if err != nil {
		return nil, false, err
	}
	defer ov.close()
	dst, err := os.OpenRoot(ov.target)
	if err != nil {
		return nil, false, err
	}
	var sum string
	uid, gid, err := resolveOwner(dst, cs.chown)
	if err == nil {
		sum, err = writeEntries(src, dst, ents, mode, uid, gid)
	}
	dst.Close()
	if err != nil {
		return nil, false, err
	}
	key := stepKey(s.parent, text, sum)
	if !racy(ents, start) {
		if err := b.cache.putMemo(statKey, key); err != nil {
			return nil, false, err
		}
	}
	if hit := b.lookup(key); hit != nil {
		return hit, true, nil // touched, not changed
	}
	layers, err := b.layer(ctx, ov, s.parent)
	if err != nil {
		return nil, false, err
	}
	c, err := b.commit(s, layers, s.cfg, text, key)
	return c, false, err
}

// maxInMemory bounds the copies staged in memory (see mount).
const maxInMemory = 1 << 30

// inMemory is the tmpfs size for a copy of ents: their bytes plus room
// for metadata and copied-up directories; 0 (on disk) past maxInMemory.
func inMemory(ents []entry) int64 {
	var n int64
	for _, e := range ents {
		n += e.fi.Size() + 4096
	}
	n += 64 << 20
	if n > maxInMemory {
		return 0
	}
	return n
}

func parseChmod(s string) (fs.FileMode, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("--chmod=%s: want an octal mode such as 0755", s)
	}
	return unixMode(uint32(n)), nil
}

// unixMode turns permission and setuid/setgid/sticky bits into a FileMode.
func unixMode(n uint32) fs.FileMode {
	m := fs.FileMode(n & 0o777)
	if n&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if n&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if n&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// collect lists what a COPY copies, as docker does: a directory's
// contents go into the destination, a file goes to the destination or
// into it if it ends in "/" (or there are several sources). Nothing
// outside the source root is reachable: names with "..", and symlinks
// that leave it, are refused (os.Root).
func collect(src *os.Root, ig *ignorer, sd instructions.SourcesAndDest, workdir string, fromStage bool) ([]entry, error) {
	dest := absPath(workdir, sd.DestPath)
	destIsDir := strings.HasSuffix(sd.DestPath, "/") || strings.HasSuffix(sd.DestPath, "/.") || sd.DestPath == "." || len(sd.SourcePaths) > 1
	where := "the build context"
	if fromStage {
		where = "the --from tree"
	}
	var out []entry
	for _, p := range sd.SourcePaths {
		rel := filepath.Clean(strings.TrimPrefix(filepath.Clean("/"+p), "/"))
		if rel == "" {
			rel = "."
		}
		if !filepath.IsLocal(p) && !strings.HasPrefix(p, "/") && p != "." {
			return nil, fmt.Errorf("%s: outside %s", p, where)
		}
		matches := []string{rel}
		if strings.ContainsAny(rel, "*?[") {
			m, err := fs.Glob(src.FS(), rel)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			matches = matches[:0]
			for _, x := range m {
				if !ig.excluded(x) {
					matches = append(matches, x)
				}
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("%s: no file in %s matches", p, where)
			}
			if len(matches) > 1 {
				destIsDir = true
			}
		}
		for _, m := range matches {
			fi, err := src.Stat(m)
			if errors.Is(err, fs.ErrNotExist) || err == nil && ig.excluded(m) && !fi.IsDir() {
				return nil, fmt.Errorf("%s: no such file or directory in %s", p, where)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", p, where, rootErr(err))
			}
			if !fi.IsDir() {
				d := dest
				if destIsDir {
					d = path.Join(dest, path.Base(m))
				}
				out = append(out, entry{src: m, dst: d, fi: fi, top: !destIsDir})
				continue
			}
			out = append(out, entry{src: m, dst: dest, fi: fi})
			err = fs.WalkDir(src.FS(), m, func(q string, d fs.DirEntry, err error) error {
				if err != nil {
					return fmt.Errorf("%s: %v", q, rootErr(err))
				}
				if q == m {
					return nil
				}
				if ig.excluded(q) {
					if d.IsDir() && !ig.descend() {
						return fs.SkipDir
					}
					// An excluded directory is still walked for the files an
					// exception brings back; their parents are made as needed.
					return nil
				}
				fi, err := d.Info()
				if err != nil {
					return err
				}
				e := entry{src: q, dst: path.Join(dest, strings.TrimPrefix(q, m+"/")), fi: fi}
				if m == "." {
					e.dst = path.Join(dest, q)
				}
				switch {
				case fi.Mode().IsRegular(), fi.IsDir():
				case fi.Mode()&fs.ModeSymlink != 0:
					if e.link, err = src.Readlink(q); err != nil {
						return err
					}
				default:
					return fmt.Errorf("%s: not a regular file, directory or symlink", q)
				}
				out = append(out, e)
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
	}
	return out, nil
}

// rootErr says "leaves" for os.Root's refusal of an escaping path.
func rootErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		return errors.New("a symlink or \"..\" leads outside it")
	}
	return err
}

// digestEntries hashes what decides a COPY's result: every name, type,
// mode (after --chmod), symlink target and content; not mtimes, not the
// source's owner (the copy's owner is --chown, in the instruction).
// writeEntries computes the same digest as it copies.
func digestEntries(src *os.Root, ents []entry, chmod fs.FileMode) (string, error) {
	dirs := newDirRoots(src, false)
	defer dirs.close()
	h := newEntryHasher(chmod)
	for _, e := range ents {
		h.header(e)
		if e.fi.Mode().IsRegular() {
			dir, base, err := dirs.at(e.src)
			var f *os.File
			if err == nil {
				f, err = dir.Open(base)
			}
			if err != nil {
				return "", fmt.Errorf("%s: %v", e.src, rootErr(err))
			}
			_, err = io.Copy(h.content(), f)
			f.Close()
			if err != nil {
				return "", fmt.Errorf("%s: %w", e.src, err)
			}
		}
		h.end(e)
	}
	return h.sum(), nil
}

// entryHasher is the one definition of a COPY's digest.
type entryHasher struct {
	chmod fs.FileMode
	h, fh hash.Hash
}

func newEntryHasher(chmod fs.FileMode) *entryHasher {
	return &entryHasher{chmod: chmod, h: sha256.New(), fh: sha256.New()}
}

func (x *entryHasher) header(e entry) {
	mode := e.fi.Mode()
	if x.chmod != 0 && mode&fs.ModeSymlink == 0 {
		mode = mode&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | x.chmod
	}
	fmt.Fprintf(x.h, "%q %q %o %d %t %q ", e.src, e.dst, uint32(mode), e.fi.Size(), e.top, e.link)
	x.fh.Reset()
}

// content is where a regular file's bytes go.
func (x *entryHasher) content() io.Writer { return x.fh }

func (x *entryHasher) end(e entry) {
	if e.fi.Mode().IsRegular() {
		x.h.Write([]byte(hex.EncodeToString(x.fh.Sum(nil))))
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

// writeEntries copies the entries into dst, the overlay of the parent.
// Destination paths resolve inside dst: a symlink of the image that
// leads out is refused, never followed.
func writeEntries(src, dst *os.Root, ents []entry, chmod fs.FileMode, uid, gid int) (string, error) {
	srcDirs, dstDirs := newDirRoots(src, false), newDirRoots(dst, true)
	defer srcDirs.close()
	defer dstDirs.close()
	h := newEntryHasher(chmod)
	for _, e := range ents {
		h.header(e)
		name := strings.TrimPrefix(e.dst, "/")
		if name == "" {
			name = "."
		}
		mode := e.fi.Mode()
		perm := mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
		if chmod != 0 {
			perm = chmod
		}
		if err := writeEntry(srcDirs, dstDirs, e, name, perm, uid, gid, h.content()); err != nil {
			return "", fmt.Errorf("%s: %v", e.dst, rootErr(err))
		}
		h.end(e)
	}
	return h.sum(), nil
}

// dirRoots keeps a directory of a tree open per path, so that each file
// is reached in one step from its directory rather than by resolving its
// whole path again (os.Root walks every component): a COPY of thousands
// of files spent most of its time there.
type dirRoots struct {
	root   *os.Root
	create bool // make missing directories (0755), as a COPY's parents
	open   map[string]*os.Root
}

func newDirRoots(root *os.Root, create bool) *dirRoots {
	return &dirRoots{root: root, create: create, open: map[string]*os.Root{}}
}

// at returns the directory holding name, and name's last element.
func (d *dirRoots) at(name string) (*os.Root, string, error) {
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return d.root, base, nil
	}
	if r, ok := d.open[dir]; ok {
		return r, base, nil
	}
	if d.create {
		if err := d.root.MkdirAll(dir, 0o755); err != nil {
			return nil, "", err
		}
	}
	r, err := d.root.OpenRoot(dir)
	if err != nil {
		return nil, "", err
	}
	d.open[dir] = r
	return r, base, nil
}

// forget closes what is open at or under name, which is being replaced.
func (d *dirRoots) forget(name string) {
	for p, r := range d.open {
		if p == name || strings.HasPrefix(p, name+"/") {
			r.Close()
			delete(d.open, p)
		}
	}
}

func (d *dirRoots) close() {
	for _, r := range d.open {
		r.Close()
	}
}

func writeEntry(srcDirs, dstDirs *dirRoots, e entry, name string, perm fs.FileMode, uid, gid int, sum io.Writer) error {
	if name == "." {
		return nil // the destination is the root itself: it exists
	}
	dir, base, err := dstDirs.at(name)
	if err != nil {
		return err
	}
	old, err := dir.Lstat(base)
	exists := err == nil
	if exists && !(old.IsDir() && e.fi.IsDir()) && !(old.IsDir() && e.top) {
		dstDirs.forget(name)
	}
	switch {
	case e.fi.IsDir():
		if exists && old.IsDir() {
			return nil // an existing directory keeps its owner and mode
		}
		if exists {
			if err := dir.RemoveAll(base); err != nil {
				return err
			}
		}
		if err := dir.Mkdir(base, 0o700); err != nil {
			return err
		}
		if err := dir.Chown(base, uid, gid); err != nil {
			return err
		}
		if err := dir.Chmod(base, perm); err != nil {
			return err
		}
		return dir.Chtimes(base, e.fi.ModTime(), e.fi.ModTime())
	case e.fi.Mode()&fs.ModeSymlink != 0:
		if exists {
			if err := dir.RemoveAll(base); err != nil {
				return err
			}
		}
		if err := dir.Symlink(e.link, base); err != nil {
			return err
		}
		return dir.Lchown(base, uid, gid)
	}
	if exists && old.IsDir() {
		if !e.top {
			return errors.New("a directory is in the way")
		}
		// A named file copied onto an existing directory lands in it.
		if dir, base, err = dstDirs.at(name + "/" + path.Base(e.src)); err != nil {
			return err
		}
		if old, err = dir.Lstat(base); err == nil && old.IsDir() {
			return errors.New("a directory is in the way")
		}
		exists = err == nil
	}
	if exists {
		if err := dir.Remove(base); err != nil {
			return err
		}
	}
	sdir, sbase, err := srcDirs.at(e.src)
	if err != nil {
		return err
	}
	in, err := sdir.Open(sbase)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := dir.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, io.TeeReader(in, sum))
	if err == nil {
		err = out.Chown(uid, gid)
	}
	if err == nil {
		err = out.Chmod(perm) // after chown, which clears setuid bits
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return dir.Chtimes(base, e.fi.ModTime(), e.fi.ModTime())
}
