package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("stash", newStashCommand) }

// stashJSON is one entry of stash list --format json.
type stashJSON struct {
	Selector string    `json:"selector"` // stash@{0}
	Index    int       `json:"index"`
	Commit   string    `json:"commit"`
	Date     time.Time `json:"date"`
	Message  string    `json:"message"`
}

func newStashCommand(g *globals) *cobra.Command {
	var message string
	var force, untracked, quiet bool
	// Errors are named by nameCommand: "stash: ", "stash push: ".
	push := func(cmd *cobra.Command, args []string) error {
		if cmd.Name() == "stash" && cmd.ArgsLenAtDash() != 0 && len(args) > 0 {
			// 'stash PATH' would read a misspelt subcommand as a path.
			return usagef("unknown subcommand %q (paths go after --: 'strata stash -- PATH', or 'strata stash push PATH')", args[0])
		}
		_, w, err := openWorktree(g, "")
		if err != nil {
			return err
		}
		paths, err := imagePaths(g, w.Repo, args)
		if err != nil {
			return err
		}
		if len(paths) > 0 {
			if err := stashPathsExist(cmd.Context(), w, paths); err != nil {
				return err
			}
		}
		c, err := w.Stash(cmd.Context(), message, paths, force)
		if errors.Is(err, worktree.ErrNoLocalChanges) {
			if !quiet {
				fmt.Fprintln(g.stdout, "No local changes to save")
			}
			return nil
		}
		if c != nil && !quiet {
			fmt.Fprintf(g.stdout, "Saved working directory state %s\n", pathquote.Text(c.Message()))
		}
		if err != nil {
			return err
		}
		return nil
	}
	cmd := &cobra.Command{
		Use:   "stash [push [-m MSG] [--] [PATH...] | list | show | apply | pop | drop | clear]",
		Short: "Put the work tree's changes aside, and bring them back",
		Long: `Save the work tree's uncommitted changes and drop them from it, as git
stash does, so that a switch, pull or rebase can go ahead; bring them
back later, on the same commit or another.

  strata stash                 # save, as "WIP on BRANCH: ID SUBJECT"
  strata stash push -m "half a config"
  strata stash push -- /etc/nginx   # only the changes at or below PATHs
  strata stash list            # stash@{0} is the latest
  strata stash show -p stash@{1}
  strata stash pop             # apply stash@{0}, and drop it unless it conflicts
  strata stash apply 1         # apply stash@{1}, keep it
  strata stash drop stash@{1}
  strata stash clear
  strata stash branch fix-motd     # stash@{0} on a new branch where it was made

Each entry is a commit on top of the one the work tree was on, holding
the changes as one layer: a complete image ('strata run --rev stash@{0}')
that the reflog of refs/stash lists and gc keeps until the entry expires
(gc.reflogExpire, else 90 days) or is dropped. Paths the exclude rules
leave out are neither saved nor dropped, as in git. A config staged by
'reset --soft' is saved too, as git's stash saves the index: the entry's
commit records it (a staged config alone is a change to stash), and
apply and pop stage it again, refused while another config is staged
or when HEAD changed one of its fields since, to another value (a
config holds no conflict markers; 'stash branch' applies it where it
was made).

apply and pop merge the stash's changes into the work tree over the
commit it was made on, as git's do, so they apply after HEAD has moved.
They write through the mount, as git writes its files: the work tree's
own changes stay, and one at a path the stash changes (or above or below
one) is refused, naming it, before anything is written. A conflict is
written with markers ("Updated upstream" and "Stashed changes"), as git
writes it; the entry then stays, and nothing is under way: fix the
files, then commit or stash again. 'stash branch
NAME' applies an entry without conflicts: on a new branch made at the
commit the entry was made on. Afterwards apply, pop and branch print
the work tree's status, as 'strata status' prints it and as git's do,
conflicts or not; pop then says "Dropped stash@{0} (ID)". -q prints
neither.

With PATHs (from where you stand, as diff reads them; globs as git's
pathspecs), only the changes at or below them are saved, then put back
as HEAD has them through the mount, as apply writes; the others stay. A
PATH that names nothing changed and nothing in HEAD is an error.

STASH is stash@{N}, or N alone; show and apply also take any revision
(stash, the latest entry, among them). drop, pop and branch refuse any
other, as git 2.39's do: "not a reflog: stash", "'main' is not a stash
reference", "nosuch is not a valid reference" (exit 1; git's pop and
branch apply the entry before they refuse, strata refuses first).
stash (push) without PATHs remounts the work tree, as reset --hard does:
it refuses while a container or process uses the tree or has a file
open for writing in it, unless --force (the users keep the old mount).
Until the new mount is up, the tree is read-only.

Exit status: 0 on success (also when there is nothing to save), 1 on
errors and conflicts, 2 on usage errors.`,
		Args: cobra.ArbitraryArgs, // paths after --; push says what else is wrong
		RunE: push,
	}
	pushCmd := &cobra.Command{
		Use:   "push [-m MSG] [--] [PATH...]",
		Short: "Save the work tree's changes and drop them from it (the default)",
		Args:  cobra.ArbitraryArgs,
		RunE:  push,
	}
	// 'stash' alone is 'stash push', with its flags.
	for _, c := range []*cobra.Command{cmd, pushCmd} {
		c.Flags().StringVarP(&message, "message", "m", "", "describe the entry with `MSG` in place of WIP on BRANCH: ID SUBJECT")
		c.Flags().BoolVar(&force, "force", false, "remount even while a container or process uses the work tree")
		c.Flags().BoolVarP(&untracked, "include-untracked", "u", false, "accepted for git's -u: with no index, new paths are always saved")
		c.Flags().BoolVarP(&quiet, "quiet", "q", false, "say nothing on success")
	}
	cmd.AddCommand(pushCmd, newStashListCommand(g), newStashShowCommand(g),
		newStashApplyCommand(g, "apply"), newStashApplyCommand(g, "pop"),
		newStashDropCommand(g), newStashClearCommand(g), newStashBranchCommand(g))
	return cmd
}

