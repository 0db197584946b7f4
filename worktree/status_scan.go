package worktree

import (
	"context"
	"errors"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"golang.org/x/sys/unix"
)

type devIno struct{ dev, ino uint64 }

// windowNames is how many names of a directory are stat'ed together.
const windowNames = 128

// scanner compares a work tree's upper (and the mounted view, where the
// upper alone cannot tell) with the tree it is based on, for Status and
// for commit.
type scanner struct {
	ctx    context.Context
	tree   tree.Tree
	sorted []string // tree paths in order, built on first need
	// kids groups the tree's paths by the directory holding them ("" for
	// the root), built on first need.
	kids map[string][]string
	// base is the mount base's tree (the lowers), tree when nothing was
	// committed on this mount (stacked false).
	base       tree.Tree
	baseSorted []string
	stacked    bool
	settled    int64 // State.Settled, for the stat check
	ex         *Excludes
	res        *statusResult
	xbuf       []byte
	target     string
	mount      *layer.Dir // the mounted view, opened on first need
	// looks are ClassifyAll's buffers, one per directory level being
	// scanned: made afresh for each directory they were 38% of what a
	// commit of 100,000 files allocated.
	looks [][]layer.Looked
	// countOnly counts the changes (res.n) without keeping them, for a
	// commit whose layer is written from the upper itself: holding the
	// change of each of 100,000 new files to the end, only to count
	// them, made that commit 1.50 s instead of 1.37 (medians of 5,
	// interleaved), its collector marking them again at every cycle.
	countOnly bool
}

