package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("worktree", newWorktreeCommand) }

func newWorktreeCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worktree (list | add PATH [REV] | remove [--force] PATH | prune [-n] | lock [--reason R] PATH | unlock PATH | move PATH NEWPATH | repair [PATH...])",
		Short: "Manage work trees: the main one and second ones elsewhere",
		Long: `A second work tree is a full work tree: every command run inside it acts
on it (its own HEAD, upper and state under .strata/worktrees/NAME).

  strata worktree list [--format json]       # [{"path","name","branch","head","mounted","missing","locked","lock_reason","detached"}]
  strata worktree add /srv/envs/env2 dev     # same as: checkout --path /srv/envs/env2 dev
  strata worktree add /srv/envs/env3         # new branch env3 at HEAD
  strata worktree add -b fix /srv/envs/env4 v1
  strata worktree add -B fix /srv/envs/env4 v2   # the same, or move fix to v2 if it exists
  strata worktree add --detach /srv/envs/env5
  strata worktree remove /srv/envs/env2      # unmount and delete (refuses with changes)
  strata worktree prune [-n]                 # forget work trees whose directory is gone
                                             # (keeping those with uncommitted changes),
                                             # and delete unused detached uppers
  strata worktree lock --reason 'on the usb disk' /srv/envs/env2
                                             # prune keeps it; remove refuses it unless -f -f
  strata worktree unlock /srv/envs/env2
  strata worktree add -q --lock --reason 'on the usb disk' /srv/envs/env6   # made locked
  strata worktree move /srv/envs/env2 /srv/old   # to /srv/old/env2: unmounted, renamed, mounted again
  strata worktree repair /srv/old/env9       # after a move by hand (mv, unmounted): the tree is there now

A branch is checked out in one work tree at a time. As git's, add without
REV, -b or --detach checks out the branch named after PATH's base name,
creating it at HEAD if it does not exist (add /srv/envs/env2: branch env2).

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: noSubcommand,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("worktree: give a subcommand: list, add, remove, prune, lock, unlock, move or repair")
		},
	}
	var format string
	var porcelain, verbose bool
	list := &cobra.Command{
		Use:   "list [-v] [--format json | --porcelain]",
		Short: "List the work trees",
		Long: `List the work trees: the main one, second ones and the throwaway trees
