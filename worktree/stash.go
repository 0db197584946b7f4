package worktree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/tree/changeset"
)

// ErrNoLocalChanges: a stash found nothing to save.
var ErrNoLocalChanges = errors.New("no local changes to save")

// Stash saves the work tree's uncommitted changes as a commit on top of
// HEAD, pushes it on the stash, and drops them from the work tree as
// reset --hard does (excluded paths stay). HEAD and its branch do not
// move. message, if set, replaces git's "WIP on BRANCH: ID SUBJECT".
// paths, if any (absolute, or tree.Under's patterns), limit it to the
// changes at or below them, as git's stash push -- PATHS: those are
// saved, then put back as HEAD has them through the mount, and the
// others stay. Unless force, a whole-tree stash is refused while
// anything uses the tree, which stays read-only (freezeUnused) from
// before the changes are read until the fresh mount takes its place: a
// write in between would be in neither the stash nor the tree.
func (w *Worktree) Stash(ctx context.Context, message string, paths []string, force bool) (*objects.Commit, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if s, ok, err := w.Sequence(); err != nil {
		return nil, err
	} else if ok {
		return nil, &InProgressError{Op: s.Op}
	}
	st, err := w.ensure(ctx)
	if err != nil {
		return nil, err
	}
	h, err := w.Head()
	if err != nil {
		return nil, err
	}
	switch {
	case h.Broken != nil:
		return nil, fmt.Errorf("the current branch is broken: %w", h.Broken)
	case h.Commit == "":
		return nil, errors.New("the branch has no commits yet")
	case h.Commit != st.Commit:
		return nil, ErrHeadMoved
	case len(st.Unmerged) > 0:
		// As git's stash: the markers are no change to keep.
		return nil, &UnmergedError{Verb: "stash", Conflicts: st.Unmerged, Flag: "'strata reset --hard'"}
	}
	parent, err := w.commit(st.Commit)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 && !force { // paths are written through the mount
		thaw, err := w.freezeUnused()
		if err != nil {
			return nil, err
		}
		defer thaw()
	}
	// A staged config goes with a whole-tree stash, as git's stash
	// saves the index: it is the stash commit's config.
	var staged *ocispec.ImageConfig
	if len(paths) == 0 {
		if staged, err = w.stagedFor(st); err != nil {
			return nil, err
		}
	}
	nc := objects.NewCommit{Parent: parent, Message: stashMessage(h, parent, message), Date: time.Now(),
		OS: runtime.GOOS, Architecture: runtime.GOARCH, Config: staged}
	l, err := w.stashLayer(ctx, st, parent, paths)
	switch {
	case err == nil:
		nc.Layers = []objects.Layer{l}
	case !errors.Is(err, ErrNoLocalChanges) || staged == nil:
		return nil, err
	}
	if nc.Author, err = w.Repo.Identity(); err != nil {
		return nil, err
	}
	c, err := w.Repo.Objects.WriteCommit(nc)
	if err != nil {
		return nil, err
	}
	if err := w.Repo.Refs.Update(refs.Stash, c.ID, refs.Any, nc.Message); err != nil && !errors.Is(err, refs.ErrMoved) {
		return nil, err
	}
	// Killed here, the changes are both saved and still in the work tree:
	// nothing is lost.
	testHook("stash-saved")
	switch {
	case len(paths) > 0:
		err = w.dropStashed(ctx, c, parent)
	case len(nc.Layers) == 0: // the config alone
		st.StagedConfig, st.StagedOn = nil, ""
		err = w.writeState(st)
	default:
		st.Pending = ""
		st.StagedConfig, st.StagedOn = nil, ""
		_, err = w.switchTo(ctx, st, parent, false)
	}
	if err != nil {
		return c, fmt.Errorf("saved as stash@{0}, but the work tree still has the changes: %w", err)
	}
	return c, nil
}

