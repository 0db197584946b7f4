package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"golang.org/x/sync/errgroup"
)

// An ancestor list lets fetch ask for a history's manifests in parallel
// instead of one round trip per parent (docs/format.md, "Ancestor
// lists"). It is a side artifact under a tag derived from the commit id,
// so commit ids do not change, and a registry that refuses it still
// works through the plain parent chain.
var (
	// ancestorsWindow bounds the entries of one list: a one-commit push
	// writes at most this many (about 72 KB), a deep history is a chain of
	// lists, one round trip each. A variable for tests.
	ancestorsWindow = 1000
)

const (
	// manifestJobs is how many listed manifests are fetched at once; they
	// are small, so latency, not bandwidth, bounds them.
	manifestJobs       = 16
	ancestorsTagSuffix = ".ancestors"
)

// ErrBadAncestors: an ancestor list does not match the parent chain.
var ErrBadAncestors = errors.New("ancestor list does not match the history")

// ancestorList is the blob of a commit's list: the commit's first-parent
// ancestors, parent first. Continued says the last entry has a list of
// its own. Merges names the second parent of each merge among the commit
// and its entries; a merge's second parent starts a line of history of
// its own, with its own list.
type ancestorList struct {
	Commit    digest.Digest                   `json:"commit"`
	Ancestors []digest.Digest                 `json:"ancestors"`
	Continued bool                            `json:"continued,omitempty"`
	Merges    map[digest.Digest]digest.Digest `json:"merges,omitempty"`
	// bundle is the list's history bundle (bundle.go): in a list of the
	// old artifact form, its config; in an index, bundleManifest is the
	// entry of the bundle's manifest instead (bundleBlob). Empty for none.
	bundle, bundleManifest ocispec.Descriptor
}

// check refuses a list no strata writes: more entries than a window, an
// entry twice, or one that is no digest. Its entries are fetched before
// any is checked against the parent chain, so a list of thousands, or of
// one padded manifest named again and again, could make a fetch hold
// gigabytes; an entry that is no digest would be fetched as a tag.
func (l *ancestorList) check() error {
	if len(l.Ancestors) > ancestorsWindow {
		return fmt.Errorf("list of %d entries, more than %d: %w", len(l.Ancestors), ancestorsWindow, ErrBadImage)
	}
	seen := make(map[digest.Digest]bool, len(l.Ancestors))
	for _, d := range l.Ancestors {
		if seen[d] || d.Validate() != nil {
			return fmt.Errorf("list names %q twice or as no digest: %w", objects.Short(d), ErrBadImage)
		}
		seen[d] = true
	}
	for c, mp := range l.Merges {
		if c.Validate() != nil || mp.Validate() != nil {
			return fmt.Errorf("list names a merge by no digest: %w", ErrBadImage)
		}
	}
	return nil
}

// mergeParentOf is what a list says of commit d's second parent.
func (l *ancestorList) mergeParentOf(d digest.Digest) digest.Digest {
	return l.Merges[d]
}

// ancestorsTag is the registry tag of commit d's list, in the style of
// cosign's sha256-<hex>.sig.
func ancestorsTag(d digest.Digest) string {
	return d.Algorithm().String() + "-" + d.Encoded() + ancestorsTagSuffix
}

func isAncestorsTag(tag string) bool {
	return strings.HasPrefix(tag, "sha256-") && strings.HasSuffix(tag, ancestorsTagSuffix)
}

// listsAncestors says whether this remote gets ancestor lists: registries
// only; a layout directory is read without round trips.
func (s *Session) listsAncestors() bool {
	_, ok := s.t.(*registryTarget)
	return ok && !s.noAncestors
}

// readAncestors returns commit c's list, or nil if the remote has none or
// it cannot be read (a registry that dropped it): fetch then follows the
// parent chain. What the list says is checked by the caller.
func (s *Session) readAncestors(ctx context.Context, c digest.Digest) *ancestorList {
	if !s.listsAncestors() {
		return nil
	}
	l, err := s.readAncestorsErr(ctx, c)
	if err != nil {
		slog.Debug("no usable ancestor list", "commit", c, "why", err)
		return nil
	}
	return l
}

