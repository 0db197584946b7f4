package worktree

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// ErrBranchCheckedOut is wrapped when a branch is checked out in another
// work tree: two work trees moving one branch would each see the other's
// commits as "HEAD moved".
var ErrBranchCheckedOut = errors.New("is checked out in another work tree")

// CheckedOutIn returns the work tree, other than except (nil: none), whose
// HEAD is branch (full name), or nil.
func CheckedOutIn(r *repo.Repo, branch string, except *Worktree) (*Worktree, error) {
	all, err := List(r)
	if err != nil {
		return nil, err
	}
	if err := refuseUnreadableStates(r, except); err != nil {
		return nil, err
	}
	for _, o := range all {
		if except != nil && o.Dir == except.Dir {
			continue
		}
		h, err := o.Head()
		if err != nil {
			return nil, err
		}
		if h.Branch == branch {
			return o, nil
		}
	}
	return nil, nil
}

// CheckedOutError refuses a branch another work tree has; it wraps
// ErrBranchCheckedOut. The command adds which of its flags overrides it.
type CheckedOutError struct {
	Branch string // full name
	Where  string // the other work tree's target
}

func (e *CheckedOutError) Error() string {
	return fmt.Sprintf("branch %s %v (%s)", refs.ShortName(e.Branch), ErrBranchCheckedOut, e.Where)
}

func (e *CheckedOutError) Unwrap() error { return ErrBranchCheckedOut }

// refuseCheckedOutElsewhere refuses to check out branch here while another
// work tree has it.
func (w *Worktree) refuseCheckedOutElsewhere(branch string) error {
	if branch == "" {
		return nil
	}
	o, err := CheckedOutIn(w.Repo, branch, w)
	if err != nil || o == nil {
		return err
	}
	return &CheckedOutError{Branch: branch, Where: o.Target()}
}

// RenameBranch renames branch from to to (full names) by rename, and
// points the HEAD of every extra work tree that has from checked out at
// to, as git's branch -m does. Those work trees are locked throughout:
// no command there finds its HEAD naming a branch that is gone. The
// main work tree's HEAD is the repository's, the caller's to follow.
func RenameBranch(ctx context.Context, r *repo.Repo, from, to string, rename func() error) error {
	all, err := List(r)
	if err != nil {
		return err
	}
	type held struct {
		w  *Worktree
		st State
	}
	var has []held
	for _, w := range all {
		if w.Name == MainName {
			continue
		}
		if h, err := w.Head(); err != nil || h.Branch != from {
			continue // an unreadable HEAD names no branch to follow
		}
		unlock, err := w.lock(ctx)
		if err != nil {
			return err
		}
		defer unlock()
		st, ok, err := w.State()
		if err != nil {
			return err
		}
		if ok && st.Head == "ref: "+from {
			has = append(has, held{w, st})
		}
	}
	if err := rename(); err != nil {
		return err
	}
	msg := "branch: renamed " + refs.ShortName(from) + " to " + refs.ShortName(to)
	for _, t := range has {
		t.st.Head = "ref: " + to
		if err := t.w.writeState(t.st); err != nil {
			return fmt.Errorf("renamed, but the HEAD of %s still names %s: %w", pathquote.Quote(t.w.target), refs.ShortName(from), err)
		}
		if d, err := r.Refs.Read(to); err == nil {
			t.w.appendHeadLog(d, d, msg)
		}
	}
	return nil
}

// refuseUnreadableStates fails while a work tree other than except has a
// state that does not read (List leaves it out): which branch it has
// checked out cannot be told, and a branch deleted or moved under it
// would be lost to it.
func refuseUnreadableStates(r *repo.Repo, except *Worktree) error {
	bad, err := UnreadableStates(r)
	if err != nil {
		return err
	}
	for _, dir := range slices.Sorted(maps.Keys(bad)) {
		if except != nil && dir == except.Dir {
			continue
		}
		return fmt.Errorf("work tree %s: %w: which branch it has checked out is unknown (repair the file, or unmount the tree and delete %s to forget it)", filepath.Base(dir), bad[dir], dir)
	}
	return nil
}
