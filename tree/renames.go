package tree

import (
	"encoding/hex"
	"path"
	"slices"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/strata-sh/strata/objects/layer"
)

// RenameOptions are how FindRenames looks for renames.
type RenameOptions struct {
	// Score is the least similarity of a rename on MaxScore's scale
	// (ParseRenameScore): 0 is DefaultRenameScore, MaxScore finds exact
	// renames only.
	Score int
	// Limit is git's diff.renameLimit: when more than Limit² pairs of a
	// deleted and an added file are left after the exact renames and
	// those of a kept base name, no file is compared with every other.
	// 0 is DefaultRenameLimit; negative, no limit.
	Limit int
	// Read gives the content of the files want names, on the side of the
	// deleted files (old) or of the added ones, to each, one file at a
	// time. A file it leaves out (over MaxPatchSize) is renamed only
	// when its digest matches.
	Read ReadFunc
	// Copies finds copies too, as git's -C (--find-copies): a file
	// modified is a source as well, and a source may give several added
	// files. Of a deleted file's, the last in path order is its rename
	// and the others Copied; all of a file that stays are Copied.
	Copies bool
	// Harder asks for git's --find-copies-harder: whoever has the old
	// side's tree fills Unmodified from it (UnmodifiedFiles).
	Harder bool
	// Unmodified, with Copies, are sources too: the old side's files
	// the changes leave as they were. When they would take the
	// comparisons past Limit² and the other sources would not, they are
	// left out of the comparison (RenameLimit.Degraded), as git does.
	Unmodified Tree
}

// RenameLimit says how the limit cut FindRenames short: Needed is the
// limit that would not have (0: it did not); Degraded, that only the
// changed files were compared for copies, not the unmodified ones.
type RenameLimit struct {
	Needed   int
	Degraded bool
}

// UnmodifiedFiles is the files of t (the old side of changes) under
// paths that the changes leave as they were: the sources of git's
// --find-copies-harder.
func UnmodifiedFiles(t Tree, changes []Change, paths []string) Tree {
	changed := make(map[string]bool, len(changes))
	for _, c := range changes {
		changed[c.Path] = true
	}
	out := Tree{}
	for p, e := range t {
		if renameable(e) && !changed[p] && Under(p, paths) {
			out[p] = e
		}
	}
	return out
}

// ReadFunc reads files of one side of a diff (old: the side before) for
// FindRenames: each is called once for each path of want it can read,
// with a content it must not keep.
type ReadFunc func(old bool, want map[string]*layer.Entry, each func(p string, b []byte)) error

// MapRead reads the files of a diff from contents already read.
func MapRead(old, new map[string][]byte) ReadFunc {
	return func(o bool, want map[string]*layer.Entry, each func(string, []byte)) error {
		m := new
		if o {
			m = old
		}
		for p := range want {
			if b, ok := m[p]; ok {
				each(p, b)
			}
		}
		return nil
	}
}

