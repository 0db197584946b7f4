package main

import (
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// tracking is how a branch stands against its upstream, as git's status
// tells it: only for a branch whose remote is set (branch.NAME.remote,
// which clone sets) and configured, and whose remote branch its remote's
// fetch refspecs map to a remote-tracking branch. When that ref does not
// exist (the remote branch was deleted and pruned, or never fetched) the
// upstream is gone, as git says it.
type tracking struct {
	Upstream string `json:"upstream"`       // short name: origin/main
	Gone     bool   `json:"gone,omitempty"` // its remote-tracking branch does not exist: no counts
	Ahead    int    `json:"ahead"`          // commits the branch has that the upstream lacks
	Behind   int    `json:"behind"`         // and the other way round
}

// trackingOf returns where branch (full name) stands, or nil.
func trackingOf(r *repo.Repo, branch string, head digest.Digest) (*tracking, error) {
	if branch == "" || head == "" {
		return nil, nil
	}
	name := refs.ShortName(branch)
	if _, ok := r.Config.Get("branch." + name + ".remote"); !ok {
		return nil, nil
	}
	up, err := r.Upstream(name, false)
	if err != nil || up.NoRemote {
		// As git: no refspec maps the remote branch, or the remote is
		// not configured.
		return nil, nil
	}
	return trackingTo(r, up.Ref, head)
}

// trackingTo is how head stands against ref (full name), which need not
// exist (then it is gone), as git counts a branch against its upstream
// or its push destination; nil when ref's commit is missing.
func trackingTo(r *repo.Repo, ref string, head digest.Digest) (*tracking, error) {
	t := &tracking{Upstream: refs.ShortName(ref)}
	if !r.Refs.Exists(ref) {
		t.Gone = true
		return t, nil
	}
	upID, err := r.Refs.Read(ref)
	if err != nil || !r.Objects.Has(upID) {
		return nil, err
	}
	ahead, err := revRange{include: []digest.Digest{head}, exclude: []digest.Digest{upID}}.interesting(r)
	if err != nil {
		return nil, err
	}
	behind, err := revRange{include: []digest.Digest{upID}, exclude: []digest.Digest{head}}.interesting(r)
	if err != nil {
		return nil, err
	}
	t.Ahead, t.Behind = len(ahead), len(behind)
	return t, nil
}

// printLong writes git's lines for status.
func (t *tracking) printLong(w io.Writer) {
	commits := func(n int) string { return plural(n, "commit") }
	switch {
	case t.Gone:
		fmt.Fprintf(w, "Your branch is based on '%s', but the upstream is gone.\n  (use \"strata branch --unset-upstream\" to fixup)\n", t.Upstream)
	case t.Ahead == 0 && t.Behind == 0:
		fmt.Fprintf(w, "Your branch is up to date with '%s'.\n", t.Upstream)
	case t.Behind == 0:
		fmt.Fprintf(w, "Your branch is ahead of '%s' by %s.\n  (use \"strata push\" to publish your local commits)\n", t.Upstream, commits(t.Ahead))
	case t.Ahead == 0:
		fmt.Fprintf(w, "Your branch is behind '%s' by %s, and can be fast-forwarded.\n  (use \"strata pull\" to update your local branch)\n", t.Upstream, commits(t.Behind))
	default:
		fmt.Fprintf(w, "Your branch and '%s' have diverged,\nand have %d and %d different commits each, respectively.\n  (use \"strata pull --rebase\" or \"strata pull --merge\" to bring them together)\n", t.Upstream, t.Ahead, t.Behind)
	}
}

// bracket is git branch -vv's "[origin/main: ahead 1, behind 2] ", or
// "" without an upstream.
func (t *tracking) bracket() string {
	if t == nil {
		return ""
	}
	s := "[" + pathquote.Name(t.Upstream)
	if c := t.counts(); c != "" {
		s += ": " + c
	}
	return s + "] "
}

// short is git's "## main...origin/main [ahead 1, behind 2]" suffix.
func (t *tracking) short() string {
	s := "..." + t.Upstream
	if c := t.counts(); c != "" {
		s += " [" + c + "]"
	}
	return s
}

// counts is "ahead 1, behind 2", "ahead 1", "behind 2", "gone" or "".
func (t *tracking) counts() string {
	switch {
	case t.Gone:
		return "gone"
	case t.Ahead > 0 && t.Behind > 0:
		return fmt.Sprintf("ahead %d, behind %d", t.Ahead, t.Behind)
	case t.Ahead > 0:
		return fmt.Sprintf("ahead %d", t.Ahead)
	case t.Behind > 0:
		return fmt.Sprintf("behind %d", t.Behind)
	}
	return ""
}
