package remote

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// FetchOptions are FetchSpecs' choices; the zero value is git's fetch.
type FetchOptions struct {
	// Force lets every ref move to a commit that does not descend from
	// the one it names, as a '+' on each refspec would (fetch --force).
	Force bool
	// DryRun reads what the remote has and says what would move:
	// nothing is received or written.
	DryRun bool
	// CheckDst is called with every local ref the fetch would write,
	// before anything is received; an error stops the fetch there (the
	// branch checked out in a work tree).
	CheckDst func(ref string) error
}

// want is one remote tag to fetch and the local refs it goes to.
type want struct {
	tag   string
	named bool // named, not found by a pattern: it must arrive
	dsts  []dest
}

type dest struct {
	ref   string
	force bool
}

// FetchSpecs receives the remote tags that specs name, with their
// histories, and moves the local refs they map them to, as git's fetch
// REMOTE REFSPEC...: a destination may move only by a fast-forward,
// unless its refspec has a '+' (or o.Force); an existing tag not at all.
// A refused ref keeps its place and is reported (TagUpdate.Rejected),
// the others move; a commit only refused refs would name is not
// received. Each tag named also moves the ref that the remote's
// configured refspecs (SetRefmap) map it to: git's opportunistic
// remote-tracking update. No specs: the configured ones, or every tag
// to no ref for a remote given as a URL.
func (s *Session) FetchSpecs(ctx context.Context, r *repo.Repo, specs []refs.Refspec, o FetchOptions) (FetchResult, error) {
	ws, res, err := s.wants(ctx, specs, o)
	if err != nil {
		return res, err
	}
	return s.fetch(ctx, r, ws, res, o)
}

// SetRefmap replaces the refspecs that map the tags a fetch names to
// remote-tracking refs (remote.NAME.fetch), as git's fetch --refmap;
// none: the tags go to no remote-tracking ref.
func (s *Session) SetRefmap(specs []refs.Refspec) { s.refmap = specs }

// wants reads specs into the tags to fetch and where each goes. Every
// name is checked before anything is written: one bad name in a
// registry's list must not stop a fetch halfway.
func (s *Session) wants(ctx context.Context, specs []refs.Refspec, o FetchOptions) ([]want, FetchResult, error) {
	var res FetchResult
	mapped := len(specs) > 0 // named on the command line: the refmap applies too
	if !mapped {
		specs = s.refmap
		if s.Name == "" {
			specs = []refs.Refspec{{Src: "*", Raw: "*"}}
		}
	}
	var l wantList
	var all []string // the remote's tags, listed once if a pattern needs them
	for _, rs := range specs {
		switch {
		case rs.Negative:
			continue
		case !rs.Glob() && refs.Excluded(specs, rs.Src):
			// git's ^SRC keeps a tag out, named or matched.
			continue
		}
		if !rs.Glob() {
			if err := refs.CheckRemoteName(rs.Src); err != nil || isAncestorsTag(rs.Src) {
				return nil, res, fmt.Errorf("tag %q: cannot be fetched as a ref: %w", rs.Src, orAncestors(err))
			}
			l.add(rs.Src, true, dest{rs.Dst, rs.Force})
			if mapped {
				for _, m := range s.refmap {
					if dst, ok := m.Match(rs.Src); ok && dst != "" && !m.Funny() {
						l.add(rs.Src, true, dest{dst, m.Force})
					}
				}
			}
			continue
		}
		if all == nil {
			tags, err := s.t.tags(ctx)
			if err != nil {
				return nil, res, fmt.Errorf("list tags: %w", err)
			}
			sort.Strings(tags)
			all = append([]string{}, tags...)
			res.Tags = invalidTags(all, specs)
		}
		for _, tag := range all {
			if isAncestorsTag(tag) || refs.CheckRemoteName(tag) != nil {
				continue
			}
			dst, ok := rs.Match(tag)
			if !ok || refs.Excluded(specs, tag) {
				continue
			}
			if rs.Funny() {
				// git's fetch: "Ignoring funny ref 'foo/main' locally".
				res.Tags = append(res.Tags, TagUpdate{Tag: tag, Skipped: fmt.Sprintf("ignoring funny ref '%s' locally, as git's fetch: a pattern's DST must start with refs/ (%s)", dst, rs.Raw)})
				continue
			}
			if err := refs.CheckName(dst); dst != "" && err != nil {
				// "a@" through refs/heads/*{x: each good, not joined.
				res.Tags = append(res.Tags, TagUpdate{Tag: tag, Skipped: err.Error(), Invalid: true})
				continue
			}
			l.add(tag, false, dest{dst, rs.Force})
		}
	}
	if err := checkDsts(l.ws, o.CheckDst); err != nil {
		return nil, res, err
	}
	return l.ws, res, nil
}

// invalidTags are the tags of all that a pattern of specs matches and
// that cannot be refs, skipped with the reason (strata's own ancestor
// lists are no commits, and not said).
func invalidTags(all []string, specs []refs.Refspec) []TagUpdate {
	var out []TagUpdate
	for _, tag := range all {
		err := refs.CheckRemoteName(tag)
		if err == nil || isAncestorsTag(tag) {
			continue
		}
		for _, rs := range specs {
			if _, ok := rs.Match(tag); ok && rs.Glob() {
				out = append(out, TagUpdate{Tag: tag, Skipped: err.Error(), Invalid: true})
				break
			}
		}
	}
	return out
}