// fetchListed fetches the manifests a list names, in parallel, up to the
// first one known locally. The answer stops before the first one the
// remote lacks (the history is shallow there; the caller finds it again).
// Each worker then prefetches its commit's config (prefetchConfig).
// Where the list has a history bundle worth reading (useBundle), what it
// holds is taken from it instead, the list's own commit's config too.
func (s *Session) fetchListed(ctx context.Context, st *objects.Store, head *incoming, l *ancestorList, known func(digest.Digest) bool) ([]*incoming, error) {
	of, ids := head.id, l.Ancestors
	for i, d := range ids {
		if known(d) {
			ids = ids[:i]
			break
		}
	}
	var b *bundle
	if useBundle(l, len(ids)) {
		b = s.readBundle(ctx, of, l)
		s.configFromBundle(st, b, head.config)
	}
	out := make([]*incoming, len(ids))
	var mu sync.Mutex
	end := len(ids)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(manifestJobs)
	for i, d := range ids {
		if in := s.plannedFromBundle(b, d); in != nil {
			out[i] = in
			if !s.configFromBundle(st, b, in.config) {
				g.Go(func() error { s.prefetchConfig(gctx, st, in.config); return nil })
			}
			continue
		}
		g.Go(func() error {
			raw, desc, err := s.t.fetchManifest(gctx, d.String())
			if errors.Is(err, ErrNotFound) {
				mu.Lock()
				end = min(end, i)
				mu.Unlock()
				return nil
			}
			if err != nil {
				return fmt.Errorf("commit %s: %w", short(d), err)
			}
			in, err := s.toPlanned(raw, desc)
			if err != nil {
				return fmt.Errorf("ancestor list of %s names %s: %w", short(of), short(d), err)
			}
			out[i] = in
			if !s.configFromBundle(st, b, in.config) {
				s.prefetchConfig(gctx, st, in.config)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out[:end], nil
}

// lyingList is the error for a list whose entry is not the parent.
func lyingList(of, listed, parent digest.Digest) error {
	return fmt.Errorf("the ancestor list of %s names %s where the parent is %s: %w; nothing was fetched", short(of), short(listed), short(parent), ErrBadAncestors)
}

// pushAncestorLists writes the lists of a push whose new commits are todo
// (children before parents, the tip first). The history is cut into
// lines that follow first parents: one from the tip, one from each new
// merge's second parent, each on top of the first parent of its last
// commit (which the remote has, or which another line sends). Failures
// are logged, not returned: a registry without lists still serves the
// parent chain.
func (s *Session) pushAncestorLists(ctx context.Context, st *objects.Store, todo []*outgoing) int {
	if !s.listsAncestors() || len(todo) == 0 {
		return 0
	}
	byID := make(map[digest.Digest]*outgoing, len(todo))
	for _, c := range todo {
		byID[c.id] = c
	}
	inLine := map[digest.Digest]bool{}
	sent := 0
	for _, head := range todo {
		if inLine[head.id] {
			continue
		}
		var line []*outgoing
		for c := head; c != nil && !inLine[c.id]; c = byID[c.parent] {
			inLine[c.id] = true
			line = append(line, c)
		}
		base := line[len(line)-1].parent
		if base != "" && !st.Has(base) {
			base = "" // the walk ended at a commit missing locally (shallow)
		}
		n, ok := s.pushLineLists(ctx, st, line, base)
		sent += n
		if !ok {
			break
		}
	}
	return sent
}

// pushLineLists writes the lists of one line of new commits (newest
// first, each the first parent of the one before) on top of base, its
// last commit's first parent ("" for none). A list covers up to
// ancestorsWindow entries; a new commit's list extends its parent's until
// that is full, so a push writes O(new + window) entries, never the
// whole history. A commit whose list another one continues from gets its
// own. It says how many lists it wrote and whether all went.
func (s *Session) pushLineLists(ctx context.Context, st *objects.Store, todo []*outgoing, base digest.Digest) (int, bool) {
	n := len(todo)
	var baseList []digest.Digest
	baseCont := false
	// The second parents of the merges the lists may name: of the new
	// commits, and of base and its list, read locally.
	merges := map[digest.Digest]digest.Digest{}
	for _, c := range todo {
		if mp := c.mergeParent; mp != "" {
			merges[c.id] = mp
		}
	}
	if base != "" {
		if l := s.readAncestors(ctx, base); l != nil && matchesLocal(st, base, l.Ancestors, merges) {
			baseList, baseCont = l.Ancestors, l.Continued
		} else {
			matchesLocal(st, base, nil, merges) // base's own, if it is a merge
		}
	}
	// seq: the ids newest first, then base and its list; todo[i]'s list is
	// seq[i+1 : i+1+k[i]].
	seq := make([]digest.Digest, 0, n+1+len(baseList))
	for _, c := range todo {
		seq = append(seq, c.id)
	}
	if base != "" {
		seq = append(seq, base)
		seq = append(seq, baseList...)
	}
	k := make([]int, n)
	cont := make([]bool, n)
	need := []int{0}
	for i := n - 1; i >= 0; i-- {
		kp, cp, p := len(baseList), baseCont, base
		if i < n-1 {
			kp, cp, p = k[i+1], cont[i+1], todo[i+1].id
		}
		switch {
		case p == "":
		case kp < ancestorsWindow:
			k[i], cont[i] = kp+1, cp
		default:
			k[i], cont[i] = 1, true
			if i+1 < n {
				need = append(need, i+1)
			}
		}
	}
	sent := 0
	// Oldest first: a list is written after the lists it continues into.
	slices.Sort(need)
	for j := len(need) - 1; j >= 0; j-- {
		i := need[j]
		if k[i] == 0 {
			continue // a root: nothing to list
		}
		l := ancestorList{Commit: todo[i].id, Ancestors: seq[i+1 : i+1+k[i]], Continued: cont[i]}
		for _, d := range append([]digest.Digest{l.Commit}, l.Ancestors...) {
			if mp, ok := merges[d]; ok {
				if l.Merges == nil {
					l.Merges = map[digest.Digest]digest.Digest{}
				}
				l.Merges[d] = mp
			}
		}
		if err := s.writeAncestors(ctx, st, l); err != nil {
			slog.Debug("push: ancestor list not written", "commit", todo[i].id, "why", err)
			return sent, false
		}
		sent++
	}
	return sent, true
}

// matchesLocal reports whether ids are the first-parent ancestors of
// from, parent first, in the local store: a list read back from the
// remote is only extended when it is true. merges gets the second
// parent of each merge among from and ids, read on the way.
func matchesLocal(st *objects.Store, from digest.Digest, ids []digest.Digest, merges map[digest.Digest]digest.Digest) bool {
	d := from
	for i := 0; i <= len(ids); i++ {
		m, err := st.ReadManifest(d)
		if err != nil {
			return false
		}
		if mp := m.Annotations[objects.AnnotationMergeParent]; mp != "" {
			merges[d] = digest.Digest(mp)
		}
		if i == len(ids) {
			break
		}
		if p := digest.Digest(m.Annotations[objects.AnnotationParent]); p != ids[i] {
			return false
		}
		d = ids[i]
	}
	return true
}

// writeAncestors sends a list (listform.go). A full list
// (ancestorsWindow entries: it never changes again) also gets a history
// bundle (bundle.go). A registry that refuses the bundle gets the list
// without it.
func (s *Session) writeAncestors(ctx context.Context, st *objects.Store, l ancestorList) error {
	if len(l.Ancestors) >= ancestorsWindow {
		b, n, err := buildBundle(st, l)
		if err == nil && n > 0 {
			if err = s.writeList(ctx, st, l.Commit, l, b); err == nil {
				return nil
			}
		}
		slog.Debug("push: list written without its history bundle", "commit", l.Commit, "why", err)
	}
	return s.writeList(ctx, st, l.Commit, l, nil)
}
