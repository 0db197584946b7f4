package worktree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/tree"
)

// CheckoutOptions describe a checkout.
type CheckoutOptions struct {
	Rev       string // branch, tag, or any revision; "" for HEAD
	NewBranch string // create this branch at Rev (or HEAD) and switch to it
	// ResetBranch lets NewBranch exist already: it is moved to Rev
	// (checkout -B, switch --force-create).
	ResetBranch bool
	// BranchFlag is the flag that named NewBranch, for messages: "-b"
	// if empty (switch's are -c and --force-create).
	BranchFlag string
	Detach     bool // detach HEAD even when Rev is a branch
	Force      bool // discard uncommitted changes; mount over a non-empty target
	// IgnoreOtherWorktrees checks out a branch another work tree has,
	// keeping this one's changes (git's --ignore-other-worktrees); Force
	// does it too.
	IgnoreOtherWorktrees bool
	// Merge merges a change at a path the switch changes with the new
	// commit's file, as git's checkout -m, where the switch would
	// otherwise refuse (mergeCarried).
	Merge bool
	// RefuseStopped refuses while a merge, rebase, cherry-pick or revert
	// is stopped here (git switch, even with --force); without it a
	// checkout that moves HEAD ends a stopped merge, cherry-pick or
	// revert, as git checkout does (endStoppedOp).
	RefuseStopped bool
}

// mergeLabel names the new commit in checkout -m's conflict markers, as
// git's: as the user named it.
func (o CheckoutOptions) mergeLabel() string {
	if o.Rev == "" {
		return "HEAD"
	}
	return o.Rev
}

func (o CheckoutOptions) branchFlag() string {
	if o.BranchFlag == "" {
		return "-b"
	}
	return o.BranchFlag
}

// DirtyError lists the changes a switch would discard. It wraps ErrDirty.
type DirtyError struct {
	Changes []tree.Change
	Flag    string // the command's flag that discards them; "" for --force
	Op      string // a merge, rebase, cherry-pick or revert stopped in the tree, if any
	// Overwritten says the switch would carry the other changes and
	// refuses for these alone, which the new commit changes (planCarry).
	Overwritten bool
	// Merge: the switch was to merge them (checkout -m) and cannot;
	// Why says why, by path (carryMerge.unmergeable).
	Merge bool
	Why   map[string]string
}

func (e *DirtyError) Error() string {
	flag := e.Flag
	if flag == "" {
		flag = "--force"
	}
	if e.Op != "" {
		// stash refuses while an operation is under way: name the ways out.
		return fmt.Sprintf("%v would be lost: %s; a %s is stopped here: finish it with 'strata %s --continue' or end it with 'strata %s --abort', or use %s to discard them", ErrDirty, changeList(e.Changes), e.Op, e.Op, e.Op, flag)
	}
	what := "lost"
	if e.Overwritten {
		what = "overwritten"
	}
	if e.Merge {
		what += ", and -m cannot merge them"
	}
	return fmt.Sprintf("%v would be %s: %s; commit them, stash them, or use %s to discard them", ErrDirty, what, changeListWhy(e.Changes, e.Why), flag)
}

// changeList is changes as one line: "M /etc/motd, A /x", the first ten.
func changeList(changes []tree.Change) string { return changeListWhy(changes, nil) }

