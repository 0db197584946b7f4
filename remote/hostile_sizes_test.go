package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A blob is received once, held to the size of the descriptor that
// first asks for it, and not at all when stored before: a registry could
// pair a blob the store has with any size in another manifest. Such a
// commit (an invalid image, which OCI tools refuse) is skipped, saying
// why, and so is nothing else; fsck finds the store clean.
func TestHostileSharedBlobLyingSize(t *testing.T) {
	h := newHostileRegistry(t)
	img := h.addImage(t, tarLayer(t), "a")
	r := newRepo(t)
	fetch := func() FetchResult {
		t.Helper()
		res, err := connect(t, r, "origin", h.host+"/env", Options{Jobs: 1}).Fetch(context.Background(), r, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	fetch()
	if !r.Objects.Has(img.layer.Digest) {
		t.Fatal("the first fetch did not store the layer")
	}

	// b lists the stored layer, c the stored config, each a size off.
	cfg, err := r.Objects.ReadBlob(img.config.Digest)
	if err != nil {
		t.Fatal(err)
	}
	layer, config := img.layer, img.config
	layer.Size += 10
	config.Size--
	lies := map[string]string{"b": fmt.Sprintf("blob %s is %d bytes, the commit says %d", short(layer.Digest), layer.Size-10, layer.Size),
		"c": fmt.Sprintf("blob %s is %d bytes, the commit says %d", short(config.Digest), len(cfg), len(cfg)-1)}
	for tag, m := range map[string]ocispec.Manifest{
		"b": {Versioned: specsV2, MediaType: ocispec.MediaTypeImageManifest, Config: img.config, Layers: []ocispec.Descriptor{layer}},
		"c": {Versioned: specsV2, MediaType: ocispec.MediaTypeImageManifest, Config: config, Layers: []ocispec.Descriptor{img.layer}},
	} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		h.manifests[tag], h.manifests[digest.FromBytes(b).String()] = b, b
		h.tags = append(h.tags, tag)
	}
	res := fetch()
	skipped := map[string]string{}
	for _, u := range res.Tags {
		if u.Skipped != "" {
			skipped[u.Tag] = u.Skipped
		} else if u.Tag != "a" {
			t.Errorf("tag %s fetched as %s; its manifest lies about a blob's size", u.Tag, u.New)
		}
	}
	for tag, want := range lies {
		if !strings.Contains(skipped[tag], want) {
			t.Errorf("tag %s skipped with %q, want it to say %q", tag, skipped[tag], want)
		}
	}
	if n, _ := r.Objects.CommitsWithPrefix(""); len(n) != 1 {
		t.Errorf("%d commits stored, want a's only", len(n))
	}
	checkFsck(t, r)
}
