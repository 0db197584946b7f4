package main

import (
	"container/heap"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/pflag"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// revRange is a set of commits as git's revision ranges name it: those
// reachable from include and from none of exclude. "B" includes B, "^A"
// excludes A, "A..B" is "^A B" and "A...B" what either has and not both
// ("A B ^base" for each of their merge bases). An empty end is HEAD.
// "X^@" includes X's parents, "X^!" is X without its parents and "X^-N"
// is "X^N..X" (parentShorthand).
type revRange struct {
	include, exclude []digest.Digest
	// left: the left ends of "A...B" (A), whose history is the left
	// side of --left-right.
	left []digest.Digest
}

// parseRevRange resolves log's revision arguments.
func parseRevRange(r *repo.Repo, args []string) (revRange, error) {
	var rr revRange
	resolve := func(rev string) (digest.Digest, error) { return r.Refs.Resolve(rev, r.Objects) }
	for _, arg := range args {
		if a, b, symmetric, ok := refs.SplitRange(arg); ok {
			da, err := resolve(a)
			if err != nil {
				return rr, err
			}
			db, err := resolve(b)
			if err != nil {
				return rr, err
			}
			if !symmetric {
				rr.include, rr.exclude = append(rr.include, db), append(rr.exclude, da)
				continue
			}
			rr.include, rr.left = append(rr.include, da, db), append(rr.left, da)
			bases, err := repo.MergeBases(r.Objects, da, db)
			if err != nil && !errors.Is(err, repo.ErrNoMergeBase) { // none: unrelated, both whole
				return rr, fmt.Errorf("%s: %w", arg, err)
			}
			rr.exclude = append(rr.exclude, bases...)
			continue
		}
		if _, _, _, ok := refs.SplitParentShorthand(arg); ok {
			inc, exc, err := parentShorthand(r, arg)
			if err != nil {
				return rr, err
			}
			rr.include, rr.exclude = append(rr.include, inc...), append(rr.exclude, exc...)
			continue
		}
		if rest, ok := strings.CutPrefix(arg, "^"); ok {
			d, err := resolve(rest)
			if err != nil {
				return rr, err
			}
			rr.exclude = append(rr.exclude, d)
			continue
		}
		d, err := resolve(arg)
		if err != nil {
			return rr, err
		}
		rr.include = append(rr.include, d)
	}
	return rr, nil
}

// rangeSlop is how many excluded commits the walk reads past where
// dates say it could stop: git's SLOP.
const rangeSlop = 5

// interesting returns the commits of rr when it excludes any (nil
// otherwise: every commit reachable from include). It walks both sides
// newest first, as git does, marking what an excluded commit reaches,
// and stops a little past where every commit still queued is excluded
// and older than every included one found. Only the commits between the
// ends and their boundary are read, not whole histories.
func (rr revRange) interesting(r *repo.Repo) (map[digest.Digest]bool, error) {
	if len(rr.exclude) == 0 {
		return nil, nil
	}
	type state struct {
		date            int64
		parents         []digest.Digest
		excluded        bool
		inQueue, popped bool
	}
	seen := map[digest.Digest]*state{}
	var q walkQueue
	seq, queued := 0, 0 // queued: commits in q not excluded
	get := func(d digest.Digest) (*state, error) {
		if s := seen[d]; s != nil {
			return s, nil
		}
		sum, err := r.Objects.ReadSummary(d)
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", shortID(d), err)
		}
		s := &state{date: sum.Date.UnixNano()}
		for _, p := range []digest.Digest{sum.Parent, sum.MergeParent} {
			if p != "" && r.Objects.Has(p) {
				s.parents = append(s.parents, p)
			}
		}
		seen[d] = s
		return s, nil
	}
	// mark queues d once; excluded, it spreads through what was read
	// below d already (a parent dated after its child).
	var mark func(d digest.Digest, excluded bool) error
	mark = func(d digest.Digest, excluded bool) error {
		s, err := get(d)
		if err != nil {
			return err
		}
		if excluded && !s.excluded {
			s.excluded = true
			if s.inQueue {
				queued--
			}
			if s.popped {
				for _, p := range s.parents {
					if err := mark(p, true); err != nil {
						return err
					}
				}
			}
		}
		if !s.inQueue && !s.popped {
			s.inQueue = true
			if !s.excluded {
				queued++
			}
			heap.Push(&q, walkItem{id: d, date: s.date, seq: seq})
			seq++
		}
		return nil
	}
	for _, d := range rr.exclude {
		if err := mark(d, true); err != nil {
			return nil, err
		}
	}
	for _, d := range rr.include {
		if err := mark(d, false); err != nil {
			return nil, err
		}
	}
	// The walk could stop once every commit queued is excluded and older
	// than every included one found, but a commit may be dated before its
	// parent (clock skew): as git does, it goes on for five more
	// excluded commits (rangeSlop), whose marks spread to what was read.
	oldest := int64(1<<63 - 1) // the oldest included commit read
	for slop := rangeSlop; q.Len() > 0; {
		if queued == 0 && q[0].date < oldest {
			if slop == 0 {
				break
			}
			slop--
		} else {
			slop = rangeSlop
		}
		s := seen[heap.Pop(&q).(walkItem).id]
		s.inQueue, s.popped = false, true
		if !s.excluded {
			queued--
			oldest = min(oldest, s.date)
		}
		for _, p := range s.parents {
			if err := mark(p, s.excluded); err != nil {
				return nil, err
			}
		}
	}
	out := map[digest.Digest]bool{}
	for d, s := range seen {
		if s.popped && !s.excluded {
			out[d] = true
		}
	}
	return out, nil
}