// stashLayer writes the work tree's changes (those under paths, if any)
// as a layer on parent; ErrNoLocalChanges if there are none.
func (w *Worktree) stashLayer(ctx context.Context, st State, parent *objects.Commit, paths []string) (objects.Layer, error) {
	if len(paths) == 0 {
		res, written, err := w.scanWriting(ctx, st, parent, nil)
		if err != nil {
			return objects.Layer{}, err
		}
		defer written.drop()
		if res.n == 0 { // counted, not kept: the layer is written from the upper
			return objects.Layer{}, ErrNoLocalChanges
		}
		return w.changesLayer(ctx, st, parent, res, written, nil)
	}
	res, err := w.scan(ctx, st)
	if err != nil {
		return objects.Layer{}, err
	}
	res.changes = slices.DeleteFunc(res.changes, func(c tree.Change) bool { return !tree.Under(c.Path, paths) })
	if len(res.changes) == 0 {
		return objects.Layer{}, ErrNoLocalChanges
	}
	// Made from the changes, read through the mount, as a stacked
	// commit's layer is: the upper holds the others too.
	return w.writeStackedLayer(ctx, parent, res, nil)
}

// dropStashed puts the paths that stash (on parent) changed back as
// parent has them, through the mount, as stash apply writes.
func (w *Worktree) dropStashed(ctx context.Context, stash, parent *objects.Commit) error {
	saved, err := w.trees.Of(stash)
	if err != nil {
		return err
	}
	head, err := w.trees.Of(parent)
	if err != nil {
		return err
	}
	return w.writeThrough(ctx, changeset.New(saved, head, nil, parent.Layers()))
}

// stashMessage is git's: "WIP on main: ID SUBJECT", or "On main: MSG".
func stashMessage(h refs.Head, parent *objects.Commit, message string) string {
	branch := refs.ShortName(h.Branch)
	if branch == "" {
		branch = "(no branch)"
	}
	if message != "" {
		return "On " + branch + ": " + message
	}
	return fmt.Sprintf("WIP on %s: %s %s", branch, short(parent.ID), firstLine(parent.Message()))
}

// StashConflictError says a stash was applied with conflicts: they are
// marked in the work tree, and the stash entry stays.
type StashConflictError struct{ Paths []Conflict }

func (e *StashConflictError) Error() string {
	var items []string
	for _, p := range e.Paths {
		items = append(items, fmt.Sprintf("%s (%s)", pathquote.Quote(p.Path), p.Kind))
	}
	if len(items) > 5 {
		items = append(items[:5], fmt.Sprintf("and %d more", len(items)-5))
	}
	n := "conflicts"
	if len(e.Paths) == 1 {
		n = "conflict"
	}
	return fmt.Sprintf("%d %s: %s; the work tree holds the merge, conflicts marked, and the stash entry is kept", len(e.Paths), n, strings.Join(items, ", "))
}

// ApplyStash merges into the work tree what stash commit id changed
// against its parent, leaving the result uncommitted, as git's stash
// apply: a three-way merge over the parent, so a stash applies on
// another commit than the one it was made on. It is written through the
// mount, as git writes into its tree: uncommitted changes stay, and a
// path the merge would write that has some, or lies above or below one,
// is refused before anything is written. Conflicts are written marked,
// as a merge writes them, and returned as a *StashConflictError; no
// operation is left under way. verb (apply, pop) names the command in
// errors.
func (w *Worktree) ApplyStash(ctx context.Context, id digest.Digest, verb string) error {
	unlock, err := w.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	st, h, changes, err := w.beginOver(ctx, "stash "+verb)
	if err != nil {
		return err
	}
	if len(st.Unmerged) > 0 {
		// As git's: a merge into markers would mix two conflicts.
		return &UnmergedError{Verb: "stash " + verb, Conflicts: st.Unmerged, Flag: "'strata reset --hard'"}
	}
	stash, err := w.commit(id)
	if err != nil {
		return err
	}
	if len(stash.Parents()) != 1 {
		return fmt.Errorf("%s is not a stash: a stash has one parent", short(id))
	}
	base, err := w.commit(stash.Parent())
	if err != nil {
		return err
	}
	ours, err := w.commit(h.Commit)
	if err != nil {
		return err
	}
	o, err := w.threeWay(ctx, base, ours, stash, labels{ours: "Updated upstream", base: "Stash base", theirs: "Stashed changes"})
	if err != nil {
		return err
	}
	cfg, err := w.stashedConfig(st, base, stash, verb)
	if err != nil {
		return err
	}
	cs := conflictedChangeSet(o)
	if clash := overlapping(changes, cs.Paths); len(clash) > 0 {
		return fmt.Errorf("%w would be overwritten: %s; commit them, or put them aside with 'strata stash', before a stash %s", ErrDirty, changeList(clash), verb)
	}
	if err := w.writeThrough(ctx, cs); err != nil {
		return err
	}
	if cfg != nil {
		// Killed before this, the files are back and the stash entry
		// is still there (pop drops it after): nothing is lost.
		if err := w.stageOnHead(*cfg); err != nil {
			return err
		}
	}
	if len(o.conflicts) > 0 {
		return &StashConflictError{Paths: o.conflicts}
	}
	return nil
}

