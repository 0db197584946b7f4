package main

import (
	"context"
	"io"
	"strconv"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// mergeStat is git's --stat and --no-stat (-n) of merge and pull: the
// diffstat of what a fast-forward or a merge commit brought. The last
// given wins; neither, config merge.stat (default true).
type mergeStat struct{ on, given bool }

// mergeStatFlag is one of the two flags: value is what it sets on to
// when given as true.
type mergeStatFlag struct {
	s     *mergeStat
	value bool
}

func (f mergeStatFlag) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	f.s.on, f.s.given = b == f.value, true
	return nil
}
func (f mergeStatFlag) String() string   { return "false" }
func (f mergeStatFlag) Type() string     { return "bool" }
func (f mergeStatFlag) IsBoolFlag() bool { return true }

func (s *mergeStat) add(cmd *cobra.Command) {
	cmd.Flags().Var(mergeStatFlag{s, true}, "stat", "show a diffstat of what the merge brought (the default: config merge.stat)")
	cmd.Flags().VarP(mergeStatFlag{s, false}, "no-stat", "n", "show no diffstat")
	cmd.Flags().Lookup("stat").NoOptDefVal = "true"
	cmd.Flags().Lookup("no-stat").NoOptDefVal = "true"
}

// resolve reads config merge.stat when no flag was given: as git's, a
// value that is no boolean stops the command before it does anything.
func (s *mergeStat) resolve(r *repo.Repo) error {
	if s.given {
		return nil
	}
	v, set, err := r.Config.Bool("merge.stat")
	if err != nil {
		return err
	}
	s.on = v || !set
	return nil
}

// print writes, when on (after resolve), git's diffstat of from..to
// after a merge: --stat then --summary, renames found as diff finds them.
func (s mergeStat) print(ctx context.Context, out io.Writer, w *worktree.Worktree, from, to digest.Digest) error {
	if !s.on {
		return nil
	}
	o := diffOptions{stat: true, summary: true}
	if err := o.resolveConfig(w.Repo, "merge"); err != nil {
		return err
	}
	return runDiff(ctx, out, w, []string{from.String(), to.String()}, nil, o)
}