// parentShorthand is what git's X^@, X^! and X^-N (refs.
// SplitParentShorthand) include and exclude: X's parents; X, and not its
// parents; X, and not X^N.
// Errors name arg, the whole argument.
func parentShorthand(r *repo.Repo, arg string) (include, exclude []digest.Digest, err error) {
	rev, kind, n, _ := refs.SplitParentShorthand(arg)
	x, err := r.Refs.Resolve(rev, r.Objects)
	if err != nil {
		return nil, nil, err // it names rev
	}
	parents, err := r.Objects.Parents(x)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", arg, err)
	}
	switch {
	case kind == refs.ParentsOf:
		return parents, nil, nil
	case kind == refs.WithoutParent:
		return []digest.Digest{x}, present(r, parents...), nil
	case n > len(parents):
		return nil, nil, fmt.Errorf("%s: %w: %s has no parent %d", arg, refs.ErrUnknownRevision, shortID(x), n)
	}
	return []digest.Digest{x}, present(r, parents[n-1]), nil
}

// present is the commits of ds the store has: a shallow history's
// boundary parents are missing, and excluding them excludes nothing.
func present(r *repo.Repo, ds ...digest.Digest) []digest.Digest {
	var out []digest.Digest
	for _, d := range ds {
		if r.Objects.Has(d) {
			out = append(out, d)
		}
	}
	return out
}

// pseudoRev is one of git's pseudo-revisions among log's revisions, where
// it was given: --all, --branches[=PATTERN], --tags[=PATTERN] and
// --remotes[=PATTERN] stand for the refs they name, and --not reverses
// the revisions after it (up to the next --not): "B --not A" is "B ^A",
// "--not ^A" is "A". A PATTERN is a shell glob against the ref's name
// after refs/heads/ (refs/tags/, refs/remotes/), '*' matching '/' too;
// without '*', '?' or '[' it is a directory, as git's: --branches=feat
// is feat/*. --exclude=PATTERN leaves out of the next of them the refs
// it matches (the name after refs/heads/..., the whole name for --all).
type pseudoRev struct {
	name    string // "all", "branches", "tags", "remotes", "not" or "exclude"
	pattern string
	at      int // how many arguments came before it
}

// pseudoRevFlag adds the pseudoRevs pflag reads to list, with where each
// came (len(fs.Args()) as it reads it, as revFlag's at).
type pseudoRevFlag struct {
	name string
	fs   *pflag.FlagSet
	list *[]pseudoRev
}

// takesPattern: --branches, --tags, --remotes and --exclude; not --all
// nor --not.
func takesPattern(name string) bool { return name != "all" && name != "not" }

func (f pseudoRevFlag) String() string { return "" }
func (f pseudoRevFlag) Type() string {
	if takesPattern(f.name) {
		return "string"
	}
	return "bool"
}
func (f pseudoRevFlag) Set(v string) error {
	if !takesPattern(f.name) && v != "true" {
		return errors.New("takes no value")
	}
	*f.list = append(*f.list, pseudoRev{name: f.name, pattern: v, at: len(f.fs.Args())})
	return nil
}

