package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/loggraph"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

func init() { register("log", newLogCommand) }

type logOptions struct {
	max         int
	skip        int          // commits chosen but not shown, before -n counts
	header      headerFlags  // --pretty, --oneline, --date
	hdr         commitHeader // what they ask for
	pseudo      []pseudoRev  // --all, --not, --branches, --tags, --remotes, --exclude
	format      string
	graph       bool
	firstParent bool
	merges      bool // only merges
	noMerges    bool
	filter      logFilterFlags
	reverse     bool
	// topoOrder: git's --topo-order, the order --graph draws in (a
	// branch's commits together); dateOrder: --date-order, the default.
	topoOrder, dateOrder bool
	// leftRight marks each commit of A...B with its side, < or >;
	// leftOnly and rightOnly show one side.
	leftRight, leftOnly, rightOnly bool
	cherry                         bool // --cherry
	// cherryMark marks the commits of A...B whose change the other side
	// has too (cherrySame) with =, the rest with +; cherryPick leaves
	// them out.
	cherryMark, cherryPick bool
	// ancestryPath: of A..B, only the commits that descend from A.
	ancestryPath bool
	parents      bool // --parents
	walkReflogs  bool // -g: a ref's reflog instead of the history
	follow       bool // --follow: one file's history across renames
	noFollow     bool // --no-follow: not even as log.follow asks
	// pickaxeS, pickaxeG: git's -S STRING and -G REGEX (pickaxe).
	pickaxeS, pickaxeG string
	// diff: each commit's changes against its first parent after it
	// (-p, --stat, --name-status, --name-only), as git log shows them;
	// merges none.
	diff diffOptions
}

// logEntry is the JSON form of a commit in log and show.
type logEntry struct {
	ID     string `json:"id"`
	Short  string `json:"short"`
	Parent string `json:"parent,omitempty"`
	// Parents lists every parent, first parent first; parent stays for
	// older readers.
	Parents []string  `json:"parents"`
	Author  string    `json:"author"`
	Date    time.Time `json:"date"`
	Message string    `json:"message"`
	Refs    []string  `json:"refs,omitempty"`
	// Shallow: the parent was not available when this commit was fetched
	// (a registry had collected it); history stops here.
	Shallow bool `json:"shallow,omitempty"`
	// Side: with an A...B range, "left" for A's commits, "right" for B's.
	Side string `json:"side,omitempty"`
	// Equivalent: with --cherry-mark, the other side of A...B has the
	// same change (cherrySame).
	Equivalent bool `json:"equivalent,omitempty"`
	// Reflog: with -g, the move of the ref that reached the commit.
	Reflog *logReflog `json:"reflog,omitempty"`
	// shownParents: with --parents, the short ids of the parents
	// (parentsShown), printed after the commit's.
	shownParents []string
}

// mark is git's %m, --left-right's mark: = for a change the other side
// has too (--cherry-mark), < on A...B's left side, > else.
func (e logEntry) mark() string {
	if e.Equivalent {
		return "="
	}
	if e.Side == "left" {
		return "<"
	}
	return ">"
}

