package main

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/dispwidth"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("branch", newBranchCommand) }

type branchOptions struct {
	del, move, force bool
	copy             bool
	forceDel         bool // -D
	forceMove        bool // -M
	forceCopy        bool // --force-copy, git's -C
	all, remotes     bool
	format           string
	list             bool
	verbose          int // -v (accepted), -vv: each branch's upstream
	showCurrent      bool
	unsetUpstream    bool
	setUpstream      string    // -u, --set-upstream-to
	filter           refFilter // --contains, --merged, --no-merged, --points-at
	track            string    // -t, --track[=MODE], --no-track: trackDirect, trackInherit, trackNever
	quiet            bool      // -q: no messages of what was made, moved or deleted
}

// refJSON is the JSON form of a branch or tag.
type refJSON struct {
	Name    string `json:"name"`
	Ref     string `json:"ref"`
	Commit  string `json:"commit"`
	Short   string `json:"short"`
	Current bool   `json:"current,omitempty"`
	Subject string `json:"subject"`
}

func newBranchCommand(g *globals) *cobra.Command {
	var o branchOptions
	cmd := &cobra.Command{
		Use:   "branch [[-t|--no-track] NAME [START] | -d NAME... | -m [OLD] NEW | -c [OLD] NEW]",
		Short: "List, create, delete or rename branches",
		Long: `With no arguments, list branches; the current one is marked with *, and
each name is padded to the longest listed, as git's branch -v.
  strata branch dev main~1     create dev at main~1 (default START: HEAD)
  strata branch -d dev         delete dev, if HEAD holds its commits (-D: anyway;
                               its reflog keeps them from gc until it expires), and
                               its config (branch.dev.*)
  strata branch -m old new     rename (-m new: the current branch); its reflog and
                               config (branch.old.*: its upstream) go with it
  strata branch -c old new     copy, with its reflog and config (-c new: the current
                               branch; HEAD stays); -M, --force-copy (git's -C): over
                               an existing branch
  strata branch -r             remote-tracking branches, as fetch left them
  strata branch -a             both (remote ones as remotes/REMOTE/NAME)
  strata branch --format json  [{"name","ref","commit","short","current","subject"}]
  strata branch --format '%(refname:short)'   a template: the names alone
  strata branch --list 'feat*'  the branches matching a pattern
  strata branch --show-current  the current branch's name
  strata branch -vv             each branch's upstream and how it stands against it:
                                [origin/main: ahead 1], [origin/main: gone]
  strata branch -u origin/main [NAME]     make origin/main its upstream (branch.NAME.remote, .merge)
  strata branch --unset-upstream [NAME]   forget a branch's upstream
  strata branch --merged        those whose commits HEAD holds (-d deletes them
                                safely); --no-merged: the others
  strata branch --contains v1   those that hold v1's commit (--points-at v1:
                                those at it)
  strata branch --sort -committerdate   the newest first (refname, version:refname too)

A new branch made from a remote-tracking branch (origin/main) gets it
as its upstream, as git's: "branch 'dev' set up to track 'origin/main'.".
Config branch.autoSetupMerge says otherwise, as git's: false (never),
always (from a local branch too), inherit (the start branch's own
upstream) or simple (only a remote branch of the new branch's name).
switch -c and checkout -b do the same. -t, --track makes START the
upstream whatever the config says, a local branch too (remote "."), and
refuses a START that is no branch ("cannot set up tracking information;
starting point 'v1' is not a branch"); --track=inherit copies START's
own upstream; --no-track sets none; the last given wins, as git's.
Where no branch is made (a listing, -d, -m, -u), both are ignored, as
git's.
-q says nothing of the branches made, deleted or given an upstream
(lists print all the same; warnings and errors too), as git's.

--contains, --merged, --no-merged and --points-at take REV (default
HEAD) as git's do: the word after a bare flag is its REV ("--merged
main"), so write patterns with --list before it.

` + refTemplateHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := checkRefFormat(o.format); err != nil {
				return err
			}
			if o.forceMove {
				o.move, o.force = true, true // git's -M is -m -f
			}
			if o.forceCopy {
				o.copy, o.force = true, true // and --force-copy (git's -C) is -c -f
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			if btoi(o.del || o.forceDel)+btoi(o.move)+btoi(o.copy)+btoi(o.showCurrent)+btoi(o.unsetUpstream)+btoi(o.setUpstream != "") > 1 {
				// One would win and the other be dropped: -d -m a b deleted a and b.
				return usagef("branch: -d, -m, -c, -u, --show-current and --unset-upstream exclude each other")
			}
			if o.filter.active() {
				if o.del || o.forceDel || o.move || o.copy || o.showCurrent || o.unsetUpstream || o.setUpstream != "" {
					return usagef("branch: --contains, --merged, --no-merged and --points-at only list")
				}
				args, o.list = o.filter.takeArgs(args), true
			}
			if cmd.Flags().Changed("set-upstream-to") && o.setUpstream == "" {
				return usagef("branch -u: name the upstream, a remote-tracking branch (REMOTE/BRANCH)")
			}
			o.filter.upstreams = o.verbose > 1
			if o.quiet && !o.listing(args) {
				// git's -q: errors and warnings still go to stderr.
				g.stdout = io.Discard
			}
			// --track and --no-track where no branch is made are
			// ignored, as git's branch ignores them.
			switch {
			case o.showCurrent:
				if len(args) > 0 {
					return usagef("branch --show-current: takes no arguments")
				}
				if o.format == "json" {
					return usagef("branch --show-current: prints a name, not JSON ('branch --format json' marks the current branch)")
				}
				return showCurrentBranch(g, r)
			case o.unsetUpstream:
				if o.list || o.all || o.remotes {
					return usagef("branch --unset-upstream: -a, -r and --list only list")
				}
				return unsetUpstream(r, args)
			case o.setUpstream != "":
				if o.list || o.all || o.remotes {
					return usagef("branch -u: -a, -r and --list only list")
				}
				return setUpstream(g, r, o.setUpstream, args)
			case o.list && (o.del || o.forceDel || o.move || o.copy):
				return usagef("branch --list: -d, -m and -c do not list")
			case o.list && o.remotes:
				return listRefsMatching(g, r, args, o.filter, refs.Remotes, o.format)
			case o.list && o.all:
				return listRefsMatching(g, r, args, o.filter, refs.Heads, o.format, refs.Remotes)
			case o.list:
				return listRefsMatching(g, r, args, o.filter, refs.Heads, o.format)
			case (o.del || o.forceDel) && o.remotes:
				if len(args) == 0 {
					return usagef("branch -d -r: name the remote-tracking branch to delete (REMOTE/NAME)")
				}
				return deleteRemoteBranches(g, r, args)
			case o.del || o.forceDel:
				if len(args) == 0 {
					return usagef("branch -d: name the branch to delete")
				}
				return deleteBranches(g, r, args, o.forceDel || o.force)
			case o.move || o.copy:
				return moveOrCopy(cmd.Context(), r, args, o.copy, o.force)
			case len(args) == 0 && o.remotes:
				return listRefsMatching(g, r, nil, o.filter, refs.Remotes, o.format)
			case len(args) == 0 && o.all:
				return listRefsMatching(g, r, nil, o.filter, refs.Heads, o.format, refs.Remotes)
			case len(args) == 0:
				return listRefsMatching(g, r, nil, o.filter, refs.Heads, o.format)
			case o.all || o.remotes:
				return usagef("branch: -a and -r only list")
			case len(args) <= 2:
				return createBranch(g, r, args, o.force, o.track)
			}
			return usagef("branch: too many arguments")
		},
	}
	cmd.Flags().BoolVarP(&o.del, "delete", "d", false, "delete branches")
	cmd.Flags().BoolVarP(&o.forceDel, "force-delete", "D", false, "delete branches even if HEAD does not hold their commits (-d -f too)")
	// Which refs to list: the last of -a and -r given wins, as in git.
	cmd.Flags().VarPF(lastWins{&o.all, &o.remotes}, "all", "a", "list remote-tracking branches too (as remotes/REMOTE/NAME)").NoOptDefVal = "true"
	cmd.Flags().VarPF(lastWins{&o.remotes, &o.all}, "remotes", "r", "list remote-tracking branches (REMOTE/NAME); with -d, delete them").NoOptDefVal = "true"
	cmd.Flags().BoolVarP(&o.move, "move", "m", false, "rename a branch")
	cmd.Flags().BoolVarP(&o.forceMove, "force-move", "M", false, "rename a branch even over an existing one (-m -f)")
	cmd.Flags().BoolVarP(&o.copy, "copy", "c", false, "copy a branch, with its reflog and config (its upstream)")
	// git's -C: strata's -C is the global --chdir, as git's own -C DIR.
	cmd.Flags().BoolVar(&o.forceCopy, "force-copy", false, "copy a branch even over an existing one (-c -f; git's -C, which is strata's --chdir)")
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "move an existing branch (none a work tree has checked out: reset moves those); with -d, delete an unmerged one")
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text, json or a `TEMPLATE` of %(FIELD)s")
	cmd.Flags().BoolVarP(&o.list, "list", "l", false, "list the branches matching the `PATTERN`s given (shell globs; * and ? match / too, as git's)")
	cmd.Flags().CountVarP(&o.verbose, "verbose", "v", "-v is accepted (the list always shows each branch's commit and subject); -vv adds its upstream, as git's: [origin/main: ahead 1]")
	cmd.Flags().BoolVar(&o.showCurrent, "show-current", false, "print the current branch's name (nothing on a detached HEAD)")
	cmd.Flags().StringVarP(&o.setUpstream, "set-upstream-to", "u", "", "make `UPSTREAM`, a remote-tracking branch (origin/main) or a local one, the upstream of a branch (default: the current one)")
	cmd.Flags().BoolVar(&o.unsetUpstream, "unset-upstream", false, "forget the upstream of a branch (default: the current one): remove branch.NAME.remote and .merge")
	addTrackFlags(cmd.Flags(), &o.track, "the new branch")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "say nothing of the branches made, deleted or given an upstream (lists are printed)")
	o.filter.addFlags(cmd.Flags())
	return cmd
}

