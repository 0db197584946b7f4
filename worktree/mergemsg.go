package worktree

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// mergeHead is one commit a merge takes in: what the user named it
// (name) and, from FETCH_HEAD, what its line says was fetched (fetched:
// "branch 'main' of URL").
type mergeHead struct {
	commit        *objects.Commit
	name, fetched string
}

// mergeTargets are the commits a merge of rev into HEAD (commit head)
// takes: rev's, or, for rev FETCH_HEAD, as git's merge reads it, those of
// the lines of .strata/FETCH_HEAD for merge, not its first line (which a
// fetch -a may have left not-for-merge), less those HEAD has (none: there
// is nothing to merge).
func (w *Worktree) mergeTargets(rev string, head digest.Digest) ([]mergeHead, error) {
	if rev != refs.FetchHead {
		c, err := w.Resolve(rev)
		if err != nil {
			return nil, err
		}
		return []mergeHead{{commit: c, name: rev}}, nil
	}
	es, err := w.Repo.Refs.ReadFetchHead()
	if err != nil {
		return nil, err
	}
	var out []mergeHead
	seen := map[digest.Digest]bool{}
	for _, e := range refs.ForMerge(es) {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		if head != "" {
			if in, err := repo.IsAncestor(w.Repo.Objects, e.ID, head); err != nil {
				return nil, fmt.Errorf("%s: %w", refs.FetchHead, err)
			} else if in {
				continue
			}
		}
		c, err := w.commit(e.ID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", refs.FetchHead, err)
		}
		out = append(out, mergeHead{commit: c, name: rev, fetched: e.Desc})
	}
	return out, nil
}

// mergeMessage is git's default message for a merge of name into the
// branch head names: "Merge branch 'feature'", "Merge tag 'v1'",
// "Merge remote-tracking branch 'origin/main'" or "Merge commit 'ID'",
// then " into BRANCH" unless BRANCH is main or master (git's default
// merge.suppressDest), " into HEAD" when detached. A merge of
// FETCH_HEAD is, as git's, of what the line it merges says was fetched
// (fetched, mergeTarget's): "Merge branch 'main' of URL".
func (w *Worktree) mergeMessage(name, fetched string, head refs.Head) string {
	if fetched != "" {
		return "Merge " + fetched + mergeInto(head.Branch)
	}
	kind := "commit"
	// "feature^0" is still the branch, to git.
	if ref := strings.TrimSuffix(strings.TrimSuffix(name, "^0"), "~0"); ref != "" {
		if kind = w.refKind(ref); kind != "commit" {
			name = ref
		}
	}
	return "Merge " + kind + " '" + name + "'" + mergeInto(head.Branch)
}

// mergeInto is the end of git's merge message for a merge into branch
// (full name; "" when HEAD is detached): " into BRANCH", "" for main and
// master (git's default merge.suppressDest), " into HEAD".
func mergeInto(branch string) string {
	into := strings.TrimPrefix(branch, refs.Heads)
	switch {
	case branch == "":
		return " into HEAD"
	case into != "main" && into != "master":
		return " into " + into
	}
	return ""
}

// refKind says what name is, as git's fmt-merge-msg does: a branch, a
// tag, a remote-tracking branch, or (anything else) a commit.
func (w *Worktree) refKind(name string) string {
	exists := func(ref string) bool {
		id, err := w.Repo.Refs.Read(ref)
		return err == nil && id != ""
	}
	kinds := []struct{ prefix, kind string }{
		{refs.Heads, "branch"}, {refs.Tags, "tag"}, {refs.Remotes, "remote-tracking branch"},
	}
	for _, k := range kinds {
		// As typed ("feature"), or spelled out ("refs/heads/feature",
		// "heads/feature").
		full := k.prefix + strings.TrimPrefix(strings.TrimPrefix(name, "refs/"), strings.TrimPrefix(k.prefix, "refs/"))
		if (name == full || !strings.HasPrefix(name, "refs/")) && exists(full) {
			return k.kind
		}
	}
	return "commit"
}
