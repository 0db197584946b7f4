package worktree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
)

// GCOptions returns o with the work trees' part of gc filled in: their
// commits as roots (Roots) and the snapshot and tree caches pruned after
// the blobs (PruneCaches). The CLI's gc passes it; a gc without it would
// drop a detached work tree's commit.
func GCOptions(o repo.GCOptions) repo.GCOptions {
	o.Roots = append(o.Roots, Roots)
	o.After = append(o.After, PruneCaches)
	return o
}

// Roots are the commits work trees stand on or are switching to, or that
// an operation under way made: gc keeps them even when no ref does (a
// detached second work tree, a rebase stopped on a conflict).
// A work tree whose state does not read is not skipped, as List skips
// it: what it stands on is unknown, so gc removes nothing (as for a
// broken ref) rather than the commit under its uncommitted changes.
func Roots(r *repo.Repo) ([]digest.Digest, error) {
	wts, err := allWorktrees(r)
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, w := range wts {
		st, ok, err := w.State()
		if err != nil {
			return nil, fmt.Errorf("%s: %w: what it stands on is unknown, so nothing is removed until it reads (repair it, or delete %s once nothing is mounted from it)", w.label(), err, w.Dir)
		}
		if !ok {
			continue
		}
		ds := []digest.Digest{st.Commit, st.Base, st.Pending, st.Switching, digest.Digest(st.Head)}
		// ORIG_HEAD, for "reset --hard ORIG_HEAD" after its reflog
		// entry expired.
		if d, err := r.Refs.ReadOrigHead(w.origHeadFile()); err == nil {
			ds = append(ds, d)
		}
		// A merge or rebase under way: the commits it made so far are
		// reachable from its sequence file only.
		s, ok, err := w.Sequence()
		if err != nil {
			return nil, fmt.Errorf("%s: %w; what it made is unknown, so nothing is removed until it reads", w.label(), err)
		}
		if ok {
			ds = append(append(ds, s.Head, s.OrigHead, s.Theirs), s.Todo...)
		}
		for _, d := range ds {
			if d.Validate() == nil {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// allWorktrees returns every work tree, with a state that reads or not.
func allWorktrees(r *repo.Repo) ([]*Worktree, error) {
	wts := []*Worktree{Main(r)}
	entries, err := os.ReadDir(filepath.Join(r.Root, "worktrees"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list worktrees: %w", err)
	}
	for _, e := range entries {
		if w, err := Named(r, e.Name()); err == nil {
			wts = append(wts, w)
		}
	}
	return wts, nil
}

// Unreadable names the work trees whose state, or the sequence of whose
// operation under way, does not read (fsck): gc removes nothing while one
// is there.
func Unreadable(r *repo.Repo) (map[string]error, error) {
	return unreadable(r, true)
}

// UnreadableStates names, by directory, the work trees whose state does
// not read: List leaves them out.
func UnreadableStates(r *repo.Repo) (map[string]error, error) {
	return unreadable(r, false)
}

func unreadable(r *repo.Repo, sequences bool) (map[string]error, error) {
	wts, err := allWorktrees(r)
	if err != nil {
		return nil, err
	}
	out := map[string]error{}
	for _, w := range wts {
		if _, _, err := w.State(); err != nil {
			out[w.Dir] = err
		} else if _, _, err := w.Sequence(); sequences && err != nil {
			out[w.Dir] = err // it says what it is
		}
	}
	return out, nil
}

// PruneCaches runs after gc's blobs are gone: it drops the snapshots built from layers
// gc removed (a mounted work tree's layers are kept, reachable or not) and
// the cached trees.
func PruneCaches(r *repo.Repo, kept map[digest.Digest]bool) error {
	inUse := map[digest.Digest]bool{}
	wts, err := List(r)
	if err != nil {
		return err
	}
	for _, w := range wts {
		st, _, err := w.State()
		if err != nil {
			continue
		}
		for _, id := range []digest.Digest{st.Commit, st.MountBase()} {
			if id == "" {
				continue
			}
			if c, err := r.Objects.ReadCommit(id); err == nil {
				for _, l := range c.Manifest.Layers {
					inUse[l.Digest] = true
				}
			}
		}
	}
	s := snapshot.NewSnapshots(r.Objects)
	if err := s.Prune(func(d digest.Digest) bool { return kept[d] || inUse[d] }); err != nil {
		return err
	}
	return tree.NewTrees(r.Objects).Prune()
}
