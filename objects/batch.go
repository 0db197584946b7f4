package objects

import (
	"context"
	"fmt"
	"os"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/atomicfile"
	"golang.org/x/sync/errgroup"
)

// PutAllBytes stores many small blobs (a fetch's manifests, oldest first)
// and returns their digests. One fsync a file and one of the directory per
// blob made a 10,000-commit clone wait 10 s on the disk; here the blobs
// are staged and synced in parallel (jobs at a time) under tmp/, then
// renamed into place in the order given (so a manifest is never there
// before its parent), and the blob directory is synced once. A crash
// leaves complete blobs or none, and only staged files for gc in tmp/.
func (s *Store) PutAllBytes(ctx context.Context, blobs [][]byte, jobs int) ([]digest.Digest, error) {
	ds := make([]digest.Digest, len(blobs))
	tmp := make([]string, len(blobs))
	defer func() {
		for _, p := range tmp {
			if p != "" {
				os.Remove(p)
			}
		}
	}()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for i, b := range blobs {
		ds[i] = digest.FromBytes(b)
		if s.Reuse(ds[i]) {
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			p, err := s.stage(b)
			if err != nil {
				return fmt.Errorf("write blob %s: %w", ds[i], err)
			}
			tmp[i] = p
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	last := ""
	for i := range blobs {
		if tmp[i] == "" {
			continue
		}
		last = s.BlobPath(ds[i])
		if err := os.Rename(tmp[i], last); err != nil {
			return nil, fmt.Errorf("store blob %s: %w", ds[i], err)
		}
		tmp[i] = ""
	}
	if last == "" {
		return ds, nil
	}
	// Every blob is in one directory: one sync makes all renames durable.
	return ds, atomicfile.SyncDir(last)
}

// stage writes b to a new synced read-only file in tmp/.
func (s *Store) stage(b []byte) (string, error) {
	w, err := s.NewWriter()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(b); err != nil {
		w.Abort()
		return "", err
	}
	if err := w.seal(); err != nil {
		w.Abort()
		return "", err
	}
	w.done = true
	return w.f.Name(), nil
}
