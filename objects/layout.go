package objects

import (
	"encoding/json"
	"fmt"
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
	b = append(b, '\n')
	write, writeAt := atomicfile.Write, atomicfile.WriteAt
	if s.NoSyncIndex {
		write, writeAt = atomicfile.WriteUnsynced, atomicfile.WriteAtUnsynced
	}
	if s.in != nil {
		return writeAt(s.in.tmp, s.in.dir, ocispec.ImageIndexFile, b, 0o644)
	}
	return write(s.TempDir(), filepath.Join(s.root, ocispec.ImageIndexFile), b, 0o644)
}

// ReadLayoutIndex reads index.json.
func (s *Store) ReadLayoutIndex() (*ocispec.Index, error) {
	var idx ocispec.Index
	var b []byte
	var err error
	if s.in != nil {
		b, err = readIn(s.in.dir, ocispec.ImageIndexFile)
	} else {
		b, err = os.ReadFile(filepath.Join(s.root, ocispec.ImageIndexFile))
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	return &idx, nil
}