// listing says whether branch prints a list, or a name (--show-current),
// with args, which -q leaves alone, as git's: no name to make and no
// -d, -m, -c, -u or --unset-upstream.
func (o branchOptions) listing(args []string) bool {
	changes := o.del || o.forceDel || o.move || o.copy || o.unsetUpstream || o.setUpstream != ""
	return !changes && (o.list || o.all || o.remotes || o.showCurrent || len(args) == 0)
}

// showCurrentBranch prints the branch HEAD is on, as git's
// --show-current: nothing when HEAD is detached.
func showCurrentBranch(g *globals, r *repo.Repo) error {
	head, err := r.Refs.Current()
	if err != nil {
		return fmt.Errorf("branch --show-current: %w", err)
	}
	if head.Branch != "" {
		fmt.Fprintln(g.stdout, refs.ShortName(head.Branch))
	}
	return nil
}

// createRef creates prefix+name at rev; force lets it move an existing one.
func createRef(r *repo.Repo, prefix, name, rev string, force bool, msg string) error {
	kind := "tag"
	if prefix == refs.Heads {
		kind = "branch"
	}
	full := prefix + name
	if err := refs.CheckName(full); err != nil {
		return usagef("%s %s: %w", kind, name, err)
	}
	c, err := r.Resolve(rev)
	if err != nil {
		return fmt.Errorf("%s %s: %w", kind, name, err)
	}
	old := ""
	if force {
		old = string(refs.Any)
		if err := notCheckedOutAnywhere(r, prefix, full); err != nil {
			return fmt.Errorf("%s -f %s: %w", kind, name, err)
		}
	}
	if err := r.Refs.Update(full, c.ID, digest.Digest(old), msg); err != nil {
		if errors.Is(err, refs.ErrExists) {
			return fmt.Errorf("%s %s: already exists (use -f to move it)", kind, name)
		}
		return fmt.Errorf("%s %s: %w", kind, name, err)
	}
	return nil
}