// dir scans the entries of directory d, whose path in the tree is rel.
// hideLower says that lower entries not seen here are gone (an opaque or
// new directory); upper says d is in the upper (whiteouts, redirects).
// What an entry means is layer.Classify's to say, as for commit.
func (s *scanner) dir(rel string, d *layer.Dir, hideLower, upper bool) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	names, err := d.Names()
	if err != nil {
		return err
	}
	// Which names the upper holds matters only where lower entries may
	// be hidden or shown through: a new directory of 100,000 files needs
	// no set of them.
	var lowerKids []string
	if hideLower {
		lowerKids = s.children(rel)
	}
	var seen map[string]bool
	if len(lowerKids) > 0 || !hideLower && s.stacked {
		seen = map[string]bool{}
	}
	var looked []layer.Looked
	if n := len(s.looks); n > 0 {
		looked, s.looks = s.looks[n-1], s.looks[:n-1]
	}
	defer func() { s.looks = append(s.looks, looked) }()
	var known func(string, *unix.Stat_t) bool
	if upper && s.settled != 0 {
		known = func(name string, st *unix.Stat_t) bool { return s.unchanged(rel+"/"+name, st) }
	}
	var sd *scannedDir // this directory's kept lstats
	if s.res.gate != nil {
		defer s.res.gate.finishDir(rel)
	}
	for i, name := range names {
		if i%windowNames == 0 {
			// Stat and classify the next names on every core.
			looked = layer.ClassifyAll(d, names[i:min(i+windowNames, len(names))], upper, known, looked)
		}
		l := &looked[i%windowNames]
		crel := rel + "/" + name
		if seen != nil {
			seen[crel] = true
		}
		st, err := l.St, l.LstatErr
		if err != nil {
			return err
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if s.ex.Match(crel, isDir) || s.res.mountpoints[crel] {
			s.decided(rel, name, &sd, nil, false)
			continue
		}
		ue, err := l.Entry, l.ClassErr
		if errors.Is(err, layer.ErrReservedName) {
			return &ReservedError{Path: crel}
		}
		if err != nil {
			return err
		}
		var kept *unix.Stat_t
		if upper && s.res.scanned != nil && ue.Plain() && uint64(uint32(ue.St.Nlink)) == ue.St.Nlink {
			kept = &ue.St
		}
		old := s.tree[crel]
		if ue.Class == layer.Whiteout {
			if old != nil {
				s.deleted(crel, true)
			}
			s.decided(rel, name, &sd, kept, false)
			continue
		}
		if ue.St.Mode&unix.S_IFMT == unix.S_IFSOCK {
			// A layer cannot hold a socket (a daemon's, left in /run):
			// as git, status and commit pass over a new one, and one in
			// place of a committed entry is that entry's deletion (the
			// layer writer whites it out).
			if old != nil {
				s.deleted(crel, true)
			}
			s.decided(rel, name, &sd, nil, false)
			continue
		}
		isDir = ue.IsDir()
		if !isDir && ue.St.Nlink > 1 && upper {
			k := devIno{ue.St.Dev, ue.St.Ino}
			if s.res.links == nil {
				s.res.links, s.res.ino = map[devIno][]string{}, map[string]devIno{}
			}
			s.res.links[k] = append(s.res.links[k], crel)
			s.res.ino[crel] = k
		}
		var nu *layer.Entry // what an added entry is matters only if kept
		if old != nil || !s.countOnly {
			if nu, err = s.entry(crel, d, &ue); err != nil {
				return err
			}
		}
		same := false
		switch {
		case old == nil:
			s.add(tree.Change{Path: crel, Kind: tree.Added, New: nu})
		case tree.KindOf(old.Type) != tree.KindOf(nu.Type):
			s.add(tree.Change{Path: crel, Kind: tree.TypeChg, Old: old, New: nu})
			if old.Type == layer.TypeDir {
				s.deleted(crel, false)
			}
		default:
			cmp := old
			if old.Type == layer.TypeHardlink && s.tree[old.Link] != nil {
				// A link committed on this mount: compare with the file it names.
				cmp = s.tree[old.Link]
			}
			changed, err := differs(cmp, nu, d, &ue, s.settled)
			if err != nil {
				return err
			}
			if changed {
				s.add(tree.Change{Path: crel, Kind: tree.Modified, Old: old, New: nu})
			} else if !isDir && ue.St.Nlink == 1 && !hideLower {
				// Unchanged, and left out of the commit: the lower shows
				// it. Not where the lower is hidden (an opaque or moved
				// directory, which the layer marks opaque): there the
				// layer must hold it. A file with more names stays in:
				// the layer must record the link.
				same = true
			}
		}
		s.decided(rel, name, &sd, kept, same)
		if !isDir {
			continue
		}
		// Whether the lowers show anything below is the mount base's to say.
		// Below a directory that hides its lowers, the upper's
		// subdirectories (made there, never marked opaque) hide theirs.
		childHide := !s.baseDir(crel) || hideLower
		var sub *layer.Dir
		switch {
		case ue.Class == layer.Opaque:
			childHide = true
		case ue.Class == layer.Redirect && s.target != "":
			// A renamed directory: its content is spread over the
			// lowers; read it through the mount.
			if sub, err = s.inMount(crel); err != nil {
				return err
			}
			err = s.dir(crel, sub, true, false)
			sub.Close()
			if err != nil {
				return err
			}
			continue
		}
		if sub, err = d.Sub(name, &ue.St); err != nil {
			return err
		}
		err = s.dir(crel, sub, childHide, upper)
		sub.Close()
		if err != nil {
			return err
		}
	}
	if hideLower {
		for _, p := range lowerKids {
			if !seen[p] && !s.ex.Match(p, s.tree[p].Type == layer.TypeDir) {
				s.deleted(p, true)
			}
		}
	} else if s.stacked {
		s.unseen(rel, seen)
	}
	return nil
}

// decided records what a commit's layer writer takes of the entry name
// of rel: its lstat (kept, if set), whether it is a copy-up equal to its
// lower (same), and, for a writer running meanwhile, that the scan has
// passed it. *sd is rel's kept lstats, made on first need.
func (s *scanner) decided(rel, name string, sd **scannedDir, kept *unix.Stat_t, same bool) {
	if testScanDecided != nil {
		testScanDecided(rel + "/" + name)
	}
	if g := s.res.gate; g != nil {
		g.mu.Lock()
		defer g.mu.Unlock()
		defer g.mark(rel, name)
	}
	if kept != nil {
		if *sd == nil {
			*sd = &scannedDir{}
			s.res.scanned[rel] = *sd
		}
		(*sd).names = append((*sd).names, name)
		(*sd).stats = append((*sd).stats, keepStat(kept))
	}
	if same && s.res.same != nil {
		s.res.same[rel+"/"+name] = true
	}
}

