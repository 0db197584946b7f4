package image

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// Docker media types, read and rewritten to their OCI equivalents.
const (
	dockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerConfig       = "application/vnd.docker.container.image.v1+json"
	dockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	dockerLayerZstd    = "application/vnd.docker.image.rootfs.diff.tar.zstd"
	dockerLayerTar     = "application/vnd.docker.image.rootfs.diff.tar"
)

var ociLayerType = map[string]string{
	ocispec.MediaTypeImageLayer:     ocispec.MediaTypeImageLayer,
	ocispec.MediaTypeImageLayerGzip: ocispec.MediaTypeImageLayerGzip,
	ocispec.MediaTypeImageLayerZstd: ocispec.MediaTypeImageLayerZstd,
	dockerLayerGzip:                 ocispec.MediaTypeImageLayerGzip,
	dockerLayerZstd:                 ocispec.MediaTypeImageLayerZstd,
	dockerLayerTar:                  ocispec.MediaTypeImageLayer,
}

// IsIndex reports whether mt is an image index (OCI or docker's list).
func IsIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == dockerManifestList
}

// PickPlatform is the one platform choice, for import and fetch: the
// first image of idx for linux on this machine's architecture, or the
// index's only image when it names no platform (single-image layouts).
func PickPlatform(idx *ocispec.Index) (ocispec.Descriptor, error) {
	for _, m := range idx.Manifests {
		if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == runtime.GOARCH && !IsIndex(m.MediaType) {
			return m, nil
		}
	}
	if len(idx.Manifests) == 1 && idx.Manifests[0].Platform == nil && !IsIndex(idx.Manifests[0].MediaType) {
		return idx.Manifests[0], nil
	}
	for _, m := range idx.Manifests {
		if IsIndex(m.MediaType) {
			// What buildx and some mirrors write: an index of indexes.
			return ocispec.Descriptor{}, fmt.Errorf("holds a nested index (%s), which strata does not follow, and no linux/%s image of its own: %w", short(m.Digest), runtime.GOARCH, ErrUnsupported)
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("index has no linux/%s image: %w", runtime.GOARCH, ErrUnsupported)
}

// Normalized is a manifest as strata stores it: its id (the digest of
// Raw), the bytes to store and the parsed manifest.
type Normalized struct {
	ID       digest.Digest
	Raw      []byte
	Manifest ocispec.Manifest
}

// Normalize checks a fetched or imported manifest against its digest and
// turns it into a commit's: an OCI image manifest is kept byte for byte; a docker
// one is rewritten with OCI media types (the same way on every machine,
// so every clone gets the same id). Anything else is ErrUnsupported.
func Normalize(raw []byte, desc ocispec.Descriptor) (*Normalized, error) {
	got := digest.FromBytes(raw)
	if desc.Digest != "" && desc.Digest != got {
		return nil, fmt.Errorf("manifest %s: content does not match its digest: %w", desc.Digest, ErrBadImage)
	}
	if len(raw) > MaxManifestSize {
		return nil, fmt.Errorf("manifest %s: more than %s: %w", short(got), CapText(MaxManifestSize), ErrBadImage)
	}
	mt := desc.MediaType
	if mt == "" {
		mt = SniffMediaType(raw)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w: %v", short(got), ErrBadImage, err)
	}
	if m.MediaType != "" {
		mt = m.MediaType
	}
	if err := checkSizes(m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", short(got), err)
	}
	if err := objects.CheckParents(m.Annotations); err != nil {
		return nil, fmt.Errorf("manifest %s: %w: %w", short(got), err, ErrBadImage)
	}
	switch mt {
	case ocispec.MediaTypeImageManifest:
		if m.Config.MediaType != ocispec.MediaTypeImageConfig {
			return nil, fmt.Errorf("manifest %s: config type %q is not an image: %w", short(got), m.Config.MediaType, ErrUnsupported)
		}
		for _, l := range m.Layers {
			if _, ok := ociLayerType[l.MediaType]; !ok || l.MediaType != ociLayerType[l.MediaType] {
				return nil, fmt.Errorf("manifest %s: layer type %q: %w", short(got), l.MediaType, ErrUnsupported)
			}
		}
		if m.Layers == nil {
			m.Layers = []ocispec.Descriptor{}
		}
		return &Normalized{ID: got, Raw: raw, Manifest: m}, nil
	case dockerManifest:
		m.MediaType = ocispec.MediaTypeImageManifest
		m.Config.MediaType = ocispec.MediaTypeImageConfig
		for i, l := range m.Layers {
			t, ok := ociLayerType[l.MediaType]
			if !ok {
				return nil, fmt.Errorf("manifest %s: layer type %q: %w", short(got), l.MediaType, ErrUnsupported)
			}
			m.Layers[i].MediaType = t
		}
		if m.Layers == nil {
			m.Layers = []ocispec.Descriptor{}
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		return &Normalized{ID: digest.FromBytes(b), Raw: b, Manifest: m}, nil
	}
	return nil, fmt.Errorf("manifest %s: type %q: %w", short(got), mt, ErrUnsupported)
}

// checkSizes refuses a config above MaxConfigSize (it is read whole) and
// any negative size; layers are bounded by their sizes as they arrive.
func checkSizes(m ocispec.Manifest) error {
	if err := CheckDescSize(m.Config, "config", MaxConfigSize); err != nil {
		return err
	}
	for _, l := range m.Layers {
		if err := CheckDescSize(l, "layer", 0); err != nil {
			return err
		}
	}
	return nil
}

// SniffMediaType reads a manifest's own mediaType field.
func SniffMediaType(b []byte) string {
	var m struct {
		MediaType string `json:"mediaType"`
	}
	_ = json.Unmarshal(b, &m)
	if m.MediaType == "" {
		return ocispec.MediaTypeImageManifest
	}
	return m.MediaType
}

func short(d digest.Digest) string {
	return objects.Short(d)
}
