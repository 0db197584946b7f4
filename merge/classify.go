package merge

import (
	"path"
	"sort"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
)

// Kind is how a path conflicts, in the words status prints.
type Kind string

const (
	// BothModified: both sides changed the path in different ways: its
	// content, mode, owner, xattrs, symlink target or device. Detail says
	// what each side changed.
	BothModified Kind = "both modified"
	// BothAdded: both sides added the path, differently (git's add/add).
	BothAdded Kind = "both added"
	// DeletedByUs: we deleted what they modified.
	DeletedByUs Kind = "deleted by us"
	// DeletedByThem: they deleted what we modified.
	DeletedByThem Kind = "deleted by them"
	// FileDir: we have a file (symlink, device...) where they have a
	// directory; DirFile the other way round.
	FileDir Kind = "file/dir"
	DirFile Kind = "dir/file"
	// DirGoneByUs: we deleted, replaced or made opaque a directory below
	// which they changed something; DirGoneByThem the other way round.
	DirGoneByUs   Kind = "directory gone in ours"
	DirGoneByThem Kind = "directory gone in theirs"
)

// Side says where a merged path's entry comes from.
type Side int

const (
	Unchanged Side = iota // neither side changed it: ours (= base)
	Ours                  // only ours changed it
	Theirs                // only theirs changed it
	Both                  // both changed it the same way
	Conflict              // both changed it differently
	// Merged: one side changed a file's mode, the other its content; the
	// result has each side's change (modeAndContent).
	Merged
)

// Path is one path that either side changed.
type Path struct {
	Path               string
	Base, Ours, Theirs *layer.Entry // nil: absent
	Side               Side
	// Result is the merged entry (nil: absent) when the path is clean;
	// for a conflict, ours (what the work tree keeps until resolved).
	Result *layer.Entry
	Kind   Kind   // set for conflicts
	Detail string // what each side did: "ours: mode, theirs: content"
	// Text: both sides changed only the content of a regular file: a
	// candidate for a line-level merge, which may resolve the conflict.
	Text bool
}

// Input is the three trees of a merge, and the directories each side
// made opaque since the base (their indexes' ".wh..wh..opq" entries, which
// a tree no longer shows; see OpaqueSince).
type Input struct {
	Base, Ours, Theirs       tree.Tree
	OursOpaque, TheirsOpaque map[string]bool
}

// Result is the outcome of Classify.
type Result struct {
	Paths     []Path    // every path either side changed, in order
	Merged    tree.Tree // ours with the clean changes of theirs applied; conflicts keep ours
	Conflicts int
}

// Conflicted returns the conflicting paths.
func (r *Result) Conflicted() []Path {
	var out []Path
	for _, p := range r.Paths {
		if p.Side == Conflict {
			out = append(out, p)
		}
	}
	return out
}