// changeListWhy is changeList, each change followed by why in
// parentheses where it says.
func changeListWhy(changes []tree.Change, why map[string]string) string {
	var b strings.Builder
	for i, c := range changes {
		if i == 10 {
			fmt.Fprintf(&b, ", and %d more", len(changes)-10)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%c %s", c.Kind, pathquote.Quote(c.Path))
		if w := why[c.Path]; w != "" {
			fmt.Fprintf(&b, " (%s)", w)
		}
	}
	return b.String()
}

func (e *DirtyError) Unwrap() error { return ErrDirty }

// Checkout mounts a revision on the work tree, creating it on first use.
// HEAD follows: a branch name attaches it, any other revision detaches it.
// A switch to another commit keeps the uncommitted changes when the two
// commits agree wherever the upper has something (planCarry), as git's
// does, and otherwise fails with a DirtyError unless Force, which
// discards them; a switch that keeps the commit (checkout -b) keeps the
// changes.
func (w *Worktree) Checkout(ctx context.Context, o CheckoutOptions) (_ *objects.Commit, err error) {
	_, dirErr := os.Lstat(w.Dir)
	_, targetErr := os.Lstat(w.target)
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	st, existed, err := w.State()
	if err != nil {
		unlock()
		return nil, err
	}
	if existed && w.Name != MainName && w.target != "" && st.Target != w.target {
		// ForPath named a new tree after its directory, and another
		// command made a tree of that name elsewhere before this lock.
		unlock()
		return nil, fmt.Errorf("another command made work tree %s at %s meanwhile; run this one again", pathquote.Quote(w.Name), pathquote.Quote(st.Target))
	}
	// The branch -b made (or -B moved from wasAt), taken back if a first
	// checkout of an extra work tree then fails (its state and HEAD go
	// too).
	var created string
	var createdAt, wasAt digest.Digest
	defer func() {
		if err != nil && created != "" && !existed && w.Name != MainName {
			if wasAt != "" {
				_ = w.Repo.Refs.Update(created, wasAt, createdAt, "checkout: failed, branch put back")
			} else {
				_ = w.Repo.Refs.Delete(created, createdAt, "checkout: failed, branch taken back")
			}
		}
		unlock()
		if err != nil && !existed && w.Name != MainName && errors.Is(dirErr, fs.ErrNotExist) {
			// A failed first checkout of an extra work tree leaves nothing.
			if mounted, _ := w.isMounted(); !mounted {
				os.Remove(filepath.Join(w.target, MarkerName))
				os.RemoveAll(w.Dir)
				if errors.Is(targetErr, fs.ErrNotExist) {
					os.Remove(w.target)
				}
			}
		}
	}()
	if existed {
		if st, err = w.ensure(ctx); err != nil {
			return nil, err
		}
		if o.RefuseStopped {
			if s, ok, err := w.Sequence(); err != nil {
				return nil, err
			} else if ok {
				return nil, fmt.Errorf("cannot switch branch while a %s is stopped: finish it with 'strata %s --continue', or 'strata %s --abort' or --quit first", s.Op, s.Op, s.Op)
			}
		}
	} else {
		st = State{Target: w.target}
	}
	c, branch, err := w.target2(o)
	if err != nil {
		return nil, err
	}
	if !o.Force && !o.IgnoreOtherWorktrees {
		if err := w.refuseCheckedOutElsewhere(branch); err != nil {
			return nil, err
		}
	}
	var id digest.Digest
	if c != nil {
		id = c.ID
	}
	msg := checkoutMessage(w, o)
	createBranch := func() error {
		if o.NewBranch == "" {
			return nil
		}
		start := o.Rev
		if start == "" {
			start = "HEAD"
		}
		old, msg := digest.Digest(""), "branch: Created from "+start
		if o.ResetBranch {
			if cur, err := w.Repo.Refs.Read(branch); err == nil {
				old, msg = cur, "branch: Reset to "+start
			}
		}
		if err := w.Repo.Refs.Update(branch, id, old, msg); err != nil {
			return fmt.Errorf("checkout: %s %s: %w", o.branchFlag(), o.NewBranch, err)
		}
		created, createdAt, wasAt = branch, id, old
		return nil
	}
	if !existed {
		if err := w.checkTargetEmpty(o.Force); err != nil {
			return nil, err
		}
		if err := w.prepare(ctx, c); err != nil {
			return nil, err
		}
		if err := createBranch(); err != nil {
			return nil, err
		}
		if err := w.setHead(&st, branch, id, msg); err != nil {
			return nil, err
		}
		if err := w.recordTarget(&st); err != nil {
			return nil, err
		}
		os.RemoveAll(w.work())
		if err := w.mount(ctx, c, w.upper(), w.work(), false); err != nil {
			return nil, err
		}
		st.Commit = id
		return c, w.writeState(st)
	}
	if len(st.Unmerged) > 0 && !o.Force {
		return nil, &UnmergedError{Verb: "checkout", Conflicts: st.Unmerged}
	}
	// -f drops a staged config, as git's drops the index's changes.
	dropStaged := o.Force && st.StagedConfig != nil
	if dropStaged {
		st.StagedConfig, st.StagedOn = nil, ""
	}
	same := id == st.Commit
	if same && o.Force {
		// --force discards uncommitted changes on the same commit too,
		// as git's checkout -f: only a clean tree keeps its mount.
		changes, err := w.scanChanges(ctx, st)
		if err != nil {
			return nil, err
		}
		same = len(changes) == 0
	}
	if same {
		if o.Force {
			// Clean: no markers are left to be unmerged.
			if err := w.dropUnmerged(&st, func(string) bool { return true }); err != nil {
				return nil, err
			}
		}
		if err := createBranch(); err != nil {
			return nil, err
		}
		if dropStaged {
			if err := w.writeState(st); err != nil {
				return nil, err
			}
		}
		return c, w.setHead(&st, branch, id, msg)
	}
	carry := carryNone
	var m *carryMerge
	if o.Merge {
		m = &carryMerge{lb: labels{ours: o.mergeLabel(), base: w.headLabel(), theirs: "local"}}
	}
	if !o.Force {
		// Frozen before the check for users, and until the new mount
		// takes the view's place: a write made after the changes are
		// read would be lost with the old upper.
		thaw, err := w.freezeUnused()
		if err != nil {
			return nil, err
		}
		defer thaw()
		if carry, err = w.planCarry(ctx, st, c, m); err != nil {
			return nil, err
		}
		// Written with the pending switch: a staged config goes along
		// only to a commit with the same config.
		if err := w.carryStaged(&st, c, "a switch to "+switchName(o, c)); err != nil {
			return nil, err
		}
	}
	st.PendingMerge, st.PendingMergeBase, st.PendingUnmerged = "", "", nil
	if m != nil && carry == carryStaged {
		st.PendingMerge, st.PendingMergeBase, st.PendingUnmerged = m.lb.ours, m.lb.base, m.conflicts
	}
	// A staged carry left by a failure here is removed by the next
	// command, which finds HEAD where it was (ensure).
	if err := w.startSwitch(ctx, &st, c, carry, createBranch, branch, msg); err != nil {
		return nil, err
	}
	testHook("checkout-after-ref")
	_, err = w.switchTo(ctx, st, c, carry == carryUpper)
	return c, err
}

// startSwitch records a switch to c as pending and moves HEAD there, once
// what can refuse it has passed; the switch itself is left to switchTo.
func (w *Worktree) startSwitch(ctx context.Context, st *State, c *objects.Commit, carry carryMode, createBranch func() error, branch, msg string) error {
	if err := w.prepare(ctx, c); err != nil {
		return err
	}
	if err := createBranch(); err != nil {
		return err
	}
	if err := w.endStoppedOp("checkout"); err != nil {
		return err
	}
	var id digest.Digest
	if c != nil {
		id = c.ID
	}
	st.Pending, st.PendingCarry, st.CarryStaged = id, carry == carryUpper, carry == carryStaged
	if err := w.writeState(*st); err != nil {
		return err
	}
	testHook("checkout-carry-pending")
	return w.setHead(st, branch, id, msg)
}

// endStoppedOp ends a merge, cherry-pick or revert in progress before
// HEAD moves elsewhere (as --quit: its commits are left to gc), as git's
// reset and checkout remove MERGE_HEAD, CHERRY_PICK_HEAD and REVERT_HEAD:
// a later commit would otherwise conclude it with other files. Ended
// after the move, a command killed in between left the operation
// stopped over a tree the next command put back on HEAD, and --continue
// recorded the merge without the other side's changes. A rebase stays,
// as in git.
func (w *Worktree) endStoppedOp(verb string) error {
	s, ok, err := w.Sequence()
	if err != nil || !ok || s.Op == OpRebase {
		return err
	}
	if err := w.dropSeq(); err != nil {
		return fmt.Errorf("%s: end the %s: %w", verb, s.Op, err)
	}
	return nil
}

// target2 resolves what o checks out: the commit (nil on an unborn
// branch) and the branch HEAD is to name ("" for detached).
func (w *Worktree) target2(o CheckoutOptions) (*objects.Commit, string, error) {
	rs := w.Repo.Refs
	if o.NewBranch != "" {
		start := o.Rev
		if start == "" {
			start = "HEAD"
		}
		c, err := w.Resolve(start)
		if err != nil {
			return nil, "", err
		}
		name := refs.Heads + o.NewBranch
		if err := refs.CheckName(name); err != nil {
			return nil, "", err
		}
		if rs.Exists(name) && !o.ResetBranch {
			return nil, "", fmt.Errorf("%s %s: %w", o.branchFlag(), o.NewBranch, refs.ErrExists)
		}
		// Created by Checkout once nothing can refuse the switch, so that
		// a refused checkout -b creates nothing.
		return c, name, nil
	}
	h, err := w.Head()
	if err != nil {
		return nil, "", err
	}
	rev := o.Rev
	if rev == "" || rev == refs.HEAD || rev == "@" {
		// HEAD names a commit too: --detach detaches there, as git's
		// switch --detach HEAD does, and leaves its branch alone.
		branch := h.Branch
		if o.Detach {
			branch = ""
		}
		if h.Commit == "" {
			if o.Detach {
				return nil, "", fmt.Errorf("--detach: %w: branch %s has no commits yet", refs.ErrUnknownRevision, refs.ShortName(h.Branch))
			}
			return nil, branch, nil
		}
		c, err := w.commit(h.Commit)
		return c, branch, err
	}
	if !o.Detach {
		name := refs.Heads + rev
		if d, err := rs.Read(name); err == nil {
			c, err := w.commit(d)
			return c, name, err
		}
		if name == h.Branch && h.Commit == "" {
			return nil, name, nil // the unborn branch of a new repository
		}
	}
	c, err := w.Resolve(rev)
	if err != nil {
		return nil, "", err
	}
	return c, "", nil
}

// checkTargetEmpty refuses to hide files by mounting over them.
func (w *Worktree) checkTargetEmpty(force bool) error {
	if mi, ok, err := snapshot.Mounted(w.target); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%s: %w (%s)", w.target, ErrTargetBusy, mi.FSType)
	}
	f, err := os.Open(w.target)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return err
	} else if !fi.IsDir() {
		// Not "not empty": --force cannot mount over a file either.
		return fmt.Errorf("%s is not a directory; move it away, or name another PATH", w.target)
	}
	if _, err := f.Readdirnames(1); err == io.EOF || force {
		return nil
	}
	return fmt.Errorf("%s is not empty; move its files away, or use --force to mount over them", w.target)
}

