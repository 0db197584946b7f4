package remote

import (
	"context"
	"fmt"

	"github.com/strata-sh/strata/objects"
)

// storeManifests writes fetched commit manifests, given oldest first, into
// the store in one batch (objects.Store.PutAllBytes: staged in parallel,
// renamed oldest first, one directory sync). Each in.id is the digest of
// in.raw (image.Normalize), so each lands under its commit id.
func storeManifests(ctx context.Context, st *objects.Store, ins []*incoming) error {
	raws := make([][]byte, len(ins))
	for i, in := range ins {
		raws[i] = in.raw
	}
	if _, err := st.PutAllBytes(ctx, raws, manifestJobs); err != nil {
		return fmt.Errorf("store commits: %w", err)
	}
	return nil
}