// Classify merges theirs into ours, path by path, from the three trees.
// Changes identical on both sides do not conflict.
func Classify(in Input) *Result {
	all := map[string]bool{}
	for _, t := range []tree.Tree{in.Base, in.Ours, in.Theirs} {
		for p := range t {
			all[p] = true
		}
	}
	res := &Result{Merged: tree.Tree{}}
	for p, e := range in.Ours {
		res.Merged[p] = e
	}
	// Directories a side deleted, replaced with a non-directory, or made
	// opaque: the other side's changes below them conflict.
	goneOurs, goneTheirs := gone(in.Base, in.Ours, in.OursOpaque), gone(in.Base, in.Theirs, in.TheirsOpaque)
	var paths []string
	for p := range all {
		b, o, t := in.Base[p], in.Ours[p], in.Theirs[p]
		oc, tc := changed(b, o), changed(b, t)
		if !oc && !tc {
			continue
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, o, t := in.Base[p], in.Ours[p], in.Theirs[p]
		oc, tc := changed(b, o), changed(b, t)
		mp := Path{Path: p, Base: b, Ours: o, Theirs: t}
		switch {
		case oc && tc && same(o, t):
			mp.Side, mp.Result = Both, o
		case oc && tc:
			if m := modeAndContent(b, o, t); m != nil {
				mp.Side, mp.Result = Merged, m
				break
			}
			mp.Side, mp.Result = Conflict, o
			mp.Kind, mp.Detail, mp.Text = kindOf(b, o, t)
		case oc:
			mp.Side, mp.Result = Ours, o
			if a, what := under(p, goneTheirs); a != "" {
				mp.Side, mp.Kind = Conflict, DirGoneByThem
				mp.Detail = "theirs: " + what + " " + pathquote.Quote(a) + ", ours: " + did(b, o)
			}
		default:
			mp.Side, mp.Result = Theirs, t
			if a, what := under(p, goneOurs); a != "" {
				mp.Side, mp.Result, mp.Kind = Conflict, o, DirGoneByUs
				mp.Detail = "ours: " + what + " " + pathquote.Quote(a) + ", theirs: " + did(b, t)
			}
		}
		if mp.Side == Conflict {
			res.Conflicts++
		}
		if mp.Result == nil {
			delete(res.Merged, p)
		} else {
			res.Merged[p] = mp.Result
		}
		res.Paths = append(res.Paths, mp)
	}
	keepOursParents(res, goneTheirs)
	// A clean change of theirs below a directory ours replaced would hang
	// in the air: Classify reported it; keep the merged tree whole by
	// dropping paths whose parent is gone.
	for p := range res.Merged {
		if d := path.Dir(p); d != "/" && d != "." {
			if pe := res.Merged[d]; pe == nil || pe.Type != layer.TypeDir {
				delete(res.Merged, p)
			}
		}
	}
	return res
}

// keepOursParents makes the directories above a conflict conflict too
// where theirs removed or replaced them: the conflict keeps ours' entry
// in the work tree, which needs every directory above it, not only the
// nearest one theirs took away (/d/e/f when theirs deleted /d).
func keepOursParents(res *Result, goneTheirs map[string]string) {
	if len(goneTheirs) == 0 {
		return
	}
	at := map[string]int{}
	for i, mp := range res.Paths {
		at[mp.Path] = i
	}
	for _, mp := range res.Paths {
		if mp.Side != Conflict || mp.Result == nil {
			continue
		}
		for a := path.Dir(mp.Path); a != "/" && a != "."; a = path.Dir(a) {
			i, ok := at[a]
			if _, isGone := goneTheirs[a]; !ok || !isGone || res.Paths[i].Side != Theirs {
				continue
			}
			ap := &res.Paths[i]
			ap.Side, ap.Result, ap.Detail = Conflict, ap.Ours, "ours: changed below, theirs: "+did(ap.Base, ap.Theirs)
			ap.Kind = DeletedByThem
			if ap.Theirs != nil {
				ap.Kind = DirFile
			}
			res.Conflicts++
			res.Merged[a] = ap.Ours
		}
	}
}

// gone returns the directories of base that side deleted ("deleted"),
// replaced with something else ("replaced"), or made opaque ("made opaque").
func gone(base, side tree.Tree, opaque map[string]bool) map[string]string {
	out := map[string]string{}
	for p, e := range base {
		if e.Type != layer.TypeDir {
			continue
		}
		switch s := side[p]; {
		case s == nil:
			out[p] = "deleted"
		case s.Type != layer.TypeDir:
			out[p] = "replaced"
		}
	}
	for p := range opaque {
		if _, ok := out[p]; !ok && lostBelow(base, side, p) {
			out[p] = "made opaque"
		}
	}
	return out
}

// lostBelow reports whether side lost or changed anything base has below
// dir. A directory rebuilt with the same files (rm -rf, then the same
// files written back) is opaque in its layer, but its tree shows no
// deletion: as git, which sees only trees, the other side's new files
// below it merge cleanly.
func lostBelow(base, side tree.Tree, dir string) bool {
	prefix := dir + "/"
	for q, e := range base {
		if strings.HasPrefix(q, prefix) && !same(e, side[q]) {
			return true
		}
	}
	return false
}

// under returns the nearest ancestor of p in gone, and what happened to it.
func under(p string, gone map[string]string) (string, string) {
	if len(gone) == 0 {
		return "", ""
	}
	for a := path.Dir(p); ; a = path.Dir(a) {
		if what, ok := gone[a]; ok {
			return a, what
		}
		if a == "/" || a == "." {
			return "", ""
		}
	}
}

func changed(base, side *layer.Entry) bool { return !same(base, side) }

func same(a, b *layer.Entry) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return tree.SameEntry(a, b)
}

