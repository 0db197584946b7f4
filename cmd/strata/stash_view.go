package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// stash list and stash show: what the entries hold.

// stashJSON is one entry of stash list --format json.
type stashJSON struct {
	Selector string    `json:"selector"` // stash@{0}
	Index    int       `json:"index"`
	Commit   string    `json:"commit"`
	Date     time.Time `json:"date"`
	Message  string    `json:"message"`
}

func newStashListCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list [--format json]",
		Short: "List the stash entries, newest first",
		Long: `List the stash entries, newest first: "stash@{N}: MESSAGE".

--format json: an array of {"selector" (stash@{N}), "index" (N),
"commit", "date", "message"}.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			entries, err := r.Refs.Log(refs.Stash)
			if err != nil {
				return fmt.Errorf("stash list: %w", err)
			}
			if format == "json" {
				out := []stashJSON{}
				for i, e := range entries {
					out = append(out, stashJSON{Selector: fmt.Sprintf("stash@{%d}", i), Index: i, Commit: e.New.String(), Date: e.When.UTC(), Message: e.Message})
				}
				return writeJSON(g.stdout, out)
			}
			for i, e := range entries {
				fmt.Fprintf(g.stdout, "stash@{%d}: %s\n", i, pathquote.Text(e.Message))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func newStashShowCommand(g *globals) *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "show [--stat --numstat --shortstat --summary -p | --name-only | --name-status | --format json] [STASH]",
		Short: "Show the changes a stash entry holds (default: --stat)",
		Long: `Show what a stash entry changed against the commit it was made on, as
diff shows two revisions (default --stat, as git's); the views combine
as diff's.

An entry that saved a staged config (reset --soft) names its fields
last, as status names them: "config: Cmd, Env"; apply and pop stage
them again. --name-only, --name-status, --numstat, -z and --format json
list paths only.

--format json: an array of {"status","path","old","new"}, as diff's.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.format); err != nil {
				return err
			}
			if err := o.checkViews("stash show"); err != nil {
				return err
			}
			if err := o.checkJSON("stash show"); err != nil {
				return err
			}
			if !o.any() && o.format != "json" {
				o.stat = true // git's default
			}
			r, w, err := openWorktree(g, "")
			if err != nil {
				return err
			}
			id, err := stashCommit(r, firstArg(args), true)
			if err != nil {
				return fmt.Errorf("stash show: %w", err)
			}
			c, err := r.Objects.ReadCommit(id)
			if err != nil {
				return fmt.Errorf("stash show: %w", err)
			}
			if c.Parent() == "" {
				return fmt.Errorf("stash show: %s has no parent to compare with", shortID(id))
			}
			if err := runDiff(cmd.Context(), g.stdout, w, []string{c.Parent().String(), id.String()}, nil, o); err != nil {
				return err
			}
			return showStashedConfig(g, r, c, o)
		},
	}
	o.addViewFlags(cmd, "show lines added and removed per file (the default)")
	return cmd
}

// showStashedConfig names, after a view a person reads, the config
// fields the entry saved (a staged config: apply and pop stage them
// again), as status names a staged config; the views scripts read list
// paths only.
func showStashedConfig(g *globals, r *repo.Repo, c *objects.Commit, o diffOptions) error {
	if o.format == "json" || o.nameOnly || o.nameStatus || o.numstat || o.nul {
		return nil
	}
	base, err := r.Objects.ReadCommit(c.Parent())
	if err != nil {
		return fmt.Errorf("stash show: %w", err)
	}
	if fields := worktree.ConfigChanges(base.Config.Config, c.Config.Config); len(fields) > 0 {
		fmt.Fprintf(g.stdout, "config: %s\n", strings.Join(fields, ", "))
	}
	return nil
}
