package worktree

import (
	"errors"
	"fmt"

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