// kindOf names a conflict between two different changes of one path.
func kindOf(b, o, t *layer.Entry) (Kind, string, bool) {
	detail := "ours: " + did(b, o) + ", theirs: " + did(b, t)
	switch {
	case o == nil:
		return DeletedByUs, detail, false
	case t == nil:
		return DeletedByThem, detail, false
	case isDir(o) && !isDir(t):
		return DirFile, detail, false
	case !isDir(o) && isDir(t):
		return FileDir, detail, false
	}
	// A line merge fits when only the content differs: both changed the
	// content of a file (and at most one its mode, which TextResolved
	// keeps), or both added a file alike but for it.
	text := isFile(o) && isFile(t) && (b != nil && isFile(b) && contentAndMode(b, o, t) ||
		b == nil && strings.Join(attrs(o, t), "") == "content")
	if b == nil {
		return BothAdded, detail, text
	}
	return BothModified, detail, text
}

// modeAndContent merges a chmod on one side with new content on the
// other, of a regular file, as git merges the executable bit and the
// content apart: the content side's entry with the mode side's mode.
// Anything else both sides changed (nil) conflicts.
func modeAndContent(b, o, t *layer.Entry) *layer.Entry {
	for _, e := range []*layer.Entry{b, o, t} {
		if e == nil || e.Type != layer.TypeFile {
			return nil // a hardlink's mode is its target's too
		}
	}
	var m layer.Entry
	switch oa, ta := strings.Join(attrs(b, o), "+"), strings.Join(attrs(b, t), "+"); {
	case oa == "mode" && ta == "content":
		m = *t
		m.Mode = o.Mode
	case oa == "content" && ta == "mode":
		m = *o
		m.Mode = t.Mode
	default:
		return nil
	}
	return &m
}

// contentAndMode reports whether both sides changed the content and
// nothing else but the mode, which not both changed differently.
func contentAndMode(b, o, t *layer.Entry) bool {
	oa, ta := strings.Join(attrs(b, o), "+"), strings.Join(attrs(b, t), "+")
	ok := func(a string) bool { return a == "content" || a == "content+mode" }
	return ok(oa) && ok(ta) && (o.Mode == b.Mode || t.Mode == b.Mode || o.Mode == t.Mode)
}

// TextResolved is the entry of a Text conflict once its content merged
// cleanly: ours, with theirs' mode where only theirs changed it.
func (p *Path) TextResolved() *layer.Entry {
	if p.Base == nil || p.Ours.Mode != p.Base.Mode || p.Theirs.Mode == p.Base.Mode {
		return p.Ours
	}
	m := *p.Ours
	m.Mode = p.Theirs.Mode
	return &m
}

// did says in words what a side did to an entry.
func did(b, s *layer.Entry) string {
	switch {
	case b == nil && s != nil:
		return "added " + tree.TypeName(s.Type)
	case b != nil && s == nil:
		return "deleted"
	case b == nil:
		return "nothing"
	}
	return strings.Join(attrs(b, s), "+")
}

// attrs lists what differs between two entries of one path.
func attrs(a, b *layer.Entry) []string {
	if tree.KindOf(a.Type) != tree.KindOf(b.Type) {
		return []string{"type " + tree.TypeName(a.Type) + "->" + tree.TypeName(b.Type)}
	}
	var out []string
	if isFile(a) && (a.Size != b.Size || a.Digest != b.Digest) {
		out = append(out, "content")
	}
	if a.Type == layer.TypeSymlink && a.Link != b.Link {
		out = append(out, "symlink target")
	}
	if a.Mode != b.Mode {
		out = append(out, "mode")
	}
	if a.UID != b.UID || a.GID != b.GID {
		out = append(out, "owner")
	}
	if a.Xattrs != b.Xattrs {
		out = append(out, "xattrs")
	}
	if a.Major != b.Major || a.Minor != b.Minor {
		out = append(out, "device")
	}
	return out
}

func isDir(e *layer.Entry) bool  { return e.Type == layer.TypeDir }
func isFile(e *layer.Entry) bool { return tree.KindOf(e.Type) == layer.TypeFile }
