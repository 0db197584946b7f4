package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/buildcache"
	"github.com/strata-sh/strata/internal/stagedir"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("gc", newGCCommand) }

func newGCCommand(g *globals) *cobra.Command {
	var prune, expire string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Expire old reflog entries, then remove blobs nothing reaches",
		Long: `Expire old reflog entries as git gc does, then remove content that
nothing reaches: not a branch, tag, remote-tracking ref, HEAD, nor any
commit a remaining reflog entry remembers. As in git, FETCH_HEAD keeps
nothing: fetch into a ref what must stay past --prune's grace. A reflog entry whose commit
is missing keeps nothing: gc says which reflogs have one, and 'strata
fsck' names the entries.

Reflog entries whose commit the ref's tip no longer reaches (and all
entries of deleted refs) expire after gc.reflogExpireUnreachable (default
30.days.ago); the others after gc.reflogExpire (default 90.days.ago).
--expire=TIME sets both for this run: --expire=now forgets every reflog
entry. See 'strata reflog expire --help' for the time syntax.

Unreachable blobs younger than --prune (default 1h; a duration, or a
time as git's: 2.weeks.ago, never) are kept, so that a command writing
a commit at the same moment is safe; --prune=now removes
them all, and so refuses while another command writes to the repository,
whose staged work it would remove; these write:
` + writingCommandList() + `
  run (-d too) and bisect run until their container starts, and
  run --commit.
While one writes, gc leaves .strata/tmp alone. With -n, no reflog entry
expires. While a ref is broken (its file holds no commit id: 'strata
fsck' lists it), gc removes nothing, since it cannot tell what that ref
kept; delete the ref or point it at a commit first. Nor while a work
tree's state file (.strata/worktrees/NAME/state), or the sequence of
its merge or rebase under way, does not read: they name the commit under
the work tree's changes and the commits the operation made.

First, gc removes what runs killed before they cleaned up left: the
cgroups of runs whose strata process is gone, and the throwaway work trees
of 'run --rev' (.strata/worktrees/run-*, .strata/tmp/run-*, unmounting
their overlay) that no live run holds and that are older than --prune,
the staging trees of killed builds (.strata/tmp/build-*, unmounting
what they mounted; a live build holds a lock on each), the build cache
entries of the commits it removes,
and the uppers kept for work-tree mounts that --force detached while
processes used them, once no process does ('worktree list' shows them).

  strata branch -D big && strata gc --prune=now --expire=now   # free it all now`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			now := time.Now()
			grace, err := parsePrune(prune, now)
			if err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			var exp repo.ReflogExpiry
			if cmd.Flags().Changed("expire") {
				// The flag decides alone: the config is not read.
				t, err := repo.ParseExpiry(expire, now)
				if err != nil {
					return usagef("gc: --expire %w", err)
				}
				exp = repo.ReflogExpiry{Reachable: t, Unreachable: t}
			} else if exp, err = r.ReflogExpiryFromConfig(now); err != nil {
				return fmt.Errorf("gc: %w", err)
			}
			swept, err := sweepRuns(r, dryRun)
			if err != nil {
				return fmt.Errorf("gc: leftovers of killed runs: %w", err)
			}
			reportRemoved(g.stdout, dryRun, "the work tree of killed run", swept)
			// A build holds a lock on each of its staging directories
			// (stagedir): those whose lock is free are a killed build's.
			builds, err := stagedir.Sweep(r.Objects.TempDir(), stagedir.Build, dryRun)
			if err != nil {
				return fmt.Errorf("gc: leftovers of killed builds: %w", err)
			}
			reportRemoved(g.stdout, dryRun, "the overlay of killed build", builds)
			if err := pruneDetached(g, r, dryRun); err != nil {
				return fmt.Errorf("gc: %w", err)
			}
			o := worktree.GCOptions(repo.GCOptions{Grace: grace, DryRun: dryRun, Reflog: exp})
			o.After = append(o.After, func(r *repo.Repo, kept map[digest.Digest]bool) error {
				return buildcache.Prune(r.Root, kept)
			})
			res, err := r.GC(o)
			if err != nil {
				return fmt.Errorf("gc: %w", err)
			}
			if len(res.MissingReflogs) > 0 {
				// git: "reflog of 'refs/heads/main' references pruned commits".
				what := "reflog of " + res.MissingReflogs[0] + " names"
				if len(res.MissingReflogs) > 1 {
					what = "reflogs of " + strings.Join(res.MissingReflogs, ", ") + " name"
				}
				fmt.Fprintf(g.stderr, "strata: warning: %s missing commits, which gc could not keep (strata fsck names the entries)\n", escapeControls(what))
			}
			for _, d := range res.NotBlobs {
				fmt.Fprintf(g.stderr, "strata: warning: %s in the blob store is not a regular file: left as it is (strata fsck names it)\n", d)
			}
			if res.ReflogEntries > 0 {
				fmt.Fprintf(g.stdout, "expired %s\n", countNoun(res.ReflogEntries, "reflog entry", "reflog entries"))
			}
			verb := "removed"
			if dryRun {
				verb = "would remove"
			}
			fmt.Fprintf(g.stdout, "%s %s, %s\n", verb, plural(res.Blobs, "blob"), humanSize(res.Bytes))
			return nil
		},
	}
	cmd.Flags().StringVar(&prune, "prune", "1h", "keep unreachable blobs younger than `AGE`: a duration (1h), or a time as git's (now, never, 2.weeks.ago, 2024-05-01)")
	cmd.Flags().StringVar(&expire, "expire", "", "expire reflog entries older than `TIME` (now, never, 30.days.ago, RFC 3339), reachable or not")
	cmd.Flags().BoolVarP(&dryRun, "dry-run", "n", false, "only say what would be removed")
	return cmd
}

// parsePrune reads --prune as the age under which unreachable blobs are
// kept: a duration (1h), or a time as git's gc --prune takes it (now,
// never, 2.weeks.ago, a date), which git users type.
func parsePrune(s string, now time.Time) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	t, err := repo.ParseExpiry(s, now)
	switch {
	case err != nil:
		return 0, usagef("--prune %s: want a duration (1h) or a time (now, never, 2.weeks.ago, 2024-05-01)", s)
	case t.IsZero():
		return math.MaxInt64, nil // never: every unreachable blob is kept
	case t.After(now):
		return 0, nil
	}
	return now.Sub(t), nil
}

// reportRemoved prints a line for each leftover gc removed ("removed the
// work tree of killed run run-x"), or would remove with -n.
func reportRemoved(w io.Writer, dryRun bool, what string, names []string) {
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	for _, name := range names {
		fmt.Fprintf(w, "%s %s %s\n", verb, what, name)
	}
}
