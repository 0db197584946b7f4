package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/objects"
)

// How an ancestor list is stored in a registry (docs/format.md, "Ancestor
// lists"). A list is an OCI image index under the list's tag: its first
// entry is the commit, the others its ancestors newest first, a full
// list's history bundle last. An index of images is what the peers'
// all-tags pulls take (podman picks the commit, an image it already has;
// skopeo sync --all copies the history with it), and registry garbage
// collection that follows references keeps the commits it names.
//
// Lists written before (an artifact manifest whose one layer is the list
// as JSON, the bundle its config) are still read; none is written.
const (
	// annotationAncestorsOf marks an index as the ancestor list of the
	// commit it names: a strata list, not someone's index.
	annotationAncestorsOf = "dev.strata.ancestors"
	// annotationContinued says the last entry has a list of its own.
	annotationContinued = "dev.strata.ancestors.continued"
	// annotationBundle marks the entry of the history bundle's manifest:
	// skopeo 1.9's sync --all drops an entry's artifactType, not its
	// annotations.
	annotationBundle = "dev.strata.history-bundle"
)

// readAncestorsErr reads commit c's list, in either form. Its entries are
// only checked to be a list strata could write (check); what they say of
// the history is checked by the caller.
func (s *Session) readAncestorsErr(ctx context.Context, c digest.Digest) (*ancestorList, error) {
	raw, _, err := s.t.fetchManifest(ctx, ancestorsTag(c))
	if err != nil {
		return nil, err
	}
	var head struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, err
	}
	var l *ancestorList
	if head.MediaType == ocispec.MediaTypeImageIndex {
		l, err = decodeIndexList(raw, c)
	} else {
		l, err = s.readArtifactList(ctx, raw, c)
	}
	if err != nil {
		return nil, err
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	return l, nil
}

// decodeIndexList reads the list of commit c from its index.
func decodeIndexList(raw []byte, c digest.Digest) (*ancestorList, error) {
	var ix ocispec.Index
	if err := json.Unmarshal(raw, &ix); err != nil {
		return nil, err
	}
	if digest.Digest(ix.Annotations[annotationAncestorsOf]) != c || len(ix.Manifests) == 0 || ix.Manifests[0].Digest != c {
		return nil, fmt.Errorf("not the ancestor list of %s: %w", short(c), ErrUnsupported)
	}
	l := &ancestorList{Commit: c, Continued: ix.Annotations[annotationContinued] == "true"}
	for i, e := range ix.Manifests {
		if e.Annotations[annotationBundle] == "true" {
			if i != len(ix.Manifests)-1 {
				return nil, fmt.Errorf("history bundle is entry %d, not the last: %w", i, ErrBadImage)
			}
			l.bundleManifest = e
			break
		}
		if i > 0 {
			l.Ancestors = append(l.Ancestors, e.Digest)
		}
		if mp := e.Annotations[objects.AnnotationMergeParent]; mp != "" {
			if l.Merges == nil {
				l.Merges = map[digest.Digest]digest.Digest{}
			}
			l.Merges[e.Digest] = digest.Digest(mp)
		}
	}
	return l, nil
}

// readArtifactList reads the list of commit c in the form strata wrote
// before lists were indexes: an artifact manifest (raw) whose one layer
// is the list, and whose config is the history bundle, if any.
func (s *Session) readArtifactList(ctx context.Context, raw []byte, c digest.Digest) (*ancestorList, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m.ArtifactType != objects.MediaTypeAncestors || len(m.Layers) != 1 || m.Layers[0].MediaType != objects.MediaTypeAncestors {
		return nil, fmt.Errorf("not an ancestor list: %w", ErrUnsupported)
	}
	d := m.Layers[0]
	if d.Size < 0 || d.Size > image.MaxManifestSize {
		return nil, fmt.Errorf("list of %d bytes: %w", d.Size, ErrBadImage)
	}
	rc, err := s.t.fetchBlob(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(image.ExactSize(rc, d.Size))
	if err != nil {
		return nil, err
	}
	if digest.FromBytes(b) != d.Digest {
		return nil, fmt.Errorf("list does not match its digest: %w", ErrBadImage)
	}
	var l ancestorList
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, err
	}
	if l.Commit != c {
		return nil, fmt.Errorf("list is of commit %s: %w", short(l.Commit), ErrBadImage)
	}
	if m.Config.MediaType == objects.MediaTypeHistoryBundle {
		l.bundle = m.Config
	}
	return &l, nil
}

