package objects

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/internal/atomicfile"
)

// NamedCommit is an entry of the OCI layout's index.json.
type NamedCommit struct {
	Name   string // the org.opencontainers.image.ref.name, e.g. "main" or "v1"
	Commit digest.Digest
}

// WriteLayoutIndex rewrites index.json atomically so that OCI tools
// (skopeo, umoci, podman) see these commits under these names.
func (s *Store) WriteLayoutIndex(named []NamedCommit) error {
	idx := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{},
	}
	for _, n := range named {
		size, err := s.Size(n.Commit)
		if err != nil {
			return fmt.Errorf("index %s: %w", n.Name, err)
		}
		idx.Manifests = append(idx.Manifests, ocispec.Descriptor{
			MediaType:   ocispec.MediaTypeImageManifest,
			Digest:      n.Commit,
			Size:        size,
			Annotations: map[string]string{ocispec.AnnotationRefName: n.Name},
		})
	}
	return s.WriteIndex(&idx)
}

// WriteIndex rewrites the layout's index.json as idx, atomically.
func (s *Store) WriteIndex(idx *ocispec.Index) error {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(s.TempDir(), filepath.Join(s.root, ocispec.ImageIndexFile), append(b, '\n'), 0o644)
}

// OpenLayout opens the OCI image layout in dir as a store, creating an
// empty one (oci-layout, an empty index.json, blobs/sha256) if dir holds
// none. It is how a layout directory used as a remote is written: through
// the same writer as a repository, staging in dir/tmp.
func OpenLayout(dir string) (*Store, error) {
	if s, err := Open(dir); err == nil {
		return s, nil
	}
	for _, d := range []string{"blobs/sha256", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	s := &Store{root: dir}
	// An empty index.json only where there is none: two first pushes race,
	// and the one that lost must not erase the other's tag. A link fails
	// rather than replace.
	empty := &ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	b, _ := json.MarshalIndent(empty, "", "  ")
	if err := atomicfile.Create(s.TempDir(), filepath.Join(dir, ocispec.ImageIndexFile), append(b, '\n'), 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	// oci-layout last: it says the directory is a layout.
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err := atomicfile.Write(s.TempDir(), filepath.Join(dir, ocispec.ImageLayoutFile), layout, 0o644); err != nil {
		return nil, err
	}
	return s, nil
}

// ReadLayoutIndex reads index.json.
func (s *Store) ReadLayoutIndex() (*ocispec.Index, error) {
	var idx ocispec.Index
	b, err := os.ReadFile(filepath.Join(s.root, ocispec.ImageIndexFile))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	return &idx, nil
}
