package main

import (
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/dispwidth"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// newWorktreeListCommand is worktree list: text, --porcelain or --format
// json.
func newWorktreeListCommand(g *globals) *cobra.Command {
	var format string
	var porcelain, verbose bool
	list := &cobra.Command{
		Use:   "list [-v] [--format json | --porcelain]",
		Short: "List the work trees",
		Long: `List the work trees: the main one, second ones and the throwaway trees
of detached runs, each with its commit and branch.

  strata worktree list --format json
      # [{"path","name","branch","head","mounted","missing","locked",
      # "lock_reason","detached"}]:
      # "branch" absent on a detached HEAD; "missing": true when its
      # directory is gone (text: missing; prune forgets it unless its
      # upper holds uncommitted changes or it is locked); "locked": true
      # once 'worktree lock' locked it, "lock_reason" the reason given
      # (text: locked; with -v, a line "<TAB>locked: REASON" after it, as
      # git's); "detached":
      # {"count","bytes","in_use"}, the uppers --force detached while
      # processes used them; "unreadable": why a tree's state does not
      # read (its path is then its directory under .strata/worktrees;
      # branch commands refuse while it is so)
  strata worktree list --porcelain
      # git's stanzas, a blank line after each: "worktree PATH",
      # "HEAD ID" (absent with no commits), "branch refs/heads/NAME" or
      # "detached", then "unmounted", "missing" and "locked [REASON]"
      # lines when so; or "worktree DIR" and "unreadable REASON"`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if porcelain && format == "json" {
				return usagef("--porcelain and --format json exclude each other")
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			out, err := worktreeEntries(r)
			if err != nil {
				return err
			}
			switch {
			case format == "json":
				if out == nil {
					out = []worktreeEntry{}
				}
				return writeJSON(g.stdout, out)
			case porcelain:
				printWorktreesPorcelain(g.stdout, out)
			default:
				printWorktrees(g.stdout, out, verbose)
			}
			return nil
		},
	}
	list.Flags().StringVar(&format, "format", "text", "output format: text or json")
	list.Flags().BoolVar(&porcelain, "porcelain", false, "git's stanzas for scripts (see above)")
	list.Flags().BoolVarP(&verbose, "verbose", "v", false, "give each lock's reason on a line of its own, as git's")
	return list
}

// worktreeEntry is a work tree as worktree list shows it.
type worktreeEntry struct {
	Path    string `json:"path"`
	Name    string `json:"name"`
	Branch  string `json:"branch,omitempty"`
	Head    string `json:"head,omitempty"`
	Mounted bool   `json:"mounted"`
	Missing bool   `json:"missing,omitempty"`
	Locked  bool   `json:"locked,omitempty"`
	// LockReason: the reason 'worktree lock --reason' gave.
	LockReason string `json:"lock_reason,omitempty"`
	// Unreadable: why its state does not read (fsck names it too).
	Unreadable string         `json:"unreadable,omitempty"`
	Detached   *detachedUsage `json:"detached,omitempty"`
}

// worktreeEntries are the work trees worktree list shows: each tree,
// then the state directories that do not read.
func worktreeEntries(r *repo.Repo) ([]worktreeEntry, error) {
	all, err := worktree.List(r)
	if err != nil {
		return nil, err
	}
	var out []worktreeEntry
	for _, w := range all {
		h, err := w.Head()
		if err != nil {
			return nil, fmt.Errorf("worktree list: %w", err)
		}
		e := worktreeEntry{Path: w.Target(), Name: w.Name, Head: h.Commit.String(), Mounted: w.Mounted(), Missing: w.Missing()}
		if e.Detached, err = detachedOf(w); err != nil {
			return nil, fmt.Errorf("worktree list: %w", err)
		}
		e.LockReason, e.Locked = w.Locked()
		if e.Name == worktree.MainName {
			e.Name = worktree.ListedMain
		}
		if h.Branch != "" {
			e.Branch = refs.ShortName(h.Branch)
		}
		out = append(out, e)
	}
	bad, err := worktree.UnreadableStates(r)
	if err != nil {
		return nil, fmt.Errorf("worktree list: %w", err)
	}
	for _, dir := range slices.Sorted(maps.Keys(bad)) {
		out = append(out, worktreeEntry{Path: dir, Name: filepath.Base(dir), Unreadable: bad[dir].Error()})
	}
	return out, nil
}

// printWorktreesPorcelain writes git's stanzas of worktree list
// --porcelain.
func printWorktreesPorcelain(w io.Writer, out []worktreeEntry) {
	for _, e := range out {
		fmt.Fprintf(w, "worktree %s\n", pathquote.Quote(e.Path))
		if e.Unreadable != "" {
			fmt.Fprintf(w, "unreadable %s\n\n", pathquote.Name(e.Unreadable))
			continue
		}
		if e.Head != "" {
			fmt.Fprintf(w, "HEAD %s\n", e.Head)
		}
		if e.Branch != "" {
			fmt.Fprintf(w, "branch %s\n", refs.Heads+e.Branch)
		} else {
			fmt.Fprintln(w, "detached")
		}
		if !e.Mounted {
			fmt.Fprintln(w, "unmounted")
		}
		if e.Missing {
			fmt.Fprintln(w, "missing")
		}
		if e.Locked {
			fmt.Fprintln(w, strings.TrimSuffix("locked "+pathquote.Name(e.LockReason), " "))
		}
		fmt.Fprintln(w)
	}
}

// printWorktrees writes worktree list's lines (-v: each lock's reason on
// a line of its own).
func printWorktrees(w io.Writer, out []worktreeEntry, verbose bool) {
	// As git's show_worktree: the paths padded to the widest and one
	// column more, the commits to the widest, a space after each.
	pathW, headW := 0, 0
	for _, e := range out {
		pathW = max(pathW, dispwidth.String(pathquote.Quote(e.Path)))
		headW = max(headW, len(worktreeHead(e)))
	}
	for _, e := range out {
		path := dispwidth.Pad(pathquote.Quote(e.Path), pathW+1)
		if e.Unreadable != "" {
			fmt.Fprintf(w, "%s (state unreadable: %s)\n", path, pathquote.Name(e.Unreadable))
			continue
		}
		where := "(detached HEAD)"
		if e.Branch != "" {
			where = "[" + e.Branch + "]"
		}
		state := ""
		switch {
		case e.Missing:
			state = " missing"
		case !e.Mounted:
			state = " unmounted"
		}
		// git's: "locked" follows, or with -v and a reason
		// a line of its own.
		reasonLine := verbose && e.LockReason != ""
		if e.Locked && !reasonLine {
			state += " locked"
		}
		if d := e.Detached; d != nil {
			state += fmt.Sprintf(" (%s of old mounts, %s, %d in use)",
				countNoun(d.Count, "detached upper", "detached uppers"), humanSize(d.Bytes), d.InUse)
		}
		fmt.Fprintf(w, "%s %s %s%s\n", path, dispwidth.Pad(worktreeHead(e), headW), where, state)
		if e.Locked && reasonLine {
			fmt.Fprintf(w, "\tlocked: %s\n", pathquote.Name(e.LockReason))
		}
	}
}

// worktreeHead is a work tree's commit as worktree list shows it.
func worktreeHead(e worktreeEntry) string {
	if e.Head == "" {
		return "(no commits)"
	}
	return shortID(digest.Digest(e.Head))
}
