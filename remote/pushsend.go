package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"golang.org/x/sync/errgroup"
)

// How a push sends a history. A manifest does not need its parent in the
// registry, only its own blobs, so the blobs and manifests of the missing
// commits flow through one pipeline, oldest commit first: blobs are sent
// jobs at a time (small ones, configs mostly, up to smallBlobJobs), and
// each manifest goes as soon as its blobs are in, manifestPushJobs at
// once. The tip goes last, under its tag, once every other manifest is
// there: a reader never sees a tip whose history is incomplete.
//
// Manifests in flight form a sliding window over the oldest-first order:
// manifest i starts only when every manifest before i-manifestPushJobs+1
// is in. An interrupted push can thus leave a manifest whose ancestors
// are not all there, but those missing lie within holeDepth parent steps
// of it (each step goes back at least one place in the order), so the
// next push's walk, which trusts a commit it finds by HEAD only after
// checking that far back (verifyFound), sends them.

const (
	// manifestPushJobs bounds the manifests in flight, and so how far
	// back from a manifest an interrupted push may have left a gap.
	manifestPushJobs = 8
	holeDepth        = manifestPushJobs - 1
	// smallBlobJobs bounds small blobs (up to smallBlob) in flight:
	// latency, not bandwidth, bounds them. Large ones move 6 at a time.
	// Options.Jobs, when set, bounds both.
	smallBlobJobs = 16
)

// blobJob is one blob to send; done closes when it is in (err says how).
type blobJob struct {
	desc ocispec.Descriptor
	// config: the config of a commit the remote lacks. A config names its
	// commit's parent's diff ids, date and message, so commits share one
	// only by chance: a HEAD for it would almost always answer no.
	config bool
	// mountFrom: the repositories to mount it from, the likely holder
	// first (mountHolders.mountOrder).
	mountFrom []name.Repository
	done      chan struct{}
	err       error
}

// sendHistory sends the blobs the remote lacks and the manifests of
// todo (children first, the tip first; their layers in table), the tip
// under res.Tag.
func (s *Session) sendHistory(ctx context.Context, st *objects.Store, todo []*outgoing, table *layerTable, present map[digest.Digest]bool, holders mountHolders, res *PushResult) error {
	descs := table.all()
	var mounts []name.Repository
	for _, ep := range s.mountFrom {
		mounts = append(mounts, *ep.Repo)
	}
	jobs := map[digest.Digest]*blobJob{}
	// layerJobs[k]: the job of table entry k, once looked at (nil: the
	// remote has it). A layer is listed by every commit above it, so
	// each is looked up once, not once a commit.
	layerJobs := make([]*blobJob, len(descs))
	looked := make([]bool, len(descs))
	var order []*blobJob
	var total int64
	// like: for a config, its commit's own (last) layer, whose holder
	// most likely holds the commit too.
	jobOf := func(desc ocispec.Descriptor, config bool, like digest.Digest) *blobJob {
		d := desc.Digest
		if present[d] {
			return nil
		}
		if j := jobs[d]; j != nil {
			return j
		}
		j := &blobJob{desc: desc, config: config, mountFrom: holders.mountOrder(mounts, d, like), done: make(chan struct{})}
		jobs[d] = j
		order = append(order, j)
		total += desc.Size
		return j
	}
	configJobs := make([]*blobJob, len(todo))
	for i := len(todo) - 1; i >= 0; i-- { // oldest first
		var own digest.Digest
		if ls := todo[i].layers; len(ls) > 0 {
			own = descs[ls[len(ls)-1]].Digest
		}
		configJobs[i] = jobOf(todo[i].config, true, own)
		for _, k := range todo[i].layers {
			if !looked[k] {
				looked[k] = true
				layerJobs[k] = jobOf(descs[k], false, "")
			}
		}
	}
	s.o.event(Event{Kind: EventPlan, N: int64(len(order)), Size: total})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	g.Go(func() error { return s.sendBlobs(ctx, st, order, res) })
	// What the manifest of todo[i] waits for.
	blobsOf := func(i int, each func(*blobJob) bool) {
		if !each(configJobs[i]) {
			return
		}
		for _, k := range todo[i].layers {
			if !each(layerJobs[k]) {
				return
			}
		}
	}
	err := s.sendManifests(ctx, cancel, st, todo, blobsOf, res)
	berr := g.Wait()
	// The cause, not what its cancelling stopped.
	if err == nil || (berr != nil && errors.Is(err, context.Canceled) && !errors.Is(berr, context.Canceled)) {
		err = berr
	}
	return err
}

