package remote

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/objects"
	"golang.org/x/sync/errgroup"
)

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
	// A layer is listed by every commit above it (10,000 real commits
	// list 1.2 million): the loops below read the shared table, and
	// look at each entry once, not a copy of each commit's list.
	descs := s.layerTable().all()
	looked := make([]bool, len(descs))
	want := func(d ocispec.Descriptor, config bool) {
		// Reuse, not Has: a present blob the new commit will name
		// must outlive a concurrent gc's grace period.
		if seen[d.Digest] || st.Reuse(d.Digest) {
			return
		}
		seen[d.Digest] = true
		if config {
			configs = append(configs, d)
		}
		total += d.Size
		count++
	}
	for _, in := range chains {
		want(in.config, true)
		for _, k := range in.layers {
			if !looked[k] {
				looked[k] = true
				want(descs[k], false)
			}
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
	// A layer is listed by every commit above it: its record is read, and
	// a diff id checked, once (10,000 real commits list 1.2 million).
	recs := map[digest.Digest]digest.Digest{}
	valid := map[digest.Digest]bool{}
	for _, in := range chains {
		diffIDs, err := checkConfig(st, in, valid)
		if err != nil {
			bad[in.id] = err
			continue
		}
		for i, k := range in.layers {
			l := &descs[k]
			// A stored layer whose diff id is known: no need to read it
			// to tell a commit that pairs it with another.
			rec, ok := recs[l.Digest]
			if !ok {
				rec = st.VerifiedDiffID(l.Digest)
				recs[l.Digest] = rec
			}
			if rec != "" && rec != diffIDs[i] {
				bad[in.id] = diffIDError(in.id, l.Digest, rec, diffIDs[i])
			}
		}
	}
	if len(bad) > 0 {
		return bad // before any layer is asked for
	}
	clear(looked)
	for _, in := range chains {
		for _, k := range in.layers {
			if looked[k] {
				continue
			}
			looked[k] = true
			l := descs[k]
			if queued[l.Digest] || st.Has(l.Digest) {
				continue
			}
			queued[l.Digest] = true
			g.Go(func() error { return get(gctx, l) })
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return checkSizes(st, chains)
}

// checkSizes finds the commits whose manifests give a blob another size
// than it has: a blob is received once, held to the size of the first
// descriptor that asks for it, and not at all when stored before, so
// another commit's descriptor of it could say any size. Such a manifest
// is not a valid image (OCI tools that read the store refuse it). Each
// distinct layer descriptor is checked once, in its table.
func checkSizes(st *objects.Store, chains []*incoming) error {
	size := storedSizes(st) // -1 for a missing blob: checkCommitBlobs says so
	wrong := map[*layerTable]map[int32]error{}
	bad := badCommits{}
	for _, in := range chains {
		w, ok := wrong[in.table]
		if !ok {
			w = in.table.misSized(size)
			wrong[in.table] = w
		}
		if n := size(in.config.Digest); n >= 0 && n != in.config.Size {
			bad[in.id] = sizeError(in.id, in.config, n)
			continue
		}
		for _, k := range in.layers {
			if err := w[k]; err != nil {
				bad[in.id] = fmt.Errorf("commit %s: %w", short(in.id), err)
				break
			}
		}
	}
	if len(bad) > 0 {
		return bad
	}
	return nil
}

// sizeError: commit id gives blob d another size than n, the one it has.
func sizeError(id digest.Digest, d ocispec.Descriptor, n int64) error {
	return fmt.Errorf("commit %s: blob %s is %d bytes, the commit says %d: %w", short(id), short(d.Digest), n, d.Size, ErrBadImage)
}

// diffIDError: commit id pairs layer d with diff id claimed, where the
// layer's tar has diff id got.
func diffIDError(id, d, got, claimed digest.Digest) error {
	return fmt.Errorf("commit %s: layer %s: its content has diff id %s, the commit says %s: %w", short(id), short(d), got, claimed, objects.ErrDigestMismatch)
}

// checkCommitBlobs makes sure every blob of a commit is in the store
// before its manifest is. present holds the blobs found so far, each
// looked for once.
func checkCommitBlobs(st *objects.Store, in *incoming, present map[digest.Digest]bool) error {
	has := func(d digest.Digest) bool {
		if !present[d] && st.Has(d) {
			present[d] = true
		}
		return present[d]
	}
	if !has(in.config.Digest) {
		return fmt.Errorf("commit %s: config %s missing", short(in.id), short(in.config.Digest))
	}
	descs := in.table.all()
	for _, k := range in.layers {
		if l := &descs[k]; !has(l.Digest) {
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
// with a diff id, a sha256 digest, for each layer; it returns them. valid
// holds the diff ids found sound so far.
func checkConfig(st *objects.Store, in *incoming, valid map[digest.Digest]bool) ([]digest.Digest, error) {
	var cfg ocispec.Image
	if err := st.ReadJSON(in.config.Digest, &cfg); err != nil {
		return nil, fmt.Errorf("commit %s: config: %w", short(in.id), err)
	}
	if len(cfg.RootFS.DiffIDs) != len(in.layers) {
		return nil, fmt.Errorf("commit %s: %d layers but %d diff ids: %w", short(in.id), len(in.layers), len(cfg.RootFS.DiffIDs), ErrBadImage)
	}
	for i, d := range cfg.RootFS.DiffIDs {
		if valid[d] {
			continue
		}
		if err := d.Validate(); err != nil || d.Algorithm() != digest.SHA256 {
			return nil, fmt.Errorf("commit %s: diff id %d (%.80q) is not a sha256 digest: %w", short(in.id), i+1, d, ErrBadImage)
		}
		valid[d] = true
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
