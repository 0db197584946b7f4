package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"golang.org/x/sync/errgroup"
)

// FetchResult says what a fetch did.
type FetchResult struct {
	Tags    []TagUpdate
	Commits int   // commits received
	Blobs   int   // blobs received
	Bytes   int64 // bytes of blobs received
	Shallow []digest.Digest
}

// TagUpdate is one remote tag and a local ref it goes to, and how that
// ref moved.
type TagUpdate struct {
	Tag      string
	Ref      string // the local ref it goes to, "" for none (an unnamed remote)
	Old, New digest.Digest
	Skipped  string // why the tag was not fetched, if it was not
	// Invalid: the tag's name cannot be a ref; it was skipped before
	// anything was fetched or written.
	Invalid bool
	// Forced: Old is not an ancestor of New (the remote's history was
	// rewritten, a push --force): git's "(forced update)".
	Forced bool
	// Rejected says why Ref did not move, if it was refused: git's
	// "non-fast-forward" (a refspec without '+'), "would clobber
	// existing tag".
	Rejected string
	// named: the tag was named, not found by a pattern: it must arrive.
	named bool
	// force: Ref's refspec has a '+'.
	force bool
	// broken: Ref's file holds no commit id; the fetch replaces it.
	broken bool
}

// incoming is a commit to receive: its id, the manifest bytes to store
// (rewritten from a docker manifest if need be) and the decoded manifest.
type incoming struct {
	id  digest.Digest
	raw []byte
	m   ocispec.Manifest
	// shallow: the parent is gone from the remote.
	shallow bool
}

// Fetch receives the given tags (all that the remote's configured
// refspecs map, or all the remote's tags, if none) with their histories,
// and moves the remote-tracking refs the refspecs map them to. It is
// FetchSpecs of each tag with no destination of its own.
func (s *Session) Fetch(ctx context.Context, r *repo.Repo, tags []string) (FetchResult, error) {
	specs := make([]refs.Refspec, len(tags))
	for i, t := range tags {
		specs[i] = refs.Refspec{Src: t, Raw: t}
	}
	return s.FetchSpecs(ctx, r, specs, FetchOptions{})
}

// FetchDigest receives the image whose manifest (or index) has digest d,
// with its history, as Fetch receives a tag, and returns its commit id.
// No ref moves: it is how build's FROM NAME@DIGEST pins its base, as
// docker's does.
func (s *Session) FetchDigest(ctx context.Context, r *repo.Repo, d digest.Digest) (digest.Digest, error) {
	res, err := s.fetch(ctx, r, []want{{tag: d.String(), named: true}}, FetchResult{}, FetchOptions{})
	if err != nil {
		return "", err
	}
	if u := res.Tags[0]; u.New == "" {
		return "", errors.New(u.Skipped)
	}
	return res.Tags[0].New, nil
}

// fetch receives what ws want and moves their refs; res holds what
// choosing them found (invalid names skipped). A want's tag may be a
// digest (FetchDigest), which the transports check what they receive
// against.
func (s *Session) fetch(ctx context.Context, r *repo.Repo, ws []want, res FetchResult, o FetchOptions) (FetchResult, error) {
	var chains []*incoming
	have := map[digest.Digest]bool{}
	for _, w := range ws {
		tip, chain, err := s.plan(ctx, r, w.tag, have)
		var nt noTagError
		switch {
		case errors.As(err, &nt):
			return res, err // names the tag itself
		case errors.Is(err, ErrUnsupported) && !w.named:
			res.Tags = append(res.Tags, TagUpdate{Tag: w.tag, Skipped: err.Error()})
			continue
		case err != nil:
			return res, fmt.Errorf("tag %s: %w", w.tag, err)
		}
		chains = append(chains, chain...)
		res.Tags = append(res.Tags, w.updates(r, tip)...)
	}
	inc := make(map[digest.Digest]*incoming, len(chains))
	for _, in := range chains {
		inc[in.id] = in
	}
	if err := judge(r, res.Tags, inc, o.Force); err != nil {
		return res, err
	}
	if o.DryRun {
		return res, nil
	}
	chains = needed(chains, inc, res.Tags)
	// Children before parents across all tags: a tag's history may stop
	// at a commit another tag brings.
	chains = topoOrder(chains, func(in *incoming) digest.Digest { return in.id }, parentsOfIncoming)
	slog.Debug("fetch: history read", "commits", len(chains))
	for {
		err := s.receiveBlobs(ctx, r.Objects, chains, &res)
		if err == nil {
			break
		}
		var bad badCommits
		if errors.As(err, &bad) {
			if chains, err = dropBad(chains, bad, res.Tags); err != nil {
				return res, err
			}
			continue
		}
		if chains, err = s.cutWhereGone(ctx, chains, err); err != nil {
			return res, err
		}
	}
	slog.Debug("fetch: blobs received", "blobs", res.Blobs, "bytes", res.Bytes)
	// Oldest first: a commit is written after its blobs and its parent.
	ordered := make([]*incoming, 0, len(chains))
	for i := len(chains) - 1; i >= 0; i-- {
		in := chains[i]
		if err := checkCommitBlobs(r.Objects, in); err != nil {
			return res, err
		}
		if in.shallow {
			if err := r.AddShallow(in.id); err != nil {
				return res, err
			}
			res.Shallow = append(res.Shallow, in.id)
		}
		ordered = append(ordered, in)
	}
	if err := storeManifests(ctx, r.Objects, ordered); err != nil {
		return res, err
	}
	slog.Debug("fetch: commits stored", "commits", len(ordered))
	for _, in := range ordered {
		res.Commits++
		s.o.event(Event{Kind: EventManifest, Digest: in.id})
		r.Objects.NoteManifest(in.id, in.m.Annotations)
	}
	if err := r.Objects.SaveSummaries(); err != nil {
		slog.Debug("fetch: summary cache not written", "err", err)
	}
	if err := writeRefs(r, res.Tags, "fetch "+s.remoteArg()); err != nil {
		return res, err
	}
	return res, nil
}

