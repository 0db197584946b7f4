//go:build !strata_front

package main

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
	"github.com/strata-sh/strata/repo"
)

// fetchHeadFor says which of a fetch's tags git's fetch would mark for
// merge in FETCH_HEAD: every tag named on the command line (named);
// else the current branch's upstream (branch.NAME.merge) when it merges
// from this remote; else, when the remote's first configured refspec is
// no pattern, its tag. nil: none, every line is not-for-merge.
func fetchHeadFor(r *repo.Repo, rem remote.Remote, named bool) func(tag string) bool {
	if named {
		return func(string) bool { return true }
	}
	if h, err := r.Refs.Current(); err == nil && h.Branch != "" && rem.Name != "" {
		branch := refs.ShortName(h.Branch)
		from, _ := r.Config.Get("branch." + branch + ".remote")
		if _, merges := r.Config.Get("branch." + branch + ".merge"); merges && from == rem.Name {
			tag, _, err := r.UpstreamTag(branch)
			if err != nil {
				return nil
			}
			return func(t string) bool { return t == tag }
		}
	}
	if len(rem.Fetch) > 0 {
		if rs, err := refs.ParseRefspec(rem.Fetch[0]); err == nil && !rs.Glob() && !rs.Negative {
			return func(t string) bool { return t == rs.Src }
		}
	}
	return nil
}

// fetched is a remote tag whose commit a fetch received (or had), as
// FETCH_HEAD names it.
type fetched struct {
	tag, kind string // kind: "branch", or "tag" for refs/tags/T
	id        digest.Digest
	merge     bool // for merge: pull would merge it
	// head: named with no DST of its own, or fetched to no ref: git's
	// " * branch main -> FETCH_HEAD" line says where it went.
	head bool
}

// fetchedTags are the tags a fetch received, as git writes them to
// FETCH_HEAD: one per remote tag whose commit arrived (not one only
// refused refs would have named, nor one skipped or pruned), those
// forMerge marks first, the others after them. A tag is "tag" when
// specs name it refs/tags/T or it went into refs/tags/, else "branch".
func fetchedTags(specs []refs.Refspec, res remote.FetchResult, forMerge func(string) bool) []fetched {
	isTag, head := map[string]bool{}, map[string]bool{}
	for _, rs := range specs {
		if rs.Glob() || rs.Negative {
			continue
		}
		isTag[rs.Src] = isTag[rs.Src] || rs.SrcTag
		head[rs.Src] = head[rs.Src] || rs.Dst == ""
	}
	for _, u := range res.Tags {
		isTag[u.Tag] = isTag[u.Tag] || strings.HasPrefix(u.Ref, refs.Tags)
		head[u.Tag] = head[u.Tag] || u.Ref == ""
	}
	seen := map[string]bool{}
	var merge, rest []fetched
	for _, u := range res.Tags {
		if seen[u.Tag] || u.Invalid || u.Skipped != "" || u.New == "" || u.Rejected != "" {
			continue
		}
		seen[u.Tag] = true
		f := fetched{tag: u.Tag, kind: "branch", id: u.New, head: head[u.Tag]}
		if isTag[u.Tag] {
			f.kind = "tag"
		}
		if forMerge != nil && forMerge(u.Tag) {
			f.merge = true
			merge = append(merge, f)
			continue
		}
		rest = append(rest, f)
	}
	return append(merge, rest...)
}

// fetchHeadEntries are FETCH_HEAD's lines for fs, from the remote at ep:
// "branch 'T' of URL", not-for-merge unless marked for merge.
func fetchHeadEntries(fs []fetched, ep remote.Endpoint) []refs.FetchHeadEntry {
	out := make([]refs.FetchHeadEntry, 0, len(fs))
	for _, f := range fs {
		out = append(out, refs.FetchHeadEntry{ID: f.id, NotForMerge: !f.merge, Desc: fmt.Sprintf("%s '%s' of %s", f.kind, f.tag, ep)})
	}
	return out
}

// writeFetchHead writes FETCH_HEAD for fs (or adds them to it:
// appending), as fetched from s.
func writeFetchHead(r *repo.Repo, s *remote.Session, fs []fetched, appending bool) error {
	return r.Refs.WriteFetchHead(fetchHeadEntries(fs, s.Endpoint()), appending)
}
