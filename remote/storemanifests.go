package remote

import (
	"context"
	"fmt"

	"github.com/strata-sh/strata/objects"
)

// manifestBatch is how many manifests storeManifests holds in memory at
// once: 1,000 real commits' are about 19 MB.
const manifestBatch = 1000

// storeManifests writes fetched commit manifests, given oldest first, into
// the store, a batch at a time (objects.Store.PutAllBytes: staged in
// parallel, renamed oldest first, one directory sync a batch), reading
// spooled ones back from sp. Each in.id is the digest of its manifest
// bytes (image.Normalize), so each lands under its commit id.
func storeManifests(ctx context.Context, st *objects.Store, sp *manifestSpool, ins []*incoming) error {
	for len(ins) > 0 {
		n := min(len(ins), manifestBatch)
		raws := make([][]byte, n)
		for i, in := range ins[:n] {
			b, err := in.manifestBytes(sp)
			if err != nil {
				return fmt.Errorf("store commits: %w", err)
			}
			raws[i] = b
		}
		if _, err := st.PutAllBytes(ctx, raws, manifestJobs); err != nil {
			return fmt.Errorf("store commits: %w", err)
		}
		ins = ins[n:]
	}
	return nil
}