// bundleBlob returns the descriptor of list l's history bundle: given in
// a list of the artifact form, the one layer of the bundle's manifest in
// an index. Empty for none.
func (s *Session) bundleBlob(ctx context.Context, l *ancestorList) (ocispec.Descriptor, error) {
	if l.bundleManifest.Digest == "" {
		return l.bundle, nil
	}
	raw, desc, err := s.t.fetchManifest(ctx, l.bundleManifest.Digest.String())
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if desc.Digest != l.bundleManifest.Digest {
		return ocispec.Descriptor{}, fmt.Errorf("bundle manifest does not match its digest: %w", ErrBadImage)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return ocispec.Descriptor{}, err
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != objects.MediaTypeHistoryBundle {
		return ocispec.Descriptor{}, fmt.Errorf("not a history bundle: %w", ErrUnsupported)
	}
	return m.Layers[0], nil
}

// writeList sends list l of commit id as an index under its tag, after
// the history bundle's blob and manifest when bundle is not nil. The
// commits it names are on the registry already (a registry refuses an
// index of manifests it lacks); their sizes are read from st.
func (s *Session) writeList(ctx context.Context, st *objects.Store, id digest.Digest, l ancestorList, bundle []byte) error {
	ix := ocispec.Index{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageIndex,
		Manifests:   make([]ocispec.Descriptor, 0, len(l.Ancestors)+2),
		Annotations: map[string]string{annotationAncestorsOf: id.String()},
	}
	if l.Continued {
		ix.Annotations[annotationContinued] = "true"
	}
	for i, d := range append([]digest.Digest{id}, l.Ancestors...) {
		size, err := st.Size(d)
		if err != nil {
			return fmt.Errorf("commit %s: %w", short(d), err)
		}
		e := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: size}
		if mp := l.Merges[d]; mp != "" {
			e.Annotations = map[string]string{objects.AnnotationMergeParent: mp.String()}
		}
		if i == 0 {
			// The platform only here: podman and docker take the first
			// entry of theirs, so a pull of the tag is of the commit.
			e.Platform = commitPlatform(st, d)
		}
		ix.Manifests = append(ix.Manifests, e)
	}
	if bundle != nil {
		bd, err := s.pushBundle(ctx, bundle)
		if err != nil {
			return fmt.Errorf("history bundle: %w", err)
		}
		ix.Manifests = append(ix.Manifests, bd)
	}
	raw, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	return s.t.pushManifest(ctx, ancestorsTag(id), raw, ocispec.MediaTypeImageIndex)
}

// pushBundle sends a history bundle as an artifact: its blob, the empty
// config and a manifest, pushed by digest. It returns the manifest's
// descriptor, an entry of the list's index.
func (s *Session) pushBundle(ctx context.Context, bundle []byte) (ocispec.Descriptor, error) {
	blob := ocispec.Descriptor{MediaType: objects.MediaTypeHistoryBundle, Digest: digest.FromBytes(bundle), Size: int64(len(bundle))}
	config := ocispec.DescriptorEmptyJSON
	config.Data = nil
	for _, x := range []struct {
		d ocispec.Descriptor
		b []byte
	}{{config, ocispec.DescriptorEmptyJSON.Data}, {blob, bundle}} {
		if _, err := s.t.pushBlob(ctx, outBlob{desc: x.d, open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(x.b)), nil
		}}); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: objects.MediaTypeHistoryBundle,
		Config:       config,
		Layers:       []ocispec.Descriptor{blob},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d := digest.FromBytes(raw)
	if err := s.t.pushManifest(ctx, d.String(), raw, ocispec.MediaTypeImageManifest); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: objects.MediaTypeHistoryBundle,
		Digest: d, Size: int64(len(raw)), Annotations: map[string]string{annotationBundle: "true"}}, nil
}

// commitPlatform is the platform commit d's config names, or nil if it
// cannot be read (the entry then has none: it is still pulled).
func commitPlatform(st *objects.Store, d digest.Digest) *ocispec.Platform {
	m, err := st.ReadManifestHead(d)
	if err != nil {
		return nil
	}
	raw, err := st.ReadBlob(m.Config.Digest)
	if err != nil {
		return nil
	}
	var p ocispec.Platform
	if json.Unmarshal(raw, &p) != nil || p.OS == "" || p.Architecture == "" {
		return nil
	}
	return &ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
}