// plan reads the manifests of tag's history that the store lacks and
// returns the tip's commit id and them, newest line first. The
// history is walked a line at a time along first parents: the tip's
// line, then a line from each new merge's second parent. Where the
// remote has an ancestor list for a line's first commit, the manifests it
// names are fetched in parallel and checked against both parents as the
// line is walked; elsewhere each parent is one request.
func (s *Session) plan(ctx context.Context, r *repo.Repo, tag string, have map[digest.Digest]bool) (digest.Digest, []*incoming, error) {
	raw, desc, err := s.t.fetchManifest(ctx, tag)
	if errors.Is(err, ErrNotFound) {
		return "", nil, noTagError{tag, s.t.String()}
	}
	if err != nil {
		return "", nil, err
	}
	raw, desc, err = s.pickImage(ctx, raw, desc)
	if err != nil {
		return "", nil, err
	}
	in, err := s.toPlanned(raw, desc)
	if err != nil {
		return "", nil, err
	}
	tip := in.id
	known := func(d digest.Digest) bool { return have[d] || s.complete(r.Objects, d) }
	var all []*incoming
	queued := map[digest.Digest]bool{tip: true}
	heads := []*incoming{in}
	for len(heads) > 0 {
		in, heads = heads[0], heads[1:]
		if known(in.id) {
			continue
		}
		line, err := s.planLine(ctx, r.Objects, in, known, have)
		if err != nil {
			return "", nil, err
		}
		all = append(all, line...)
		for _, c := range line {
			mp := digest.Digest(c.m.Annotations[objects.AnnotationMergeParent])
			if mp == "" || known(mp) || queued[mp] {
				continue
			}
			raw, desc, err := s.t.fetchManifest(ctx, mp.String())
			if errors.Is(err, ErrNotFound) {
				slog.Info("fetch: history is shallow", "commit", c.id, "missing merge parent", mp)
				c.shallow = true
				continue
			}
			if err != nil {
				return "", nil, fmt.Errorf("commit %s: %w", short(mp), err)
			}
			head, err := s.toPlanned(raw, desc)
			if err != nil {
				return "", nil, err
			}
			if head.id != mp {
				return "", nil, fmt.Errorf("commit %s: the registry sent %s: %w", short(mp), short(head.id), ErrBadImage)
			}
			queued[mp] = true
			heads = append(heads, head)
		}
	}
	return tip, all, nil
}

// shortMerge names a merge's second parent, "nothing" for a commit that
// is no merge.
func shortMerge(d digest.Digest) string {
	if d == "" {
		return "nothing"
	}
	return short(d)
}

