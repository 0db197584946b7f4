package main

import (
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// warnLeftBehind says, as git checkout does, which commits a detached
// HEAD leaves behind when it moves from old: those no branch reaches.
// They are still in the reflog until it expires, then gc removes them.
// With none, it names where HEAD was, as git's "Previous HEAD position".
func warnLeftBehind(w io.Writer, r *repo.Repo, old, now digest.Digest) error {
	if old == "" || old == now {
		return nil
	}
	onBranch := map[digest.Digest]bool{}
	branches, err := r.Refs.List(refs.Heads)
	if err != nil {
		return err
	}
	var tips []digest.Digest
	for _, b := range branches {
		tips = append(tips, b.Target)
	}
	// Both parents: a merged branch is connected too.
	err = repo.WalkHistory(r.Objects, tips, func(d digest.Digest) bool {
		onBranch[d] = true
		return true
	})
	if err != nil {
		return err
	}
	var behind []digest.Digest
	err = repo.WalkHistory(r.Objects, []digest.Digest{old}, func(d digest.Digest) bool {
		if onBranch[d] || d == now {
			return false
		}
		behind = append(behind, d)
		return true
	})
	if err != nil {
		return err
	}
	if len(behind) == 0 {
		fmt.Fprintf(w, "Previous HEAD position was %s %s\n", shortID(old), pathquote.Text(subjectOf(r, old)))
		return nil
	}
	fmt.Fprintf(w, "Warning: you are leaving %s behind, not connected to\nany of your branches:\n\n", plural(len(behind), "commit"))
	for i, d := range behind {
		if i == 4 && len(behind) > 5 {
			fmt.Fprintf(w, " ... and %d more.\n", len(behind)-4)
			break
		}
		fmt.Fprintf(w, "  %s %s\n", shortID(d), pathquote.Text(subjectOf(r, d)))
	}
	it := "it"
	if len(behind) > 1 {
		it = "them"
	}
	fmt.Fprintf(w, "\nIf you want to keep %s, create a new branch:\n\n strata branch <name> %s\n\n", it, shortID(old))
	return nil
}

// subjectOf is commit d's subject line, "" if its summary does not read.
func subjectOf(r *repo.Repo, d digest.Digest) string {
	if s, err := r.Objects.ReadSummary(d); err == nil {
		return firstLine(s.Message)
	}
	return ""
}