func newLogCommand(g *globals) *cobra.Command {
	var o logOptions
	cmd := &cobra.Command{
		Use:   "log [REV...] [-- PATH...]",
		Short: "Show commit history, newest first",
		Long: `Show the history of REV (default HEAD), following parents, newest first.
Revisions combine as in git: "A..B" is what B has and A does not, "^A"
leaves out A's history, "A...B" is what either has and their merge base
does not; "X^!" is X alone (not its parents), "X^-" what merge X brought
in ("X^1..X"; "X^-2" is "X^2..X"), "X^@" X's parents.
With PATH arguments, only commits that changed one of those paths; PATHs
are resolved as in diff (relative to where you stand in a work tree), and
one that exists neither in REV nor in any commit shown is an error.
"--" may be left out when the work tree has the PATHs, as in git (a PATH
starting with / needs no "--": no revision starts with /).
With --all, the history of every ref and HEAD, newest first;
--branches[=PATTERN], --tags[=PATTERN] and --remotes[=PATTERN] those
refs (a shell glob, * matching / too; without *, ? or [, a directory:
--branches=feat is feat/*), less the refs an --exclude=PATTERN before
them matches. They stand where they are given among the revisions, as
git's, and --not leaves out what the revisions after it reach:
"log v2 --not --remotes" is what v2 has and no remote branch.
--left-right marks each commit of A...B with its side, "<" for A's
and ">" for B's (%m in a template; "side" in JSON: "left" or "right");
--left-only and --right-only show one side. --cherry-mark marks with
"=" the commits of A...B whose change the other side has too (the same
layers added to the parent's, by diff id: what cherry-pick and rebase
replay; "equivalent" in JSON), with "+" the rest, and --cherry-pick
leaves them out; --cherry is --right-only --cherry-mark --no-merges.
--ancestry-path keeps of A..B the commits that descend from A: the
lines from A to B, as git's.
--parents prints each commit's parents after its id (with PATHs, the
nearest commits shown, as git rewrites them).
-S STRING keeps the commits whose change (what differs from the first
parent, as -p shows it) changes the number of times STRING occurs in a
regular file, -G REGEX those that add or remove a line that matches REGEX
(extended, RE2) in a text file, as git's pickaxe; -i ignores case; merges
never match. Only the files a commit changed are read, each streamed
from its layers, one at a time (a file's old content may sit in a large
base layer, which is then streamed to reach it).
-p, --stat, --numstat, --shortstat, --summary, --name-status and
--name-only show each commit's change against its first parent after
its header (merges none), as diff prints them and combines them: with
--stat and -p, "---" after the header, as git's. -z, as git's, puts NUL
between commits (after each with --oneline or a template) and in
--name-only, --name-status and --numstat as diff -z does.
-g (--walk-reflogs) shows, instead of the history, the commits a ref's
reflog names (REV, default HEAD), newest move first, as git's: each
with "Reflog: HEAD@{0} (who)" and "Reflog message:" lines (--oneline:
"id HEAD@{0}: message"; --date names the moves by date; %gd, %gs, %gn,
%ge in a template; "reflog": {"selector","who","message"} in JSON).

--follow PATH (one file; a pattern only where a file is named so, as
/srv/f[1]) follows it across renames and copies, as git's: at a commit
that added PATH, its renames and copies are found as
diff --find-copies-harder finds them (with PATH the only destination:
-M[N] sets the similarity, 50% by default), and the walk goes on with
the file it came from; --name-status, --stat and -p show that pair
alone (R094 /old /new, C098 /old /new). With log.follow true in
.strata/config, log of one PATH (not a pattern) follows it, as git's;
--no-follow does not. Of --follow and --no-follow, the last wins.

Both parents of a merge are followed: commits come newest first, never
before one of their children. With PATHs a merge is shown only when it
differs at those paths from every parent; otherwise log follows the
parent it matches, as git does.

Filters choose commits as git's do, before -n counts them: --grep
matches the message, --author "Name <email>" (regular expressions in
Go's RE2 syntax, like git's -E; a line may match, so ^ and $ are a
line's ends; several of one flag: any may match; -i ignores case, -F
takes them as plain text); --since (--after) and --until (--before)
take 2024-05-01 (local time; 2024/05/01 too), 2024-05-01T12:00:00Z,
@SECONDS, or git's words: "2 weeks ago" (2.weeks.ago), "two days ago",
"yesterday", "last week", "last monday", "yesterday noon" (midnight,
tea, 15:00, 3pm); a word it does not know is an error, where git would
take "now". The walk stops at commits older
than --since, as git's. --reverse prints the commits chosen oldest
first (git's order of things: -n 3 --reverse is the last three,
oldest first). --skip N leaves out the first N commits chosen, before -n
counts: -n 10 --skip 10 is the second page.

  strata log --oneline -n 5
  strata log --graph --oneline --all   # the shape of the history, as git draws it
  strata log --first-parent            # the branch's own line, merges as one commit
  strata log --oneline main..dev       # what dev has that main does not
  strata log --oneline --branches --not main   # what the branches have that main does not
  strata log --grep '^fix' -i --since '2 weeks ago' --author alice
  strata log --format '%h %an, %ar: %s'   # git's placeholders; --pretty=fuller; --date iso
  strata log --format json     # [{"id","short","parent","parents","author","date","message","refs"}]`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.hdr, err = o.header.header("log", &o.format); err != nil {
				return err
			}
			if o.diff.color, err = o.diff.colors.on(g, "log"); err != nil {
				return err
			}
			o.hdr.color = o.diff.color && o.format != "json"
			if o.cherry {
				o.rightOnly, o.cherryMark, o.noMerges = true, true, true
			}
			o.hdr.leftRight, o.hdr.cherryMark, o.hdr.nul = o.leftRight, o.cherryMark, o.diff.nul
			if err := checkFormat(o.format); err != nil {
				return err
			}
			dash := cmd.ArgsLenAtDash()
			if o.merges && o.noMerges {
				return usagef("log: --merges and --no-merges exclude each other")
			}
			if o.graph && o.reverse {
				return usagef("log: --reverse and --graph do not go together")
			}
			if btoi(o.leftRight)+btoi(o.leftOnly)+btoi(o.rightOnly) > 1 {
				return usagef("--left-right, --left-only and --right-only do not go together")
			}
			if o.cherryMark && o.cherryPick {
				return usagef("log: --cherry-pick and --cherry-mark (--cherry) do not go together")
			}
			if o.topoOrder && o.dateOrder {
				return usagef("log: --topo-order and --date-order do not go together")
			}
			if o.graph && o.dateOrder {
				return usagef("log: --graph draws in --topo-order, not --date-order")
			}
			if o.graph && o.format == "json" {
				return usagef("log: --graph draws text; it does not combine with --format json")
			}
			if err := o.diff.checkViews("log"); err != nil {
				return err
			}
			if o.diff.any() && o.format == "json" {
				return usagef("log: -p, --stat, --numstat, --shortstat, --summary, --name-status and --name-only print text, not JSON")
			}
			if o.diff.nul && (o.format == "json" || o.graph) {
				return usagef("log: -z ends the entries of text, not of --format json or --graph")
			}
			if o.diff.any() && o.graph {
				return usagef("log: -p, --stat, --numstat, --shortstat, --summary, --name-status and --name-only print text, without --graph")
			}
			if err := checkPseudoRevs(o.pseudo); err != nil {
				return err
			}
			if o.skip < 0 {
				return usagef("log: --skip takes a count of commits, not %d", o.skip)
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			var revs, paths []string
			if dash >= 0 {
				revs, paths = args[:dash], args[dash:]
			} else if revs, paths, err = splitPathArgs(g, r, currentTarget(g, r), args); err != nil {
				return fmt.Errorf("log: %w", err)
			}
			if paths, err = imagePaths(g, r, paths); err != nil {
				return fmt.Errorf("log: %w", err)
			}
			if err := o.diff.resolveRenames(r, "log"); err != nil {
				return err
			}
			if o.follow && len(paths) != 1 {
				return usagef("log: --follow takes exactly one PATH, a file")
			}
			if !o.follow && !o.noFollow && len(paths) == 1 && !tree.IsGlob(paths[0]) {
				// git's log.follow: one PATH given is followed.
				if o.follow, _, err = r.Config.Bool("log.follow"); err != nil {
					return err
				}
			}
			if o.walkReflogs {
				return runReflogWalk(g.stdout, r, revs, paths, o)
			}
			err = runLog(g.stdout, r, revs, paths, o)
			o.diff.warnRenameLimit(g.stderr)
			return err
		},
	}
	cmd.Flags().IntVarP(&o.max, "max-count", "n", -1, "show at most `N` commits (default: all)")
	saidDefault(cmd.Flags(), "max-count")
	addPseudoRevFlags(cmd.Flags(), &o.pseudo)
	cmd.Flags().BoolVar(&o.header.oneline, "oneline", false, "one line per commit: short id and subject")
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text, json, or a git format as --pretty takes")
	o.header.add(cmd)
	cmd.Flags().BoolVar(&o.graph, "graph", false, "draw the history beside the commits, as git log --graph")
	cmd.Flags().BoolVar(&o.topoOrder, "topo-order", false, "order as --graph does: a branch's commits together, a merged branch first")
	cmd.Flags().BoolVar(&o.dateOrder, "date-order", false, "order by date, a commit after its children (the default)")
	cmd.Flags().BoolVar(&o.leftRight, "left-right", false, "mark each commit of A...B with its side: < for A's, > for B's")
	cmd.Flags().BoolVar(&o.leftOnly, "left-only", false, "of A...B, show A's side only")
	cmd.Flags().BoolVar(&o.rightOnly, "right-only", false, "of A...B, show B's side only")
	cmd.Flags().BoolVar(&o.cherryMark, "cherry-mark", false, "mark with = the commits of A...B whose change the other side has too, + the rest")
	cmd.Flags().BoolVar(&o.cherryPick, "cherry-pick", false, "leave out the commits of A...B whose change the other side has too")
	cmd.Flags().BoolVar(&o.cherry, "cherry", false, "the same as --right-only --cherry-mark --no-merges")
	cmd.Flags().BoolVar(&o.ancestryPath, "ancestry-path", false, "of A..B, only the commits that descend from A: the lines from A to B")
	cmd.Flags().BoolVar(&o.parents, "parents", false, "print each commit's parents after its id, as the walk shows them (with PATHs: the nearest shown)")
	cmd.Flags().StringVarP(&o.pickaxeS, "S", "S", "", "only commits that change the number of occurrences of `STRING` in a file")
	cmd.Flags().StringVarP(&o.pickaxeG, "G", "G", "", "only commits that add or remove a line matching `REGEX` in a text file")
	cmd.Flags().BoolVarP(&o.walkReflogs, "walk-reflogs", "g", false, "walk the moves of REV's reflog (default HEAD), newest first, instead of its history")
	cmd.Flags().Var(followFlag{&o, true}, "follow", "the history of one file PATH across renames and copies, as git's")
	cmd.Flags().Lookup("follow").NoOptDefVal = "true"
	cmd.Flags().Var(followFlag{&o, false}, "no-follow", "do not follow PATH across renames, whatever log.follow says")
	cmd.Flags().Lookup("no-follow").NoOptDefVal = "true"
	cmd.Flags().BoolVar(&o.firstParent, "first-parent", false, "follow only the first parent of a merge")
	cmd.Flags().BoolVar(&o.merges, "merges", false, "show only merge commits")
	cmd.Flags().BoolVar(&o.noMerges, "no-merges", false, "show no merge commits")
	cmd.Flags().StringArrayVar(&o.filter.grep, "grep", nil, "only commits whose message matches `PATTERN` (a regular expression; several: any)")
	cmd.Flags().BoolVar(&o.filter.allMatch, "all-match", false, "with several --grep: only commits whose message matches every one")
	cmd.Flags().BoolVar(&o.filter.invertGrep, "invert-grep", false, "only commits whose message matches no --grep PATTERN")
	cmd.Flags().StringArrayVar(&o.filter.author, "author", nil, "only commits whose author (\"Name <email>\") matches `PATTERN` (several: any)")
	cmd.Flags().BoolVarP(&o.filter.ignoreCase, "regexp-ignore-case", "i", false, "--grep and --author ignore case")
	cmd.Flags().BoolVarP(&o.filter.extended, "extended-regexp", "E", false, "accepted for git's -E: patterns are always extended (RE2) regular expressions")
	cmd.Flags().BoolVarP(&o.filter.fixed, "fixed-strings", "F", false, "--grep and --author patterns are plain text")
	cmd.Flags().StringVar(&o.filter.since, "since", "", "only commits dated `DATE` or later (2024-05-01, 2 weeks ago, yesterday, last monday, RFC 3339)")
	cmd.Flags().StringVar(&o.filter.since, "after", "", "the same as --since")
	cmd.Flags().StringVar(&o.filter.until, "until", "", "only commits dated `DATE` or earlier")
	cmd.Flags().StringVar(&o.filter.until, "before", "", "the same as --until")
	cmd.Flags().BoolVar(&o.reverse, "reverse", false, "print the commits chosen (after -n) oldest first")
	cmd.Flags().BoolVarP(&o.diff.patch, "patch", "p", false, "each commit's unified diff against its first parent")
	cmd.Flags().BoolVar(&o.diff.stat, "stat", false, "each commit's lines added and removed per file")
	o.diff.addStatFlags(cmd, "each commit's ")
	cmd.Flags().BoolVar(&o.diff.nameStatus, "name-status", false, "each commit's changed paths, with status letters")
	o.diff.addRenameFlag(cmd)
	cmd.Flags().BoolVar(&o.diff.nameOnly, "name-only", false, "each commit's changed paths")
	cmd.Flags().BoolVarP(&o.diff.nul, "null", "z", false, "NUL between commits, and in --name-only, --name-status and --numstat as diff -z, as git's")
	cmd.Flags().IntVar(&o.skip, "skip", 0, "leave out the first `N` commits that would be shown (before -n counts)")
	return cmd
}

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
	pick, err := newPickaxe(r, o.pickaxeS, o.pickaxeG, o.filter.ignoreCase, paths)
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
			if err := markTouched(hist, d, missing); err != nil {
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
	default:
		p.hdr.write(p.w, e, p.printed == 0)
		if err := logDiff(p.w, p.r, d, n, p.paths, p.o, p.hdr); err != nil {
			return fmt.Errorf("log: commit %s: %w", shortID(d), err)
		}
	}
	return nil
}

