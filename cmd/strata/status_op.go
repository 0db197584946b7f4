package main

import (
	"fmt"
	"io"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/worktree"
)

// opJSON is the operation in progress, as status --format json shows it.
type opJSON struct {
	Op              string         `json:"op"`   // merge, rebase, cherry-pick, revert
	Name            string         `json:"name"` // what the user named
	Done            int            `json:"done"`
	Total           int            `json:"total"`
	Stopped         string         `json:"stopped,omitempty"` // the commit being applied
	Conflicts       []conflictJSON `json:"conflicts"`
	ConfigConflicts []string       `json:"config_conflicts,omitempty"`
}

// conflictJSON is a conflicting path as status --format json shows it:
// what the user acts on, not the stat data the sequence keeps of a
// conflict without markers (worktree.Conflict.Left) to tell whether
// it was touched.
type conflictJSON struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Detail string `json:"detail,omitempty"`
	Marked bool   `json:"marked,omitempty"`
}

func toOpJSON(s *worktree.Sequence) *opJSON {
	if s == nil {
		return nil
	}
	o := &opJSON{Op: s.Op, Name: s.Name, Done: s.Done, Total: s.Total, Conflicts: []conflictJSON{}, ConfigConflicts: s.ConfigConflicts}
	o.Conflicts = append(o.Conflicts, toConflictsJSON(s.Conflicts)...)
	if s.Stopped && len(s.Todo) > 0 {
		o.Stopped = s.Todo[0].String()
	}
	return o
}

// toConflictsJSON is conflicts as status --format json shows them.
func toConflictsJSON(conflicts []worktree.Conflict) []conflictJSON {
	var out []conflictJSON
	for _, c := range conflicts {
		out = append(out, conflictJSON{Path: c.Path, Kind: string(c.Kind), Detail: c.Detail, Marked: c.Marked})
	}
	return out
}

// seqConflicts is the conflicts of s, nil for none.
func seqConflicts(s *worktree.Sequence) []worktree.Conflict {
	if s == nil {
		return nil
	}
	return s.Conflicts
}

// printUnmerged lists the files a checkout -m left in conflict, as
// git's status lists its unmerged paths, with the way out.
func printUnmerged(w io.Writer, conflicts []worktree.Conflict) {
	if len(conflicts) == 0 {
		return
	}
	fmt.Fprintln(w, "Unmerged paths:")
	fmt.Fprintln(w, "  (fix the conflicts, then \"strata commit\"; \"strata reset --hard\" discards the changes)")
	printConflicts(w, conflicts)
}

// printConflicts writes one line for each conflict: its kind, its path.
func printConflicts(w io.Writer, conflicts []worktree.Conflict) {
	for _, c := range conflicts {
		line := fmt.Sprintf("  %-16s %s", string(c.Kind)+":", pathquote.Quote(c.Path))
		if c.Detail != "" {
			line += " (" + c.Detail + ")"
		}
		fmt.Fprintln(w, line)
	}
}

// printOperation says which operation is under way and what conflicts.
func printOperation(w io.Writer, s *worktree.Sequence) {
	if s == nil {
		return
	}
	switch s.Op {
	case worktree.OpRebase:
		fmt.Fprintf(w, "You are in the middle of a rebase onto %s (%d of %d commits applied", s.Name, s.Done, s.Total)
		if s.Stopped && len(s.Todo) > 0 {
			fmt.Fprintf(w, "; stopped at %s", shortID(s.Todo[0]))
		}
		fmt.Fprintln(w, ").")
	default:
		fmt.Fprintf(w, "You are in the middle of a %s of %s.\n", s.Op, s.Name)
	}
	if s.Aborting {
		fmt.Fprintf(w, "  (its --abort was interrupted: \"strata %s --abort\" finishes it)\n", s.Op)
		return
	}
	if !s.Stopped {
		fmt.Fprintf(w, "  (it was interrupted: \"strata %s --continue\" goes on, \"strata %s --abort\" goes back)\n", s.Op, s.Op)
		return
	}
	if !s.Applied {
		// Killed before the conflicted result reached the work tree:
		// there is nothing to fix there yet.
		fmt.Fprintf(w, "  (it was interrupted before the conflicts were written: \"strata %s --continue\" writes them, \"strata %s --abort\" goes back)\n", s.Op, s.Op)
		return
	}
	if len(s.ConfigConflicts) > 0 {
		// --continue refuses until commit --change resolves the config.
		fmt.Fprint(w, "  (fix the conflicts, then \"strata commit -m MSG --change INSTR...\" sets the config")
	} else {
		fmt.Fprintf(w, "  (fix the conflicts, then \"strata %s --continue\"", s.Op)
	}
	if s.Op != worktree.OpMerge {
		fmt.Fprintf(w, "; \"strata %s --skip\" drops the commit", s.Op)
	}
	fmt.Fprintf(w, "; \"strata %s --abort\" goes back)\n", s.Op)
	if len(s.Conflicts) > 0 {
		fmt.Fprintln(w, "Unmerged paths:")
		printConflicts(w, s.Conflicts)
	}
	if len(s.ConfigConflicts) > 0 {
		fmt.Fprintln(w, "Config conflicts (resolve with 'strata commit --change'):")
		for _, c := range s.ConfigConflicts {
			fmt.Fprintf(w, "  %s\n", oneLine(c))
		}
	}
}
