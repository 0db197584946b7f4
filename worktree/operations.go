package worktree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/tree/changeset"
)

// uncommitted refuses an operation over uncommitted changes, listing them.
func uncommitted(op string, changes []tree.Change) error {
	return fmt.Errorf("%w: %s; commit them, put them aside with 'strata stash', or drop them with 'strata reset --hard HEAD', before a %s", ErrDirty, changeList(changes), op)
}

func (w *Worktree) mergeBase(a, b digest.Digest) (digest.Digest, error) {
	mb, err := repo.MergeBase(w.Repo.Objects, a, b)
	if errors.Is(err, repo.ErrNoMergeBase) {
		return "", nil // unrelated histories: merge over the empty tree
	}
	return mb, err
}

// MergeOptions describe a merge.
type MergeOptions struct {
	Rev     string   // what to merge
	Also    []string // more heads, git's merge A B C (octopus.go)
	NoFF    bool     // make a merge commit even when a fast-forward would do
	FFOnly  bool     // refuse unless a fast-forward will do
	Message string   // "" : git's ("Merge branch 'feature'", mergeMessage)
	Name    string   // what Rev is, in messages ("origin/main"); "" : Rev
	// AllowUnrelated merges histories with no commit in common, over the
	// empty tree (git's --allow-unrelated-histories).
	AllowUnrelated bool
	// Force goes ahead while processes use the work tree: it is frozen
	// all the same, and they keep the old mount (reset --hard --force).
	Force bool
}

// ErrNotFastForward is returned by a --ff-only merge that needs a commit.
var ErrNotFastForward = errors.New("not possible to fast-forward")

// ErrUnrelatedHistories: the two sides of a merge share no commit, which
// is more often a mistake (the wrong branch) than a wish; git refuses too.
var ErrUnrelatedHistories = errors.New("refusing to merge unrelated histories")

// Merge merges a revision into HEAD: a fast-forward when HEAD is its
// ancestor, else a commit with two parents whose layers are HEAD's plus
// one new layer holding their changes since the merge base (histories
// with none are refused unless o.AllowUnrelated: then the empty tree).
func (w *Worktree) Merge(ctx context.Context, o MergeOptions) (*Outcome, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, h, thaw, err := w.begin(ctx, OpMerge, o.Force)
	if err != nil {
		return nil, err
	}
	defer thaw()
	heads, subsumed, err := w.mergeHeads(o, h.Commit)
	if err != nil {
		return nil, err
	}
	// As git's, even when already up to date.
	if err := w.setOrigHead(h.Commit); err != nil {
		return nil, err
	}
	if len(heads) == 0 {
		c, err := w.commit(h.Commit)
		return &Outcome{UpToDate: true, Head: c}, err
	}
	if len(heads) > 1 {
		return w.octopus(ctx, o, st, h, heads, subsumed)
	}
	theirs, fetched := heads[0].commit, heads[0].fetched
	if o.Name == "" || len(o.Also) > 0 {
		o.Name = heads[0].name
	}
	if ok, err := repo.IsAncestor(w.Repo.Objects, theirs.ID, h.Commit); err != nil {
		return nil, err
	} else if ok {
		c, err := w.commit(h.Commit)
		return &Outcome{UpToDate: true, Head: c}, err
	}
	s, err := w.newSeq(OpMerge, h, o.Name)
	if err != nil {
		return nil, err
	}
	s.Message = o.Message
	if s.Message == "" {
		s.Message = w.mergeMessage(o.Name, fetched, h)
	}
	ff, err := repo.IsAncestor(w.Repo.Objects, h.Commit, theirs.ID)
	if err != nil {
		return nil, err
	}
	if ff && !o.NoFF {
		s.Head, s.Name = theirs.ID, o.Name+": fast-forward"
		out, err := w.finish(ctx, s, st)
		if out != nil {
			out.FastFwd = true
		}
		return out, err
	}
	// Not a fast-forward: the histories may share nothing (a fast-forward's
	// base is HEAD, and needs no walk to find).
	if !o.AllowUnrelated {
		if _, err := repo.MergeBase(w.Repo.Objects, h.Commit, theirs.ID); errors.Is(err, repo.ErrNoMergeBase) {
			return nil, fmt.Errorf("%w: HEAD and %s have no commit in common (--allow-unrelated-histories merges them as if both grew from an empty tree)", ErrUnrelatedHistories, o.Name)
		} else if err != nil {
			return nil, err
		}
	}
	if o.FFOnly {
		return nil, ErrNotFastForward
	}
	s.Theirs, s.Total = theirs.ID, 1
	if err := w.saveSeq(s); err != nil {
		return nil, err
	}
	testHook("merge-start")
	return w.run(ctx, s, st)
}