func parentsOfIncoming(in *incoming) []digest.Digest {
	var out []digest.Digest
	for _, a := range []string{objects.AnnotationParent, objects.AnnotationMergeParent} {
		if p := digest.Digest(in.m.Annotations[a]); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// planLine walks one line of history from in along first parents, newest
// first, to the root or a commit the store has, through the line's
// ancestor list where the remote has one.
func (s *Session) planLine(ctx context.Context, st *objects.Store, in *incoming, known func(digest.Digest) bool, have map[digest.Digest]bool) ([]*incoming, error) {
	var chain, listed []*incoming
	var list *ancestorList // whose entries listed are
	listAt := in.id        // where the next list is looked up
	for !known(in.id) {
		have[in.id] = true
		chain = append(chain, in)
		if list != nil {
			if want, got := list.mergeParentOf(in.id), digest.Digest(in.m.Annotations[objects.AnnotationMergeParent]); want != got {
				return nil, fmt.Errorf("the ancestor list of %s says %s merged %s where its manifest says %s: %w; nothing was fetched", short(list.Commit), short(in.id), shortMerge(want), shortMerge(got), ErrBadAncestors)
			}
		}
		parent := digest.Digest(in.m.Annotations[objects.AnnotationParent])
		if parent == "" || known(parent) {
			break
		}
		if len(listed) == 0 && in.id == listAt {
			listAt = ""
			if l := s.readAncestors(ctx, in.id); l != nil {
				var err error
				if listed, err = s.fetchListed(ctx, st, in, l, known); err != nil {
					return nil, err
				}
				if want, got := l.mergeParentOf(in.id), digest.Digest(in.m.Annotations[objects.AnnotationMergeParent]); want != got {
					return nil, fmt.Errorf("the ancestor list of %s says it merged %s where its manifest says %s: %w; nothing was fetched", short(in.id), shortMerge(want), shortMerge(got), ErrBadAncestors)
				}
				list = l
				if l.Continued && len(listed) == len(l.Ancestors) && len(listed) > 0 {
					listAt = listed[len(listed)-1].id
				}
			}
		}
		if len(listed) > 0 {
			next := listed[0]
			listed = listed[1:]
			if next.id != parent {
				return nil, lyingList(list.Commit, next.id, parent)
			}
			in = next
			continue
		}
		list = nil
		raw, desc, err := s.t.fetchManifest(ctx, parent.String())
		if errors.Is(err, ErrNotFound) {
			slog.Info("fetch: history is shallow", "commit", in.id, "missing parent", parent)
			in.shallow = true
			break
		}
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", short(parent), err)
		}
		if in, err = s.toPlanned(raw, desc); err != nil {
			return nil, err
		}
		if in.id != parent {
			return nil, fmt.Errorf("commit %s: the remote sent %s for it: %w", short(parent), short(in.id), image.ErrBadImage)
		}
	}
	if len(listed) > 0 {
		// Entries past the root or past a commit the store has.
		return nil, fmt.Errorf("the ancestor list of %s names %s past where the history ends: %w; nothing was fetched", short(list.Commit), short(listed[0].id), ErrBadAncestors)
	}
	return chain, nil
}

// complete reports whether the store has commit d; a commit's manifest is
// only ever written after its blobs.
func (s *Session) complete(st *objects.Store, d digest.Digest) bool {
	_, err := st.ReadManifest(d)
	return err == nil
}

// pickImage resolves an index to the manifest for this machine's platform.
func (s *Session) pickImage(ctx context.Context, raw []byte, desc ocispec.Descriptor) ([]byte, ocispec.Descriptor, error) {
	if !image.IsIndex(desc.MediaType) {
		return raw, desc, nil
	}
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, desc, fmt.Errorf("index %s: %w: %v", short(desc.Digest), ErrBadImage, err)
	}
	m, err := image.PickPlatform(&idx)
	if err != nil {
		return nil, desc, fmt.Errorf("index %s: %w", short(desc.Digest), err)
	}
	return s.t.fetchManifest(ctx, m.Digest.String())
}

