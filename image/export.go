package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// Export formats.
const (
	FormatDocker = "docker" // what 'docker save' writes; 'docker load' reads it
	FormatOCI    = "oci"    // an OCI image layout, as a tar
)

// Export writes commit c as an image archive to w. name ("env:main") is
// the image's tag in a docker archive and its ref name, whole, in an OCI
// layout, as skopeo writes oci-archive:FILE:NAME (podman load names the
// image after it). A docker archive holds the layers uncompressed,
// as docker writes them, each checked against its diff id; an OCI layout
// holds them as stored. Every blob is verified as it is read.
func Export(ctx context.Context, st *objects.Store, c *objects.Commit, format, name string, w io.Writer) error {
	tw := tar.NewWriter(w)
	switch format {
	case FormatDocker, "":
		if err := exportDocker(ctx, st, c, name, tw); err != nil {
			return err
		}
	case FormatOCI:
		if err := exportOCI(st, c, name, tw); err != nil {
			return err
		}
	default:
		return fmt.Errorf("format %q: use docker or oci", format)
	}
	return tw.Close()
}

var epoch = time.Unix(0, 0)

func addBytes(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: epoch, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

func addDirs(tw *tar.Writer) error {
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, ModTime: epoch, Typeflag: tar.TypeDir}); err != nil {
			return err
		}
	}
	return nil
}

func blobName(d digest.Digest) string { return "blobs/" + d.Algorithm().String() + "/" + d.Encoded() }

// addBlob copies a stored blob, verified, into the archive.
func addBlob(tw *tar.Writer, st *objects.Store, d ocispec.Descriptor) error {
	size, err := st.Size(d.Digest)
	if err != nil {
		return err
	}
	rc, err := st.Open(d.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := tw.WriteHeader(&tar.Header{Name: blobName(d.Digest), Mode: 0o644, Size: size, ModTime: epoch, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, rc); err != nil {
		return fmt.Errorf("blob %s: %w", short(d.Digest), err)
	}
	return nil
}

func exportOCI(st *objects.Store, c *objects.Commit, name string, tw *tar.Writer) error {
	raw, err := st.ReadBlob(c.ID)
	if err != nil {
		return err
	}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: c.ID, Size: int64(len(raw)),
			Annotations: map[string]string{ocispec.AnnotationRefName: name}}}}
	ib, _ := json.Marshal(idx)
	lb, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err := addBytes(tw, ocispec.ImageLayoutFile, lb); err != nil {
		return err
	}
	if err := addBytes(tw, ocispec.ImageIndexFile, ib); err != nil {
		return err
	}
	if err := addDirs(tw); err != nil {
		return err
	}
	if err := addBytes(tw, blobName(c.ID), raw); err != nil {
		return err
	}
	seen := map[digest.Digest]bool{}
	for _, d := range append([]ocispec.Descriptor{c.Manifest.Config}, c.Manifest.Layers...) {
		if seen[d.Digest] {
			continue
		}
		seen[d.Digest] = true
		if err := addBlob(tw, st, d); err != nil {
			return err
		}
	}
	return nil
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0 && s[i] != '/'; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}

func exportDocker(ctx context.Context, st *objects.Store, c *objects.Commit, name string, tw *tar.Writer) error {
	cfg := c.Manifest.Config
	var layers []string
	if err := addDirs(tw); err != nil {
		return err
	}
	if err := addBlob(tw, st, cfg); err != nil {
		return err
	}
	seen := map[digest.Digest]bool{}
	for _, cl := range c.Layers() {
		l, diff := cl.Desc, cl.DiffID
		layers = append(layers, blobName(diff))
		if seen[diff] {
			continue
		}
		seen[diff] = true
		if err := addUncompressed(ctx, tw, st, l, diff); err != nil {
			return err
		}
	}
	m := []map[string]any{{"Config": blobName(cfg.Digest), "RepoTags": []string{name}, "Layers": layers}}
	mb, _ := json.Marshal(m)
	return addBytes(tw, "manifest.json", mb)
}

// addUncompressed stages a layer's tar in tmp/ (a tar header needs the
// size first), checks it against its diff id and copies it in.
func addUncompressed(ctx context.Context, tw *tar.Writer, st *objects.Store, l ocispec.Descriptor, diff digest.Digest) error {
	rc, err := st.OpenLayer(l)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.CreateTemp(st.TempDir(), "export-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	v := diff.Verifier()
	n, err := io.Copy(io.MultiWriter(f, v), objects.ContextReader(ctx, rc))
	if err != nil {
		return fmt.Errorf("layer %s: %w", short(l.Digest), err)
	}
	if !v.Verified() {
		return fmt.Errorf("layer %s: content does not match diff id %s", short(l.Digest), diff)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: blobName(diff), Mode: 0o644, Size: n, ModTime: epoch, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}