// overlapping returns the changes at a path of paths (sorted), or above
// or below one.
func overlapping(changes []tree.Change, paths []string) []tree.Change {
	var out []tree.Change
	for _, c := range changes {
		i := sort.SearchStrings(paths, c.Path)
		j := sort.SearchStrings(paths, c.Path+"/") // after "/a-b", "/a.b"
		below := i < len(paths) && paths[i] == c.Path || j < len(paths) && strings.HasPrefix(paths[j], c.Path+"/")
		above := false
		for d := path.Dir(c.Path); !above && d != "/" && d != "."; d = path.Dir(d) {
			j := sort.SearchStrings(paths, d)
			above = j < len(paths) && paths[j] == d
		}
		if below || above {
			out = append(out, c)
		}
	}
	return out
}

// stashedConfig is the config a stash apply stages: the one the next
// commit would start from, with the fields the stash changed against its
// base set as the stash has them; nil when it changed none. A config
// already staged that this would change refuses the apply.
func (w *Worktree) stashedConfig(st State, base, stash *objects.Commit, verb string) (*ocispec.ImageConfig, error) {
	fields := ConfigChanges(base.Config.Config, stash.Config.Config)
	if len(fields) == 0 {
		return nil, nil
	}
	index, err := w.indexConfig(st)
	if err != nil {
		return nil, err
	}
	cfg, err := withFields(index, stash.Config.Config, fields)
	if err != nil {
		return nil, err
	}
	if staged, err := w.stagedFor(st); err != nil {
		return nil, err
	} else if staged != nil && !SameConfig(*staged, cfg) {
		return nil, w.refuseStaged(st, "a stash "+verb)
	}
	if clash := clashingFields(base.Config.Config, index, stash.Config.Config, fields); len(clash) > 0 {
		return nil, &StashConfigClashError{Fields: clash}
	}
	return &cfg, nil
}

// clashingFields are those of fields (the ones the stash changed against
// its base) that the config the next commit starts from (index) changed
// too, to another value: a content conflict, which a config cannot hold
// marked.
func clashingFields(base, index, stash ocispec.ImageConfig, fields []string) []string {
	b, i, s := configFields(base), configFields(index), configFields(stash)
	var out []string
	for _, f := range fields {
		if !bytes.Equal(i[f], b[f]) && !bytes.Equal(i[f], s[f]) {
			out = append(out, f)
		}
	}
	return out
}

// StashConfigClashError refuses a stash apply whose config fields were
// changed since the stash was made, to other values: as git's apply
// --index refuses conflicts in the index, since there are no markers to
// write into a config.
type StashConfigClashError struct{ Fields []string }

func (e *StashConfigClashError) Error() string {
	return fmt.Sprintf("the config's %s changed both in the stash and since it was made; 'strata stash branch BRANCH' applies it on the commit it was made on", strings.Join(e.Fields, ", "))
}

// stageOnHead stages cfg on the commit the work tree is at.
func (w *Worktree) stageOnHead(cfg ocispec.ImageConfig) error {
	st, _, err := w.State()
	if err != nil {
		return err
	}
	c, err := w.commit(st.Commit)
	if err != nil {
		return err
	}
	st.stageConfig(cfg, c)
	return w.writeState(st)
}
