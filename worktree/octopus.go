package worktree

import (
	"context"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// A merge of several heads (git's merge A B C, its octopus) is, as git's,
// first reduced: heads HEAD has, and heads another one has, drop out
// (git's reduce_heads over HEAD and the heads). Zero left is "Already
// up to date"; one is an ordinary merge of that head. Two that both
// hold HEAD (HEAD subsumed) are git's octopus strategy: a fast-forward
// to the first, then a merge of the second into it, made with the two
// heads as parents. Anything else needs a commit of more than two
// parents, which a strata commit cannot record (dev.strata.parent and
// dev.strata.merge-parent): it is refused, ErrOctopus.

// ErrOctopus: the merge would need a commit of more than two parents.
var ErrOctopus = fmt.Errorf("an octopus merge needs a commit of more than two parents; a strata commit has two at most")

// mergeHeads resolves the heads o names (FETCH_HEAD: its lines for
// merge) and reduces them with HEAD (head) as git's reduce_parents:
// subsumed says HEAD dropped out (one of the heads holds it).
func (w *Worktree) mergeHeads(o MergeOptions, head digest.Digest) (heads []mergeHead, subsumed bool, err error) {
	var all []mergeHead
	for _, rev := range append([]string{o.Rev}, o.Also...) {
		hs, err := w.mergeTargets(rev, head)
		if err != nil {
			return nil, false, err
		}
		all = append(all, hs...)
	}
	if len(all) <= 1 {
		return all, false, nil // the two-head merge decides as it always did
	}
	ids := []digest.Digest{head}
	for _, h := range all {
		ids = append(ids, h.commit.ID)
	}
	keep, err := reduceHeads(w, ids)
	if err != nil {
		return nil, false, err
	}
	for i, h := range all {
		if keep[i+1] {
			heads = append(heads, h)
		}
	}
	return heads, !keep[0], nil
}

// octopus merges the heads mergeHeads left, two or more: only two that
// hold HEAD make a commit of two parents (the first head's fast-forward,
// then the second merged into it); conflicts then stop it as any merge.
func (w *Worktree) octopus(ctx context.Context, o MergeOptions, st State, h refs.Head, heads []mergeHead, subsumed bool) (*Outcome, error) {
	var names, parents []string
	if !subsumed || o.NoFF {
		parents = append(parents, "HEAD")
	}
	for _, hd := range heads {
		name := hd.name
		if hd.fetched != "" {
			name = short(hd.commit.ID) // not "FETCH_HEAD" for each
		}
		names = append(names, name)
		parents = append(parents, name)
	}
	if o.FFOnly {
		return nil, ErrNotFastForward // two heads make a merge commit
	}
	if len(parents) > 2 {
		return nil, fmt.Errorf("%s: %w: this one would have %d (%s); merge them one at a time", strings.Join(names, ", "), ErrOctopus, len(parents), strings.Join(parents, ", "))
	}
	s, err := w.newSeq(OpMerge, h, strings.Join(names, " "))
	if err != nil {
		return nil, err
	}
	if s.Message = o.Message; s.Message == "" {
		s.Message = w.octopusMessage(heads, h.Branch)
	}
	for _, hd := range heads {
		// As git's octopus says them: a fetched head by its id.
		name := hd.name
		if hd.fetched != "" {
			name = hd.commit.ID.Encoded()
		}
		s.Heads = append(s.Heads, name)
	}
	s.Head, s.Theirs, s.Total = heads[0].commit.ID, heads[1].commit.ID, 1
	if err := w.saveSeq(s); err != nil {
		return nil, err
	}
	testHook("merge-start")
	return w.run(ctx, s, st)
}

// reduceHeads is git's reduce_heads: which of ids to keep, dropping a
// repeat of an earlier one and any that another one of them has.
func reduceHeads(w *Worktree, ids []digest.Digest) ([]bool, error) {
	keep := make([]bool, len(ids))
	seen := map[digest.Digest]bool{}
	for i, id := range ids {
		keep[i] = !seen[id]
		seen[id] = true
	}
	for i, a := range ids {
		for j, b := range ids {
			if i == j || !keep[i] || !keep[j] || a == b {
				continue
			}
			in, err := repo.IsAncestor(w.Repo.Objects, a, b)
			if err != nil {
				return nil, err
			}
			if in {
				keep[i] = false
			}
		}
	}
	return keep, nil
}

// octopusMessage is git's fmt-merge-msg title for several heads:
// grouped by where they came from (this repository, each FETCH_HEAD
// URL; a commit named by id stands alone), each group its branches,
// remote-tracking branches, tags, then commits: "Merge branches 'a' and
// 'b'", "Merge branch 'a', tag 'v1'", "Merge branch 'a'; commit 'ID'",
// "Merge branches 'a' and 'b' of URL"; then " into BRANCH" as
// mergeInto.
func (w *Worktree) octopusMessage(heads []mergeHead, branch string) string {
	kinds := []string{"branch", "remote-tracking branch", "tag", "commit"}
	type group struct {
		source string              // "." for this repository
		alone  string              // a commit named by id: printed as it is
		names  map[string][]string // kind: quoted names
	}
	var groups []*group
	find := func(source string) *group {
		for _, g := range groups {
			if g.source == source && g.alone == "" {
				return g
			}
		}
		g := &group{source: source, names: map[string][]string{}}
		groups = append(groups, g)
		return g
	}
	for _, h := range heads {
		if h.fetched != "" {
			what, source, _ := strings.Cut(h.fetched, " of ")
			kind, name, _ := strings.Cut(what, " ")
			g := find(source)
			g.names[kind] = append(g.names[kind], name)
			continue
		}
		name := h.name
		kind := "commit"
		if ref := strings.TrimSuffix(strings.TrimSuffix(name, "^0"), "~0"); ref != "" {
			if kind = w.refKind(ref); kind != "commit" {
				name = ref
			}
		}
		if kind == "commit" {
			groups = append(groups, &group{alone: "commit '" + name + "'"})
			continue
		}
		g := find(".")
		g.names[kind] = append(g.names[kind], "'"+name+"'")
	}
	var parts []string
	for _, g := range groups {
		if g.alone != "" {
			parts = append(parts, g.alone)
			continue
		}
		var sub []string
		for _, k := range kinds {
			if ns := g.names[k]; len(ns) > 0 {
				sub = append(sub, joined(k, ns))
			}
		}
		part := strings.Join(sub, ", ")
		if g.source != "." {
			part += " of " + g.source
		}
		parts = append(parts, part)
	}
	return "Merge " + strings.Join(parts, "; ") + mergeInto(branch)
}

// joined is git's print_joined: "branch 'a'", "branches 'a', 'b' and 'c'".
func joined(kind string, names []string) string {
	if len(names) == 1 {
		return kind + " " + names[0]
	}
	plural := kind + "es"
	if !strings.HasSuffix(kind, "branch") {
		plural = kind + "s"
	}
	return plural + " " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
