package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
)

// probeWidth is how many commits of a line one round of the search
// HEAD-checks at once.
const probeWidth = 16

// missingHistory finds the commits of tip's history the remote lacks:
// it returns them children before parents (tip first), with the blobs
// known to be present remotely (those of the commits found there).
//
// The history is cut into lines that follow first parents: one from the
// tip, one from each missing merge's second parent. A line, read
// locally, ends at a commit the remote is known to have (the old remote
// tag, one a remote-tracking ref of it names: TrackingRefs), one already placed by another
// line, a root, or where a shallow history stops. What the remote has, it
// has with its ancestors (a push sends parents first, within the window
// of pushsend.go), so along a line the commits it lacks come first: the
// search finds where they end with a few rounds of probeWidth parallel
// HEADs (one round of up to 14 when a few commits go on top of what the
// remote has; about 4 rounds and 50 requests for a new 10,000-commit
// line, not 10,000), then verifyFound checks behind the commit found for what
// an interrupted push may have left out. A commit sent again is
// harmless: a registry keeps one copy.
func (s *Session) missingHistory(ctx context.Context, r *repo.Repo, or *outgoingReader, tip, old digest.Digest) ([]*outgoing, map[digest.Digest]bool, error) {
	known := map[digest.Digest]bool{}
	if old != "" {
		known[old] = true
	}
	// What the remote's fetch refspecs map its tags to: the
	// remote-tracking refs it had at the last fetch or push.
	tracking, err := TrackingRefs(r, s.refmap)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range tracking {
		known[t.Target] = true
	}
	shallow := r.Shallow()
	sending := map[digest.Digest]bool{}
	var todo []*outgoing
	var found, byHead []digest.Digest
	starts := []digest.Digest{tip}
	for len(starts) > 0 {
		start := starts[0]
		starts = starts[1:]
		if sending[start] || known[start] {
			continue
		}
		// The line, read locally: line[0] = start, then first parents.
		var line []*outgoing
		end := "" // how the line ends: "known", "sending" or "" (root, shallow)
		for d := start; d != ""; {
			if known[d] {
				found, end = append(found, d), "known"
				break
			}
			if sending[d] {
				end = "sending"
				break
			}
			c, err := or.read(d)
			if errors.Is(err, objects.ErrNotFound) && d != tip {
				slog.Debug("push: history ends at a missing commit", "commit", d)
				break
			}
			if err != nil {
				return nil, nil, fmt.Errorf("commit %s: %w", short(d), err)
			}
			line = append(line, c)
			if shallow[c.id] {
				break
			}
			d = c.parent
		}
		// Search for n: line[:n] are sent, line[n] (if any) was found.
		n := len(line)
		if end != "sending" { // below a commit being sent, all are missing
			lo := 0 // line[lo] is to be sent: the tip is never asked for
			if start != tip {
				lo = -1
			}
			n = s.searchLine(ctx, line, lo)
		}
		if n < len(line) {
			found = append(found, line[n].id)
			byHead = append(byHead, line[n].id)
		}
		for _, c := range line[:n] {
			sending[c.id] = true
			todo = append(todo, c)
			if mp := c.mergeParent; mp != "" && !shallow[c.id] {
				starts = append(starts, mp)
			}
		}
	}
	todo = append(todo, s.verifyFound(ctx, or, byHead, func(d digest.Digest) bool {
		return known[d] || sending[d]
	})...)
	present := map[digest.Digest]bool{}
	for _, d := range found {
		if m, err := r.Objects.ReadManifest(d); err == nil {
			present[m.Config.Digest] = true
			for _, l := range m.Layers {
				present[l.Digest] = true
			}
		}
	}
	return childrenFirst(todo), present, nil
}

// searchLine returns the first place of line (after lo, which is known
// to be missing or is -1) whose commit the remote has, len(line) if none:
// rounds of up to probeWidth HEADs over what is still open, the first
// at doubling distances from lo (most pushes add a few commits to what
// the remote has: one round), the others spread evenly.
func (s *Session) searchLine(ctx context.Context, line []*outgoing, lo int) int {
	hi := len(line) // line[hi] found (or the end)
	for round := 0; hi-lo > 1; round++ {
		at := probePlaces(lo, hi, round == 0)
		probe := make([]*outgoing, len(at))
		for i, p := range at {
			probe[i] = line[p]
		}
		there := s.presentOf(ctx, probe, "")
		newHi := hi
		for i := len(at) - 1; i >= 0; i-- {
			if there[i] {
				newHi = at[i]
			}
		}
		newLo := lo
		for i, p := range at {
			if p < newHi && !there[i] {
				newLo = p
			}
		}
		if newHi == hi && newLo == lo {
			break // cannot happen: every probe narrows
		}
		lo, hi = newLo, newHi
	}
	return hi
}

// probePlaces is where one round of the search asks, strictly between
// lo and hi, in order: every place when probeWidth covers them, else
// lo+1, lo+2, lo+4... when doubling, else probeWidth places spread evenly.
func probePlaces(lo, hi int, doubling bool) []int {
	open := hi - lo - 1
	k := min(open, probeWidth)
	var at []int
	if doubling && open > probeWidth {
		for step := 1; step <= open && len(at) < k; step *= 2 {
			at = append(at, lo+step)
		}
		return at
	}
	for i := 1; i <= k; i++ {
		p := lo + (open*i+k)/(k+1) // spread; never lo, never hi
		if len(at) > 0 && p <= at[len(at)-1] {
			continue
		}
		at = append(at, p)
	}
	return at
}