// wantList gathers the wants, one per tag, in the order first named.
type wantList struct {
	ws    []want
	index map[string]int
}

// add notes that tag goes to d (d.ref "": to no ref of its own); a ref
// named twice for one tag is forced if either says so.
func (l *wantList) add(tag string, named bool, d dest) {
	i, ok := l.index[tag]
	if !ok {
		if l.index == nil {
			l.index = map[string]int{}
		}
		i = len(l.ws)
		l.index[tag] = i
		l.ws = append(l.ws, want{tag: tag})
	}
	w := &l.ws[i]
	w.named = w.named || named
	if d.ref == "" {
		return
	}
	for j := range w.dsts {
		if w.dsts[j].ref == d.ref {
			w.dsts[j].force = w.dsts[j].force || d.force
			return
		}
	}
	w.dsts = append(w.dsts, d)
}

// checkDsts refuses two tags to one ref (git: "cannot fetch both"), and
// asks check about every ref.
func checkDsts(ws []want, check func(string) error) error {
	from := map[string]string{}
	for _, w := range ws {
		for _, d := range w.dsts {
			if other, ok := from[d.ref]; ok && other != w.tag {
				return fmt.Errorf("cannot fetch both %s and %s to %s: %w", other, w.tag, d.ref, refs.ErrBadRefspec)
			}
			from[d.ref] = w.tag
			if check != nil {
				if err := check(d.ref); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// updates are w's ref moves to tip, and one with no ref when it goes to
// none.
func (w want) updates(r *repo.Repo, tip digest.Digest) []TagUpdate {
	if len(w.dsts) == 0 {
		return []TagUpdate{{Tag: w.tag, New: tip, named: w.named}}
	}
	out := make([]TagUpdate, 0, len(w.dsts))
	for _, d := range w.dsts {
		u := TagUpdate{Tag: w.tag, Ref: d.ref, New: tip, named: w.named, force: d.force}
		var err error
		u.Old, err = r.Refs.Read(d.ref)
		// A ref file that holds no commit id is replaced, as fetch
		// always replaced a broken remote-tracking ref.
		u.broken = errors.Is(err, refs.ErrBroken)
		out = append(out, u)
	}
	return out
}

// judge decides, before anything is received, which refs may move: a
// tag that exists not at all (git's "would clobber existing tag"), any
// other only by a fast-forward, unless forced. inc are the commits about
// to arrive.
func judge(r *repo.Repo, us []TagUpdate, inc map[digest.Digest]*incoming, force bool) error {
	for i := range us {
		u := &us[i]
		if u.Ref == "" || u.New == "" || u.Old == "" || u.Old == u.New {
			continue
		}
		forced := force || u.force
		if strings.HasPrefix(u.Ref, refs.Tags) {
			if !forced {
				u.Rejected = "would clobber existing tag"
			}
			u.Forced = forced
			continue
		}
		ff, err := isAncestorPlanned(r, inc, u.Old, u.New)
		if err != nil {
			return err
		}
		u.Forced = !ff
		if !ff && !forced {
			u.Rejected = "non-fast-forward"
		}
	}
	return nil
}

// isAncestorPlanned reports whether anc is an ancestor of desc, whose
// history may run through commits not stored yet (inc) before reaching
// stored ones.
func isAncestorPlanned(r *repo.Repo, inc map[digest.Digest]*incoming, anc, desc digest.Digest) (bool, error) {
	seen := map[digest.Digest]bool{desc: true}
	queue := []digest.Digest{desc}
	var stored []digest.Digest
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if d == anc {
			return true, nil
		}
		in, ok := inc[d]
		if !ok {
			stored = append(stored, d)
			continue
		}
		for _, p := range parentsOfIncoming(in) {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	for _, d := range stored {
		if !r.Objects.Has(d) {
			continue // where a shallow history stops
		}
		ok, err := repo.IsAncestor(r.Objects, anc, d)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// needed keeps of chains the commits that an update not refused brings:
// those its tip reaches through them.
func needed(chains []*incoming, inc map[digest.Digest]*incoming, us []TagUpdate) []*incoming {
	keep := map[digest.Digest]bool{}
	var queue []digest.Digest
	for _, u := range us {
		if u.New != "" && u.Rejected == "" && !keep[u.New] {
			keep[u.New] = true
			queue = append(queue, u.New)
		}
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		in, ok := inc[d]
		if !ok {
			continue
		}
		for _, p := range parentsOfIncoming(in) {
			if !keep[p] {
				keep[p] = true
				queue = append(queue, p)
			}
		}
	}
	out := chains[:0:0]
	for _, in := range chains {
		if keep[in.id] {
			out = append(out, in)
		}
	}
	return out
}

// writeRefs moves each ref that may move, from where it was when the
// fetch began (compare-and-swap: a ref moved meanwhile fails the fetch;
// a broken one is replaced).
func writeRefs(r *repo.Repo, us []TagUpdate, msg string) error {
	for _, u := range us {
		if u.Ref == "" || u.New == "" || u.Old == u.New || u.Rejected != "" {
			continue
		}
		old := u.Old
		if u.broken {
			old = refs.Any
		}
		if err := r.Refs.Update(u.Ref, u.New, old, msg); err != nil {
			return err
		}
	}
	return nil
}
