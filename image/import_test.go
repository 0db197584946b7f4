package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/repo"
	"golang.org/x/sys/unix"
)

var importOpts = ImportOptions{Author: "Test <t@example.com>", Message: "import", Date: time.Unix(1700000000, 0)}

func blobCount(t testing.TB, r *repo.Repo) int {
	n := 0
	r.Objects.Walk(func(digest.Digest, int64) error { n++; return nil })
	idx, _ := os.ReadDir(filepath.Join(r.Root, "indexes", "sha256"))
	return n + len(idx)
}

func TestImportOCILayout(t *testing.T) {
	r := newRepo(t)
	f := newFakeImage(t, tarOf(t, "etc/", "", "etc/hello", "hi"), tarOf(t, "etc/two", "2"))
	c, err := ImportImage(context.Background(), r.Objects, "oci:"+f.writeLayout(t)+":v1", importOpts)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Layers()) != 2 || c.Layers()[0].Desc.Digest != digest.FromBytes(f.blobs[0]) || c.Layers()[0].Desc.MediaType != ocispec.MediaTypeImageLayerGzip {
		t.Fatalf("layers not kept as they are: %+v", c.Layers())
	}
	cfg := c.Config.Config
	if strings.Join(cfg.Env, " ") != "PATH=/bin HELLO=world" || cfg.Cmd[0] != "/bin/sh" || cfg.WorkingDir != "/root" || cfg.User != "1000" {
		t.Fatalf("runtime config not kept: %+v", cfg)
	}
	if n := len(c.Config.History); n != 3 || c.Config.History[0].CreatedBy != "ADD layer" || c.Message() != "import" {
		t.Fatalf("history: %+v", c.Config.History)
	}
	if c.Parent() != "" || c.Config.OS != "linux" {
		t.Fatalf("not a linux root commit: %+v", c.Manifest.Annotations)
	}
	if _, err := r.Objects.LayerIndex(c.Layers()[1]); err != nil {
		t.Fatal(err)
	}
	// The same image again is the same commit.
	c2, err := ImportImage(context.Background(), r.Objects, "oci:"+f.writeLayout(t), importOpts)
	if err != nil || c2.ID != c.ID {
		t.Fatalf("reimport: %v %v", c2, err)
	}
}

func TestImportDockerArchive(t *testing.T) {
	r := newRepo(t)
	f := newFakeImage(t, tarOf(t, "etc/", "", "etc/hello", "hi"))
	c, err := ImportImage(context.Background(), r.Objects, "docker-archive:"+f.writeArchive(t, f.tars)+":v1", importOpts)
	if err != nil {
		t.Fatal(err)
	}
	if c.Layers()[0].Desc.Digest != digest.FromBytes(f.tars[0]) || c.Layers()[0].Desc.MediaType != ocispec.MediaTypeImageLayer {
		t.Fatalf("plain layer not kept: %+v", c.Layers())
	}
	if c.Config.Config.User != "1000" {
		t.Fatalf("config not kept: %+v", c.Config.Config)
	}
}

