package main

import (
	"errors"
	"fmt"
	"log/slog"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/image/change"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("commit", newCommitCommand) }

type commitFlags struct {
	messages              []string
	file                  string
	message, author, date string
	allowEmpty            bool
	changes               []string
	from                  string
	quiet                 bool
	amend                 bool
}

func newCommitCommand(g *globals) *cobra.Command {
	var o commitFlags
	cmd := &cobra.Command{
		Use:   "commit (-m MSG... | -F FILE | --amend [-m MSG]) [-q] [--allow-empty] [--author A] [--date D] [--change INSTR]...",
		Short: "Record the work tree's changes as a new commit",
		Long: `Turn the work tree's changes (its overlay upper directory) into one new
zstd layer on top of HEAD and move HEAD's branch to the new commit. The
mount stays, so shells and services inside keep their tree; after 16
commits on one mount, when nothing uses the tree, it is remounted on the
new commit with an empty upper.
Only the upper directory is read, so the cost follows the size of the
change. Excluded paths stay in
the work tree and out of the commit.

  strata commit -m "motd"
  strata commit -F msg.txt             # or -F - for standard input
  strata commit -m "x" --change 'ENV PATH=/opt/bin:$PATH' --change 'CMD ["nginx"]'
  strata commit --from web -m "state after a week"   # a run -d --rev, running or not
  strata commit --amend                # fold the work tree's changes into HEAD

--change takes Dockerfile instructions, as docker commit does: ENV, CMD,
ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL, each checked
as build checks it (EXPOSE's ports, STOPSIGNAL's signal): a bad one is an
error and nothing is committed. As docker's, $VAR and ${VAR:-default}
expand from the Env before the instruction, as a Dockerfile's shell
quoting allows ('$A' and \$A stay as they are; not in CMD and
ENTRYPOINT), a relative WORKDIR is under the one before and ENTRYPOINT
drops the CMD it inherits.

--from keeps the run's config as docker commit keeps a container's: -e
over the image's Env, -l over its labels, -w, -u, --stop-signal, the
command (COMMAND as CMD, --entrypoint as ENTRYPOINT) and the exposed
ports (--expose, -p); --change applies on top.

A config change alone makes a commit; with no change at all, commit says
"nothing to commit" unless --allow-empty. The date is --date (RFC 3339), else
$SOURCE_DATE_EPOCH, else now; the author is --author, else [user] in the
repository's config, else git's global identity.

The message is -m's (several -m are joined as paragraphs, as git joins
them) or the file -F names (-F -: standard input). It is cleaned as git
cleans a message it does not edit: trailing spaces cut, runs of blank
lines made one, blank lines at either end dropped. Message and author must
be UTF-8: the image config is JSON, which would change other bytes.

--amend replaces HEAD, as git's: the new commit has HEAD's parent, HEAD's
changes and the work tree's in one layer, and HEAD's message, author and
config, each unless -m, --author or --change says otherwise; the date is
new. A merge or a root commit is not amended (reset --soft HEAD~1 and
commit, for the one; the other has no parent to stand on). It remounts
the work tree on HEAD's parent: while a process or container uses the
tree it is refused, as reset is, since they would keep the old mount
(a plain commit keeps the mount, and freezes the containers meanwhile).

Exit status: 0 on success, 1 on errors (including nothing to commit), 2 on
usage errors.

During a merge, rebase, cherry-pick or revert stopped on conflicts, commit
concludes the stopped step as --continue does, with -m as its message and
--change applied to its merged config (how config conflicts are resolved).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			msg, set, err := g.commitMessage(cmd.Context(), o.messages, o.file)
			if err != nil {
				return err
			}
			if !set && !o.amend {
				return usagef("commit: -m MSG or -F FILE is required")
			}
			o.message = msg
			if o.amend && o.from != "" {
				return usagef("commit: --amend and --from do not go together")
			}
			if err := checkAuthor("commit", o.author); err != nil {
				return err
			}
			co := worktree.CommitOptions{Message: o.message, AllowEmpty: o.allowEmpty, Author: o.author}
			if len(o.changes) > 0 {
				co.Config = func(c *ocispec.ImageConfig) error { return change.Apply(c, o.changes) }
			}
			date, err := commitDate(o.date)
			if err != nil {
				return err
			}
			co.Date = date
			if co.Mtime, err = layerMtimes(); err != nil {
				return err
			}
			if o.from != "" {
				c, n, err := commitFrom(cmd.Context(), g, o.from, co)
				if c != nil && !o.quiet {
					fmt.Fprintf(g.stdout, "[detached HEAD %s] %s\n %s changed\n", shortID(c.ID), pathquote.Text(firstLine(o.message)), plural(n, "path"))
				}
				return err
			}
			_, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			if seq, ok, err := w.Sequence(); err != nil {
				return err
			} else if ok && o.amend {
				return fmt.Errorf("commit --amend: a %s is stopped on conflicts: conclude it with commit -m or abort it first", seq.Op)
			} else if ok {
				// During a merge, rebase, cherry-pick or revert, commit
				// concludes the stopped step, as git's does.
				out, err := w.Continue(cmd.Context(), worktree.ContinueOptions{Config: co.Config, Message: o.message, Mtime: co.Mtime})
				return report(g, seq.Op, out, err)
			}
			var c *objects.Commit
			var n int // paths changed
			if o.amend {
				if c, n, err = amend(cmd.Context(), w, co, o.changes); c != nil {
					o.message = c.Message()
				}
			} else {
				thaw, ferr := freezeRuns(w)
				if ferr != nil {
					return fmt.Errorf("commit: %w", ferr)
				}
				c, n, err = w.Commit(cmd.Context(), co)
				thaw()
			}
			if errors.Is(err, worktree.ErrNothingToCommit) {
				return fmt.Errorf("commit: nothing to commit, work tree clean (use --allow-empty to commit anyway)")
			}
			if c == nil && err != nil {
				return err
			}
			h, herr := w.Head()
			where := headName(h.Branch)
			if herr != nil {
				where = headName("")
			}
			if !o.quiet {
				fmt.Fprintf(g.stdout, "[%s %s] %s\n %s changed\n", where, shortID(c.ID), pathquote.Text(firstLine(o.message)), plural(n, "path"))
			}
			if err != nil {
				return fmt.Errorf("commit: committed %s, but: %w", shortID(c.ID), err)
			}
			// Once many commits are stacked on the mount and nothing uses
			// the tree, remount it on the new commit: the upper then stops
			// keeping every change since the mount was made.
			if _, err := w.Compact(cmd.Context(), worktree.CompactAfter); err != nil {
				slog.Warn("compact the work tree", "err", err)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&o.messages, "message", "m", nil, "the commit message; several -m are joined as paragraphs")
	cmd.Flags().StringVarP(&o.file, "file", "F", "", "take the commit message from `FILE` (-: standard input)")
	cmd.Flags().BoolVar(&o.allowEmpty, "allow-empty", false, "commit even if nothing changed")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print no summary of the commit (errors still go to stderr)")
	// strata has no index: every change in the work tree is committed,
	// which is what git's -a asks for. Scripts that say 'commit -am' work.
	cmd.Flags().BoolP("all", "a", false, "accepted for git's -a: every change in the work tree is committed anyway")
	cmd.Flags().BoolVar(&o.amend, "amend", false, "replace HEAD with a commit of its changes and the work tree's, on HEAD's parent (message, author and config kept unless given)")
	cmd.Flags().Bool("no-edit", false, "accepted for git's --amend --no-edit: the message is kept unless -m gives one")
	cmd.Flags().StringVar(&o.author, "author", "", "author as `\"Name <email>\"`")
	cmd.Flags().StringVar(&o.date, "date", "", "commit date, RFC 3339")
	cmd.Flags().StringVar(&o.from, "from", "", "commit the changes of the detached run `NAME` (run -d --rev; a running one is frozen meanwhile) as a child of its revision")
	cmd.Flags().StringArrayVarP(&o.changes, "change", "c", nil, "apply a Dockerfile `INSTRUCTION` to the image config (repeatable)")
	return cmd
}

// freezeRuns freezes every container running in the work tree, as docker
// commit pauses, so that none can change the upper (swap a directory for a
// symlink, say) while commit reads it. thaw resumes them.
func freezeRuns(w *worktree.Worktree) (thaw func(), err error) {
	thawOrphans()
	ids, err := w.Runs()
	if err != nil {
		return nil, err
	}
	var thaws []func() error
	thaw = func() {
		for _, t := range thaws {
			if err := t(); err != nil {
				slog.Warn("thaw container", "err", err)
			}
		}
	}
	for _, id := range ids {
		t, err := exec.Freeze(id)
		if errors.Is(err, exec.ErrNotRunning) {
			continue // it ended since Runs looked, or runs rootless without a cgroup
		}
		if err != nil {
			thaw()
			return nil, fmt.Errorf("freeze container %s: %w", id, err)
		}
		thaws = append(thaws, t)
	}
	return thaw, nil
}

// thawOrphans thaws containers a killed commit left frozen; commit, ps and
// gc call it, so a frozen service is one command away from running again.
func thawOrphans() {
	for _, id := range exec.ThawOrphans() {
		slog.Warn("thawed a container that a killed commit left frozen", "run", id)
	}
}
