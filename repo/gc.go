package repo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-sh/strata/internal/kmount"
	"github.com/strata-sh/strata/internal/lockfile"

	"github.com/opencontainers/go-digest"
)

// GCOptions tune gc.
type GCOptions struct {
	// Grace keeps unreachable blobs younger than this, so that a command
	// writing a commit at the same time does not lose its blobs before its
	// ref moves (git's --prune=<date>). Zero prunes everything unreachable.
	Grace time.Duration
	// Reflog: reflog entries that expire first, so that the commits only
	// they kept can go (git gc runs reflog expire). The zero value keeps
	// every entry. DryRun expires nothing.
	Reflog ReflogExpiry
	DryRun bool
	// Roots name more commits to keep than refs, HEAD and reflogs do:
	// state above this package, such as the commits work trees stand on.
	// The caller passes them; nothing registers itself.
	Roots []RootSource
	// After run once the blobs are removed (not on a dry run), under the
	// gc lock, each with the set of blobs still present: caches built
	// from blobs, such as unpacked snapshots.
	After []func(r *Repo, kept map[digest.Digest]bool) error
}

// RootSource names commits gc must keep.
type RootSource func(r *Repo) ([]digest.Digest, error)

// GCResult says what gc removed.
type GCResult struct {
	Blobs int
	Bytes int64
	// ReflogEntries is how many reflog entries expired.
	ReflogEntries int
	// MissingReflogs names the reflogs with an entry whose commit is
	// missing: nothing of it could be kept (git: "reflog of X references
	// pruned commits"); fsck names the entries.
	MissingReflogs []string
	// NotBlobs are the entries of the blob directory with a blob's name
	// that are not regular files (a directory put there): gc leaves
	// them, and fsck names them.
	NotBlobs []digest.Digest
}

// GC expires reflog entries, then removes blobs that no ref, HEAD or
// remaining reflog entry reaches.
func (r *Repo) GC(o GCOptions) (GCResult, error) {
	var res GCResult
	unlock, err := r.lock("gc")
	if err != nil {
		return res, err
	}
	defer unlock()
	// Staged files and blobs no ref reaches yet may be a running
	// command's: --prune=now removes them only with no writer about;
	// with a grace, their age keeps them, and .strata/tmp is left alone
	// while a writer runs.
	quiet, ok, err := r.ExcludeWriters()
	if err != nil {
		return res, err
	}
	if ok {
		defer quiet()
	} else if o.Grace == 0 && !o.DryRun {
		return res, fmt.Errorf("%w: --prune=now would remove what it has staged; run gc once it ends", ErrWritersActive)
	}
	// A broken ref stops gc before reflogs expire: they may be all that
	// still names its commits.
	if _, broken, err := r.Refs.ListAll("refs/"); err != nil {
		return res, err
	} else if err := refuseBrokenRefs(broken); err != nil {
		return res, err
	}
	if !o.DryRun {
		if res.ReflogEntries, err = r.ExpireReflogs(nil, o.Reflog); err != nil {
			return res, fmt.Errorf("expire reflogs: %w", err)
		}
	}
	roots, err := r.Roots(o.Roots...)
	if err != nil {
		return res, err
	}
	keep, err := r.Reachable(roots)
	if err != nil {
		return res, err
	}
	if res.MissingReflogs, err = r.missingReflogs(keep); err != nil {
		return res, err
	}
	cutoff := time.Now().Add(-o.Grace)
	err = r.Objects.Walk(func(d digest.Digest, size int64) error {
		if keep[d] {
			return nil
		}
		if o.Grace > 0 {
			if fi, err := os.Stat(r.Objects.BlobPath(d)); err == nil && fi.ModTime().After(cutoff) {
				keep[d] = true
				return nil
			}
		}
		if fi, err := os.Lstat(r.Objects.BlobPath(d)); err == nil && !fi.Mode().IsRegular() {
			res.NotBlobs = append(res.NotBlobs, d)
			return nil
		}
		res.Blobs++
		res.Bytes += size
		if o.DryRun {
			keep[d] = true
			return nil
		}
		if err := r.Objects.Delete(d); err != nil {
			return fmt.Errorf("remove %s: %w", d, err)
		}
		if err := r.Objects.RemoveLayerIndex(d); err != nil {
			return fmt.Errorf("remove index of %s: %w", d, err)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if o.DryRun {
		return res, nil
	}
	if ok {
		r.cleanTemp(cutoff)
	}
	if err := r.Objects.PruneLayerIndexes(); err != nil {
		return res, fmt.Errorf("remove file indexes: %w", err)
	}
	for _, h := range o.After {
		if err := h(r, keep); err != nil {
			return res, err
		}
	}
	return res, nil
}

// cleanTemp removes staged files older than cutoff: leftovers of killed
// commands. Younger ones may belong to a command still running. It never
// removes through a mount: a directory with a mount below it (the overlay
// of a running "run --rev" or build) belongs to a live process, and
// removing through an overlay deletes the container's files. The
// throwaway trees of runs, run-*, are swept by their owner, which knows
// whether the run is alive (cmd/strata: sweepRuns).
func (r *Repo) cleanTemp(cutoff time.Time) {
	tmp := r.Objects.TempDir()
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	mounted := map[string]bool{}
	points, err := kmount.Below(tmp)
	if err != nil {
		return // not knowing which are mounted, remove none
	}
	for _, p := range points {
		if rel, err := filepath.Rel(tmp, p); err == nil && rel != "." {
			mounted[strings.SplitN(rel, "/", 2)[0]] = true
		}
	}
	for _, e := range entries {
		if mounted[e.Name()] || strings.HasPrefix(e.Name(), "run-") {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
			os.RemoveAll(filepath.Join(tmp, e.Name()))
		}
	}
}

// lock takes a repository-wide lock named name (gc), failing if a live
// process holds it. A lock left by a killed process is taken over.
func (r *Repo) lock(name string) (func(), error) {
	p := filepath.Join(r.Root, name+".lock")
	l, err := lockfile.Try(p)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, fmt.Errorf("%s is running in another process (%s is held)", name, p)
	}
	return l.Release, nil
}