// Malformed images are refused with an error naming the blob or entry,
// and leave nothing in the store, not even a good first layer.
func TestImportRefusesBadImages(t *testing.T) {
	good := func(t *testing.T) *fakeImage {
		return newFakeImage(t, tarOf(t, "etc/", "", "etc/ok", "fine"), tarOf(t, "etc/two", "2"))
	}
	cases := []struct {
		name, want string
		src        func(t *testing.T) string
	}{
		{"layer digest mismatch", "layer 2 sha256:", func(t *testing.T) string {
			f := good(t)
			f.setManifest()
			f.blobs[1] = gzipOf(tarOf(t, "etc/two", "tampered"))
			return "oci:" + f.writeLayout(t)
		}},
		{"missing blob", "blob missing", func(t *testing.T) string {
			f := good(t)
			dir := f.writeLayout(t)
			os.Remove(filepath.Join(dir, "blobs", "sha256", digest.FromBytes(f.blobs[1]).Encoded()))
			return "oci:" + dir
		}},
		{"truncated compression", "layer 2", func(t *testing.T) string {
			f := good(t)
			f.blobs[1] = f.blobs[1][:len(f.blobs[1])/2]
			f.setManifest()
			return "oci:" + f.writeLayout(t)
		}},
		{"bad config JSON", "config sha256:", func(t *testing.T) string {
			f := good(t)
			f.config = []byte(`{"rootfs": [`)
			f.setManifest()
			return "oci:" + f.writeLayout(t)
		}},
		{"bad index JSON", "index.json", func(t *testing.T) string {
			dir := good(t).writeLayout(t)
			os.WriteFile(filepath.Join(dir, "index.json"), []byte("{"), 0o644)
			return "oci:" + dir
		}},
		{"manifest digest mismatch", "manifest sha256:", func(t *testing.T) string {
			f := good(t)
			dir := f.writeLayout(t)
			p := filepath.Join(dir, "blobs", "sha256", digest.FromBytes(f.manifest).Encoded())
			os.WriteFile(p, append(f.manifest, ' '), 0o644)
			return "oci:" + dir
		}},
		{"wrong diff_ids", "diff id", func(t *testing.T) string {
			f := good(t)
			f.setConfig(t, func(img *ocispec.Image) { img.RootFS.DiffIDs[1] = digest.FromString("other") })
			return "oci:" + f.writeLayout(t)
		}},
		{"diff_ids count", "2 layers", func(t *testing.T) string {
			f := good(t)
			f.setConfig(t, func(img *ocispec.Image) { img.RootFS.DiffIDs = img.RootFS.DiffIDs[:1] })
			return "oci:" + f.writeLayout(t)
		}},
		{"path traversal", `entry "etc/../../evil"`, func(t *testing.T) string {
			f := newFakeImage(t, tarOf(t, "etc/", "", "etc/ok", "fine"), tarOf(t, "etc/../../evil", "x"))
			return "oci:" + f.writeLayout(t)
		}},
		{"hardlink to a lower layer", `entry "hl": hardlink to "etc/ok": no such file earlier in this layer`, func(t *testing.T) string {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			tw.WriteHeader(&tar.Header{Name: "hl", Typeflag: tar.TypeLink, Linkname: "etc/ok", Mode: 0o644})
			tw.Close()
			f := newFakeImage(t, tarOf(t, "etc/", "", "etc/ok", "fine"), buf.Bytes())
			return "oci:" + f.writeLayout(t)
		}},
		{"hardlink to itself", `entry "etc/ok": hardlink to "./etc/ok": names itself`, func(t *testing.T) string {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			tw.WriteHeader(&tar.Header{Name: "etc/ok", Typeflag: tar.TypeReg, Mode: 0o644})
			tw.WriteHeader(&tar.Header{Name: "etc/ok", Typeflag: tar.TypeLink, Linkname: "./etc/ok", Mode: 0o644})
			tw.Close()
			f := newFakeImage(t, tarOf(t, "etc/", "", "etc/ok", "fine"), buf.Bytes())
			return "oci:" + f.writeLayout(t)
		}},
		{"archive: wrong diff_ids", "diff id", func(t *testing.T) string {
			f := good(t)
			f.setConfig(t, func(img *ocispec.Image) { img.RootFS.DiffIDs[1] = digest.FromString("other") })
			return "docker-archive:" + f.writeArchive(t, f.tars)
		}},
		{"archive: truncated layer", "layer 2", func(t *testing.T) string {
			f := good(t)
			return "docker-archive:" + f.writeArchive(t, [][]byte{f.tars[0], f.tars[1][:700]})
		}},
		{"archive: bad manifest.json", "manifest.json", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "a.tar")
			os.WriteFile(p, tarOf(t, "manifest.json", "[{"), 0o644)
			return "docker-archive:" + p
		}},
		{"archive: missing layer", "missing from the archive", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "a.tar")
			os.WriteFile(p, tarOf(t, "c.json", "{}", "manifest.json", `[{"Config":"c.json","Layers":["x/layer.tar"]}]`), 0o644)
			return "docker-archive:" + p
		}},
		{"unknown layout version", `OCI image layout version "2.0.0" is unknown`, func(t *testing.T) string {
			dir := good(t).writeLayout(t)
			os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"2.0.0"}`), 0o644)
			return "oci:" + dir
		}},
		{"layer longer than its descriptor", "longer than its descriptor", func(t *testing.T) string {
			f := good(t)
			dir := f.writeLayout(t)
			p := filepath.Join(dir, "blobs", "sha256", digest.FromBytes(f.blobs[1]).Encoded())
			os.WriteFile(p, append(bytes.Clone(f.blobs[1]), "trailing"...), 0o644)
			return "oci:" + dir
		}},
		{"layer blob is a FIFO", "not a regular file", func(t *testing.T) string {
			f := good(t)
			dir := f.writeLayout(t)
			p := filepath.Join(dir, "blobs", "sha256", digest.FromBytes(f.blobs[1]).Encoded())
			os.Remove(p)
			if err := unix.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return "oci:" + dir
		}},
		{"archive: config over the cap", "more than 8 MiB", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "a.tar")
			os.WriteFile(p, tarOf(t, "c.json", strings.Repeat(" ", 9<<20)+"{}", "manifest.json", `[{"Config":"c.json","Layers":[]}]`), 0o644)
			return "docker-archive:" + p
		}},
		{"archive: path traversal", `entry "../evil"`, func(t *testing.T) string {
			f := newFakeImage(t, tarOf(t, "etc/", "", "etc/ok", "fine"), tarOf(t, "../evil", "x"))
			return "docker-archive:" + f.writeArchive(t, f.tars)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			before := blobCount(t, r)
			_, err := ImportImage(context.Background(), r.Objects, tc.src(t), importOpts)
			if err == nil {
				t.Fatal("bad image imported")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q does not say %q on one line", err, tc.want)
			}
			if !errors.Is(err, ErrBadImage) && !errors.Is(err, objects.ErrDigestMismatch) && !strings.Contains(err.Error(), "layer") {
				t.Logf("error kind: %v", err)
			}
			if after := blobCount(t, r); after != before {
				t.Fatalf("store has %d blobs and indexes after a refused import, %d before", after, before)
			}
			tmp, _ := os.ReadDir(r.Objects.TempDir())
			if len(tmp) != 0 {
				t.Fatalf("tmp/ not cleaned: %d entries", len(tmp))
			}
		})
	}
}

// TestImportKeepsPlatform: the whole platform of an image (variant, OS
// version and features, not only OS and architecture) reaches the
// commit; docker config fields the commit cannot hold are named, not
// lost silently.
func TestImportKeepsPlatform(t *testing.T) {
	r := newRepo(t)
	f := newFakeImage(t, tarOf(t, "etc/", "", "etc/hello", "hi"))
	f.setConfig(t, func(img *ocispec.Image) {
		img.Architecture, img.Variant, img.OSVersion, img.OSFeatures = "arm", "v7", "10.0.1", []string{"win32k"}
	})
	var warned []string
	o := importOpts
	o.Warn = func(msg string) { warned = append(warned, msg) }
	c, err := ImportImage(context.Background(), r.Objects, "oci:"+f.writeLayout(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Config.Platform; p.Architecture != "arm" || p.Variant != "v7" || p.OSVersion != "10.0.1" || strings.Join(p.OSFeatures, ",") != "win32k" {
		t.Errorf("platform not kept: %+v", p)
	}
	if len(warned) != 0 {
		t.Errorf("warned of an OCI config: %q", warned)
	}

	// A docker config with a healthcheck and a shell.
	var cfg map[string]any
	json.Unmarshal(f.config, &cfg)
	cfg["config"].(map[string]any)["Healthcheck"] = map[string]any{"Test": []string{"CMD", "true"}}
	cfg["config"].(map[string]any)["Shell"] = []string{"/bin/sh", "-xc"}
	cfg["config"].(map[string]any)["OnBuild"] = nil
	f.config, _ = json.Marshal(cfg)
	f.setManifest()
	if _, err := ImportImage(context.Background(), r.Objects, "docker-archive:"+f.writeArchive(t, f.tars), o); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "Healthcheck, Shell: not kept") {
		t.Errorf("warnings: %q, want Healthcheck and Shell named", warned)
	}
}