// notCheckedOutAnywhere refuses to force-move a branch a work tree has
// checked out, as git's branch -f does: HEAD would move while the tree
// still shows the old commit, and status would call it clean. reset
// moves such a branch with its tree.
func notCheckedOutAnywhere(r *repo.Repo, prefix, full string) error {
	if prefix != refs.Heads {
		return nil
	}
	w, err := worktree.CheckedOutIn(r, full, nil)
	if err != nil || w == nil {
		return err
	}
	return fmt.Errorf("it is checked out in %s; 'strata reset' there moves it with the work tree", w.Target())
}

// deleteBranches deletes the branches names. As git's branch -d, one
// whose commit HEAD does not hold (not HEAD's commit or an ancestor of it)
// is refused unless force: its commits would be reachable from its
// reflog alone, until gc expires that.
func deleteBranches(g *globals, r *repo.Repo, names []string, force bool) error {
	head, err := r.Refs.Current()
	if err != nil {
		return err
	}
	verb := "branch -d" // as typed: git's messages name -D too
	if force {
		verb = "branch -D"
	}
	for _, name := range names {
		full := refs.Heads + name
		if full == head.Branch {
			return fmt.Errorf("%s %s: it is the current branch; check out another first", verb, name)
		}
		// Checked again under the refs lock the deletion takes: a switch
		// to the branch in another work tree may be under way.
		notCheckedOut := func() error {
			if w, err := worktree.CheckedOutIn(r, full, nil); err != nil {
				return err
			} else if w != nil {
				return fmt.Errorf("it is checked out in %s; check out another there first", w.Target())
			}
			return nil
		}
		if err := notCheckedOut(); err != nil {
			return fmt.Errorf("%s %s: %w", verb, name, err)
		}
		d, err := r.Refs.Read(full)
		if errors.Is(err, refs.ErrBroken) {
			// It holds no commit to keep: -d deletes it too, as nothing
			// else can.
			if err := r.Refs.DeleteIf(full, refs.Any, "branch: deleted", notCheckedOut); err != nil {
				return fmt.Errorf("%s %s: %w", verb, name, err)
			}
			if err := dropBranchConfig(r, name); err != nil {
				return fmt.Errorf("%s %s: the branch is deleted, but its config is not: %w", verb, name, err)
			}
			fmt.Fprintf(g.stdout, "Deleted broken branch %s.\n", name)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s %s: no such branch", verb, name)
		}
		if !force {
			merged := head.Commit != ""
			if merged {
				if merged, err = repo.IsAncestor(r.Objects, d, head.Commit); err != nil {
					return fmt.Errorf("%s %s: %w", verb, name, err)
				}
			}
			if !merged {
				return fmt.Errorf("%s %s: not fully merged: HEAD does not hold %s; 'strata branch -D %s' deletes it anyway", verb, name, shortID(d), name)
			}
		}
		if err := r.Refs.DeleteIf(full, d, "branch: deleted", notCheckedOut); err != nil {
			return fmt.Errorf("%s %s: %w", verb, name, err)
		}
		if err := dropBranchConfig(r, name); err != nil {
			return fmt.Errorf("%s %s: the branch is deleted, but its config is not: %w", verb, name, err)
		}
		fmt.Fprintf(g.stdout, "Deleted branch %s (was %s).\n", name, shortID(d))
	}
	return nil
}

