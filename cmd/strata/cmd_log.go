package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/tree"
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
	// merges as mergeFlags ask.
	diff diffOptions
	// mergeFlags: -m, -c, --cc, --diff-merges; merge what they decide
	// (with --first-parent's default), mergeView a merge's views.
	mergeFlags mergeFlags
	merge      mergeDiff
	mergeView  diffOptions
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
starting with / needs no "--": no revision starts with /; nor does a
pattern, '*.conf').
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
its header, as diff prints them and combines them: with --stat and -p,
"---" after the header, as git's. A merge shows none unless asked, as
git's: -m, each parent's in turn (the header again for each, "(from
ID)" after the id); --first-parent, the first parent's; -c, git's
combined diff (the paths that differ from every parent, one +/- column
per parent, --name-status one letter per parent; --stat and the other
counts against the first parent); --cc, the dense combined diff (the
hunks that take one parent's lines as they were left out); or
--diff-merges=off|first-parent|separate|combined|dense-combined (1, m,
c, cc; on is separate; --no-diff-merges is off); the last given
decides. When no view is given, -c and --cc imply -p (every commit's),
--diff-merges (but off) a merge's -p, -m and off nothing; with
--first-parent, -m is the first parent's diff, as git's.
-z, as git's, puts NUL between commits (after each with --oneline or
a template) and in
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
			o.diff.layout.term = termColumns(g.stdout)
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
			if o.format != "json" && !o.graph {
				// -c and --cc imply -p, --diff-merges a merge's -p.
				o.diff, o.mergeView = o.mergeFlags.views(o.diff)
			}
			o.merge = o.mergeFlags.resolve(false, o.firstParent)
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
			if err := o.diff.resolveConfig(r, "log"); err != nil {
				return err
			}
			o.mergeView.takeConfig(o.diff)
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
	o.diff.addStatFlag(cmd, "each commit's lines added and removed per file")
	o.diff.addStatFlags(cmd, "each commit's ")
	cmd.Flags().BoolVar(&o.diff.nameStatus, "name-status", false, "each commit's changed paths, with status letters")
	o.diff.addRenameFlag(cmd)
	cmd.Flags().BoolVar(&o.diff.nameOnly, "name-only", false, "each commit's changed paths")
	o.mergeFlags.add(cmd)
	cmd.Flags().BoolVarP(&o.diff.nul, "null", "z", false, "NUL between commits, and in --name-only, --name-status and --numstat as diff -z, as git's")
	cmd.Flags().IntVar(&o.skip, "skip", 0, "leave out the first `N` commits that would be shown (before -n counts)")
	return cmd
}
