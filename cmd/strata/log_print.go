package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/loggraph"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

// logPrinter prints log's commits: text as the walk goes (log | head
// shows the first commits at once, and memory does not grow with the
// history); JSON is one array, written at the end.
type logPrinter struct {
	w        io.Writer
	r        *repo.Repo
	o        logOptions
	hdr      commitHeader
	paths    []string
	graph    *loggraph.Graph
	walk     *logWalk
	filtered func(*logNode) bool
	entries  []logEntry
	printed  int
}

// emit prints commit d (or keeps it, for JSON).
func (p *logPrinter) emit(d digest.Digest, n *logNode, e logEntry) error {
	defer func() { p.printed++ }()
	switch {
	case p.graph != nil:
		// --left-right's and --cherry-mark's marks are drawn in the
		// graph, not the text: < or >, = for an equivalent commit.
		var text strings.Builder
		hdr := p.hdr
		hdr.leftRight, hdr.cherryMark = false, false
		hdr.write(&text, e, true)
		if p.hdr.leftRight || e.Equivalent {
			p.graph.Mark = e.mark()[0]
		} else {
			p.graph.Mark = 0
		}
		// As git: a parent a filter leaves out is not drawn (only
		// PATHs rewrite parents).
		var ps []string
		for _, pd := range p.walk.shownParents(n) {
			if pn := p.walk.node(pd); pn.err != nil || p.filtered(pn) {
				continue
			}
			ps = append(ps, string(pd))
		}
		io.WriteString(p.w, p.graph.Entry(string(d), ps, text.String(), p.hdr.blankBetween() && p.printed > 0))
	case p.o.format == "json":
		p.entries = append(p.entries, e)
	case n.sum.MergeParent != "" && p.o.mergeView.any() && p.o.merge != mergeOff:
		c, err := p.r.Objects.ReadCommit(d)
		if err == nil {
			err = checkSummary(p.r, n.sum)
		}
		if err == nil {
			err = showMerge(context.Background(), p.w, p.r, c, e, p.paths, p.o.mergeView, p.hdr, p.printed == 0, p.o.merge)
		}
		if err != nil {
			return fmt.Errorf("log: commit %s: %w", shortID(d), err)
		}
	default:
		if p.o.diff.any() {
			if err := checkSummary(p.r, n.sum); err != nil {
				return fmt.Errorf("log: commit %s: %w", shortID(d), err)
			}
		}
		p.hdr.write(p.w, e, p.printed == 0)
		if err := logDiff(p.w, p.r, d, n, p.paths, p.o, p.hdr); err != nil {
			return fmt.Errorf("log: commit %s: %w", shortID(d), err)
		}
	}
	return nil
}

// checkSummary reads the manifest of the commit sum describes, as what
// shows or searches its diff does anyway, and refuses the commit if sum,
// what a log walk took of it (from the summary cache, perhaps), says
// otherwise: a forged record would head the commit's real diff with its
// message and parents, and a forged merge parent would hide its diff
// (logDiff shows none for a merge) or keep -S and -G from searching it.
func checkSummary(r *repo.Repo, sum objects.Summary) error {
	return withSummaryCacheFix(r.Objects.CheckSummary(sum))
}

// checkCommitSummary is checkSummary against c, the commit sum
// describes, which the caller read anyway: no read more.
func checkCommitSummary(c *objects.Commit, sum objects.Summary) error {
	return withSummaryCacheFix(objects.CheckCommitSummary(c, sum))
}

// withSummaryCacheFix is err, saying what to do if it is ErrSummaryDiffers.
func withSummaryCacheFix(err error) error {
	if errors.Is(err, objects.ErrSummaryDiffers) {
		return fmt.Errorf("%w%s", err, repo.SummaryCacheFix)
	}
	return err
}

// logDiff prints, for log -p, --stat or --name-status, what commit d
// changed against its first parent (under paths), after its header;
// merges none (emit shows them as -m, -c, --cc or --diff-merges ask).
func logDiff(w io.Writer, r *repo.Repo, d digest.Digest, n *logNode, paths []string, o logOptions, hdr commitHeader) error {
	if !o.diff.any() || n.sum.MergeParent != "" {
		return nil
	}
	renames := o.diff.renames
	if n.followed != nil {
		paths = n.followed // --follow: the file as this commit names it
	}
	if len(n.followed) == 2 && renames != nil {
		// Where the file came from another, as git's --follow: that pair
		// alone, a rename or a copy (of a file kept, even unchanged).
		ro := *renames
		ro.Copies, ro.Harder = true, true
		renames = &ro
	}
	diff, err := worktree.Main(r).Diff(context.Background(), worktree.DiffOptions{Revs: []string{d.String()}, Parent: true,
		Paths: paths, Contents: o.diff.contents(), Renames: renames})
	if err != nil {
		return err
	}
	if len(n.followed) == 2 {
		diff.Changes = slices.DeleteFunc(diff.Changes, func(c tree.Change) bool { return c.Path != n.followed[1] })
	}
	o.diff.noteRenameLimit(diff.RenameLimit)
	if !o.diff.prints(diff.Changes) {
		return nil
	}
	if !hdr.oneline() {
		io.WriteString(w, o.diff.headerSep())
	}
	return printDiff(w, diff, o.diff)
}

// parentsShown is what --parents prints after a commit, as git's: the
// short ids of its parents the store has, those a range or
// --first-parent leaves out too; with PATHs, rewritten as the graph
// draws them (logWalk.shownParents).
func parentsShown(r *repo.Repo, w *logWalk, n *logNode) []string {
	ps := []digest.Digest{n.sum.Parent, n.sum.MergeParent}
	if w.hist != nil {
		ps = w.shownParents(n)
	}
	var out []string
	for _, p := range ps {
		if p != "" && r.Objects.Has(p) {
			out = append(out, shortID(p))
		}
	}
	return out
}
