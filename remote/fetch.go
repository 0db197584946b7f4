package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
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
	sp, err := newManifestSpool(r.Objects.TempDir())
	if err != nil {
		return res, err
	}
	s.spool = sp
	defer func() {
		s.spool = nil
		sp.Close()
	}()
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
	present := map[digest.Digest]bool{}
	for i := len(chains) - 1; i >= 0; i-- {
		in := chains[i]
		if err := checkCommitBlobs(r.Objects, in, present); err != nil {
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
	if err := storeManifests(ctx, r.Objects, sp, ordered); err != nil {
		return res, err
	}
	slog.Debug("fetch: commits stored", "commits", len(ordered))
	for _, in := range ordered {
		res.Commits++
		s.o.event(Event{Kind: EventManifest, Digest: in.id})
		r.Objects.NoteManifest(in.id, in.annotations)
	}
	if err := r.Objects.SaveSummaries(); err != nil {
		slog.Debug("fetch: summary cache not written", "err", err)
	}
	if err := writeRefs(r, res.Tags, "fetch "+s.remoteArg()); err != nil {
		return res, err
	}
	return res, nil
}

func parentsOfIncoming(in *incoming) []digest.Digest {
	var out []digest.Digest
	for _, a := range []string{objects.AnnotationParent, objects.AnnotationMergeParent} {
		if p := digest.Digest(in.annotations[a]); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func orAncestors(err error) error {
	if err == nil {
		return errors.New("strata's name for an ancestor list")
	}
	return err
}
