package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// tarOf builds an uncompressed tar of files (name -> content; a name
// ending in / is a directory).
func tarOf(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		name, body := files[i], files[i+1]
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if name[len(name)-1] == '/' {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// fakeImage is an image as data, written out as an OCI layout or a docker
// archive; tests spoil it between building and writing.
type fakeImage struct {
	tars     [][]byte // uncompressed layer tars
	blobs    [][]byte // layer blobs as stored (gzip of tars unless spoiled)
	diffIDs  []digest.Digest
	config   []byte
	manifest []byte
}

func newFakeImage(t testing.TB, tars ...[]byte) *fakeImage {
	f := &fakeImage{tars: tars}
	for _, tb := range tars {
		f.blobs = append(f.blobs, gzipOf(tb))
		f.diffIDs = append(f.diffIDs, digest.FromBytes(tb))
	}
	f.setConfig(t, nil)
	return f
}

// setConfig writes the config (spoil may change it) and the manifest.
func (f *fakeImage) setConfig(t testing.TB, spoil func(*ocispec.Image)) {
	img := ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config:   ocispec.ImageConfig{Env: []string{"PATH=/bin", "HELLO=world"}, Cmd: []string{"/bin/sh"}, WorkingDir: "/root", User: "1000"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: f.diffIDs},
	}
	for range f.tars {
		img.History = append(img.History, ocispec.History{CreatedBy: "ADD layer", Comment: "from the fixture"})
	}
	if spoil != nil {
		spoil(&img)
	}
	f.config, _ = json.Marshal(img)
	f.setManifest()
}

func (f *fakeImage) setManifest() {
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(f.config), Size: int64(len(f.config))}}
	for _, b := range f.blobs {
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(b), Size: int64(len(b))})
	}
	f.manifest, _ = json.Marshal(m)
}

// writeLayout writes an OCI layout with the image tagged "v1". Blobs are
// written under the digest the manifest names, whatever their content.
func (f *fakeImage) writeLayout(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	var m ocispec.Manifest
	json.Unmarshal(f.manifest, &m)
	put := func(d digest.Digest, b []byte) {
		p := filepath.Join(dir, "blobs", "sha256", d.Encoded())
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put(m.Config.Digest, f.config)
	for i, l := range m.Layers {
		put(l.Digest, f.blobs[i])
	}
	md := digest.FromBytes(f.manifest)
	put(md, f.manifest)
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(f.manifest)),
			Annotations: map[string]string{ocispec.AnnotationRefName: "v1"}}}}
	ib, _ := json.Marshal(idx)
	os.WriteFile(filepath.Join(dir, "index.json"), ib, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return dir
}

// writeArchive writes a docker-save archive with plain layer tars, as
// docker does, tagged env:v1.
func (f *fakeImage) writeArchive(t testing.TB, layers [][]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "img.tar")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	cfgName := digest.FromBytes(f.config).Encoded() + ".json"
	add(cfgName, f.config)
	var names []string
	for i, l := range layers {
		n := digest.FromBytes(f.tars[i]).Encoded() + "/layer.tar"
		names = append(names, n)
		add(n, l)
	}
	mj, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"env:v1"}, "Layers": names}})
	add("manifest.json", mj)
	tw.Close()
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