// CherryPick applies, in order, the change each of revs made, on top of
// HEAD, as new commits with their messages, authors and dates; a layer
// blob is reused when nothing in between touched what its commit changed.
// A rev "A..B" stands for the commits B has and A lacks, oldest first
// (git's cherry-pick A..B). A merge commit's change is taken relative to
// its parent number mainline (1 or 2; git's -m), which a merge needs and
// any other commit refuses; a merge inside a range is refused: pick it
// alone, with -m.
func (w *Worktree) CherryPick(ctx context.Context, o ReplayOptions) (*Outcome, error) {
	return w.replay(ctx, OpCherryPick, o)
}

// ReplayOptions describe a cherry-pick or a revert.
type ReplayOptions struct {
	Revs     []string
	Mainline int  // the parent a merge's change is taken against (git's -m)
	Force    bool // as MergeOptions.Force
}

// Revert makes, in order, a new commit that undoes what each of revs
// changed (a merge: relative to its parent number mainline, as
// CherryPick). A range "A..B" is undone newest first, as git's revert.
func (w *Worktree) Revert(ctx context.Context, o ReplayOptions) (*Outcome, error) {
	return w.replay(ctx, OpRevert, o)
}

// Errors of -m, worded as git's.
var (
	ErrMergeNoMainline = errors.New("is a merge but no -m option was given")
	ErrNotMerge        = errors.New("mainline was specified but the commit is not a merge")
)

// ErrEmptyRange: the revisions named no commit to apply.
var ErrEmptyRange = errors.New("empty commit set passed")

// checkMainline checks -m against the commit's parents.
func checkMainline(c *objects.Commit, mainline int) error {
	merge := c.MergeParent() != ""
	switch {
	case merge && mainline == 0:
		return fmt.Errorf("commit %s %w", short(c.ID), ErrMergeNoMainline)
	case !merge && mainline != 0:
		return fmt.Errorf("%w: %s has one parent", ErrNotMerge, short(c.ID))
	case mainline < 0 || mainline > 2:
		return fmt.Errorf("commit %s does not have parent %d (a merge has 1 and 2)", short(c.ID), mainline)
	}
	return nil
}

// mainlineParent is the parent a replayed commit's change is taken against.
func mainlineParent(c *objects.Commit, mainline int) digest.Digest {
	if mainline == 2 {
		return c.MergeParent()
	}
	return c.Parent()
}

func (w *Worktree) replay(ctx context.Context, op string, o ReplayOptions) (*Outcome, error) {
	revs, mainline := o.Revs, o.Mainline
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, h, thaw, err := w.begin(ctx, op, o.Force)
	if err != nil {
		return nil, err
	}
	defer thaw()
	var todo []digest.Digest
	for _, rev := range revs {
		ids, err := w.replayList(op, rev, mainline)
		if err != nil {
			return nil, err
		}
		todo = append(todo, ids...)
	}
	if len(todo) == 0 {
		return nil, fmt.Errorf("%s: %w", strings.Join(revs, " "), ErrEmptyRange)
	}
	s, err := w.newSeq(op, h, strings.Join(revs, " "))
	if err != nil {
		return nil, err
	}
	s.Todo, s.Total, s.Mainline = todo, len(todo), mainline
	if err := w.saveSeq(s); err != nil {
		return nil, err
	}
	return w.run(ctx, s, st)
}

