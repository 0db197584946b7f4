package worktree

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

// statusResult is what a scan of the upper found.
type statusResult struct {
	changes []tree.Change
	// n is how many changes the scan found: len(changes), unless the scan
	// only counted them (scanner.countOnly).
	n    int
	same map[string]bool // copied-up non-directories equal to their lower: left out of a commit
	// links groups the upper's names of files with several links, so that
	// a stacked commit writes all of them and the layer keeps the link.
	links map[devIno][]string
	ino   map[string]devIno
	ex    *Excludes
	// mountpoints are the runtimeDirs a run made ("/proc"): no change.
	mountpoints map[string]bool
	// scanned holds, when the scan was asked to keep them, the lstat of
	// the upper's plain entries (no xattrs, no overlay marker) by
	// directory ("" for the root, "/a"): the layer writer takes them
	// instead of reading each entry's metadata again. Compact: a commit's
	// heap holds one per file, in a slice per directory rather than a map
	// entry per file (issue 15: 100,000 files).
	scanned map[string]*scannedDir
	// gate, if set, is a layer writer reading scanned and same while the
	// scan still runs: both are then written and read under gate.mu.
	gate *scanGate
}

// scannedDir is the kept lstats of one upper directory, in name order.
type scannedDir struct {
	names []string
	stats []scannedStat
}

// linked returns p's other names in the upper (hard links), if any.
func (r *statusResult) linked(p string) []string {
	k, ok := r.ino[p]
	if !ok {
		return nil
	}
	var out []string
	for _, q := range r.links[k] {
		if q != p {
			out = append(out, q)
		}
	}
	return out
}

// scannedEntry returns the kept lstat of the upper entry at p ("/a/b").
func (r *statusResult) scannedEntry(p string) (layer.UpperEntry, bool) {
	if r.gate != nil {
		r.gate.wait(p)
		defer r.gate.mu.Unlock()
	}
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return layer.UpperEntry{}, false
	}
	sd := r.scanned[p[:i]]
	if sd == nil {
		return layer.UpperEntry{}, false
	}
	name := p[i+1:]
	j, ok := slices.BinarySearch(sd.names, name)
	if !ok {
		return layer.UpperEntry{}, false
	}
	return sd.stats[j].upperEntry(name), true
}

// scannedStat is what the layer writer reads of an entry's lstat.
type scannedStat struct {
	mode, uid, gid, nlink uint32
	size, sec, nsec       int64
	dev, ino, rdev        uint64
}

func keepStat(st *unix.Stat_t) scannedStat {
	return scannedStat{mode: st.Mode, uid: st.Uid, gid: st.Gid, nlink: uint32(st.Nlink), size: st.Size,
		sec: st.Mtim.Sec, nsec: st.Mtim.Nsec, dev: st.Dev, ino: st.Ino, rdev: st.Rdev}
}

// upperEntry gives back the entry name whose lstat k kept.
func (k scannedStat) upperEntry(name string) layer.UpperEntry {
	e := layer.UpperEntry{Name: name}
	e.St.Mode, e.St.Uid, e.St.Gid, e.St.Nlink, e.St.Size = k.mode, k.uid, k.gid, uint64(k.nlink), k.size
	e.St.Mtim.Sec, e.St.Mtim.Nsec, e.St.Dev, e.St.Ino, e.St.Rdev = k.sec, k.nsec, k.dev, k.ino, k.rdev
	return e
}

// Status returns the work tree's changes against the commit it is based
// on, in path order, mounting it first if needed. Excluded paths are left
// out, and so are copy-ups that changed nothing but the mtime.
func (w *Worktree) Status(ctx context.Context) ([]tree.Change, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := w.ensure(ctx)
	if err != nil {
		return nil, err
	}
	return w.scanChanges(ctx, st)
}

// refuseChanges returns a DirtyError listing the work tree's uncommitted
// changes, if it has any.
func (w *Worktree) refuseChanges(ctx context.Context, st State) error {
	changes, err := w.scanChanges(ctx, st)
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		de := &DirtyError{Changes: changes}
		if s, ok, err := w.Sequence(); err == nil && ok {
			de.Op = s.Op
		}
		return de
	}
	return w.refuseStaged(st, "")
}

// scanChanges is scan for a caller that wants the changes alone: it does
// not record the unchanged files (statusResult.same) that a commit leaves
// out, a map entry for every file of a large upper committed on the mount.
func (w *Worktree) scanChanges(ctx context.Context, st State) ([]tree.Change, error) {
	s, res, err := w.newScanner(ctx, st, false, false)
	if err == nil && s != nil {
		res, err = s.runLogged(w.upper())
	}
	if err != nil {
		return nil, err
	}
	return res.changes, nil
}