of detached runs, each with its commit and branch.

  strata worktree list --format json
      # [{"path","name","branch","head","mounted","missing","locked",
      # "lock_reason","detached"}]:
      # "branch" absent on a detached HEAD; "missing": true when its
      # directory is gone (text: missing; prune forgets it unless its
      # upper holds uncommitted changes or it is locked); "locked": true
      # once 'worktree lock' locked it, "lock_reason" the reason given
      # (text: locked; with -v, a line "<TAB>locked: REASON" after it, as
      # git's); "detached":
      # {"count","bytes","in_use"}, the uppers --force detached while
      # processes used them; "unreadable": why a tree's state does not
      # read (its path is then its directory under .strata/worktrees;
      # branch commands refuse while it is so)
  strata worktree list --porcelain
      # git's stanzas, a blank line after each: "worktree PATH",
      # "HEAD ID" (absent with no commits), "branch refs/heads/NAME" or
      # "detached", then "unmounted", "missing" and "locked [REASON]"
      # lines when so; or "worktree DIR" and "unreadable REASON"`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if porcelain && format == "json" {
				return usagef("--porcelain and --format json exclude each other")
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			all, err := worktree.List(r)
			if err != nil {
				return err
			}
			type entry struct {
				Path    string `json:"path"`
				Name    string `json:"name"`
				Branch  string `json:"branch,omitempty"`
				Head    string `json:"head,omitempty"`
				Mounted bool   `json:"mounted"`
				Missing bool   `json:"missing,omitempty"`
				Locked  bool   `json:"locked,omitempty"`
				// LockReason: the reason 'worktree lock --reason' gave.
				LockReason string `json:"lock_reason,omitempty"`
				// Unreadable: why its state does not read (fsck names it too).
				Unreadable string         `json:"unreadable,omitempty"`
				Detached   *detachedUsage `json:"detached,omitempty"`
			}
			var out []entry
			for _, w := range all {
				h, err := w.Head()
				if err != nil {
					return fmt.Errorf("worktree list: %w", err)
				}
				e := entry{Path: w.Target(), Name: w.Name, Head: h.Commit.String(), Mounted: w.Mounted(), Missing: w.Missing()}
				if e.Detached, err = detachedOf(w); err != nil {
					return fmt.Errorf("worktree list: %w", err)
				}
				e.LockReason, e.Locked = w.Locked()
				if e.Name == worktree.MainName {
					e.Name = worktree.ListedMain
				}
				if h.Branch != "" {
					e.Branch = refs.ShortName(h.Branch)
				}
				out = append(out, e)
			}
			bad, err := worktree.UnreadableStates(r)
			if err != nil {
				return fmt.Errorf("worktree list: %w", err)
			}
			for _, dir := range slices.Sorted(maps.Keys(bad)) {
				out = append(out, entry{Path: dir, Name: filepath.Base(dir), Unreadable: bad[dir].Error()})
			}
			if format == "json" {
				if out == nil {
					out = []entry{}
				}
				return writeJSON(g.stdout, out)
			}
			if porcelain {
				for _, e := range out {
					fmt.Fprintf(g.stdout, "worktree %s\n", pathquote.Quote(e.Path))
					if e.Unreadable != "" {
						fmt.Fprintf(g.stdout, "unreadable %s\n\n", pathquote.Name(e.Unreadable))
						continue
					}
					if e.Head != "" {
						fmt.Fprintf(g.stdout, "HEAD %s\n", e.Head)
					}
					if e.Branch != "" {
						fmt.Fprintf(g.stdout, "branch %s\n", refs.Heads+e.Branch)
					} else {
						fmt.Fprintln(g.stdout, "detached")
					}
					if !e.Mounted {
						fmt.Fprintln(g.stdout, "unmounted")
					}
					if e.Missing {
						fmt.Fprintln(g.stdout, "missing")
					}
					if e.Locked {
						fmt.Fprintln(g.stdout, strings.TrimSuffix("locked "+pathquote.Name(e.LockReason), " "))
					}
					fmt.Fprintln(g.stdout)
				}
				return nil
			}
			for _, e := range out {
				where := "(detached HEAD)"
				if e.Branch != "" {
					where = "[" + e.Branch + "]"
				}
				head := "(no commits)"
				if e.Head != "" {
					head = shortID(digest.Digest(e.Head))
				}
				if e.Unreadable != "" {
					fmt.Fprintf(g.stdout, "%s  (state unreadable: %s)\n", pathquote.Quote(e.Path), pathquote.Name(e.Unreadable))
					continue
				}
				state := ""
				switch {
				case e.Missing:
					state = " missing"
				case !e.Mounted:
					state = " unmounted"
				}
				// git's: "locked" follows, or with -v and a reason
				// a line of its own.
				reasonLine := verbose && e.LockReason != ""
				if e.Locked && !reasonLine {
					state += " locked"
				}
				if d := e.Detached; d != nil {
					state += fmt.Sprintf(" (%s of old mounts, %s, %d in use)",
						countNoun(d.Count, "detached upper", "detached uppers"), humanSize(d.Bytes), d.InUse)
				}
				fmt.Fprintf(g.stdout, "%s  %s %s%s\n", pathquote.Quote(e.Path), head, where, state)
				if e.Locked && reasonLine {
					fmt.Fprintf(g.stdout, "\tlocked: %s\n", pathquote.Name(e.LockReason))
				}
			}
			return nil
		},
	}
	list.Flags().StringVar(&format, "format", "text", "output format: text or json")
	list.Flags().BoolVar(&porcelain, "porcelain", false, "git's stanzas for scripts (see above)")
	list.Flags().BoolVarP(&verbose, "verbose", "v", false, "give each lock's reason on a line of its own, as git's")
	var force, detach, addQuiet, addLock, track, noTrack bool
	var newBranch, resetBranch, addReason string
	add := &cobra.Command{
		Use:   "add [-b NEW | -B NEW | --detach] [--track | --no-track] [--force] [-q] [--lock [--reason R]] PATH [REV]",
		Short: "Check out REV in a new work tree at PATH (default: a new branch named after PATH)",
		Long: `Check out REV in a new work tree at PATH (default: a new branch named
after PATH's base name, made at HEAD if it does not exist).

A new branch (-b, -B, or the one named after PATH) gets an upstream as
branch's does, as git's: branch.autoSetupMerge says (by default, from a
remote-tracking REV: "branch 'fix' set up to track 'origin/main'.").
--track makes REV its upstream whatever the config says, a local branch
too (remote "."), and refuses a REV that is no branch; --no-track sets
none. Either without a new branch is a usage error.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := excludeEachOther(cmd, "branch", "force-branch", "detach"); err != nil {
				return err
			}
			if args[0] == "" {
				return errEmptyPath
			}
			if addReason != "" && !addLock {
				return usagef("--reason requires --lock")
			}
			if len(addReason) > worktree.MaxLockReason {
				return usagef("--reason takes at most %d bytes", worktree.MaxLockReason)
			}
			flag := "-b"
			if resetBranch != "" {
				newBranch, flag = resetBranch, "-B"
			}
			rev := ""
			if len(args) == 2 {
				rev = args[1]
			}
			r, w, err := openWorktree(g, args[0])
			if err != nil {
				return err
			}
			if _, ok, _ := w.State(); ok {
				return fmt.Errorf("worktree add: %s is a work tree already", w.Target())
			}
			o, err := worktreeAddOptions(r, w, rev, newBranch, flag, detach)
			if err != nil {
				return err
			}
			o.Force = force
			plan, err := worktreeAddTracking(r, o, rev, track, noTrack)
			if err != nil {
				return err
			}
			how := branchKept
			if o.NewBranch != "" {
				how = branchCreated
				if o.ResetBranch && r.Refs.Exists(refs.Heads+o.NewBranch) {
					how = branchReset
				}
			}
			c, err := w.Checkout(cmd.Context(), o)
			var elsewhere *worktree.CheckedOutError
			if errors.As(err, &elsewhere) {
				return fmt.Errorf("%w; use --force to check it out here too", err) // a new tree: nothing to discard
			}
			if err != nil {
				return err
			}
			if addQuiet {
				g.stdout, g.stderr = io.Discard, io.Discard // errors are printed by run
			}
			if o.NewBranch != "" {
				if err := setupTracking(g, r, plan.what, o.NewBranch, plan.trackPlan); err != nil {
					return err
				}
			}
			if addLock {
				if err := w.Lock(cmd.Context(), addReason); err != nil {
					return err
				}
			}
			if addQuiet {
				return nil
			}
			return printHeadMoved(g, r, w, c, how)
		},
	}
	add.Flags().StringVarP(&newBranch, "branch", "b", "", "create branch `NEW` at REV (default HEAD) and check it out")
	add.Flags().StringVarP(&resetBranch, "force-branch", "B", "", "as -b, or move branch `NEW` to REV if it exists")
	add.Flags().BoolVar(&detach, "detach", false, "detach HEAD at REV (default HEAD)")
	add.Flags().BoolVarP(&force, "force", "f", false, "check out a branch another work tree has too")
	add.Flags().BoolVarP(&addQuiet, "quiet", "q", false, "print nothing but errors")
	add.Flags().BoolVar(&addLock, "lock", false, "lock the new work tree (see worktree lock)")
	add.Flags().VarPF(lastWins{&track, &noTrack}, "track", "", "make REV the new branch's upstream, a local branch too (git's --track)").NoOptDefVal = "true"
	add.Flags().VarPF(lastWins{&noTrack, &track}, "no-track", "", "give the new branch no upstream, whatever branch.autoSetupMerge says").NoOptDefVal = "true"
	add.Flags().StringVar(&addReason, "reason", "", "with --lock: why it is locked (at most 8192 bytes)")
	var rmForce int
	remove := &cobra.Command{
		Use:   "remove [--force [--force]] PATH",
		Short: "Unmount and delete a second work tree",
		Long: `Unmount and delete a second work tree: its upper, state and directory.
It refuses while the tree has uncommitted changes or a process or
container uses it, unless --force (-f); a locked one (worktree lock)
unless -f twice (-f -f), as git's.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := namedWorktree(g, args[0])
			if err != nil {
				return err
			}
			target := w.Target()
			if err := w.Remove(cmd.Context(), rmForce); err != nil {
				if !strings.HasPrefix(err.Error(), "worktree remove:") {
					err = fmt.Errorf("worktree remove: %w", err)
				}
				return err
			}
			if fi, err := os.Lstat(target); err == nil && fi.IsDir() {
				// add --force mounted it over files of its own.
				fmt.Fprintf(g.stdout, "Removed work tree %s; the directory is kept: it holds files of its own\n", pathquote.Quote(target))
				return nil
			}
			fmt.Fprintf(g.stdout, "Removed work tree %s\n", pathquote.Quote(target))
			return nil
		},
	}
	remove.Flags().CountVarP(&rmForce, "force", "f", "remove even with uncommitted changes or processes inside; twice: a locked one too")
	var pruneDry bool
	prune := &cobra.Command{
		Use:   "prune [-n]",
		Short: "Forget work trees whose directory was deleted; delete detached uppers no process uses",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			names, kept, err := worktree.Prune(cmd.Context(), r, pruneDry)
			verb := "Removing"
			if pruneDry {
				verb = "Would remove"
			}
			for _, n := range names {
				fmt.Fprintf(g.stdout, "%s %s: directory is gone\n", verb, pathquote.Quote("worktrees/"+n))
			}
			for _, k := range kept {
				fmt.Fprintf(g.stdout, "Keeping %v\n", k)
			}
			if err != nil {
				return err
			}
			return pruneDetached(g, r, pruneDry)
		},
	}
	prune.Flags().BoolVarP(&pruneDry, "dry-run", "n", false, "only say what would be removed")
	cmd.AddCommand(list, add, remove, prune, newWorktreeLockCommand(g), newWorktreeUnlockCommand(g),
		newWorktreeMoveCommand(g), newWorktreeRepairCommand(g))
	return cmd
}

