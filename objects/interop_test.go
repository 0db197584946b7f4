package objects

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/objects/layer/layertest"
)

// A layer of several zstd frames is one valid zstd stream to other tools:
// skopeo decompresses every frame of it (recompressing to gzip, as
// umoci 0.4 reads gzip layers only), and umoci unpacks the result to the
// tree the layer was made from. skopeo and umoci are test dependencies
// (make deps-test): missing, the test fails.
func TestMultiFrameLayerReadBySkopeoAndUmoci(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root (umoci unpack keeps owners): run the tests as root")
	}
	for _, tool := range []string{"skopeo", "umoci"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (make deps-test): %v", tool, err)
		}
	}
	base := t.TempDir()
	src := filepath.Join(base, "src")
	layertest.BuildLarge(t, src, 30<<20)
	s, err := Init(filepath.Join(base, "store"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.AddLayerFromDir(context.Background(), src, layer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blob, err := os.ReadFile(s.BlobPath(l.Desc.Digest))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := layertest.Frames(bytes.NewReader(blob)); err != nil || n < 4 {
		t.Fatalf("layer has %d zstd frames (%v), want 4 or more", n, err)
	}
	c, err := s.WriteCommit(NewCommit{Layers: []Layer{l}, OS: "linux", Architecture: "amd64", Date: time.Unix(0, 0), Message: "frames"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLayoutIndex([]NamedCommit{{Name: "main", Commit: c.ID}}); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %q: %v\n%s", name, args, err, out)
		}
	}
	gz := filepath.Join(base, "gz")
	run("skopeo", "copy", "-q", "--dest-compress-format", "gzip", "oci:"+s.Root()+":main", "oci:"+gz+":main")
	bundle := filepath.Join(base, "bundle")
	run("umoci", "unpack", "--image", gz+":main", bundle)
	layertest.Compare(t, src, filepath.Join(bundle, "rootfs"))
}

// The zstd program reads a layer of several frames as one stream, to the
// tar its diff id names, and sees what format.md's Reproducibility says
// strata writes: no frame checksums, and each frame's content size (zstd
// -l gives a decompressed size only when every frame records one).
func TestMultiFrameLayerReadByZstd(t *testing.T) {
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Fatalf("zstd is not installed (make deps-test): %v", err)
	}
	base := t.TempDir()
	src := filepath.Join(base, "src")
	layertest.BuildLarge(t, src, 30<<20)
	s, err := Init(filepath.Join(base, "store"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.AddLayerFromDir(context.Background(), src, layer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blob := s.BlobPath(l.Desc.Digest)
	tarball, err := exec.Command("zstd", "-dc", blob).Output()
	if err != nil {
		t.Fatalf("zstd -dc: %v", err)
	}
	if got := digest.FromBytes(tarball); got != l.DiffID {
		t.Fatalf("zstd -dc gives a tar of %s; the diff id is %s", got, l.DiffID)
	}
	out, err := exec.Command("zstd", "-lv", blob).CombinedOutput()
	if err != nil {
		t.Fatalf("zstd -lv: %v\n%s", err, out)
	}
	n := 0
	if m := regexp.MustCompile(`(?m)^# Zstandard Frames: ([0-9]+)$`).FindSubmatch(out); m != nil {
		n, _ = strconv.Atoi(string(m[1]))
	}
	if n < 4 {
		t.Errorf("zstd -lv sees %d frames, want 4 or more:\n%s", n, out)
	}
	if !regexp.MustCompile(`(?m)^Check: None$`).Match(out) {
		t.Errorf("zstd -lv sees a frame checksum:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^Decompressed Size: .*\(` + strconv.Itoa(len(tarball)) + ` B\)$`).Match(out) {
		t.Errorf("zstd -lv knows no content size of %d bytes:\n%s", len(tarball), out)
	}
}