// FindRenames pairs files deleted with files added as git 2.39's diff
// -M does (diffcore-rename.c), into Renamed changes at the new path with
// both entries and a Score:
//
//  1. exact renames: the same content (a symlink: the same target), by
//     the entries' digests, a work-tree file's read only when its size
//     is a deleted file's; a source with the same base name first, then
//     the first in path order;
//  2. a file whose base name is the only one of its name among both the
//     deleted and the added files, when they are at least halfway
//     between Score and identical;
//  3. then, unless more than Limit² pairs are left (the second result
//     then says the limit that would have done), every deleted regular
//     file against every added one of a size that can reach Score; for
//     each added file the best four, then the best pairs first.
//
// With Copies, as git's -C: the sources are the files modified (and
// Unmodified) too, step 2 is left out, step 1 prefers a source not yet
// used, and step 3 compares every source, pairing the deleted ones
// first, then any.
//
// Only the files of pairs that can match are read, and only their
// signatures kept: one side's in batches of bounded size, the other side
// read past each batch (score). The result is in path order; changes is
// not modified.
func FindRenames(changes []Change, o RenameOptions) ([]Change, RenameLimit, error) {
	if o.Score <= 0 {
		o.Score = DefaultRenameScore
	}
	if o.Limit == 0 {
		o.Limit = DefaultRenameLimit
	}
	if !o.Copies {
		o.Unmodified = nil
	}
	r := &renamer{o: o}
	for i, c := range changes {
		switch {
		case c.Kind == Deleted && renameable(c.Old):
			r.src = append(r.src, &renameFile{path: c.Path, e: c.Old, at: i, to: -1})
		case (c.Kind == Modified || c.Kind == TypeChg) && o.Copies && renameable(c.Old):
			// git's rename_used starts at one for a source that stays.
			r.src = append(r.src, &renameFile{path: c.Path, e: c.Old, at: i, to: -1, used: 1})
		case c.Kind == Added && renameable(c.New):
			r.dst = append(r.dst, &renameFile{path: c.Path, e: c.New, at: i, to: -1})
		}
	}
	if len(o.Unmodified) > 0 && len(r.dst) > 0 {
		for p, e := range o.Unmodified {
			r.src = append(r.src, &renameFile{path: p, e: e, at: -1, to: -1, used: 1, unmodified: true})
		}
		// Sources in path order, as git's diff queue has them.
		slices.SortFunc(r.src, func(a, b *renameFile) int { return strings.Compare(a.path, b.path) })
	}
	if len(r.src) == 0 || len(r.dst) == 0 {
		return changes, RenameLimit{}, nil
	}
	if err := r.identify(); err != nil {
		return nil, RenameLimit{}, err
	}
	r.exact()
	if o.Score < MaxScore {
		if !o.Copies {
			if err := r.sameBaseName(); err != nil {
				return nil, RenameLimit{}, err
			}
		}
		if err := r.similar(); err != nil {
			return nil, RenameLimit{}, err
		}
	}
	return r.result(changes), r.limit, nil
}

// renameable: git holds files and symlinks; a symlink is renamed only
// when its target is the same.
func renameable(e *layer.Entry) bool {
	return e != nil && (KindOf(e.Type) == layer.TypeFile || e.Type == layer.TypeSymlink)
}

// renameFile is a deleted, modified or unmodified (source) or added
// (destination) file.
type renameFile struct {
	path string
	e    *layer.Entry
	at   int    // its index in the changes; -1 for an unmodified source
	key  string // its content's identity; "" unknown
	// to: a destination's source (an index), -1 while unpaired; score:
	// the pair's.
	to, score int
	// used: a source's pairs, plus one when it stays (git's
	// rename_used); unmodified: a source the changes leave as it was.
	used       int
	unmodified bool
}

func (f *renameFile) regular() bool { return KindOf(f.e.Type) == layer.TypeFile }

type renamer struct {
	o        RenameOptions
	src, dst []*renameFile
	limit    RenameLimit
}

func (r *renamer) pair(si, di, score int) {
	r.src[si].used++
	r.dst[di].to, r.dst[di].score = si, score
}

