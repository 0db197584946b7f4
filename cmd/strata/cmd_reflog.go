package main

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/gitdate"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

func init() { register("reflog", newReflogCommand) }

// reflogJSON is one entry of reflog show --format json.
type reflogJSON struct {
	Selector string    `json:"selector"` // main@{0}
	Ref      string    `json:"ref"`      // refs/heads/main
	Index    int       `json:"index"`
	Old      string    `json:"old,omitempty"`
	New      string    `json:"new,omitempty"` // empty: the ref was deleted
	Who      string    `json:"who"`
	Date     time.Time `json:"date"`
	Message  string    `json:"message"`
}

const expiryHelp = `TIME is "now" (or "all"), "never" (or "false"), N.UNIT.ago, "N UNIT ago"
or "N UNITs" (UNIT second, minute, hour, day, week, month = 30 days, year),
an RFC 3339 time (2024-05-01T00:00:00Z) or a date (2024-05-01, UTC), or
git's other words as log --since reads them ("yesterday", "last monday").`

func newReflogCommand(g *globals) *cobra.Command {
	var format, date string
	var maxCount int
	show := func(cmd *cobra.Command, args []string) error {
		if err := checkFormat(format); err != nil {
			return err
		}
		var style gitdate.Style // "": REF@{N}
		if date != "" {
			if format == "json" {
				return usagef("--format json takes no --date (its dates are RFC 3339)")
			}
			var err error
			if style, err = gitdate.ParseStyle(date); err != nil {
				return usagef("--date: %v", err)
			}
		}
		arg := "HEAD"
		if len(args) == 1 {
			arg = args[0]
		}
		r, err := g.openRepo()
		if err != nil {
			return err
		}
		return showReflog(g.stdout, r, arg, format, maxCount, style)
	}
	cmd := &cobra.Command{
		Use:   "reflog [show|expire|delete] [REF]",
		Short: "Show, expire or delete the moves of a ref (default HEAD)",
		Long: `Every move of a branch, tag, remote-tracking ref or HEAD is recorded in
its reflog; gc keeps every commit a reflog entry names. A deleted ref's
reflog stays until its entries expire.

'reflog' and 'reflog show REF' list the moves newest first, numbered as
REF@{N}: REF@{0} is the latest move. With --date STYLE, as git's, each
is named by when it was made instead, in that style (log's): REF@{DATE}.

  strata reflog                      # HEAD's moves
  strata reflog --date=iso main      # main@{2024-05-01 12:00:00 +0000}: commit: ...
  strata reflog show main --format json
      # [{"selector","ref","index","old","new","who","date","message"}]
  strata reflog expire --expire=now --all
  strata reflog delete main@{2}`,
		Args: rangeArgs(0, 1),
		RunE: show,
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().IntVarP(&maxCount, "max-count", "n", -1, "list at most `N` moves (git's -n, -N; default: all)")
	saidDefault(cmd.Flags(), "max-count")
	cmd.Flags().StringVar(&date, "date", "", reflogDateUsage)
	showCmd := &cobra.Command{
		Use:   "show [REF]",
		Short: "List the moves of REF (default HEAD), newest first",
		Args:  rangeArgs(0, 1),
		RunE:  show,
	}
	showCmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	showCmd.Flags().IntVarP(&maxCount, "max-count", "n", -1, "list at most `N` moves (git's -n, -N; default: all)")
	saidDefault(showCmd.Flags(), "max-count")
	showCmd.Flags().StringVar(&date, "date", "", reflogDateUsage)
	cmd.AddCommand(showCmd, newReflogExpireCommand(g), newReflogDeleteCommand(g))
	return cmd
}

const reflogDateUsage = "name each move by its date in `STYLE` (REF@{DATE}): default, relative, local, iso, iso-strict, rfc, short, unix, raw or format:STRFTIME"

// showReflog lists arg's reflog; with a date style, each move is named
// by its date (REF@{DATE}), not its number, as git's reflog --date.
func showReflog(w io.Writer, r *repo.Repo, arg, format string, maxCount int, style gitdate.Style) error {
	name, err := r.Refs.LogName(arg)
	if err != nil {
		return err
	}
	entries, err := r.Refs.Log(name)
	if err != nil {
		return err
	}
	if arg == "@" {
		arg = refs.HEAD // git's HEAD@{0}, not @@{0}
	}
	if maxCount >= 0 && maxCount < len(entries) {
		entries = entries[:maxCount]
	}
	if format == "json" {
		out := []reflogJSON{}
		for i, e := range entries {
			out = append(out, reflogJSON{Selector: fmt.Sprintf("%s@{%d}", arg, i), Ref: name, Index: i,
				Old: e.Old.String(), New: e.New.String(), Who: e.Who, Date: e.When.UTC(), Message: e.Message})
		}
		return writeJSON(w, out)
	}
	now := time.Now()
	for i, e := range entries {
		id := "(deleted)"
		if e.New != "" {
			id = shortID(e.New)
		}
		at := strconv.Itoa(i)
		if style != "" {
			at = gitdate.Show(e.When.UTC(), style, now)
		}
		fmt.Fprintf(w, "%s %s@{%s}: %s\n", id, arg, at, pathquote.Text(e.Message))
	}
	return nil
}

func newReflogExpireCommand(g *globals) *cobra.Command {
	var expire, unreachable string
	var all bool
	cmd := &cobra.Command{
		Use:   "expire [--expire=TIME] [--expire-unreachable=TIME] (--all | REF...)",
		Short: "Forget reflog entries older than a time",
		Long: `Remove reflog entries older than --expire (default gc.reflogExpire,
else 90.days.ago); entries whose commit the ref's tip no longer reaches,
and all entries of deleted refs, use --expire-unreachable (default
gc.reflogExpireUnreachable, else 30.days.ago). Commits that only expired
entries named are then no longer kept by gc.

` + expiryHelp + `

  strata reflog expire --expire=now --all   # the moves the tips still reach
  strata reflog expire --expire=now --expire-unreachable=now --all &&
      strata gc --prune=now                 # every move: free deleted branches now`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return usagef("reflog expire: name refs or give --all")
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			now := time.Now()
			var exp repo.ReflogExpiry
			if !cmd.Flags().Changed("expire") || !cmd.Flags().Changed("expire-unreachable") {
				// The flags given decide alone; the config only fills in.
				if exp, err = r.ReflogExpiryFromConfig(now); err != nil {
					return fmt.Errorf("reflog expire: %w", err)
				}
			}
			for _, f := range []struct {
				flag, val string
				to        *time.Time
			}{{"expire", expire, &exp.Reachable}, {"expire-unreachable", unreachable, &exp.Unreachable}} {
				if cmd.Flags().Changed(f.flag) {
					if *f.to, err = repo.ParseExpiry(f.val, now); err != nil {
						return usagef("reflog expire: --%s %w", f.flag, err)
					}
				}
			}
			var names []string // nil: all
			for _, a := range args {
				name, err := r.Refs.LogName(a)
				if err != nil {
					return err
				}
				names = append(names, name)
			}
			n, err := r.ExpireReflogs(names, exp)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "expired %s\n", countNoun(n, "reflog entry", "reflog entries"))
			return nil
		},
	}
	cmd.Flags().StringVar(&expire, "expire", "", "expire entries older than `TIME`")
	cmd.Flags().StringVar(&unreachable, "expire-unreachable", "", "expire entries the tip does not reach older than `TIME`")
	cmd.Flags().BoolVar(&all, "all", false, "every reflog, those of deleted refs too")
	return cmd
}

var selectorRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.+)@\{(\d+)\}$`) })

func newReflogDeleteCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete REF@{N}...",
		Short: "Remove single reflog entries",
		Long: `Remove the entry REF@{N} (as 'strata reflog show REF' numbers them) from
REF's reflog. Several entries of one ref are numbered before any goes.

  strata reflog delete main@{1}`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("reflog delete: name an entry, e.g. HEAD@{1}")
			}
			for _, a := range args {
				if !selectorRE().MatchString(a) {
					return usagef("reflog delete: %s: not REF@{N}", a)
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			drop := map[string]map[int]string{}
			for _, a := range args {
				m := selectorRE().FindStringSubmatch(a)
				name, err := r.Refs.LogName(m[1])
				if err != nil {
					return err
				}
				n, err := strconv.Atoi(m[2])
				if err != nil {
					return usagef("reflog delete: %s: %w", a, err)
				}
				if drop[name] == nil {
					drop[name] = map[int]string{}
				}
				drop[name][n] = a
			}
			for name, idx := range drop {
				var missing []string
				_, err := r.Refs.RewriteLog(name, func(all []refs.LogEntry) []refs.LogEntry {
					var kept []refs.LogEntry
					for i, e := range all {
						if idx[i] == "" {
							kept = append(kept, e)
						}
					}
					for i, sel := range idx {
						if i >= len(all) {
							missing = append(missing, sel)
						}
					}
					if len(missing) > 0 {
						return all
					}
					return kept
				})
				if err != nil {
					return err
				}
				if len(missing) > 0 {
					return fmt.Errorf("%s: no such reflog entry", strings.Join(missing, ", "))
				}
			}
			return nil
		},
	}
}

// countNoun is "1 reflog entry", "2 reflog entries".
func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
