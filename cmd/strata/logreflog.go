package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/strata-sh/strata/internal/gitdate"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// logReflog is the reflog entry a commit of log -g was reached by.
type logReflog struct {
	Selector string `json:"selector"` // HEAD@{0}
	Who      string `json:"who"`
	Message  string `json:"message"`
}

// runReflogWalk is git's log -g (--walk-reflogs): instead of the
// history, the commits a ref's reflog names, newest move first, each as
// log shows a commit, with the move's Reflog lines.
func runReflogWalk(out io.Writer, r *repo.Repo, revs, paths []string, o logOptions) error {
	switch {
	case len(revs) > 1:
		return usagef("log: -g (--walk-reflogs) takes one ref, not %d", len(revs))
	case len(paths) > 0 || len(o.pseudo) > 0 || o.graph || o.diff.any() || o.firstParent || o.ancestryPath ||
		o.leftRight || o.leftOnly || o.rightOnly || o.cherryMark || o.cherryPick || o.parents || o.topoOrder ||
		o.pickaxeS != "" || o.pickaxeG != "":
		return usagef("log: -g (--walk-reflogs) walks one ref's moves: it takes no PATHs, --all, --graph, -p, --stat, --name-status, --name-only, -S, -G, --first-parent, --parents, --topo-order or A...B options")
	}
	arg := "HEAD"
	if len(revs) == 1 {
		arg = revs[0]
	}
	name, err := r.Refs.LogName(arg)
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	entries, err := r.Refs.Log(name)
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	if arg == "@" {
		arg = refs.HEAD // git's HEAD@{0}, not @@{0}
	}
	lf, err := o.filter.compile(time.Now())
	if err != nil {
		return err
	}
	decorations, err := o.hdr.decorations(r)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 64<<10)
	var shown []logEntry
	skipped := 0
	for i, e := range entries {
		if o.max >= 0 && len(shown) >= o.max {
			break
		}
		if e.New == "" {
			continue // the ref was deleted: no commit
		}
		sum, err := r.Objects.ReadSummary(e.New)
		if err != nil {
			return fmt.Errorf("log: %s@{%d}: %w", arg, i, err)
		}
		merge := sum.MergeParent != ""
		if o.merges && !merge || o.noMerges && merge || !lf.keep(sum) {
			continue
		}
		if skipped < o.skip {
			skipped++
			continue
		}
		// As git's: with --date, a move is named by its date.
		at := strconv.Itoa(i)
		if o.header.date != "" && o.format != "json" {
			at = gitdate.Show(e.When.UTC(), o.hdr.date, o.hdr.now)
		}
		le := toLogEntry(sum, decorations[e.New])
		le.Reflog = &logReflog{Selector: fmt.Sprintf("%s@{%s}", arg, at), Who: e.Who, Message: e.Message}
		shown = append(shown, le)
	}
	if o.reverse {
		for i, j := 0, len(shown)-1; i < j; i, j = i+1, j-1 {
			shown[i], shown[j] = shown[j], shown[i]
		}
	}
	if o.format == "json" {
		if shown == nil {
			shown = []logEntry{}
		}
		if err := writeJSON(w, shown); err != nil {
			return err
		}
	} else {
		for i, e := range shown {
			o.hdr.write(w, e, i == 0)
		}
	}
	return w.Flush()
}