// testScanDecided, if set by a test, is called as the scan decides each
// entry: it holds the scan back so that a layer writer running meanwhile
// is ahead of it.
var testScanDecided func(p string)

// unseen compares, below a directory of the upper whose lowers show
// through, HEAD's entries that the upper does not hold with what the
// lowers (the mount base) show there.
func (s *scanner) unseen(rel string, seen map[string]bool) {
	for _, p := range s.children(rel) {
		old := s.tree[p]
		if seen[p] || s.ex.Match(p, old.Type == layer.TypeDir) {
			continue
		}
		nu := s.base[p]
		switch {
		case nu == nil:
			s.deleted(p, true)
		case tree.KindOf(old.Type) != tree.KindOf(nu.Type):
			s.add(tree.Change{Path: p, Kind: tree.TypeChg, Old: old, New: nu})
		case !tree.SameEntry(old, nu):
			s.add(tree.Change{Path: p, Kind: tree.Modified, Old: old, New: nu})
		}
	}
	if s.baseSorted == nil {
		s.baseSorted = s.base.Sorted()
	}
	prefix := rel + "/"
	for i := sort.SearchStrings(s.baseSorted, prefix); i < len(s.baseSorted) && strings.HasPrefix(s.baseSorted[i], prefix); i++ {
		p := s.baseSorted[i]
		if strings.Contains(p[len(prefix):], "/") || seen[p] || s.tree[p] != nil || s.ex.Match(p, s.base[p].Type == layer.TypeDir) {
			continue
		}
		s.add(tree.Change{Path: p, Kind: tree.Added, New: s.base[p]})
	}
}

// baseDir reports whether the mount base shows a directory at p: an
// entry of that type, or paths below p with none for p itself. An image
// layer need not name the directories of its files (docker's do; 'tar -cf
// l.tar bin/sh' does not), and the lowers show them all the same.
func (s *scanner) baseDir(p string) bool {
	if e := s.base[p]; e != nil {
		return e.Type == layer.TypeDir
	}
	if s.baseSorted == nil {
		s.baseSorted = s.base.Sorted()
	}
	i := sort.SearchStrings(s.baseSorted, p+"/")
	return i < len(s.baseSorted) && strings.HasPrefix(s.baseSorted[i], p+"/")
}

// inMount opens the directory rel ("/a/b") of the mounted view.
func (s *scanner) inMount(rel string) (*layer.Dir, error) {
	if s.mount == nil {
		m, err := layer.OpenDir(s.target)
		if err != nil {
			return nil, err
		}
		s.mount = m
	}
	return s.mount.OpenBeneath(strings.TrimPrefix(rel, "/"))
}

func (s *scanner) add(c tree.Change) {
	s.res.n++
	if !s.countOnly {
		s.res.changes = append(s.res.changes, c)
	}
}

// deleted records p (if self) and every lower path below it as deleted.
func (s *scanner) deleted(p string, self bool) {
	if self {
		s.add(tree.Change{Path: p, Kind: tree.Deleted, Old: s.tree[p]})
	}
	s.sort()
	prefix := p + "/"
	for i := sort.SearchStrings(s.sorted, prefix); i < len(s.sorted) && strings.HasPrefix(s.sorted[i], prefix); i++ {
		q := s.sorted[i]
		if !s.ex.Match(q, s.tree[q].Type == layer.TypeDir) {
			s.add(tree.Change{Path: q, Kind: tree.Deleted, Old: s.tree[q]})
		}
	}
}

// children returns the lower paths directly below rel, in no order. The
// first call groups the whole tree by directory: one pass over the map,
// where sorting its paths (as deleted does) cost 7% of a status after a
// commit of 100,000 files, whose new directories each ask for this.
func (s *scanner) children(rel string) []string {
	if s.kids == nil {
		s.kids = make(map[string][]string)
		for p := range s.tree {
			// A root entry ("/", from an imported tar's "./") falls
			// under "", as with the prefix search this replaced.
			if i := strings.LastIndexByte(p, '/'); i >= 0 {
				s.kids[p[:i]] = append(s.kids[p[:i]], p)
			}
		}
	}
	return s.kids[rel]
}

