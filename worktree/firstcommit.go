package worktree

import "context"

// FollowFirstCommit moves a work tree that shows its branch unborn (the
// empty tree) onto the commit that branch has been given since, as an
// import gives an empty repository its first commit: the files made
// there by hand stay on top of the commit's, and the tree takes the
// commit's config. HEAD does not move (it is there already): the switch
// is finished as one killed after HEAD moved (ensureMounted), with no
// reflog entry of its own. A directory made by hand over the empty tree
// is opaque (overlayfs marks a new directory so where there is no lower
// one) and hides the commit's of that name, as after reset --soft HEAD.
// A work tree that shows a commit, or is not
// checked out, is left as it is; unless force, one a process uses is
// refused (ErrInUse), as a reset refuses it.
func (w *Worktree) FollowFirstCommit(ctx context.Context, force bool) error {
	unlock, err := w.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	st, ok, err := w.State()
	if err != nil || !ok || st.Commit != "" || st.Pending != "" {
		return err
	}
	h, err := w.Head()
	if err != nil || h.Commit == "" {
		return err
	}
	if !force {
		if err := w.RefuseWhileRunning(); err != nil {
			return err
		}
	}
	st.Pending, st.PendingKeep = h.Commit, true
	if err := w.writeState(st); err != nil {
		return err
	}
	_, err = w.ensure(ctx)
	return err
}
