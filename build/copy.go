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
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/strata-sh/strata/objects"
	"github.com/zeebo/blake3"
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
	if c, cached, err := b.copyDirect(ctx, s, cs, ents, mode, text, statKey, start); !errors.Is(err, errNotDirect) {
		return c, cached, err
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

// directCopy turns copyDirect on (tests compare it with the overlay path).
var directCopy = true

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
			top, err := src.OpenRoot(m)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", p, rootErr(err))
			}
			err = walkDir(top, m, func(q string, fi fs.FileInfo, d *os.Root, name string) (bool, error) {
				if ig.excluded(q) {
					// An excluded directory is still walked for the files an
					// exception brings back; their parents are made as needed.
					return fi.IsDir() && ig.descend(), nil
				}
				e := entry{src: q, dst: path.Join(dest, strings.TrimPrefix(q, m+"/")), fi: fi}
				if m == "." {
					e.dst = path.Join(dest, q)
				}
				switch {
				case fi.Mode().IsRegular(), fi.IsDir():
				case fi.Mode()&fs.ModeSymlink != 0:
					if e.link, err = d.Readlink(name); err != nil {
						return false, err
					}
				default:
					return false, fmt.Errorf("%s: not a regular file, directory or symlink", q)
				}
				out = append(out, e)
				return fi.IsDir(), nil
			})
			top.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
	}
	return out, nil
}

// walkDir calls fn for everything under d (whose path is rel), sorted by
// name, each directory opened once: every call is one step from an open
// directory, never a walk of the whole path again. fn's true descends.
func walkDir(d *os.Root, rel string, fn func(q string, fi fs.FileInfo, d *os.Root, name string) (bool, error)) error {
	f, err := d.Open(".")
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	sort.Strings(names)
	for _, name := range names {
		q := path.Join(rel, name)
		if rel == "." {
			q = name
		}
		fi, err := d.Lstat(name)
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		descend, err := fn(q, fi, d, name)
		if err != nil || !descend {
			if err != nil {
				return err
			}
			continue
		}
		sub, err := d.OpenRoot(name)
		if err != nil {
			return fmt.Errorf("%s: %v", q, rootErr(err))
		}
		err = walkDir(sub, q, fn)
		sub.Close()
		if err != nil {
			return err
		}
	}
	return nil
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

// writeEntries copies the entries into dst, the overlay of the parent,
// and returns their digest (digestEntries'). Destination paths resolve
// inside dst: a symlink of the image that leads out is refused, never
// followed. Directories and symlinks are made in order; regular files are
// copied by a worker per core once their directory exists, unless two
// entries share a destination (then order decides, and all runs in
// order). Directory times are set last, after their files went in.
func writeEntries(src, dst *os.Root, ents []entry, chmod fs.FileMode, uid, gid int) (string, error) {
	srcDirs, dstDirs := newDirRoots(src, false), newDirRoots(dst, true)
	defer srcDirs.close()
	defer dstDirs.close()
	sums := make([][]byte, len(ents))
	workers := runtime.GOMAXPROCS(0)
	seen := make(map[string]bool, len(ents))
	for _, e := range ents {
		if e.top || seen[e.dst] {
			workers = 0
		}
		seen[e.dst] = true
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
		e := ents[i]
		sum, err := writeEntry(srcDirs, dstDirs, e, destName(e), permOf(e, chmod), uid, gid)
		if err != nil {
			fail(fmt.Errorf("%s: %v", e.dst, rootErr(err)))
		}
		sums[i] = sum
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
			if dir, base, err := dstDirs.at(destName(e)); err == nil && destName(e) != "." {
				dirTimes = append(dirTimes, dirTime{dir, base, e.fi.ModTime()})
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
	h := newEntryHasher(chmod)
	for i, e := range ents {
		h.add(e, sums[i])
	}
	return h.sum(), nil
}

func destName(e entry) string {
	name := strings.TrimPrefix(e.dst, "/")
	if name == "" {
		return "."
	}
	return name
}

func permOf(e entry, chmod fs.FileMode) fs.FileMode {
	if chmod != 0 {
		return chmod
	}
	return e.fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// dirRoots keeps a directory of a tree open per path, so that each file
// is reached in one step from its directory rather than by resolving its
// whole path again (os.Root walks every component): a COPY of thousands
// of files spent most of its time there.
type dirRoots struct {
	mu     sync.Mutex
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
	d.mu.Lock()
	defer d.mu.Unlock()
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
	d.mu.Lock()
	defer d.mu.Unlock()
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

func writeEntry(srcDirs, dstDirs *dirRoots, e entry, name string, perm fs.FileMode, uid, gid int) ([]byte, error) {
	if name == "." {
		return nil, nil // the destination is the root itself: it exists
	}
	if !e.fi.Mode().IsRegular() {
		return nil, writeOther(dstDirs, e, name, perm, uid, gid)
	}
	return writeFile(srcDirs, dstDirs, e, name, perm, uid, gid)
}

// writeOther makes a directory or a symlink (its times come later).
func writeOther(dstDirs *dirRoots, e entry, name string, perm fs.FileMode, uid, gid int) error {
	dir, base, err := dstDirs.at(name)
	if err != nil {
		return err
	}
	old, err := dir.Lstat(base)
	exists := err == nil
	if e.fi.IsDir() && exists && old.IsDir() {
		return nil // an existing directory keeps its owner, mode and times
	}
	if exists {
		dstDirs.forget(name)
		if err := dir.RemoveAll(base); err != nil {
			return err
		}
	}
	if !e.fi.IsDir() {
		if err := dir.Symlink(e.link, base); err != nil {
			return err
		}
		return dir.Lchown(base, uid, gid)
	}
	if err := dir.Mkdir(base, 0o700); err != nil {
		return err
	}
	if err := dir.Chown(base, uid, gid); err != nil {
		return err
	}
	return dir.Chmod(base, perm)
}

// writeFile copies a regular file and returns its content's blake3.
func writeFile(srcDirs, dstDirs *dirRoots, e entry, name string, perm fs.FileMode, uid, gid int) ([]byte, error) {
	dir, base, err := dstDirs.at(name)
	if err != nil {
		return nil, err
	}
	old, err := dir.Lstat(base)
	exists := err == nil
	if exists && old.IsDir() {
		if !e.top {
			return nil, errors.New("a directory is in the way")
		}
		// A named file copied onto an existing directory lands in it.
		if dir, base, err = dstDirs.at(name + "/" + path.Base(e.src)); err != nil {
			return nil, err
		}
		if old, err = dir.Lstat(base); err == nil && old.IsDir() {
			return nil, errors.New("a directory is in the way")
		}
		exists = err == nil
	}
	if exists {
		if err := dir.Remove(base); err != nil {
			return nil, err
		}
	}
	sdir, sbase, err := srcDirs.at(e.src)
	if err != nil {
		return nil, err
	}
	in, err := sdir.Open(sbase)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := dir.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	h := blake3.New()
	_, err = io.Copy(out, io.TeeReader(in, h))
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
		return nil, err
	}
	return h.Sum(nil), dir.Chtimes(base, e.fi.ModTime(), e.fi.ModTime())
}