// scan compares the upper directory with the file map of the base commit.
// It reads only the upper, and the merged view under directories that
// were renamed (overlay redirects).
func (w *Worktree) scan(ctx context.Context, st State) (*statusResult, error) {
	return w.scanKeep(ctx, st, false)
}

// scanKeep is scan; keep says to keep the upper's entries
// (statusResult.scanned) for a commit that writes the upper next.
func (w *Worktree) scanKeep(ctx context.Context, st State, keep bool) (*statusResult, error) {
	s, res, err := w.newScanner(ctx, st, keep, true)
	if err != nil || s == nil {
		return res, err
	}
	return s.runLogged(w.upper())
}

// runLogged is run, with its time and the files it hashed in the debug log.
func (s *scanner) runLogged(upper string) (*statusResult, error) {
	t0, hashed := time.Now(), filesHashed.Load()
	res, err := s.run(upper)
	if err == nil {
		slog.Debug("scanned the upper", "changes", len(res.changes), "hashed", filesHashed.Load()-hashed, "took", time.Since(t0))
	}
	return res, err
}

// runtimeDirs are the mount points a run makes at the root of a tree
// that has none (exec's mkdirInRoot, as runc does).
var runtimeDirs = []string{"dev", "proc", "sys"}

// runtimeMountpoints returns the runtimeDirs that the upper holds as a
// run left them: new (neither tree has them), empty, mode 0755. Status
// and commit pass over them, as docker keeps them in a container's init
// layer: a run that changed nothing changes nothing. Decided before the
// scan, for a layer writer that may reach them first.
func runtimeMountpoints(up *layer.Dir, t, base tree.Tree) map[string]bool {
	var out map[string]bool
	for _, name := range runtimeDirs {
		p := "/" + name
		if t[p] != nil || base[p] != nil {
			continue
		}
		st, err := up.Lstat(name)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Mode&0o7777 != 0o755 {
			continue
		}
		d, err := up.Sub(name, &st)
		if err != nil {
			continue
		}
		names, err := d.Names()
		d.Close()
		if err == nil && len(names) == 0 {
			if out == nil {
				out = map[string]bool{}
			}
			out[p] = true
		}
	}
	return out
}

// newScanner prepares scanKeep's scan. An empty upper of an unstacked
// mount needs none: s is nil and res says that nothing changed. same says
// to record the unchanged files (statusResult.same) for a layer writer.
func (w *Worktree) newScanner(ctx context.Context, st State, keep, same bool) (s *scanner, res *statusResult, err error) {
	if empty, err := isEmptyDir(w.upper()); err != nil || empty && !st.Stacked {
		// Nothing changed: no need to read the base commit's tree.
		return nil, &statusResult{same: map[string]bool{}, ex: &Excludes{}}, err
	}
	c, err := w.commit(st.Commit)
	if err != nil {
		return nil, nil, err
	}
	tree, base, err := w.scanTrees(st, c)
	if err != nil {
		return nil, nil, err
	}
	ex, err := LoadExcludes(w.Repo.Root, w.target)
	if err != nil {
		return nil, nil, err
	}
	ex = ex.Untracked(tree)
	s = &scanner{ctx: ctx, tree: tree, base: base, stacked: st.Stacked && st.Base != st.Commit, settled: st.settled(), ex: ex, res: &statusResult{ex: ex}, xbuf: make([]byte, 4096), target: w.target}
	if same {
		s.res.same = map[string]bool{}
	}
	if keep {
		s.res.scanned = map[string]*scannedDir{}
	}
	return s, s.res, nil
}

// run scans the upper directory upper.
func (s *scanner) run(upper string) (*statusResult, error) {
	defer s.mount.Close()
	up, err := layer.OpenDir(upper)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	defer up.Close()
	s.res.mountpoints = runtimeMountpoints(up, s.tree, s.base)
	if err := s.dir("", up, false, true); err != nil {
		var re *ReservedError
		if errors.As(err, &re) {
			return nil, err
		}
		return nil, fmt.Errorf("status: %w", err)
	}
	sort.Slice(s.res.changes, func(i, j int) bool { return s.res.changes[i].Path < s.res.changes[j].Path })
	return s.res, nil
}

// ReservedError is a path of the work tree whose name (".wh." prefix) the
// OCI layer format reserves: it cannot be committed, and status and diff
// say so rather than show what a commit would not store.
type ReservedError struct{ Path string }

func (e *ReservedError) Error() string {
	return fmt.Sprintf("%s: %v", e.Path, layer.ErrReservedName)
}

func (e *ReservedError) Unwrap() error { return layer.ErrReservedName }
