package main

import (
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

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
	// from: with log -m, the short id of the parent this entry's diff
	// is against, shown "(from ID)" after the commit's id, as git's.
	from string
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