// logDiff prints, for log -p, --stat or --name-status, what commit d
// changed against its first parent (under paths), after its header;
// merges show none, as in git log.
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

func toLogEntry(s objects.Summary, decor []string) logEntry {
	e := logEntry{ID: s.ID.String(), Short: shortID(s.ID), Author: s.Author, Date: s.Date, Message: s.Message, Refs: decor, Parents: []string{}}
	if s.Parent != "" {
		e.Parent = s.Parent.String()
		e.Parents = append(e.Parents, e.Parent)
	}
	if s.MergeParent != "" {
		e.Parents = append(e.Parents, s.MergeParent.String())
	}
	return e
}

// decorate maps commits to the names git shows beside them, in git's
// order: HEAD first ("HEAD -> main", or "HEAD" when detached), then the
// other refs by name, last first ("tag: v1", "origin/main", "dev"); and
// which of those names are remote-tracking branches.
func decorate(r *repo.Repo, full bool) (map[digest.Digest][]string, map[string]bool, error) {
	out, remotes := map[digest.Digest][]string{}, map[string]bool{}
	head, err := r.Refs.Current() // a second work tree's own HEAD
	if err != nil {
		return nil, nil, err
	}
	all, err := r.Refs.List("refs/")
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name > all[j].Name })
	if head.Detached() && head.Commit != "" {
		out[head.Commit] = append(out[head.Commit], "HEAD")
	}
	for _, ref := range all {
		name := ref.Short()
		if full {
			name = ref.Name
		}
		switch {
		case ref.Name == head.Branch:
			out[ref.Target] = append([]string{"HEAD -> " + name}, out[ref.Target]...)
			continue
		case strings.HasPrefix(ref.Name, refs.Tags):
			name = "tag: " + name
		case strings.HasPrefix(ref.Name, refs.Remotes):
			remotes[name] = true
		}
		out[ref.Target] = append(out[ref.Target], name)
	}
	return out, remotes, nil
}