// stashPathsExist refuses a PATH that names neither a change nor a path
// of the work tree's commit, as git's "did not match any file(s)".
func stashPathsExist(ctx context.Context, w *worktree.Worktree, paths []string) error {
	changes, err := w.Status(ctx)
	if err != nil {
		return err
	}
	bad, err := diffMissing(ctx, w, nil, paths, changes)
	if err != nil {
		return err
	}
	return missingPaths(bad)
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: takes no arguments, got %q", cmd.CommandPath()[len("strata "):], args[0])
	}
	return nil
}

var stashEntryRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:stash@\{(\d+)\}|(\d+))$`) })

// stashEntry reads STASH as stash@{N} or N ("" is 0); ok is false for
// anything else, "stash" too: drop and pop need an entry of the reflog,
// as git's do, and show and apply resolve "stash" as a revision.
func stashEntry(arg string) (n int, ok bool) {
	if arg == "" {
		return 0, true
	}
	m := stashEntryRE().FindStringSubmatch(arg)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1] + m[2])
	return n, err == nil
}

// stashCommit is the commit STASH names: an entry of the stash, or, when
// anyRev, any revision.
func stashCommit(r *repo.Repo, arg string, anyRev bool) (digest.Digest, error) {
	n, ok := stashEntry(arg)
	if !ok {
		if !anyRev {
			return "", notStashEntry(r, arg)
		}
		c, err := r.Resolve(arg)
		if errors.Is(err, refs.ErrUnknownRevision) {
			return "", fmt.Errorf("%s is not a valid reference", arg) // git's words
		}
		if err != nil {
			return "", err
		}
		return c.ID, nil
	}
	entries, err := r.Refs.Log(refs.Stash)
	if err != nil {
		return "", err
	}
	if n >= len(entries) {
		return "", noStashEntry(arg, len(entries))
	}
	return entries[n].New, nil
}

// notStashEntry is git 2.39's error for a STASH that drop, pop or
// branch cannot take, being no entry of the reflog: "not a reflog" for
// the stash itself, "is not a valid reference" for a name that resolves
// to nothing, "is not a stash reference" for any other revision (git's
// "is not a stash-like commit" does not apply: every commit is one to
// apply). git's pop and branch apply the stash before they refuse it;
// strata refuses first, so that nothing is half done.
func notStashEntry(r *repo.Repo, arg string) error {
	if arg == "stash" || arg == refs.Stash {
		return fmt.Errorf("not a reflog: %s (an entry is stash@{N} or N)", arg)
	}
	_, err := r.Resolve(arg)
	if errors.Is(err, refs.ErrUnknownRevision) {
		return fmt.Errorf("%s is not a valid reference", arg)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("'%s' is not a stash reference (an entry is stash@{N} or N)", arg)
}

// noStashEntry is git 2.39's error for STASH (arg, "" for the default)
// when the stash has only count entries: "No stash entries found." for
// none asked of an empty stash, "stash@{1} is not a valid reference"
// for one named, "log for 'stash' only has 1 entries" for one past the
// end. Its words but the first capital and the full stop.
func noStashEntry(arg string, count int) error {
	n, _ := stashEntry(arg)
	switch {
	case arg == "" && count == 0:
		return errors.New("no stash entries found")
	case count == 0:
		name := arg
		if !strings.HasPrefix(arg, "stash") {
			name = fmt.Sprintf("refs/stash@{%d}", n)
		}
		return fmt.Errorf("%s is not a valid reference", name)
	case strings.HasPrefix(arg, "stash"):
		return fmt.Errorf("log for 'stash' only has %d entries", count)
	}
	return fmt.Errorf("log for 'refs/stash' only has %d entries", count)
}

func newStashListCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list [--format json]",
		Short: "List the stash entries, newest first",
		Long: `List the stash entries, newest first: "stash@{N}: MESSAGE".