// identify sets each file's key: its digest, a symlink's target, or the
// hash of a work-tree file read because a file of its size is on the
// other side.
func (r *renamer) identify() error {
	sizes := [2]map[int64]bool{{}, {}} // regular files' sizes: sources', destinations'
	for side, fs := range [][]*renameFile{r.src, r.dst} {
		for _, f := range fs {
			switch {
			case f.e.Type == layer.TypeSymlink:
				f.key = "symlink\x00" + f.e.Link
			case f.e.Digest != "":
				f.key = f.e.Digest
			}
			if f.regular() {
				sizes[side][f.e.Size] = true
			}
		}
	}
	for side, fs := range [][]*renameFile{r.src, r.dst} {
		want, at := map[string]*layer.Entry{}, map[string]*renameFile{}
		for _, f := range fs {
			if f.key == "" && f.regular() && sizes[1-side][f.e.Size] {
				want[f.path], at[f.path] = f.e, f
			}
		}
		if len(want) == 0 {
			continue
		}
		hash := blake3.New()
		err := r.o.Read(side == 0, want, func(p string, b []byte) {
			hash.Reset()
			hash.Write(b)
			at[p].key = "blake3:" + hex.EncodeToString(hash.Sum(nil))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// exact pairs files of the same content, as git's find_exact_renames:
// for each destination in path order, the first unused source of its
// content with the same base name, else the first unused one. With
// Copies, a source used may be taken again (copyExact).
func (r *renamer) exact() {
	if r.o.Copies {
		r.copyExact()
		return
	}
	type queue struct {
		at   []int
		next int
	}
	byContent, byName := map[string]*queue{}, map[string]*queue{} // content; content NUL base name
	push := func(m map[string]*queue, k string, i int) {
		if m[k] == nil {
			m[k] = &queue{}
		}
		m[k].at = append(m[k].at, i)
	}
	for i, f := range r.src {
		if f.key != "" {
			push(byContent, f.key, i)
			push(byName, f.key+"\x00"+path.Base(f.path), i)
		}
	}
	// Each list is taken in order, how far noted: linear however many
	// files share one content.
	take := func(q *queue) int {
		for q != nil && q.next < len(q.at) {
			i := q.at[q.next]
			q.next++
			if r.src[i].used == 0 {
				return i
			}
		}
		return -1
	}
	for di, f := range r.dst {
		if f.key == "" {
			continue
		}
		si := take(byName[f.key+"\x00"+path.Base(f.path)])
		if si < 0 {
			si = take(byContent[f.key])
		}
		if si >= 0 {
			r.pair(si, di, MaxScore)
		}
	}
}

// identicalTries is how many sources of one content git's
// find_identical_files looks at for a destination.
const identicalTries = 100

// copyExact is exact with Copies, as git's find_identical_files: of the
// first sources of a destination's content in path order, the first
// that is both unused (and not staying) and of its base name, else the
// first of one of the two, else the first.
func (r *renamer) copyExact() {
	byContent := map[string][]int{}
	for i, f := range r.src {
		if f.key != "" {
			byContent[f.key] = append(byContent[f.key], i)
		}
	}
	for di, f := range r.dst {
		best, bestScore := -1, -1
		for n, si := range byContent[f.key] {
			if n == identicalTries {
				break
			}
			s := r.src[si]
			score := btoi(s.used == 0) + btoi(path.Base(s.path) == path.Base(f.path))
			if score > bestScore {
				best, bestScore = si, score
				if score == 2 {
					break
				}
			}
		}
		if best >= 0 {
			r.pair(best, di, MaxScore)
		}
	}
}

// sameBaseName is git's find_basename_matches: a source and a
// destination left whose base name no other file left on their side has
// are a rename when their score is halfway from Score to identical.
func (r *renamer) sameBaseName() error {
	least := r.o.Score + (MaxScore-r.o.Score)/2
	unique := func(fs []*renameFile) map[string]int {
		m := map[string]int{}
		for i, f := range fs {
			if f.to >= 0 || f.used > 0 {
				continue
			}
			b := path.Base(f.path)
			if _, seen := m[b]; seen {
				m[b] = -1
			} else {
				m[b] = i
			}
		}
		return m
	}
	srcs, dsts := unique(r.src), unique(r.dst)
	var held []int
	one := map[int]int{} // each source held, its one destination
	for b, si := range srcs {
		di, ok := dsts[b]
		if !ok || si < 0 || di < 0 {
			continue
		}
		if r.partners(0, si, di, least) {
			held, one[si] = append(held, si), di
		}
	}
	slices.Sort(held)
	return r.score(0, held, nil, one, least, func(si, di, score int) {
		if score >= least {
			r.pair(si, di, score)
		}
	})
}

// result is changes with each pair found as one Renamed or Copied
// change at the destination's place, and no line for a deleted source
// paired: as git's diff_resolve_rename_copy, in path order, a pair is
// Copied while its source has more pairs or stays, and the last pair of
// a deleted source is its rename.
func (r *renamer) result(changes []Change) []Change {
	gone, renamed := map[int]bool{}, map[int]*renameFile{}
	for _, d := range r.dst {
		if d.to < 0 {
			continue
		}
		if s := r.src[d.to]; s.at >= 0 && changes[s.at].Kind == Deleted {
			gone[s.at] = true
		}
		renamed[d.at] = d
	}
	if len(renamed) == 0 {
		return changes
	}
	out := make([]Change, 0, len(changes)-len(gone))
	for i, c := range changes {
		switch d := renamed[i]; {
		case gone[i]:
		case d != nil:
			s := r.src[d.to]
			kind := Renamed
			if s.used--; s.used > 0 {
				kind = Copied
			}
			out = append(out, Change{Path: d.path, Kind: kind, Old: s.e, New: d.e, OldPath: s.path, Score: d.score})
		default:
			out = append(out, c)
		}
	}
	return out
}