// replayList lists the commits one rev names for op, in the order op
// applies them, each checked against mainline.
func (w *Worktree) replayList(op, rev string, mainline int) ([]digest.Digest, error) {
	a, b, symmetric, isRange := refs.SplitRange(rev)
	if !isRange {
		c, err := w.Resolve(rev)
		if err != nil {
			return nil, err
		}
		if err := checkMainline(c, mainline); err != nil {
			return nil, err
		}
		if op == OpRevert && c.Parent() == "" {
			return nil, fmt.Errorf("%s is a root commit: nothing to revert it to", short(c.ID))
		}
		return []digest.Digest{c.ID}, nil
	}
	if symmetric {
		return nil, fmt.Errorf("%s: %s takes A..B, not A...B", rev, op)
	}
	if mainline != 0 {
		return nil, fmt.Errorf("%s: -m goes with one merge commit, not a range", rev)
	}
	from, err := w.Resolve(a)
	if err != nil {
		return nil, err
	}
	to, err := w.Resolve(b)
	if err != nil {
		return nil, err
	}
	ids, merges, err := w.rebaseTodo(to.ID, from.ID)
	if err != nil {
		return nil, err
	}
	if merges > 0 {
		return nil, fmt.Errorf("%s holds %d merge commit(s): %s them one at a time, with -m", rev, merges, op)
	}
	if op == OpRevert {
		slices.Reverse(ids)
		for _, id := range ids {
			if p, err := w.Repo.Objects.Parent(id); err != nil {
				return nil, err
			} else if p == "" {
				return nil, fmt.Errorf("%s is a root commit: nothing to revert it to", short(id))
			}
		}
	}
	return ids, nil
}

// RebaseOptions describe a rebase: the commits of Branch (HEAD if "")
// that Upstream lacks are replayed onto Onto (Upstream if "").
type RebaseOptions struct {
	Upstream, Onto, Branch string
	Name                   string // what the new base is, in messages; "" : Onto or Upstream
	Force                  bool   // as MergeOptions.Force
}

// Rebase replays HEAD's commits that upstream lacks onto a new base, one
// by one. A replayed commit whose change does not conflict keeps its
// layer blobs: only a new config and manifest are written. HEAD's branch
// moves once, at the end.
func (w *Worktree) Rebase(ctx context.Context, o RebaseOptions) (*Outcome, error) {
	if o.Branch != "" {
		h, err := w.Head()
		if err != nil {
			return nil, err
		}
		if h.Branch != "refs/heads/"+o.Branch {
			if _, err := w.Checkout(ctx, CheckoutOptions{Rev: o.Branch}); err != nil {
				return nil, err
			}
		}
	}
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, h, thaw, err := w.begin(ctx, OpRebase, o.Force)
	if err != nil {
		return nil, err
	}
	defer thaw()
	up, err := w.Resolve(o.Upstream)
	if err != nil {
		return nil, err
	}
	onto := up
	name := o.Upstream
	if o.Onto != "" {
		if onto, err = w.Resolve(o.Onto); err != nil {
			return nil, err
		}
		name = o.Onto
	}
	if o.Name != "" {
		name = o.Name
	}
	if err := w.setOrigHead(h.Commit); err != nil {
		return nil, err
	}
	mb, err := w.mergeBase(h.Commit, up.ID)
	if err != nil {
		return nil, err
	}
	todo, merges, err := w.rebaseTodo(h.Commit, up.ID)
	if err != nil {
		return nil, err
	}
	s, err := w.newSeq(OpRebase, h, name)
	if err != nil {
		return nil, err
	}
	// Up to date when onto is already under HEAD, unless merges are to go
	// (git's can_fast_forward wants a linear history too).
	if merges == 0 && (len(todo) == 0 || mb == onto.ID) {
		if ok, err := repo.IsAncestor(w.Repo.Objects, onto.ID, h.Commit); err != nil || ok {
			c, _ := w.commit(h.Commit)
			return &Outcome{UpToDate: true, Head: c}, err
		}
	}
	s.Head, s.Todo, s.Total, s.Merges = onto.ID, todo, len(todo), merges
	if err := w.saveSeq(s); err != nil {
		return nil, err
	}
	testHook("rebase-start")
	return w.run(ctx, s, st)
}

