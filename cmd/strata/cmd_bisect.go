package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/bisect"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("bisect", newBisectCommand) }

func newBisectCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bisect",
		Short: "Find the commit that broke something, by binary search",
		Long: `Find the first bad commit between a good and a bad one, as git bisect does:
each step tests the commit that best halves the commits left (reachable
from bad and from no good commit, through both parents of merges).

  strata bisect start BAD GOOD      # or: start, then bad REV and good REV
  strata bisect good | bad | skip   # the commit checked out is good, bad, untestable
  strata bisect run -- nginx -t     # let a command decide, each step
  strata bisect log                 # what was decided so far
  strata bisect reset               # back to where HEAD was

By hand, each step checks the commit to test out in the work tree
(detached HEAD), which must have no uncommitted changes; 'bisect reset'
returns to the branch or commit it was on. With start --no-checkout, or
when nothing is checked out, the work tree stays as it is and the commit
to test is recorded in .strata/BISECT_HEAD.

A good commit that is not an ancestor of the bad one (on another side of
a fork) makes its merge base with it the first commit to test, as git's
("Bisecting: a merge base must be tested"): bad, the bug was fixed on
the good side and the bisection stops, exit 3. A good commit that
descends from the bad one is refused (swapped?).

Exit status: 0 on success, 1 on errors, 2 on usage errors; 2 also, as
git's, when only skipped commits are left to test (they are listed,
then "We cannot bisect more!", on stdout); 3 when a merge base is bad.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("bisect: unknown subcommand %q; see 'strata bisect --help'", args[0])
			}
			return usagef("bisect: name a subcommand: start, good, bad, skip, run, log or reset")
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	withRevs := []*cobra.Command{newBisectStartCommand(g), newBisectMarkCommand(g, "good"), newBisectMarkCommand(g, "bad"),
		newBisectMarkCommand(g, "skip"), newBisectResetCommand(g)}
	for _, c := range withRevs {
		c.ValidArgsFunction = completeRevs(g) // TAB offers branches, tags, HEAD
	}
	cmd.AddCommand(withRevs...)
	cmd.AddCommand(newBisectLogCommand(g), newBisectRunCommand(g))
	return cmd
}

func newBisectStartCommand(g *globals) *cobra.Command {
	var noCheckout bool
	cmd := &cobra.Command{
		Use:   "start [--no-checkout] [BAD [GOOD...]]",
		Short: "Start a bisection, optionally naming the bad and good commits",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return bisectStart(cmd.Context(), g, args, noCheckout)
		},
	}
	cmd.Flags().BoolVar(&noCheckout, "no-checkout", false, "leave the work tree alone; record the commit to test in .strata/BISECT_HEAD")
	return cmd
}

func bisectStart(ctx context.Context, g *globals, args []string, noCheckout bool) error {
	b, err := openBisection(g)
	if err != nil {
		return err
	}
	if b.started() {
		return errors.New("a bisection is in progress; 'strata bisect reset' ends it")
	}
	// Resolve everything before anything is written.
	var ids []digest.Digest
	for _, a := range args {
		c, err := b.r.Resolve(a)
		if err != nil {
			return err
		}
		ids = append(ids, c.ID)
	}
	if len(ids) > 1 {
		if err := b.checkAncestry(ids[0], ids[1:]); err != nil {
			return err
		}
	}
	h, err := b.r.Refs.ReadHead()
	if err != nil {
		return err
	}
	_, checkedOut, err := b.w.State()
	if err != nil {
		return err
	}
	moves := checkedOut && !noCheckout
	orig := h.Branch
	if moves {
		if h.Commit == "" {
			return fmt.Errorf("HEAD has no commit yet; commit or import something first")
		}
		if err := refuseDirty(ctx, b.w); err != nil {
			return err
		}
		if orig == "" {
			orig = h.Commit.String()
		}
	} else {
		orig = "" // nothing to go back to
	}
	if !moves {
		if err := b.write(bisectHeadFile, "\n"); err != nil {
			return err
		}
	}
	if err := b.write(bisectStartFile, orig+"\n"); err != nil {
		return err
	}
	var comments []string
	for i, id := range ids {
		term := "good"
		if i == 0 {
			term = "bad"
		}
		comments = append(comments, fmt.Sprintf("# %s: %s", term, b.describe(id)))
	}
	start := "strata bisect start"
	if noCheckout {
		start += " --no-checkout"
	}
	for _, a := range args {
		start += " " + shellQuote(a)
	}
	if err := b.log(append(comments, start)...); err != nil {
		return err
	}
	for i, id := range ids {
		term, name := "good", bisectRefs+"good-"+id.Encoded()
		if i == 0 {
			term, name = "bad", bisectBadRef
		}
		if err := b.r.Refs.Update(name, id, refs.Any, "bisect "+term); err != nil {
			return err
		}
	}
	_, err = b.advance(ctx, g.stdout, g.stderr)
	return err
}

// refuseDirty refuses to move a work tree with uncommitted changes,
// listing them, or with a staged config (reset --soft's), which its
// checkouts of other commits would refuse to carry.
func refuseDirty(ctx context.Context, w *worktree.Worktree) error {
	changes, err := w.Status(ctx)
	if err != nil {
		return err
	}
	if err := dirtyError(w, changes); err != nil {
		return err
	}
	_, fields, err := w.StagedConfig()
	if err != nil || len(fields) == 0 {
		return err
	}
	return fmt.Errorf("a staged config in %s (%s, from reset --soft); commit it or 'strata reset --hard' first", w.Target(), strings.Join(fields, ", "))
}

func dirtyError(w *worktree.Worktree, changes []tree.Change) error {
	if len(changes) == 0 {
		return nil
	}
	var list []string
	for i, c := range changes {
		if i == 10 {
			list = append(list, fmt.Sprintf("and %d more", len(changes)-10))
			break
		}
		list = append(list, fmt.Sprintf("%c %s", c.Kind, pathquote.Quote(c.Path)))
	}
	them := "them"
	if len(changes) == 1 {
		them = "it"
	}
	return fmt.Errorf("%s in %s: %s; commit %s or 'strata reset --hard' first",
		plural(len(changes), "uncommitted change"), w.Target(), strings.Join(list, ", "), them)
}

// advance chooses the next commit to test and moves there, or prints the
// first bad commit (done). Without a bad and a good commit it says what
// it waits for. A merge base of bad and a good commit that is not its
// ancestor comes first, as git's; warnings go to warn.
func (b *bisection) advance(ctx context.Context, out, warn io.Writer) (done bool, err error) {
	cur, _ := b.current() // none yet (start --no-checkout): ""
	if mb, err := b.mergeBaseToTest(warn, cur); err != nil || mb != "" {
		if err != nil {
			return false, err
		}
		fmt.Fprintln(out, "Bisecting: a merge base must be tested")
		return false, b.moveTo(ctx, out, mb)
	}
	st, ok, err := b.next()
	if err != nil {
		return false, err
	}
	if !ok {
		bad, good, _, err := b.terms()
		if err != nil {
			return false, err
		}
		var status string
		switch {
		case bad == "" && len(good) == 0:
			status = "status: waiting for both good and bad commits"
		case bad == "":
			status = fmt.Sprintf("status: waiting for bad commit, %s known", plural(len(good), "good commit"))
		default:
			status = "status: waiting for good commit(s), bad commit known"
		}
		// As git's bisect_log_printf: said, and kept in the log.
		fmt.Fprintln(out, status)
		return false, b.log("# " + status)
	}
	if done, err := b.finished(out, st); done || err != nil {
		return done, err
	}
	printBisecting(out, st)
	return false, b.moveTo(ctx, out, st.Next)
}

// moveTo makes next the commit to test: checked out in the work tree,
// or recorded in BISECT_HEAD; then names it.
func (b *bisection) moveTo(ctx context.Context, out io.Writer, next digest.Digest) error {
	if b.moves() {
		_, err := b.w.Checkout(ctx, worktree.CheckoutOptions{Rev: next.String(), Detach: true})
		var de *worktree.DirtyError
		if errors.As(err, &de) {
			return dirtyError(b.w, de.Changes)
		}
		if err != nil {
			return err
		}
	} else if err := b.write(bisectHeadFile, next.String()+"\n"); err != nil {
		return err
	}
	fmt.Fprintln(out, b.describe(next))
	return nil
}

// errOnlySkipped ends a bisection with only skipped commits left: git's
// exit 2, its words on stdout and nothing on stderr.
var errOnlySkipped = exitCodeError{code: 2}

// finished prints the first bad commit when st found it, or the commits
// it could be when only skipped ones are left (errOnlySkipped).
func (b *bisection) finished(out io.Writer, st bisect.Step) (bool, error) {
	if st.OnlySkipped != nil {
		// As git's: the skipped commits, then the bad one; the log
		// keeps each as a possible first bad commit, the bad one first.
		fmt.Fprintln(out, "There are only 'skip'ped commits left to test.\nThe first bad commit could be any of:")
		for _, c := range slices.Concat(st.OnlySkipped[1:], st.OnlySkipped[:1]) {
			fmt.Fprintln(out, shortID(c))
		}
		fmt.Fprintln(out, "We cannot bisect more!")
		lines := []string{"# only skipped commits left to test"}
		for _, c := range st.OnlySkipped {
			lines = append(lines, "# possible first bad commit: "+b.describe(c))
		}
		if err := b.log(lines...); err != nil {
			return true, err
		}
		return true, errOnlySkipped
	}
	if !st.Done {
		return false, nil
	}
	fmt.Fprintf(out, "%s is the first bad commit\n", shortID(st.Next))
	if err := b.showCommit(out, st.Next); err != nil {
		return true, err
	}
	return true, b.log("# first bad commit: " + b.describe(st.Next))
}

func printBisecting(out io.Writer, st bisect.Step) {
	revs, steps := "revisions", "steps"
	if st.Left == 1 {
		revs = "revision"
	}
	if st.Steps == 1 {
		steps = "step"
	}
	fmt.Fprintf(out, "Bisecting: %d %s left to test after this (roughly %d %s)\n", st.Left, revs, st.Steps, steps)
}

// showCommit prints the commit as log does, then what it changed against
// its first parent (as diff --name-status).
func (b *bisection) showCommit(out io.Writer, id digest.Digest) error {
	s, err := b.r.Objects.ReadSummary(id)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "commit %s\nAuthor: %s\nDate:   %s\n\n", shortID(id), pathquote.Text(s.Author), s.Date.Format("Mon Jan 2 15:04:05 2006 -0700"))
	for _, line := range strings.Split(strings.TrimRight(pathquote.Text(s.Message), "\n"), "\n") {
		fmt.Fprintf(out, "    %s\n", line)
	}
	c, err := b.r.Objects.ReadCommit(id)
	if err != nil {
		return err
	}
	var parent *objects.Commit // nil: a root commit, or a shallow history
	if p := c.Parent(); p != "" && b.r.Objects.Has(p) {
		if parent, err = b.r.Objects.ReadCommit(p); err != nil {
			return err
		}
	}
	changes, err := tree.DiffRevisions(tree.NewTrees(b.r.Objects), parent, c, nil)
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		fmt.Fprintln(out)
	}
	for _, ch := range changes {
		fmt.Fprintf(out, "%c\t%s\n", ch.Kind, pathquote.Quote(ch.Path))
	}
	return nil
}

func newBisectMarkCommand(g *globals, term string) *cobra.Command {
	use, short := term+" [REV...]", map[string]string{
		"good": "Mark a commit good (default: the one being tested)",
		"bad":  "Mark a commit bad (default: the one being tested)",
		"skip": "Skip a commit that cannot be tested (default: the one being tested)",
	}[term]
	args := cobra.ArbitraryArgs
	if term == "bad" {
		use, args = "bad [REV]", rangeArgs(0, 1)
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			return bisectMark(cmd.Context(), g, term, args)
		},
	}
}

func bisectMark(ctx context.Context, g *globals, term string, args []string) error {
	b, err := openBisection(g)
	if err != nil {
		return err
	}
	if !b.started() {
		return errNotBisecting
	}
	var ids []digest.Digest
	for _, a := range args {
		c, err := b.r.Resolve(a)
		if err != nil {
			return err
		}
		ids = append(ids, c.ID)
	}
	if len(ids) == 0 {
		cur, err := b.current()
		if err != nil || cur == "" {
			return fmt.Errorf("no commit is being tested; name one: strata bisect %s REV", term)
		}
		ids = []digest.Digest{cur}
	}
	bad, good, _, err := b.terms()
	if err != nil {
		return err
	}
	switch term {
	case "good":
		if bad != "" {
			if err := b.checkAncestry(bad, ids); err != nil {
				return err
			}
		}
	case "bad":
		// A candidate of this bisection may be bad whatever the good
		// commits on other sides of a merge; any other commit must
		// descend from every good one.
		// So may the commit being tested: a merge base (mergeBaseToTest).
		cur, _ := b.current() // none yet (start --no-checkout): ""
		if cand, err := b.isCandidate(bad, good, ids[0]); err != nil {
			return err
		} else if !cand && ids[0] != cur {
			if err := b.checkAncestry(ids[0], good); err != nil {
				return err
			}
		}
	}
	for _, id := range ids {
		if err := b.mark(term, id); err != nil {
			return err
		}
	}
	_, err = b.advance(ctx, g.stdout, g.stderr)
	return err
}

func newBisectResetCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reset [REV]",
		Short: "End the bisection: back to where HEAD was (or to REV)",
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := openBisection(g)
			if err != nil {
				return err
			}
			if !b.started() {
				fmt.Fprintln(g.stdout, "We are not bisecting.")
				return nil
			}
			orig, err := b.read(bisectStartFile)
			if err != nil {
				return err
			}
			rev, detach := refs.ShortName(orig), !strings.HasPrefix(orig, refs.Heads)
			if len(args) == 1 {
				rev, detach = args[0], false
			}
			if b.moves() && rev != "" {
				before, _ := b.r.Refs.ReadHead()
				c, err := b.w.Checkout(cmd.Context(), worktree.CheckoutOptions{Rev: rev, Detach: detach})
				var de *worktree.DirtyError
				if errors.As(err, &de) {
					return dirtyError(b.w, de.Changes)
				}
				if err != nil {
					return err
				}
				if before.Commit != "" && c != nil && before.Commit != c.ID {
					fmt.Fprintf(g.stderr, "Previous HEAD position was %s %s\n", shortID(before.Commit), pathquote.Text(b.subject(before.Commit)))
				}
				if err := printHeadMoved(g, b.r, b.w, c, branchKept); err != nil {
					return err
				}
			}
			return b.clear()
		},
	}
}

func newBisectLogCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "log",
		Short: "Show what the bisection decided so far",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := openBisection(g)
			if err != nil {
				return err
			}
			if !b.started() {
				return errNotBisecting
			}
			s, err := b.read(bisectLogFile)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, s)
			return nil
		},
	}
}

// shellQuote quotes s for sh as git's sq_quote does in a bisection's
// log and "running" line: always in single quotes, a ' or ! ended,
// backslashed and quoted again ('\!' keeps csh and bash's history out).
func shellQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, c := range []byte(s) {
		if c == '\'' || c == '!' {
			b.WriteString("'\\")
			b.WriteByte(c)
			b.WriteByte('\'')
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('\'')
	return b.String()
}