// sendBlobs sends the jobs in order, closing each one's done.
func (s *Session) sendBlobs(ctx context.Context, st *objects.Store, order []*blobJob, res *PushResult) error {
	large := make(chan struct{}, s.o.jobs())
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	if s.o != nil && s.o.Jobs > 0 {
		g.SetLimit(s.o.Jobs) // asked for: it bounds all blobs
	} else {
		g.SetLimit(max(s.o.jobs(), smallBlobJobs))
	}
	for _, j := range order {
		held := false
		if j.desc.Size > smallBlob {
			select { // a slot among the large ones, in order
			case large <- struct{}{}:
				held = true
			case <-gctx.Done():
			}
		}
		g.Go(func() error {
			defer close(j.done)
			if held {
				defer func() { <-large }()
			}
			if err := gctx.Err(); err != nil {
				j.err = err
				return err
			}
			desc := j.desc
			s.o.event(Event{Kind: EventBlobStart, Digest: desc.Digest, Size: desc.Size})
			sent, err := s.t.pushBlob(gctx, outBlob{desc: desc, mountFrom: j.mountFrom, absent: j.config, open: func() (io.ReadCloser, error) {
				rc, err := openUnverified(st, desc.Digest)
				if err != nil {
					return nil, err
				}
				return s.o.counting(rc, desc.Digest), nil
			}})
			if err != nil {
				j.err = fmt.Errorf("send blob %s: %w", short(desc.Digest), err)
				if cause := context.Cause(gctx); cause != nil {
					// Stopped by another blob's failure (or the
					// caller's): that is the error, not this one's
					// request cancelled by it.
					j.err = cause
				}
				return j.err
			}
			mu.Lock()
			if sent {
				res.Sent++
				res.Bytes += desc.Size
			} else {
				res.Skipped++
			}
			mu.Unlock()
			s.o.event(Event{Kind: EventBlobDone, Digest: desc.Digest, Size: desc.Size, Skipped: !sent})
			return nil
		})
	}
	return g.Wait()
}

// sendManifests sends the manifests of todo oldest first, each once its
// blobs are in, at most manifestPushJobs at once within a sliding window
// (see above), and the tip (todo[0]) last, under its tag.
func (s *Session) sendManifests(ctx context.Context, cancel func(), st *objects.Store, todo []*outgoing, blobsOf func(int, func(*blobJob) bool), res *PushResult) error {
	n := len(todo)
	if n == 0 {
		return nil
	}
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		done    = make([]bool, n) // by place in the oldest-first order
		low     = 0               // the first place not done
		running = 0
		first   error
	)
	finish := func(k int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && first == nil {
			first = err
			cancel() // the others in flight stop too
		}
		done[k] = true
		running--
		for low < n && done[low] {
			low++
		}
		cond.Broadcast()
	}
	send := func(i int, ref string) error {
		var err error
		blobsOf(i, func(j *blobJob) bool {
			if j == nil {
				return true
			}
			select {
			case <-j.done:
				err = j.err
			case <-ctx.Done():
				err = ctx.Err()
			}
			return err == nil
		})
		if err != nil {
			return err
		}
		c := todo[i]
		raw, err := st.ReadBlob(c.id)
		if err != nil {
			return err
		}
		if err := s.t.pushManifest(ctx, ref, raw, c.mediaType); err != nil {
			return fmt.Errorf("send commit %s: %w", short(c.id), err)
		}
		mu.Lock()
		res.Commits++
		mu.Unlock()
		s.o.event(Event{Kind: EventManifest, Digest: c.id})
		return nil
	}
	for k := 0; k < n; k++ {
		i, ref := n-1-k, todo[n-1-k].id.String()
		last := k == n-1
		if last {
			ref = res.Tag
		}
		mu.Lock()
		// The tip waits for all the others; the rest for a place in the
		// window.
		for first == nil && ((last && low < k) || k >= low+manifestPushJobs) {
			cond.Wait()
		}
		err := first
		if err == nil {
			running++
		}
		mu.Unlock()
		if err != nil {
			break
		}
		go func() { finish(k, send(i, ref)) }()
	}
	mu.Lock()
	defer mu.Unlock()
	for running > 0 || (low < n && first == nil) {
		cond.Wait()
	}
	return first
}

// verifyFound HEAD-checks the ancestors, up to holeDepth parent steps
// back, of the commits the walk found by HEAD (skipping those skip names:
// already to be sent, or under a ref, which a push writes last), and
// returns those the remote lacks: gaps an interrupted push left (see
// above). Further back, a found commit's ancestors are all there.
func (s *Session) verifyFound(ctx context.Context, or *outgoingReader, found []digest.Digest, skip func(digest.Digest) bool) []*outgoing {
	seen := map[digest.Digest]bool{}
	for _, d := range found {
		seen[d] = true
	}
	var check []*outgoing
	frontier := found
	for depth := 0; depth < holeDepth && len(frontier) > 0; depth++ {
		var next []digest.Digest
		for _, d := range frontier {
			ps, err := or.st.Parents(d)
			if err != nil {
				continue // missing locally: a shallow history ends there
			}
			for _, p := range ps {
				if seen[p] || skip(p) {
					continue
				}
				seen[p] = true
				c, err := or.read(p)
				if err != nil {
					continue
				}
				check = append(check, c)
				next = append(next, p)
			}
		}
		frontier = next
	}
	there := s.presentOf(ctx, check, "")
	var holes []*outgoing
	for i, c := range check {
		if !there[i] {
			holes = append(holes, c)
		}
	}
	return holes
}
