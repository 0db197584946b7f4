package worktree

// Unmerged paths outside an operation: the files a checkout -m merged
// with conflict markers (State.Unmerged), as git's index keeps them
// unmerged until they are added. A work tree has no index: the next
// commit concludes them, once their markers are gone.

import (
	"fmt"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/tree"
)

// UnmergedError refuses a switch while a checkout -m's conflicts are
// unresolved, as git's "you need to resolve your current index first".
// It wraps ErrUnmerged.
type UnmergedError struct {
	Verb      string
	Conflicts []Conflict
	Flag      string // the command's flag that discards them; "" for --force
}

func (e *UnmergedError) Error() string {
	flag := e.Flag
	if flag == "" {
		flag = "--force"
	}
	return fmt.Sprintf("%s: %s %s: a checkout -m left conflict markers; edit them, then commit, or use %s to discard the changes",
		e.Verb, conflictPaths(e.Conflicts), "needs merge", flag)
}

func (e *UnmergedError) Unwrap() error { return ErrUnmerged }

// conflictPaths lists the conflicts' paths, quoted, comma-separated.
func conflictPaths(cs []Conflict) string {
	var ps []string
	for _, c := range cs {
		ps = append(ps, pathquote.Quote(c.Path))
	}
	return strings.Join(ps, ", ")
}

// refuseUnresolved refuses a commit while a file a checkout -m left in
// conflict still holds a conflict marker line, or one it left without
// markers (deleted by us) is as the switch left it, as git refuses to
// commit unmerged files until they are added or removed; once they are
// resolved the commit concludes them.
func (w *Worktree) refuseUnresolved(st State) error {
	if len(st.Unmerged) == 0 {
		return nil
	}
	root, err := layer.OpenDir(w.target)
	if err != nil {
		return err
	}
	defer root.Close()
	if left := markersLeft(root, st.Unmerged); len(left) > 0 {
		return fmt.Errorf("commit: %w in %s (a checkout -m's conflict): edit them, then commit", ErrConflictLeft, strings.Join(left, ", "))
	}
	left, err := untouched(root, st.Unmerged)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if len(left) > 0 {
		return fmt.Errorf("commit: %w: %s %s as the checkout -m left %s: write a file again to keep it (touch does) or delete it, then commit",
			ErrConflictUntouched, strings.Join(left, ", "), isOrAre(len(left)), itOrThem(len(left)))
	}
	return nil
}

// refuseCheckoutUnmerged fails if paths cover a path, or lie below one,
// that a checkout -m left unmerged, as git's restore refuses an unmerged
// path: HEAD's version would drop the local change the merge kept there.
func refuseCheckoutUnmerged(st State, paths []string) error {
	var hit []string
	for _, c := range st.Unmerged {
		if tree.Under(c.Path, paths) || underAny(paths, c.Path) {
			hit = append(hit, pathquote.Quote(c.Path))
		}
	}
	if len(hit) == 0 {
		return nil
	}
	return fmt.Errorf("%s %s %w (a checkout -m's conflict): resolve %s and commit, or 'strata restore --source HEAD PATH' takes the version switched to",
		strings.Join(hit, ", "), isOrAre(len(hit)), ErrUnmerged, itOrThem(len(hit)))
}

// takeUnmerged records, once a checkout -m's switch is done, the
// conflicts its merge left as the work tree's unmerged paths; those
// without markers are stamped as the new view shows them, so that
// commit tells whether they were resolved (refuseUnresolved).
func (w *Worktree) takeUnmerged(st *State) error {
	st.Unmerged, st.PendingUnmerged = st.PendingUnmerged, nil
	return w.stampUnmarked(st.Unmerged)
}

// dropUnmerged forgets the unmerged paths resolved says were written
// over (restore), and records it.
func (w *Worktree) dropUnmerged(st *State, resolved func(p string) bool) error {
	var left []Conflict
	for _, c := range st.Unmerged {
		if !resolved(c.Path) {
			left = append(left, c)
		}
	}
	if len(left) == len(st.Unmerged) {
		return nil
	}
	st.Unmerged = left
	return w.writeState(*st)
}

// headLabel names where HEAD is, for checkout -m's diff3 base label, as
// git's: the branch's short name, or the commit's short id.
func (w *Worktree) headLabel() string {
	h, err := w.Head()
	switch {
	case err != nil:
		return "HEAD"
	case h.Branch != "":
		return refs.ShortName(h.Branch)
	}
	return short(h.Commit)
}
