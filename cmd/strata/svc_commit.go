package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

// commitFrom is 'commit --from NAME': the changes of a stopped --rev run's
// throwaway tree become a commit whose parent is the run's revision, as
// docker commit makes an image of a container. No branch moves; the run
// goes on from the new commit if restarted.
func commitFrom(ctx context.Context, g *globals, name string, co worktree.CommitOptions) (*objects.Commit, []tree.Change, error) {
	r, err := g.openRepo()
	if err != nil {
		return nil, nil, err
	}
	s, err := loadSvc(r, name)
	if err != nil {
		return nil, nil, fmt.Errorf("commit --from: %w", err)
	}
	if s.st.Tree == "" {
		return nil, nil, fmt.Errorf("commit --from %s: it runs in the checkout; use 'strata commit' there", name)
	}
	if s.live() {
		return nil, nil, fmt.Errorf("commit --from %s: it is running; stop it first", name)
	}
	w, err := worktree.ForPath(r, s.st.Tree)
	if err != nil {
		return nil, nil, fmt.Errorf("commit --from %s: %w", name, err)
	}
	c, cs, err := w.Commit(ctx, co)
	// Commit mounted the tree here; the run's tree is mounted only by
	// its supervisor.
	if uerr := w.Umount(); uerr != nil && err == nil {
		err = uerr
	}
	if errors.Is(err, worktree.ErrNothingToCommit) {
		return nil, nil, fmt.Errorf("commit --from %s: nothing to commit (use --allow-empty to commit anyway)", name)
	}
	if c != nil {
		s.st.Commit = c.ID.String()
		s.save()
	}
	return c, cs, err
}
