package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"golang.org/x/sync/errgroup"
)

// PushOptions change what Push does.
type PushOptions struct {
	// Force moves the remote tag even if it is not a fast-forward.
	Force bool
	// Compression "gzip" sends zstd layers recompressed with gzip, for
	// registries and clients that need it; "" sends layers as they are.
	Compression string
	// Commit, if set, is what is sent in place of the ref's commit, and
	// To the remote tag in place of the ref's short name (git's push
	// SRC:DST, where SRC is any revision).
	Commit digest.Digest
	To     string
	// Tag: what is pushed is a tag, not a branch (as a ref under
	// refs/tags/ is): a fetch refspec written refs/tags/... maps it to
	// its remote-tracking ref too.
	Tag bool
	// Lease, if set, is git's --force-with-lease: the commit the remote
	// tag must be at ("": it must not exist) for the push to go, forced
	// or not; elsewhere, it is refused (ErrStaleInfo).
	Lease *digest.Digest
}

// PushResult says what a push did.
type PushResult struct {
	Ref      string        // local ref pushed, full name
	Tag      string        // remote tag
	Old, New digest.Digest // remote tag before and after ("" = absent)
	Reached  bool          // the remote answered (its tag was read)
	UpToDate bool          // nothing to do
	Forced   bool          // not a fast-forward, pushed with Force
	Commits  int           // manifests sent
	Sent     int           // blobs sent
	Skipped  int           // blobs the remote had
	Bytes    int64         // bytes of blobs sent
	Lists    int           // ancestor lists sent
}

// Push sends local ref (a full ref name) to the remote tag of the same
// short name: the blobs the remote lacks, then every commit manifest of the
// history the remote lacks (by digest, oldest first), then the tag.
func (s *Session) Push(ctx context.Context, r *repo.Repo, ref string, po PushOptions) (PushResult, error) {
	res := PushResult{Ref: ref, Tag: refs.ShortName(ref)}
	branch := !po.Tag && !strings.HasPrefix(ref, refs.Tags)
	if po.To != "" {
		res.Tag = po.To
	}
	if err := CheckTag(res.Tag); err != nil {
		return res, err
	}
	// A tag fetch would skip (a..b, HEAD, x.lock) could be neither
	// fetched nor deleted again (push --delete checks the same).
	if err := refs.CheckRemoteName(res.Tag); err != nil {
		return res, err
	}
	if isAncestorsTag(res.Tag) {
		return res, fmt.Errorf("%q: tags named sha256-<hex>.ancestors hold ancestor lists; rename the ref", res.Tag)
	}
	if t, ok := s.t.(*layoutTarget); ok && t.isStrataRepo() {
		return res, fmt.Errorf("%s is a strata repository: push to an OCI layout directory or a registry, or fetch from the other side", s.ep.Dir)
	}
	tip := po.Commit
	var err error
	if tip == "" {
		if tip, err = r.Refs.Read(ref); err != nil {
			return res, err
		}
	}
	res.New = tip
	local := tip // before a rewrite
	if po.Compression != "" && po.Compression != "gzip" {
		return res, fmt.Errorf("compression %q: only gzip can be asked for", po.Compression)
	}
	if po.Compression == "gzip" {
		if tip, err = convertHistoryGzip(ctx, r, tip); err != nil {
			return res, err
		}
		res.New = tip
	}
	if rt, ok := s.t.(*registryTarget); ok {
		rt.wantPush() // one connection, with push scope, for the whole push
	}
	cur, err := s.t.headManifest(ctx, res.Tag)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return res, fmt.Errorf("read remote tag %s: %w", res.Tag, err)
	default:
		res.Old = cur.Digest
	}
	res.Reached = true
	if res.Old == tip {
		res.UpToDate = true
		return res, s.track(r, res.Tag, branch, tip, "push: up to date")
	}
	force := po.Force
	if po.Lease != nil {
		if res.Old != *po.Lease {
			return res, staleInfo(res.Tag, res.Old, *po.Lease)
		}
		force = true
	}
	if res.Old != "" {
		ff, err := repo.IsAncestor(r.Objects, res.Old, tip)
		if err != nil {
			return res, err
		}
		if !ff && !force {
			if err := s.rewrittenTwin(ctx, r, res, local, po.Compression == "gzip"); err != nil {
				return res, err
			}
			if behind, err := repo.IsAncestor(r.Objects, tip, res.Old); err == nil && behind {
				// The remote is ahead with commits we have: not "diverged".
				return res, &nonFastForward{fmt.Sprintf("remote tag %s is at %s, which already holds %s: what is pushed is behind it, nothing to push; push --force moves it back", res.Tag, short(res.Old), short(tip))}
			}
			advice := fmt.Sprintf("run 'strata fetch %s' and look at both histories ('strata log --all')", s.remoteArg())
			if strings.HasPrefix(ref, refs.Heads) {
				// A branch: pull, on it (pull moves the current branch, as
				// git's), brings the two histories together.
				advice = fmt.Sprintf("'strata pull --rebase %s %s' (or --merge) brings them together", s.remoteArg(), res.Tag)
				if h, err := r.Refs.Current(); err == nil && h.Branch != ref {
					advice = fmt.Sprintf("'strata switch %s', then 'strata pull --rebase %s %s' (or --merge), brings them together", refs.ShortName(ref), s.remoteArg(), res.Tag)
				}
			}
			return res, fmt.Errorf("remote tag %s is at %s: %w; %s, then push again; push --force replaces the remote's history", res.Tag, short(res.Old), ErrNonFastForward, advice)
		}
		res.Forced = !ff
	}
	or := newOutgoingReader(r.Objects)
	todo, present, err := s.missingHistory(ctx, r, or, tip, res.Old)
	if err != nil {
		return res, err
	}
	if err := checkRecordedDiffIDs(todo); err != nil {
		return res, err
	}
	if err := checkOutgoingSizes(r.Objects, todo, or.table); err != nil {
		return res, err
	}
	if err := s.sendHistory(ctx, r.Objects, todo, or.table, present, s.holders(r), &res); err != nil {
		return res, err
	}
	res.Lists = s.pushAncestorLists(ctx, r.Objects, todo)
	if len(todo) == 0 { // the remote had the commit, under another tag or none
		raw, err := r.Objects.ReadBlob(tip)
		if err != nil {
			return res, err
		}
		if err := s.t.pushManifest(ctx, res.Tag, raw, ocispec.MediaTypeImageManifest); err != nil {
			return res, fmt.Errorf("move tag %s: %w", res.Tag, err)
		}
	}
	return res, s.track(r, res.Tag, branch, tip, "push")
}