func (s *scanner) sort() {
	if s.sorted == nil {
		s.sorted = s.tree.Sorted()
	}
}

// entry describes a work-tree file as an index entry (without content digest).
func (s *scanner) entry(rel string, d *layer.Dir, ue *layer.UpperEntry) (*layer.Entry, error) {
	st := &ue.St
	e := &layer.Entry{Path: rel, Mode: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec).UTC()}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		e.Type, e.Size = layer.TypeFile, st.Size
	case unix.S_IFDIR:
		e.Type = layer.TypeDir
	case unix.S_IFLNK:
		e.Type = layer.TypeSymlink
		l, err := d.Readlink(ue.Name)
		if err != nil {
			return nil, err
		}
		e.Link = l
	case unix.S_IFCHR, unix.S_IFBLK:
		e.Type = layer.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			e.Type = layer.TypeBlock
		}
		e.Major, e.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
	case unix.S_IFIFO:
		e.Type = layer.TypeFIFO
	default:
		e.Type = layer.TypeFIFO // unknown types; sockets never get here (dir)
	}
	e.Xattrs = ue.XattrDigest()
	return e, nil
}

// differs compares a lower entry with the work tree's. A file of the same
// size and mtime (sameMtime) is taken as unchanged (git's stat check);
// otherwise its content is hashed, so that a copy-up or a touch changes
// nothing.
func differs(old, nu *layer.Entry, d *layer.Dir, ue *layer.UpperEntry, settled int64) (bool, error) {
	if old.Mode != nu.Mode || old.UID != nu.UID || old.GID != nu.GID || old.Xattrs != nu.Xattrs ||
		old.Link != nu.Link || old.Major != nu.Major || old.Minor != nu.Minor {
		return true, nil
	}
	if tree.KindOf(nu.Type) != layer.TypeFile {
		return false, nil
	}
	if old.Size != nu.Size {
		return true, nil
	}
	if sameMtime(old.ModTime, nu.ModTime, ue.St.Ctim.Sec, settled) {
		nu.Digest = old.Digest
		return false, nil
	}
	dg, err := fileDigest(d, ue.Name, &ue.St)
	if err != nil {
		return false, err
	}
	nu.Digest = dg
	return dg != old.Digest, nil
}

// unchanged reports whether the upper's regular file crel, of lstat st,
// is as its tree entry says, an entry without xattrs, by its stat alone:
// its ctime, which any change moves (an xattr's too), is before the
// settled scan, which found it so. ClassifyAll then reads no xattrs:
// one syscall of three per file of a stacked upper.
func (s *scanner) unchanged(crel string, st *unix.Stat_t) bool {
	if st.Nlink != 1 || st.Ctim.Sec >= s.settled {
		return false
	}
	old := s.tree[crel]
	return old != nil && old.Type == layer.TypeFile && old.Xattrs == "" && old.Size == st.Size &&
		old.Mode == st.Mode&0o7777 && old.UID == int(st.Uid) && old.GID == int(st.Gid) &&
		sameMtime(old.ModTime, time.Unix(st.Mtim.Sec, st.Mtim.Nsec), st.Ctim.Sec, s.settled)
}

// sameMtime reports whether a work tree file's mtime nu vouches that it
// is its entry's, whose mtime is old: the same time, or, as layers keep
// whole seconds, a time within old's second, when the file's ctime (which
// only the kernel sets, to the time of any write, chmod, xattr change or
// rename) is before settled (State.Settled): the file is then as the
// scan of the commit the mount last made saw it. So a commit's files are
// not all hashed again by the next status, and one written since is,
// even with its entry's very mtime: restore, tar -x and cp -p set mtimes,
// and files of one size built with one SOURCE_DATE_EPOCH share theirs.
func sameMtime(old, nu time.Time, ctime, settled int64) bool {
	if ctime >= settled {
		return false
	}
	return old.Equal(nu) || old.Nanosecond() == 0 && nu.Unix() == old.Unix()
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	return len(names) == 0 && err == io.EOF, nil
}