// checkoutMessage is git's reflog message for a checkout, "checkout:
// moving from main to dev", which PreviousCheckout reads back: from is
// the branch HEAD was on, or its commit's short id when detached.
func checkoutMessage(w *Worktree, o CheckoutOptions) string {
	from := "HEAD"
	if h, err := w.Head(); err == nil {
		switch {
		case h.Branch != "":
			from = refs.ShortName(h.Branch)
		case h.Commit != "":
			from = h.Commit.Encoded()[:12]
		}
	}
	to := o.Rev
	if o.NewBranch != "" {
		to = o.NewBranch
	}
	if to == "" {
		to = "HEAD"
	}
	return "checkout: moving from " + from + " to " + to
}

// ErrNoPreviousCheckout: "checkout -" (git's @{-N}) found fewer
// checkouts in the work tree's HEAD reflog.
var ErrNoPreviousCheckout = errors.New("no such checkout in HEAD's reflog")

// PreviousCheckout is git's @{-n}: what HEAD was on before the nth last
// checkout, a branch's short name or a commit's short id, read from the
// work tree's HEAD reflog (checkoutMessage).
func (w *Worktree) PreviousCheckout(n int) (string, error) {
	name := refs.HEAD
	if w.Name != MainName {
		name = w.HeadLog()
	}
	entries, err := w.Repo.Refs.Log(name)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Message, "checkout: moving from ")
		if !ok {
			continue
		}
		// Ref names hold no spaces.
		if from, _, ok := strings.Cut(rest, " to "); ok {
			if n--; n == 0 {
				return from, nil
			}
		}
	}
	return "", ErrNoPreviousCheckout
}
