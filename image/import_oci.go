package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// splitPathTag splits PATH[:TAG]: the tag follows the last ':' unless the
// whole string is an existing path.
func splitPathTag(s string) (string, string) {
	if _, err := os.Stat(s); err == nil {
		return s, ""
	}
	if i := strings.LastIndex(s, ":"); i > 0 && !strings.Contains(s[i:], "/") {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// readOCILayout opens the image TAG of an OCI layout (the only image if no
// tag is given), checking index, manifest and config against their digests.
func readOCILayout(src string) (*image, error) {
	dir, tag := splitPathTag(src)
	if err := CheckLayoutVersion(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: not an OCI image layout (no oci-layout file)", dir)
	} else if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	b, err := ReadRegularCapped(filepath.Join(dir, ocispec.ImageIndexFile), MaxManifestSize)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("index.json: %w: %v", ErrBadImage, err)
	}
	var desc *ocispec.Descriptor
	for i, m := range idx.Manifests {
		if n := m.Annotations[ocispec.AnnotationRefName]; (tag != "" && n == tag) || (tag == "" && len(idx.Manifests) == 1) {
			desc = &idx.Manifests[i]
			break
		}
	}
	if desc == nil {
		if tag == "" {
			return nil, fmt.Errorf("%s holds %d images: name one with oci:%s:TAG", dir, len(idx.Manifests), dir)
		}
		return nil, fmt.Errorf("%s: tag %s: %w", dir, tag, errNoImage)
	}
	// readBlob reads a manifest or config whole: at most limit bytes, and
	// exactly as many as its descriptor says.
	readBlob := func(d ocispec.Descriptor, what string, limit int64) ([]byte, error) {
		if err := d.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w: %v", what, ErrBadImage, err)
		}
		if err := CheckDescSize(d, what, limit); err != nil {
			return nil, err
		}
		f, err := OpenRegular(filepath.Join(dir, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded()))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s %s: blob missing: %w", what, d.Digest, ErrBadImage)
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b, err := io.ReadAll(ExactSize(f, d.Size))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", what, d.Digest, err)
		}
		if digest.FromBytes(b) != d.Digest {
			return nil, fmt.Errorf("%s %s: content does not match its digest: %w", what, d.Digest, ErrBadImage)
		}
		return b, nil
	}
	raw, err := readBlob(*desc, "manifest", MaxManifestSize)
	if err != nil {
		return nil, err
	}
	if IsIndex(desc.MediaType) || IsIndex(SniffMediaType(raw)) {
		var sub ocispec.Index
		if err := json.Unmarshal(raw, &sub); err != nil {
			return nil, fmt.Errorf("index %s: %w: %v", desc.Digest, ErrBadImage, err)
		}
		m, err := PickPlatform(&sub)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", desc.Digest, err)
		}
		desc = &m
		if raw, err = readBlob(*desc, "manifest", MaxManifestSize); err != nil {
			return nil, err
		}
	}
	in, err := Normalize(raw, *desc)
	if err != nil {
		return nil, err
	}
	cfgRaw, err := readBlob(in.Manifest.Config, "config", MaxConfigSize)
	if err != nil {
		return nil, err
	}
	img := &image{manifestDigest: desc.Digest, layers: in.Manifest.Layers, close: func() error { return nil }}
	if err := json.Unmarshal(cfgRaw, &img.config); err != nil {
		return nil, fmt.Errorf("config %s: %w: %v", in.Manifest.Config.Digest, ErrBadImage, err)
	}
	img.open = func(i int) (io.ReadCloser, error) {
		d := img.layers[i].Digest
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadImage, err)
		}
		f, err := OpenRegular(filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded()))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("blob missing: %w", ErrBadImage)
		}
		if err != nil {
			return nil, err
		}
		return ExactSizeCloser(f, img.layers[i].Size), nil
	}
	return img, nil
}