// deleteRemoteBranches is git's branch -d -r: remote-tracking branches
// (a fetch makes them again while the remote has the branch).
func deleteRemoteBranches(g *globals, r *repo.Repo, names []string) error {
	for _, name := range names {
		full := refs.Remotes + name
		d, err := r.Refs.Read(full)
		if err != nil && !errors.Is(err, refs.ErrBroken) {
			return fmt.Errorf("branch -d -r %s: no such remote-tracking branch", name)
		}
		if err := r.Refs.Delete(full, refs.Any, "branch: deleted"); err != nil {
			return fmt.Errorf("branch -d -r %s: %w", name, err)
		}
		if d == "" {
			fmt.Fprintf(g.stdout, "Deleted broken remote-tracking branch %s.\n", name)
			continue
		}
		fmt.Fprintf(g.stdout, "Deleted remote-tracking branch %s (was %s).\n", name, shortID(d))
	}
	return nil
}

// listRefsMatching lists the refs under prefix, then under more (branch
// -a: remote-tracking branches, named remotes/REMOTE/NAME as git does),
// whose short name matches one of patterns (shell globs, as git's
// --list), or all without any, that filter keeps, in filter's order.
func listRefsMatching(g *globals, r *repo.Repo, patterns []string, filter refFilter, prefix, format string, more ...string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return usagef("bad pattern %q: %w", p, err)
		}
	}
	if err := checkSort(filter.sort); err != nil {
		return err
	}
	tmpl, err := checkRefFormat(format)
	if err != nil {
		return err
	}
	keep, err := filter.keeper(r)
	if err != nil {
		return err
	}
	all, err := r.Refs.List(prefix)
	if err != nil {
		return err
	}
	var list []refs.Ref
	for _, ref := range all {
		if matchesAny(patterns, ref.Short()) {
			list = append(list, ref)
		}
	}
	for _, m := range more {
		l, err := r.Refs.List(m)
		if err != nil {
			return err
		}
		for _, ref := range l {
			if matchesAny(patterns, ref.Short()) {
				list = append(list, ref)
			}
		}
	}
	if keep != nil {
		if list, err = keepRefs(list, keep); err != nil {
			return err
		}
	}
	sortRefs(r, list, filter.sort)
	head, err := r.Refs.Current()
	if err != nil {
		return err
	}
	out := []refJSON{}
	messages := map[string]string{} // tag -n's, by ref
	for _, ref := range list {
		subject := ""
		s, err := r.Objects.ReadSummary(ref.Target)
		if err == nil {
			subject, _, _ = strings.Cut(s.Message, "\n")
			messages[ref.Name] = s.Message
		}
		if tmpl != nil {
			fmt.Fprintln(g.stdout, tmpl.expand(r, ref, s, ref.Name == head.Branch))
			continue
		}
		name := ref.Short()
		if len(more) > 0 && strings.HasPrefix(ref.Name, refs.Remotes) {
			name = "remotes/" + name
		}
		out = append(out, refJSON{Name: name, Ref: ref.Name, Commit: ref.Target.String(),
			Short: shortID(ref.Target), Current: ref.Name == head.Branch, Subject: subject})
	}
	if format == "json" {
		return writeJSON(g.stdout, out)
	}
	// git's branch -v: names padded to the longest one listed.
	width := 0
	for _, e := range out {
		width = max(width, dispwidth.String(pathquote.Name(e.Name))) // in columns, as git's
	}
	for _, e := range out {
		mark := " "
		if e.Current {
			mark = "*"
		}
		// A name made before strata refused controls in names, or
		// handed over in a repository, is escaped as text is.
		switch {
		case prefix == refs.Heads || prefix == refs.Remotes:
			up := ""
			if filter.upstreams && strings.HasPrefix(e.Ref, refs.Heads) {
				t, err := trackingOf(r, e.Ref, digest.Digest(e.Commit))
				if err != nil {
					return err
				}
				up = t.bracket()
			}
			name := dispwidth.Pad(pathquote.Name(e.Name), width)
			fmt.Fprintf(g.stdout, "%s %s %s %s%s\n", mark, name, e.Short, up, pathquote.Text(e.Subject))
		case filter.lines > 0:
			// git's %(align:15): 15 columns, a wide character two.
			fmt.Fprintf(g.stdout, "%s %s\n", dispwidth.Pad(pathquote.Name(e.Name), 15), messageLines(messages[e.Ref], filter.lines))
		default:
			fmt.Fprintln(g.stdout, pathquote.Name(e.Name))
		}
	}
	return nil
}

// messageLines is git tag -n's text: the first n lines of a message,
// escaped, the lines after the first indented by four spaces.
func messageLines(msg string, n int) string {
	lines := strings.Split(strings.TrimRight(pathquote.Text(msg), "\n"), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n    ")
}

// keepRefs is the refs of list keep keeps.
func keepRefs(list []refs.Ref, keep func(refs.Ref) (bool, error)) ([]refs.Ref, error) {
	var out []refs.Ref
	for _, ref := range list {
		ok, err := keep(ref)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref.Short(), err)
		}
		if ok {
			out = append(out, ref)
		}
	}
	return out, nil
}
