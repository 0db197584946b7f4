// Package objectstest writes commits that strata itself never writes, as
// a registry or another tool could serve them, for the tests of the code
// that must refuse them.
package objectstest

import (
	"encoding/json"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// WithConfig stores a copy of commit c whose config is c's as edit leaves
// it, and returns the copy's id. The manifest is c's, with only its
// config descriptor changed, so edit may make a commit that WriteCommit
// refuses to write.
func WithConfig(t testing.TB, s *objects.Store, c *objects.Commit, edit func(*ocispec.Image)) digest.Digest {
	t.Helper()
	img := c.Config
	img.RootFS.DiffIDs = append([]digest.Digest(nil), img.RootFS.DiffIDs...)
	edit(&img)
	cfg, err := json.Marshal(img)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Manifest
	if m.Config, err = s.PutBytes(ocispec.MediaTypeImageConfig, cfg); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.PutBytes(ocispec.MediaTypeImageManifest, b)
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest
}