// receiveBlobs downloads the blobs of chains that the store lacks: configs
// first, then layers, each verified against its digest. A commit whose
// config cannot serve it is bad (badCommits), and so is one that pairs a
// stored layer with another diff id than the one recorded for it, found
// without reading the layer: what it names is not stored. A new layer's
// diff id is checked where it is first read whole (snapshot's unpack, or
// objects.Store.LayerIndex), which also writes its file index.
func (s *Session) receiveBlobs(ctx context.Context, st *objects.Store, chains []*incoming, res *FetchResult) error {
	seen := map[digest.Digest]bool{}
	var configs []ocispec.Descriptor
	var total int64
	count := 0
	for _, in := range chains {
		for _, d := range append([]ocispec.Descriptor{in.m.Config}, in.m.Layers...) {
			// Reuse, not Has: a present blob the new commit will name
			// must outlive a concurrent gc's grace period.
			if seen[d.Digest] || st.Reuse(d.Digest) {
				continue
			}
			seen[d.Digest] = true
			if d.Digest == in.m.Config.Digest {
				configs = append(configs, d)
			}
			total += d.Size
			count++
		}
	}
	queued := map[digest.Digest]bool{}
	s.o.event(Event{Kind: EventPlan, N: int64(count), Size: total})
	var mu sync.Mutex
	done := func(d ocispec.Descriptor) {
		mu.Lock()
		res.Blobs++
		res.Bytes += d.Size
		mu.Unlock()
		s.o.event(Event{Kind: EventBlobDone, Digest: d.Digest, Size: d.Size})
	}
	get := func(ctx context.Context, d ocispec.Descriptor) error {
		s.o.event(Event{Kind: EventBlobStart, Digest: d.Digest, Size: d.Size})
		rc, err := s.t.fetchBlob(ctx, d)
		if err != nil {
			return goneOr(d.Digest, err)
		}
		defer rc.Close()
		// No more and no less than the descriptor says: a remote that
		// sends an endless body cannot fill the disk.
		rc = image.ExactSizeCloser(rc, d.Size)
		// Every blob is checked against its digest before it is stored.
		// A new layer's diff id and file index come later, in the pass
		// that unpacks it (snapshot), or when a diff first needs the
		// index, as containerd checks at unpack: decompressing on arrival
		// too would cost a clone --no-checkout some 80% more (0.23 s to
		// 0.42 s for the benchmark's Debian layer), and a clone with its
		// checkout the decompression twice.
		_, err = st.Receive(ctx, s.o.counting(rc, d.Digest), d.Digest)
		if err != nil {
			return fmt.Errorf("receive blob %s: %w", short(d.Digest), err)
		}
		done(d)
		return nil
	}
	if err := s.receiveSmall(ctx, st, configs, get, done); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.o.jobs())
	bad := badCommits{}
	for _, in := range chains {
		diffIDs, err := checkConfig(st, in)
		if err != nil {
			bad[in.id] = err
			continue
		}
		for i, l := range in.m.Layers {
			// A stored layer whose diff id is known: no need to read it
			// to tell a commit that pairs it with another.
			if rec := st.VerifiedDiffID(l.Digest); rec != "" && rec != diffIDs[i] {
				bad[in.id] = diffIDError(in.id, l.Digest, rec, diffIDs[i])
			}
		}
	}
	if len(bad) > 0 {
		return bad // before any layer is asked for
	}
	for _, in := range chains {
		for _, l := range in.m.Layers {
			if queued[l.Digest] || st.Has(l.Digest) {
				continue
			}
			queued[l.Digest] = true
			g.Go(func() error { return get(gctx, l) })
		}
	}
	return g.Wait()
}

// diffIDError: commit id pairs layer d with diff id claimed, where the
// layer's tar has diff id got.
func diffIDError(id, d, got, claimed digest.Digest) error {
	return fmt.Errorf("commit %s: layer %s: its content has diff id %s, the commit says %s: %w", short(id), short(d), got, claimed, objects.ErrDigestMismatch)
}

// checkCommitBlobs makes sure every blob of a commit is in the store
// before its manifest is.
func checkCommitBlobs(st *objects.Store, in *incoming) error {
	if !st.Has(in.m.Config.Digest) {
		return fmt.Errorf("commit %s: config %s missing", short(in.id), short(in.m.Config.Digest))
	}
	for _, l := range in.m.Layers {
		if !st.Has(l.Digest) {
			return fmt.Errorf("commit %s: layer %s missing", short(in.id), short(l.Digest))
		}
	}
	return nil
}

// smallBlob is the size up to which a blob (a config) is received into
// memory and stored with the others in one batch; larger ones stream.
// smallBatch bounds the bytes of one batch.
const (
	smallBlob  = 1 << 20
	smallBatch = 64 << 20
)

// receiveSmall receives blobs that are mostly small (configs, one a
// commit): many at once, since their cost is round trips, and stored a
// batch at a time (Store.PutAllBytes: staged and synced in parallel, one
// directory sync), not one file and one directory sync each: a
// 10,000-commit clone has 10,000 of them. Those the history walk
// prefetched are not asked for again. Larger ones go through get.
func (s *Session) receiveSmall(ctx context.Context, st *objects.Store, ds []ocispec.Descriptor, get func(context.Context, ocispec.Descriptor) error, done func(ocispec.Descriptor)) error {
	for len(ds) > 0 {
		n, size := 0, int64(0)
		for n < len(ds) && (n == 0 || size+min(ds[n].Size, smallBlob) <= smallBatch) {
			size += min(ds[n].Size, smallBlob)
			n++
		}
		if err := s.receiveSmallBatch(ctx, st, ds[:n], get, done); err != nil {
			return err
		}
		ds = ds[n:]
	}
	return nil
}

