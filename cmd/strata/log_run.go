package main

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/loggraph"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
)

// runLog prints the history of revs (HEAD if none), as log's arguments
// name it.
func runLog(out io.Writer, r *repo.Repo, revs []string, paths []string, o logOptions) error {
	// One write a screenful, not a few a commit.
	w := bufio.NewWriterSize(out, 64<<10)
	defer w.Flush()
	lf, err := o.filter.compile(time.Now())
	if err != nil {
		return err
	}
	tips, only, rr, err := logTips(r, revs, o.pseudo)
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	leftTips := rr.left
	var onPath map[digest.Digest]bool // --ancestry-path
	if o.ancestryPath && len(rr.exclude) == 0 {
		// git shows nothing: no commit descends from no bottom.
		return usagef("log: --ancestry-path needs a range with a bottom, A..B or ^A B")
	}
	if o.ancestryPath {
		if onPath, err = ancestryPath(r, tips, only, rr.exclude); err != nil {
			return fmt.Errorf("log: %w", err)
		}
	}
	// left: what A of A...B reaches, as the walk meets it (a child
	// before its parents): the left side.
	left := map[digest.Digest]bool{}
	for _, d := range leftTips {
		left[d] = true
	}
	var same map[digest.Digest]bool // --cherry-mark, --cherry-pick
	if (o.cherryMark || o.cherryPick) && len(leftTips) > 0 {
		if same, err = cherrySame(r, tips, only, leftTips); err != nil {
			return fmt.Errorf("log: %w", err)
		}
	}
	decorations, err := o.hdr.decorations(r)
	if err != nil {
		return err
	}
	// log -- PATH shows the commits whose own layers changed one of the
	// paths, and the merges that match no parent there (logWalk.simplify).
	var hist *tree.History
	missing := map[string]bool{}
	if len(paths) > 0 {
		hist, paths = tree.NewHistory(r.Objects), cleanPaths(paths)
		if missing, err = missingAt(hist, r, tips, paths); err != nil {
			return fmt.Errorf("log: %w", err)
		}
		// A pattern is no file to follow, unless a file is named so
		// (/srv/f[1]), as git's follows the name.
		if o.follow && tree.IsGlob(paths[0]) {
			if ok, err := namedAt(hist, r, tips, paths[0]); err != nil {
				return fmt.Errorf("log: %w", err)
			} else if !ok {
				return usagef("log: --follow takes exactly one PATH, a file")
			}
		}
	}
	pick, err := newPickaxe(r, o.pickaxeS, o.pickaxeG, o.filter.ignoreCase, paths, o.diff.lines)
	if err != nil {
		return err
	}
	var graph *loggraph.Graph
	if o.graph {
		graph = &loggraph.Graph{}
	}
	// filtered: left out by --merges, --no-merges, --grep, --author,
	// --since, --until, --left-only, --right-only, --cherry-pick or
	// --ancestry-path.
	filtered := func(n *logNode) bool {
		merge, side := n.sum.MergeParent != "", left[n.sum.ID]
		return o.merges && !merge || o.noMerges && merge || o.leftOnly && !side || o.rightOnly && side ||
			o.cherryPick && same[n.sum.ID] || onPath != nil && !onPath[n.sum.ID] || !lf.keep(n.sum) ||
			pick != nil && !pick.keeps(n)
	}
	pr := &logPrinter{w: w, r: r, o: o, hdr: o.hdr, paths: paths, graph: graph, filtered: filtered, entries: []logEntry{}}
	// --reverse: as git, -n and the filters choose the commits, then
	// they are printed oldest first.
	type pending struct {
		d digest.Digest
		n *logNode
		e logEntry
	}
	var held []pending
	var stop func(objects.Summary) bool
	if !lf.since.IsZero() {
		stop = lf.tooOld
	}
	shown, skipped := 0, 0
	var follow *tree.RenameOptions
	if o.follow {
		follow = &tree.RenameOptions{}
		if o.diff.renames != nil {
			follow = o.diff.renames
		}
	}
	w8 := newLogWalk(r, tips, only, o.firstParent, o.graph || o.topoOrder, hist, paths, follow, stop)
	defer w8.close()
	pr.walk = w8
	for d, n := w8.next(); d != "" && (o.max < 0 || shown < o.max); d, n = w8.next() {
		if n.err != nil {
			return fmt.Errorf("log: commit %s: %w", shortID(d), n.err)
		}
		for i, pd := range []digest.Digest{n.sum.Parent, n.sum.MergeParent} {
			if left[d] && pd != "" && (i == 0 || !o.firstParent) {
				left[pd] = true
			}
		}
		if n.hidden || filtered(n) {
			if pick != nil && pick.err != nil {
				return fmt.Errorf("log: commit %s: %w", shortID(d), pick.err)
			}
			continue
		}
		if hist != nil && len(missing) > 0 {
			if err := markTouched(hist, r, d, missing); err != nil {
				return fmt.Errorf("log: %w", err)
			}
		}
		if skipped < o.skip {
			skipped++
			continue
		}
		e := toLogEntry(n.sum, decorations[d])
		switch {
		case left[d]:
			e.Side = "left"
		case len(leftTips) > 0:
			e.Side = "right"
		}
		e.Equivalent = o.cherryMark && same[d]
		if o.parents {
			e.shownParents = parentsShown(r, w8, n)
		}
		if n.cut {
			// git's word for a commit whose parents are cut off.
			e.Refs, e.Shallow = append(e.Refs, "grafted"), true
		}
		shown++
		if o.reverse {
			held = append(held, pending{d, n, e})
			continue
		}
		if err := pr.emit(d, n, e); err != nil {
			return err
		}
	}
	for i := len(held) - 1; i >= 0; i-- {
		if err := pr.emit(held[i].d, held[i].n, held[i].e); err != nil {
			return err
		}
	}
	if graph == nil && o.format == "json" {
		if err := writeJSON(w, pr.entries); err != nil {
			return err
		}
	}
	var bad []string
	for _, p := range paths {
		if o.max >= 0 && shown == o.max {
			break // the walk stopped early: a path may be touched further back
		}
		if missing[p] {
			bad = append(bad, p)
		}
	}
	return missingPaths(bad)
}
