package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// layoutTarget is an OCI image layout directory used as a remote. Tags are
// index.json entries named by org.opencontainers.image.ref.name; manifests
// pushed by digest are blobs only. It is created on first push.
type layoutTarget struct {
	dir string
}

func (t *layoutTarget) String() string { return t.dir }

func (t *layoutTarget) blobPath(d digest.Digest) string {
	return filepath.Join(t.dir, "blobs", d.Algorithm().String(), d.Encoded())
}

func (t *layoutTarget) has(d digest.Digest) bool {
	_, err := os.Stat(t.blobPath(d))
	return err == nil
}

func (t *layoutTarget) init() error {
	if _, err := os.Stat(filepath.Join(t.dir, ocispec.ImageLayoutFile)); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(t.dir, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	if err := t.writeIndex(&ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}); err != nil {
		return err
	}
	b, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	return writeFileAtomic(t.dir, filepath.Join(t.dir, ocispec.ImageLayoutFile), b)
}

// writeBlob copies r into the layout, verifying it against d.
func (t *layoutTarget) writeBlob(ctx context.Context, d digest.Digest, r io.Reader) error {
	if t.has(d) {
		return nil
	}
	f, err := os.CreateTemp(filepath.Join(t.dir, "blobs", "sha256"), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	v := d.Verifier()
	if _, err := io.Copy(io.MultiWriter(f, v), ctxReader(ctx, r)); err != nil {
		f.Close()
		return err
	}
	if !v.Verified() {
		f.Close()
		return fmt.Errorf("blob %s: content does not match its digest", d)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), t.blobPath(d))
}

func (t *layoutTarget) pushBlob(ctx context.Context, b outBlob) (bool, error) {
	if t.has(b.desc.Digest) {
		return false, nil
	}
	if err := t.init(); err != nil {
		return false, err
	}
	rc, err := b.open()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	return true, t.writeBlob(ctx, b.desc.Digest, rc)
}

func (t *layoutTarget) fetchBlob(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if err := d.Digest.Validate(); err != nil {
		return nil, err
	}
	f, err := openRegular(t.blobPath(d.Digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d.Digest, ErrNotFound)
	}
	return f, err
}

func (t *layoutTarget) readIndex() (*ocispec.Index, error) {
	var idx ocispec.Index
	b, err := readRegularCapped(filepath.Join(t.dir, ocispec.ImageIndexFile), maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return &idx, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", t.dir, err)
	}
	return &idx, nil
}

func (t *layoutTarget) writeIndex(idx *ocispec.Index) error {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(t.dir, filepath.Join(t.dir, ocispec.ImageIndexFile), append(b, '\n'))
}

func (t *layoutTarget) headManifest(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if strings.Contains(ref, ":") {
		d := digest.Digest(ref)
		if err := d.Validate(); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", ref, err)
		}
		fi, err := os.Stat(t.blobPath(d))
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", ref, ErrNotFound)
		}
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: fi.Size()}, nil
	}
	idx, err := t.readIndex()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	for _, m := range idx.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] == ref {
			return m, nil
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("tag %s: %w", ref, ErrNotFound)
}

func (t *layoutTarget) fetchManifest(ctx context.Context, ref string) ([]byte, ocispec.Descriptor, error) {
	desc, err := t.headManifest(ctx, ref)
	if err != nil {
		return nil, desc, err
	}
	if err := desc.Digest.Validate(); err != nil {
		return nil, desc, fmt.Errorf("manifest %s: %w: %v", desc.Digest, ErrBadImage, err)
	}
	if err := checkDescSize(desc, "manifest", maxManifestSize); err != nil {
		return nil, desc, err
	}
	b, err := readRegularCapped(t.blobPath(desc.Digest), maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, desc, fmt.Errorf("manifest %s: %w", desc.Digest, ErrNotFound)
	}
	if err != nil {
		return nil, desc, fmt.Errorf("manifest %s: %w", short(desc.Digest), err)
	}
	if digest.FromBytes(b) != desc.Digest {
		return nil, desc, fmt.Errorf("manifest %s: content does not match its digest: %w", desc.Digest, ErrBadImage)
	}
	if int64(len(b)) != desc.Size {
		return nil, desc, fmt.Errorf("manifest %s: %d bytes, its descriptor says %d: %w", short(desc.Digest), len(b), desc.Size, ErrBadImage)
	}
	if desc.MediaType == "" {
		desc.MediaType = sniffMediaType(b)
	}
	return b, desc, nil
}

func (t *layoutTarget) pushManifest(ctx context.Context, ref string, raw []byte, mediaType string) error {
	if err := t.init(); err != nil {
		return err
	}
	d := digest.FromBytes(raw)
	if err := t.writeBlob(ctx, d, strings.NewReader(string(raw))); err != nil {
		return err
	}
	if strings.Contains(ref, ":") {
		return nil
	}
	unlock, err := lockFile(filepath.Join(t.dir, "index.json.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := t.readIndex()
	if err != nil {
		return err
	}
	kept := idx.Manifests[:0]
	for _, m := range idx.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] != ref {
			kept = append(kept, m)
		}
	}
	idx.Manifests = append(kept, ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(raw)),
		Annotations: map[string]string{ocispec.AnnotationRefName: ref}})
	idx.SchemaVersion, idx.MediaType = 2, ocispec.MediaTypeImageIndex
	return t.writeIndex(idx)
}

func (t *layoutTarget) tags(ctx context.Context) ([]string, error) {
	idx, err := t.readIndex()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range idx.Manifests {
		if n := m.Annotations[ocispec.AnnotationRefName]; n != "" {
			out = append(out, n)
		}
	}
	return out, nil
}

// lockFile takes name with O_EXCL, waiting up to 10 s for another holder.
func lockFile(name string) (func(), error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(name) }, nil
		}
		if !errors.Is(err, fs.ErrExist) || time.Now().After(deadline) {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeFileAtomic(dir, name string, b []byte) error {
	f, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