// errEmptyPath refuses an empty PATH to add or remove: openWorktree
// takes "" for the work tree the command runs in.
var errEmptyPath = usagef("PATH is empty")

// worktreeAddOptions is what worktree add checks out, as git's: REV as
// given (a branch attaches), -b NEW at REV (flag -B: made or moved
// there), --detach at REV; with none of them, the branch named after
// PATH's base name, made at HEAD if new.
func worktreeAddOptions(r *repo.Repo, w *worktree.Worktree, rev, newBranch, flag string, detach bool) (worktree.CheckoutOptions, error) {
	if newBranch != "" {
		// A name that cannot be a branch is a usage error, as branch's.
		if err := refs.CheckName(refs.Heads + newBranch); err != nil {
			return worktree.CheckoutOptions{}, usagef("worktree add %s %s: %w", flag, newBranch, err)
		}
	}
	switch {
	case detach || newBranch != "":
		if rev == "" || rev == refs.HEAD || rev == "@" {
			// The commit of HEAD where the command runs (its branch stays there).
			c, err := r.Resolve(refs.HEAD)
			if err != nil {
				return worktree.CheckoutOptions{}, fmt.Errorf("worktree add: %w", err)
			}
			rev = c.ID.String()
		}
		return worktree.CheckoutOptions{Rev: rev, NewBranch: newBranch, ResetBranch: flag == "-B", BranchFlag: flag, Detach: detach}, nil
	case rev != "":
		return worktree.CheckoutOptions{Rev: rev}, nil
	}
	name := filepath.Base(w.Target())
	if err := refs.CheckName(refs.Heads + name); err != nil {
		return worktree.CheckoutOptions{}, usagef("worktree add: %s cannot name a branch (%v); give -b NAME or --detach", name, err)
	}
	if r.Refs.Exists(refs.Heads + name) {
		return worktree.CheckoutOptions{Rev: name}, nil
	}
	return worktree.CheckoutOptions{Rev: "HEAD", NewBranch: name}, nil
}