--format json: an array of {"selector" (stash@{N}), "index" (N),
"commit", "date", "message"}.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			entries, err := r.Refs.Log(refs.Stash)
			if err != nil {
				return fmt.Errorf("stash list: %w", err)
			}
			if format == "json" {
				out := []stashJSON{}
				for i, e := range entries {
					out = append(out, stashJSON{Selector: fmt.Sprintf("stash@{%d}", i), Index: i, Commit: e.New.String(), Date: e.When.UTC(), Message: e.Message})
				}
				return writeJSON(g.stdout, out)
			}
			for i, e := range entries {
				fmt.Fprintf(g.stdout, "stash@{%d}: %s\n", i, pathquote.Text(e.Message))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func newStashShowCommand(g *globals) *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "show [--stat --numstat --shortstat --summary -p | --name-only | --name-status | --format json] [STASH]",
		Short: "Show the changes a stash entry holds (default: --stat)",
		Long: `Show what a stash entry changed against the commit it was made on, as
diff shows two revisions (default --stat, as git's); the views combine
as diff's.

An entry that saved a staged config (reset --soft) names its fields
last, as status names them: "config: Cmd, Env"; apply and pop stage
them again. --name-only, --name-status, --numstat, -z and --format json
list paths only.

--format json: an array of {"status","path","old","new"}, as diff's.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.format); err != nil {
				return err
			}
			if err := o.checkViews("stash show"); err != nil {
				return err
			}
			if err := o.checkJSON("stash show"); err != nil {
				return err
			}
			if !o.any() && o.format != "json" {
				o.stat = true // git's default
			}
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			id, err := stashCommit(r, firstArg(args), true)
			if err != nil {
				return fmt.Errorf("stash show: %w", err)
			}
			c, err := r.Objects.ReadCommit(id)
			if err != nil {
				return fmt.Errorf("stash show: %w", err)
			}
			if c.Parent() == "" {
				return fmt.Errorf("stash show: %s has no parent to compare with", shortID(id))
			}
			if err := runDiff(cmd.Context(), g.stdout, w, []string{c.Parent().String(), id.String()}, nil, o); err != nil {
				return err
			}
			return showStashedConfig(g, r, c, o)
		},
	}
	o.addViewFlags(cmd, "show lines added and removed per file (the default)")
	return cmd
}

// showStashedConfig names, after a view a person reads, the config
// fields the entry saved (a staged config: apply and pop stage them
// again), as status names a staged config; the views scripts read list
// paths only.
func showStashedConfig(g *globals, r *repo.Repo, c *objects.Commit, o diffOptions) error {
	if o.format == "json" || o.nameOnly || o.nameStatus || o.numstat || o.nul {
		return nil
	}
	base, err := r.Objects.ReadCommit(c.Parent())
	if err != nil {
		return fmt.Errorf("stash show: %w", err)
	}
	if fields := worktree.ConfigChanges(base.Config.Config, c.Config.Config); len(fields) > 0 {
		fmt.Fprintf(g.stdout, "config: %s\n", strings.Join(fields, ", "))
	}
	return nil
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

func newStashApplyCommand(g *globals, verb string) *cobra.Command {
	short := "Merge a stash entry's changes into the work tree, keeping the entry"
	if verb == "pop" {
		short = "Apply a stash entry, then drop it unless it conflicted"
	}
	var quiet bool
	cmd := &cobra.Command{
		Use:   verb + " [STASH]",
		Short: short,
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			arg := firstArg(args)
			id, err := stashCommit(r, arg, verb == "apply")
			if err != nil {
				return fmt.Errorf("stash %s: %w", verb, err)
			}
			if err := w.ApplyStash(cmd.Context(), id, verb); err != nil {
				var ce *worktree.StashConflictError
				if !errors.As(err, &ce) {
					return fmt.Errorf("stash %s: %w", verb, err)
				}
				for _, c := range ce.Paths {
					fmt.Fprintf(g.stdout, "CONFLICT (%s): %s\n", c.Kind, pathquote.Quote(c.Path))
				}
				// The work tree holds the merge: git shows its status.
				if !quiet {
					if serr := longStatus(cmd.Context(), g, r, w); serr != nil {
						return fmt.Errorf("stash %s: %w", verb, serr)
					}
				}
				return fmt.Errorf("stash %s: %w", verb, err)
			}
			if !quiet {
				if err := longStatus(cmd.Context(), g, r, w); err != nil {
					return fmt.Errorf("stash %s: %w", verb, err)
				}
			}
			if verb == "pop" {
				if err := dropStash(g, r, arg, id, quiet); err != nil {
					return fmt.Errorf("stash pop: %w", err)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print no status afterwards, and for pop no \"Dropped\" line")
	return cmd
}

func newStashDropCommand(g *globals) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "drop [STASH]",
		Short: "Remove a stash entry (default stash@{0})",
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if err := dropStash(g, r, firstArg(args), "", quiet); err != nil {
				return fmt.Errorf("stash drop: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "say nothing on success")
	return cmd
}

// dropStash removes entry arg (stash@{N} or N) and says so, as git does;
// want, if set, is the commit it must still name (pop applied it).
func dropStash(g *globals, r *repo.Repo, arg string, want digest.Digest, quiet bool) error {
	n, ok := stashEntry(arg)
	if !ok {
		return notStashEntry(r, arg)
	}
	e, err := r.Refs.DropEntry(refs.Stash, n, want)
	if err != nil && !errors.Is(err, refs.ErrMoved) {
		if errors.Is(err, refs.ErrNoEntry) {
			entries, lerr := r.Refs.Log(refs.Stash)
			if lerr != nil {
				return err
			}
			return noStashEntry(arg, len(entries))
		}
		return err
	}
	if !quiet {
		fmt.Fprintf(g.stdout, "Dropped %s (%s)\n", stashEntryName(arg, n), e.New.Encoded())
	}
	return err
}

// stashEntryName is how git's stash names the entry it dropped: STASH as
// given when it is stash@{N}, else git's expansion refs/stash@{N}.
func stashEntryName(arg string, n int) string {
	if strings.HasPrefix(arg, "stash@{") {
		return arg
	}
	return fmt.Sprintf("refs/stash@{%d}", n)
}

func newStashClearCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "clear",
		Short: "Remove every stash entry",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			for {
				_, err := r.Refs.DropEntry(refs.Stash, 0, "")
				if errors.Is(err, refs.ErrNoEntry) {
					return nil
				}
				if err != nil && !errors.Is(err, refs.ErrMoved) {
					return fmt.Errorf("stash clear: %w", err)
				}
			}
		},
	}
}

func newStashBranchCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "branch NAME [STASH]",
		Short: "Make branch NAME where a stash entry was made, switch to it, and pop the entry there",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 { // git's words (its exit 1; strata's 2 for a missing argument)
				return usagef("no branch name specified (usage: %s)", strings.TrimSuffix(cmd.UseLine(), " [flags]"))
			}
			return rangeArgs(1, 2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			arg := ""
			if len(args) == 2 {
				arg = args[1]
			}
			id, err := stashCommit(r, arg, false)
			if err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			c, err := r.Objects.ReadCommit(id)
			if err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			if err := w.RefuseWhileRunning(); err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			if _, err := w.Checkout(cmd.Context(), worktree.CheckoutOptions{Rev: c.Parent().String(), NewBranch: args[0], RefuseStopped: true}); err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			fmt.Fprintf(g.stderr, "Switched to a new branch '%s'\n", pathquote.Text(args[0]))
			// On the commit it was made on, the entry applies without
			// conflicts.
			if err := w.ApplyStash(cmd.Context(), id, "branch"); err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			if err := longStatus(cmd.Context(), g, r, w); err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			if err := dropStash(g, r, arg, id, false); err != nil {
				return fmt.Errorf("stash branch: %w", err)
			}
			return nil
		},
	}
}