// addPseudoRevFlags registers --all, --not, --branches, --tags,
// --remotes and --exclude, which add to list.
func addPseudoRevFlags(fs *pflag.FlagSet, list *[]pseudoRev) {
	for _, f := range []struct{ name, bare, usage string }{
		{"all", "true", "show the history of every branch, tag and remote branch, and HEAD"},
		{"not", "true", "leave out the history of the revisions after it (up to the next --not); ^REV after it is REV"},
		{"branches", "*", "show the history of the branches matching `PATTERN` (default: every branch)"},
		{"tags", "*", "show the history of the tags matching `PATTERN` (default: every tag)"},
		{"remotes", "*", "show the history of the remote-tracking branches matching `PATTERN` (default: all)"},
		{"exclude", "", "leave out of the next --all, --branches, --tags or --remotes the refs matching `PATTERN`"},
	} {
		fs.Var(pseudoRevFlag{f.name, fs, list}, f.name, f.usage)
		fs.Lookup(f.name).NoOptDefVal = f.bare
	}
}

// checkPseudoRevs refuses a PATTERN that is no shell glob.
func checkPseudoRevs(list []pseudoRev) error {
	for _, p := range list {
		if _, err := path.Match(p.pattern, ""); takesPattern(p.name) && err != nil {
			return usagef("--%s: bad pattern %q: %w", p.name, p.pattern, err)
		}
	}
	return nil
}

// namesRefs says whether list has a pseudo-revision naming refs: then
// log has revisions to start from, even when none match.
func namesRefs(list []pseudoRev) bool {
	return slices.ContainsFunc(list, func(p pseudoRev) bool { return p.name != "not" && p.name != "exclude" })
}

// parseRevArgs resolves revs with the pseudo-revisions among them, in
// their order.
func parseRevArgs(r *repo.Repo, revs []string, pseudo []pseudoRev) (revRange, error) {
	var rr revRange
	not := false
	add := func(include, exclude []digest.Digest) {
		if not {
			include, exclude = exclude, include
		}
		rr.include, rr.exclude = append(rr.include, include...), append(rr.exclude, exclude...)
	}
	done := 0 // revs resolved
	upTo := func(at int) error {
		at = min(at, len(revs)) // past the revisions: among PATHs
		part, err := parseRevRange(r, revs[done:at])
		add(part.include, part.exclude)
		rr.left = append(rr.left, part.left...)
		done = at
		return err
	}
	var excludes []string // --exclude's, for the next pseudo-revision naming refs
	for _, p := range pseudo {
		if err := upTo(p.at); err != nil {
			return rr, err
		}
		switch p.name {
		case "not":
			not = !not
			continue
		case "exclude":
			excludes = append(excludes, p.pattern)
			continue
		}
		ds, err := pseudoRevRefs(r, p, excludes)
		if err != nil {
			return rr, err
		}
		add(ds, nil)
		excludes = nil
	}
	return rr, upTo(len(revs))
}

// pseudoRevRefs lists the commits of the refs p names (--all: HEAD's
// too) but those excludes match, those the store has.
func pseudoRevRefs(r *repo.Repo, p pseudoRev, excludes []string) ([]digest.Digest, error) {
	prefix := map[string]string{"all": "refs/", "branches": refs.Heads, "tags": refs.Tags, "remotes": refs.Remotes}[p.name]
	pattern := prefix + "*"
	if p.name != "all" {
		if pattern = p.pattern; !strings.HasPrefix(pattern, prefix) {
			pattern = prefix + pattern
		}
		if !strings.ContainsAny(p.pattern, `*?[\`) {
			pattern = strings.TrimSuffix(pattern, "/") + "/*"
		}
	}
	list, err := r.Refs.List(prefix)
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	excluded := func(name string) bool {
		if p.name != "all" {
			name = strings.TrimPrefix(name, prefix)
		}
		return len(excludes) > 0 && matchesAny(excludes, name)
	}
	for _, ref := range list {
		if matchRefName(pattern, ref.Name) && !excluded(ref.Name) && r.Objects.Has(ref.Target) {
			out = append(out, ref.Target)
		}
	}
	if p.name == "all" && !excluded(refs.HEAD) {
		if head, err := r.Refs.ReadHead(); err == nil && head.Commit != "" {
			out = append(out, head.Commit)
		}
	}
	return out, nil
}