// addTracking is how worktree add's new branch gets its upstream, and
// the command as messages name it.
type addTracking struct {
	trackPlan
	what string
}

// worktreeAddTracking plans the upstream of the branch worktree add
// makes (o.NewBranch), from REV (default HEAD) as given, as git's
// worktree add passes --track or --no-track to branch: a usage error
// when it makes none.
func worktreeAddTracking(r *repo.Repo, o worktree.CheckoutOptions, rev string, track, noTrack bool) (addTracking, error) {
	if o.NewBranch == "" {
		if track || noTrack {
			return addTracking{}, usagef("worktree add: --track and --no-track can only be used if a new branch is created")
		}
		return addTracking{}, nil
	}
	what := "worktree add"
	if o.BranchFlag != "" {
		what += " " + o.BranchFlag + " " + o.NewBranch
	}
	if rev == "" {
		rev = refs.HEAD
	}
	p, err := flagTracking(r, what, rev, track, noTrack)
	return addTracking{trackPlan: p, what: what}, err
}

// detachedUsage sums up the uppers a work tree keeps for mounts that
// --force detached lazily while processes used them.
type detachedUsage struct {
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
	InUse int   `json:"in_use"`
}

func detachedOf(w *worktree.Worktree) (*detachedUsage, error) {
	ds, err := w.DetachedUppers()
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	u := &detachedUsage{Count: len(ds)}
	for _, d := range ds {
		u.Bytes += d.Bytes
		if d.InUse() {
			u.InUse++
		}
	}
	return u, nil
}

// pruneDetached deletes, in every work tree, the detached uppers that no
// process uses any more (worktree prune and gc), saying what went.
func pruneDetached(g *globals, r *repo.Repo, dryRun bool) error {
	all, err := worktree.List(r)
	if err != nil {
		return err
	}
	verb := "Removing"
	if dryRun {
		verb = "Would remove"
	}
	for _, w := range all {
		gone, err := w.PruneDetached(dryRun)
		for _, d := range gone {
			rel, rerr := filepath.Rel(r.Root, d.Dir)
			if rerr != nil {
				rel = d.Dir
			}
			fmt.Fprintf(g.stdout, "%s detached upper %s (%s): no process uses its mount\n", verb, rel, humanSize(d.Bytes))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
