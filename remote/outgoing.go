package remote

import (
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// A push holds every commit it will send until the last manifest is in.
// Held whole (manifest and config), a history of 10,000 real commits took
// 1.2 GB: each commit lists every layer below it, up to 128, with as many
// diff ids and history entries. So a commit to send is held as fetch
// holds one it plans (planned.go): its ids, its config descriptor and its
// layers as indexes into one table of the distinct layer descriptors; its
// manifest is read from the store again when it is sent.

// outgoing is a commit a push sends.
type outgoing struct {
	id, parent, mergeParent digest.Digest
	mediaType               string
	config                  ocispec.Descriptor
	layers                  []int32 // indexes into the push's layer table
	// diffIDErr: a layer paired with another diff id than the one
	// recorded when its tar was hashed (checkRecordedDiffIDs).
	diffIDErr error
}

// parents lists the commit's parents, first parent first.
func (o *outgoing) parents() []digest.Digest {
	switch {
	case o.parent == "":
		return nil
	case o.mergeParent == "":
		return []digest.Digest{o.parent}
	}
	return []digest.Digest{o.parent, o.mergeParent}
}

// outgoingReader turns commits read from the store into outgoing ones,
// sharing one layer table and looking each layer's recorded diff id up
// once (a layer is listed by every commit above it: 10,000 real commits
// list 1.2 million).
type outgoingReader struct {
	st      *objects.Store
	table   *layerTable
	records map[digest.Digest]digest.Digest
}

func newOutgoingReader(st *objects.Store) *outgoingReader {
	return &outgoingReader{st: st, table: newLayerTable(), records: map[digest.Digest]digest.Digest{}}
}

// read reads commit d from the store.
func (or *outgoingReader) read(d digest.Digest) (*outgoing, error) {
	c, err := or.st.ReadCommit(d)
	if err != nil {
		return nil, err
	}
	layers, _ := or.table.add(c.Manifest.Layers)
	return &outgoing{id: c.ID, parent: c.Parent(), mergeParent: c.MergeParent(),
		mediaType: manifestMediaType(c), config: c.Manifest.Config, layers: layers,
		diffIDErr: or.checkDiffIDs(c)}, nil
}

// checkDiffIDs compares c's diff ids with those recorded for its layers.
// A layer with no record is not read for this (a push sends blobs as
// they are); fetch and checkout check it.
func (or *outgoingReader) checkDiffIDs(c *objects.Commit) error {
	diffs := c.Config.RootFS.DiffIDs // as long as the layers (ReadCommit)
	for i, l := range c.Manifest.Layers {
		rec, ok := or.records[l.Digest]
		if !ok {
			rec = or.st.VerifiedDiffID(l.Digest)
			or.records[l.Digest] = rec
		}
		if rec != "" && rec != diffs[i] {
			return diffIDError(c.ID, l.Digest, rec, diffs[i])
		}
	}
	return nil
}

// checkRecordedDiffIDs refuses a push of a commit that pairs a layer with
// another diff id than the one recorded when the layer's tar was hashed
// (its file index was written): a registry would serve a commit that
// every checkout refuses.
func checkRecordedDiffIDs(todo []*outgoing) error {
	for _, o := range todo {
		if o.diffIDErr != nil {
			return fmt.Errorf("%w; nothing was pushed ('strata fsck' names the commits)", o.diffIDErr)
		}
	}
	return nil
}

// checkOutgoingSizes refuses a push of a commit whose manifest gives a
// stored blob (a layer, its config) another size than the blob has, as
// fetch refuses to take one (checkSizes) and fsck names it: the blob
// goes as it is, so the remote would serve a manifest that OCI tools
// refuse and that a fetch skips. One made before fetch checked, or by
// hand, was pushed as it was. Each distinct blob is looked at once; one
// not stored (a shallow history's) is the send's to find.
func checkOutgoingSizes(st *objects.Store, todo []*outgoing, table *layerTable) error {
	size := storedSizes(st)
	wrong := table.misSized(size)
	for _, o := range todo {
		err := error(nil)
		if n := size(o.config.Digest); n >= 0 && n != o.config.Size {
			err = sizeError(o.id, o.config, n)
		}
		for _, k := range o.layers {
			if err == nil && wrong[k] != nil {
				err = fmt.Errorf("commit %s: %w", short(o.id), wrong[k])
			}
		}
		if err != nil {
			return fmt.Errorf("%w; nothing was pushed ('strata fsck' names the commits)", err)
		}
	}
	return nil
}