func (s *Session) receiveSmallBatch(ctx context.Context, st *objects.Store, ds []ocispec.Descriptor, get func(context.Context, ocispec.Descriptor) error, done func(ocispec.Descriptor)) error {
	raws := make([][]byte, len(ds))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(manifestJobs)
	for i, d := range ds {
		if d.Size > smallBlob {
			g.Go(func() error { return get(gctx, d) })
			continue
		}
		s.o.event(Event{Kind: EventBlobStart, Digest: d.Digest, Size: d.Size})
		if raws[i] = s.pre.take(d.Digest); raws[i] != nil {
			continue
		}
		g.Go(func() error {
			b, err := s.fetchSmall(gctx, d)
			raws[i] = b
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	var batch [][]byte
	var sent []ocispec.Descriptor
	for i, b := range raws {
		if b != nil {
			batch = append(batch, b)
			sent = append(sent, ds[i])
		}
	}
	if _, err := st.PutAllBytes(ctx, batch, manifestJobs); err != nil {
		return fmt.Errorf("store configs: %w", err)
	}
	for _, d := range sent {
		done(d)
	}
	return nil
}

// checkConfig checks that a received commit's config can serve it: JSON,
// with a diff id, a sha256 digest, for each layer; it returns them.
func checkConfig(st *objects.Store, in *incoming) ([]digest.Digest, error) {
	var cfg ocispec.Image
	if err := st.ReadJSON(in.m.Config.Digest, &cfg); err != nil {
		return nil, fmt.Errorf("commit %s: config: %w", short(in.id), err)
	}
	if len(cfg.RootFS.DiffIDs) != len(in.m.Layers) {
		return nil, fmt.Errorf("commit %s: %d layers but %d diff ids: %w", short(in.id), len(in.m.Layers), len(cfg.RootFS.DiffIDs), ErrBadImage)
	}
	for i, d := range cfg.RootFS.DiffIDs {
		if err := d.Validate(); err != nil || d.Algorithm() != digest.SHA256 {
			return nil, fmt.Errorf("commit %s: diff id %d (%.80q) is not a sha256 digest: %w", short(in.id), i+1, d, ErrBadImage)
		}
	}
	return cfg.RootFS.DiffIDs, nil
}

// badCommits are commits whose configs cannot serve them, and why.
type badCommits map[digest.Digest]error

func (b badCommits) Error() string {
	var msgs []string
	for _, err := range b {
		msgs = append(msgs, err.Error())
	}
	sort.Strings(msgs)
	return strings.Join(msgs, "; ")
}

// dropBad takes the bad commits, and every commit whose history holds
// one, out of chains (children before parents), and skips the tags they
// are the tips of, saying why; a tag the user named fails the fetch.
func dropBad(chains []*incoming, bad badCommits, tags []TagUpdate) ([]*incoming, error) {
	why := map[digest.Digest]error{}
	for i := len(chains) - 1; i >= 0; i-- { // parents first
		in := chains[i]
		if err := bad[in.id]; err != nil {
			why[in.id] = err
			continue
		}
		for _, p := range parentsOfIncoming(in) {
			if err := why[p]; err != nil {
				why[in.id] = fmt.Errorf("its history holds a bad commit: %w", err)
				break
			}
		}
	}
	for i := range tags {
		u := &tags[i]
		err := why[u.New]
		if u.New == "" || err == nil {
			continue
		}
		if u.named {
			return nil, fmt.Errorf("tag %s: %w", u.Tag, err)
		}
		u.Skipped, u.New = err.Error(), ""
	}
	var kept []*incoming
	for _, in := range chains {
		if why[in.id] == nil {
			kept = append(kept, in)
		}
	}
	return kept, nil
}

// noTagError: a tag the remote does not have.
type noTagError struct{ tag, remote string }

func (e noTagError) Error() string {
	if digest.Digest(e.tag).Validate() == nil {
		return fmt.Sprintf("no image %s in %s", e.tag, e.remote)
	}
	return fmt.Sprintf("no tag %q in %s", e.tag, e.remote)
}
func (e noTagError) Unwrap() error { return ErrNotFound }

func orAncestors(err error) error {
	if err == nil {
		return errors.New("strata's name for an ancestor list")
	}
	return err
}
