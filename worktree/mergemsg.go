package worktree

import (
	"strings"

	"github.com/strata-sh/strata/refs"
)

// mergeMessage is git's default message for a merge of name into the
// branch head names: "Merge branch 'feature'", "Merge tag 'v1'",
// "Merge remote-tracking branch 'origin/main'" or "Merge commit 'ID'",
// then " into BRANCH" unless BRANCH is main or master (git's default
// merge.suppressDest), " into HEAD" when detached. A merge of
// FETCH_HEAD is, as git's, of what its first line says was fetched:
// "Merge branch 'main' of URL".
func (w *Worktree) mergeMessage(name string, head refs.Head) string {
	if name == refs.FetchHead {
		if es, err := w.Repo.Refs.ReadFetchHead(); err == nil && len(es) > 0 {
			return "Merge " + es[0].Desc + mergeInto(head.Branch)
		}
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