// rebaseTodo lists the commits of head that upstream lacks, following
// both parents, parents before children (a merge's first parent line
// before its second), oldest first. Merge commits are left out and
// counted: a rebase linearises the history, as git's does by default.
func (w *Worktree) rebaseTodo(head, upstream digest.Digest) ([]digest.Digest, int, error) {
	have := map[digest.Digest]bool{}
	if err := repo.WalkAncestors(w.Repo.Objects, upstream, func(d digest.Digest) bool {
		have[d] = true
		return true
	}); err != nil {
		return nil, 0, err
	}
	type frame struct {
		id    digest.Digest
		ps    []digest.Digest // parents not yet visited
		merge bool
	}
	var (
		todo   []digest.Digest
		merges int
		stack  []*frame
	)
	seen := map[digest.Digest]bool{}
	push := func(id digest.Digest) error {
		if id == "" || have[id] || seen[id] {
			return nil
		}
		seen[id] = true
		ps, err := w.Repo.Objects.Parents(id)
		if err != nil {
			return err
		}
		stack = append(stack, &frame{id: id, ps: ps, merge: len(ps) > 1})
		return nil
	}
	if err := push(head); err != nil {
		return nil, 0, err
	}
	// Depth first, a commit is listed once all its parents are.
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		if len(f.ps) > 0 {
			p := f.ps[0]
			f.ps = f.ps[1:]
			if err := push(p); err != nil {
				return nil, 0, err
			}
			continue
		}
		stack = stack[:len(stack)-1]
		if f.merge {
			merges++
		} else {
			todo = append(todo, f.id)
		}
	}
	return todo, merges, nil
}

// belowNonDir reports whether a directory above p is something else in t
// (ours made it a symlink or a file): theirs' version of p cannot be put
// there, and written, it went where the symlink leads. The conflict stays
// for the user to resolve.
func belowNonDir(t tree.Tree, p string) bool {
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		if e := t[d]; e != nil && e.Type != layer.TypeDir {
			return true
		}
	}
	return false
}

// applyConflicted remounts the work tree on the outcome's ours with a
// fresh upper and writes the merge result into it through the mount: the
// clean changes, conflict markers, and theirs' version of what we
// deleted and they changed (as git leaves it).
func (w *Worktree) applyConflicted(ctx context.Context, st State, o *outcome) error {
	st.Pending = ""
	if _, err := w.switchTo(ctx, st, o.ours, false); err != nil {
		return err
	}
	return w.writeThrough(ctx, conflictedChangeSet(o))
}

// writeThrough writes the changes of cs into the work tree, through its
// mount.
func (w *Worktree) writeThrough(ctx context.Context, cs *changeset.Set) error {
	if len(cs.Paths) == 0 {
		return nil
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(cs.WriteTar(ctx, w.Repo.Objects, pw)) }()
	err := layer.Unpack(ctx, pr, w.target, layer.Apply)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return fmt.Errorf("write the merge into %s: %w", w.target, err)
	}
	return nil
}

// conflictedChangeSet is what a stopped step writes over ours: the clean
// changes, conflict markers, and theirs' side of a path ours deleted.
func conflictedChangeSet(o *outcome) *changeset.Set {
	return changeset.New(o.tours, conflictedResult(o), o.content, o.ours.Layers(), o.theirs.Layers())
}

// conflictedResult is the tree a stopped step writes over ours.
func conflictedResult(o *outcome) tree.Tree {
	result := make(tree.Tree, len(o.res.Merged))
	for p, e := range o.res.Merged {
		result[p] = e
	}
	for _, c := range o.conflicts {
		if c.Kind == "deleted by us" {
			for _, p := range o.res.Paths {
				if p.Path == c.Path && p.Theirs != nil && (p.Theirs.Type != layer.TypeDir) && !belowNonDir(result, p.Path) {
					result[p.Path] = p.Theirs
				}
			}
		}
	}
	return result
}
