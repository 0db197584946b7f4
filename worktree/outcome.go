package worktree

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
)

// What an operation that may stop on a conflict reports: how it ended,
// why it stopped, or that another one is under way.

// InProgressError refuses a second operation; it wraps ErrInProgress.
type InProgressError struct{ Op string }

func (e *InProgressError) Error() string {
	return fmt.Sprintf("a %s is in progress: finish it with 'strata %s --continue' or 'strata %s --abort' first", e.Op, e.Op, e.Op)
}

func (e *InProgressError) Unwrap() error { return ErrInProgress }

// Outcome reports how an operation ended (or stopped).
type Outcome struct {
	Seq  *Sequence
	Head *objects.Commit // the new HEAD (nil when stopped)
	// Made: the commits a cherry-pick or revert made, oldest first.
	Made      []*objects.Commit
	FastFwd   bool
	UpToDate  bool
	Conflicts *ConflictError // set when stopped
}

// ConflictError says an operation stopped on conflicts.
type ConflictError struct {
	Op              string
	Commit          digest.Digest
	Paths           []Conflict
	ConfigConflicts []string
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	n := len(e.Paths) + len(e.ConfigConflicts)
	fmt.Fprintf(&b, "%d conflict", n)
	if n != 1 {
		b.WriteString("s")
	}
	if e.Commit != "" {
		fmt.Fprintf(&b, " applying %s", e.Commit.Encoded()[:12])
	}
	b.WriteString(": ")
	var items []string
	for _, p := range e.Paths {
		items = append(items, fmt.Sprintf("%s (%s)", pathquote.Quote(p.Path), p.Kind))
	}
	for _, c := range e.ConfigConflicts {
		items = append(items, "config "+c)
	}
	if len(items) > 5 {
		items = append(items[:5], fmt.Sprintf("and %d more", len(items)-5))
	}
	b.WriteString(strings.Join(items, ", "))
	if len(e.ConfigConflicts) > 0 {
		// --continue would refuse: only commit --change resolves the config.
		fmt.Fprintf(&b, "; fix them, then 'strata commit -m MSG --change INSTR...' sets the config (or 'strata %s --abort'", e.Op)
		if e.Op != OpMerge {
			b.WriteString(", --skip")
		}
		b.WriteString(")")
		return b.String()
	}
	fmt.Fprintf(&b, "; fix them in the work tree, then 'strata %s --continue' (or --abort", e.Op)
	if e.Op != OpMerge {
		b.WriteString(", --skip")
	}
	b.WriteString(")")
	return b.String()
}
