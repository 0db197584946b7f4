package objects

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

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