func (s *Session) remoteArg() string {
	if s.Name != "" {
		return s.Name
	}
	return s.ep.URL
}

func manifestMediaType(c *objects.Commit) string {
	if c.Manifest.MediaType != "" {
		return c.Manifest.MediaType
	}
	return ocispec.MediaTypeImageManifest
}

// track moves the remote-tracking ref of tag (a branch's, or a tag's),
// if the remote has a name.
func (s *Session) track(r *repo.Repo, tag string, branch bool, d digest.Digest, msg string) error {
	name := s.trackingRef(tag, branch)
	if name == "" {
		return nil
	}
	if cur, err := r.Refs.Read(name); err == nil && cur == d {
		return nil
	}
	return r.Refs.Update(name, d, refs.Any, msg)
}

// childrenFirst orders commits so that none comes after one of its
// parents, keeping the given order where it may (the tip stays first).
func childrenFirst(cs []*outgoing) []*outgoing {
	return topoOrder(cs, func(c *outgoing) digest.Digest { return c.id },
		func(c *outgoing) []digest.Digest { return c.parents() })
}

// topoOrder is Kahn's algorithm over the items' parents within the set:
// an item goes once all its children in the set have gone.
func topoOrder[T any](items []T, id func(T) digest.Digest, parents func(T) []digest.Digest) []T {
	byID := make(map[digest.Digest]int, len(items))
	for i, it := range items {
		byID[id(it)] = i
	}
	children := make([]int, len(items))
	for _, it := range items {
		for _, p := range parents(it) {
			if j, ok := byID[p]; ok {
				children[j]++
			}
		}
	}
	var ready []int
	for i := range items {
		if children[i] == 0 {
			ready = append(ready, i)
		}
	}
	out := make([]T, 0, len(items))
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		out = append(out, items[i])
		for _, p := range parents(items[i]) {
			if j, ok := byID[p]; ok {
				if children[j]--; children[j] == 0 {
					ready = append(ready, j)
				}
			}
		}
	}
	return out
}

// presentOf HEAD-checks the commits of batch but tip in parallel and
// says which the remote has.
func (s *Session) presentOf(ctx context.Context, batch []*outgoing, tip digest.Digest) []bool {
	found := make([]bool, len(batch))
	var g errgroup.Group
	g.SetLimit(manifestJobs)
	for i, c := range batch {
		if c.id == tip {
			continue
		}
		g.Go(func() error {
			found[i] = s.hasManifest(ctx, c.id)
			return nil
		})
	}
	g.Wait()
	return found
}

func (s *Session) hasManifest(ctx context.Context, d digest.Digest) bool {
	got, err := s.t.headManifest(ctx, d.String())
	return err == nil && got.Digest == d
}

// openUnverified opens a local blob as the bare file, not hashed on the
// way: the receiver checks the digest anyway (a registry refuses a blob
// that does not match it, a layout's Store.Put hashes what it stores), and
// a bare *os.File lets net/http send it with sendfile(2). Hashing 85 MB
// here as well cost a core for ~60 ms, beside the registry's own.
func openUnverified(st *objects.Store, d digest.Digest) (io.ReadCloser, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Open(st.BlobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", short(d), objects.ErrNotFound)
	}
	return f, err
}

// staleInfo is the refusal of a push whose lease expected the remote tag
// at expect ("": absent) and found it at old.
func staleInfo(tag string, old, expect digest.Digest) error {
	at, want := "absent", "absent"
	if old != "" {
		at = "at " + short(old)
	}
	if expect != "" {
		want = "at " + short(expect)
	}
	return fmt.Errorf("remote tag %s is %s, where the lease expects it %s: %w; fetch, look at what the remote has, then push again", tag, at, want, ErrStaleInfo)
}
