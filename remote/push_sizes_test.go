package remote

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/refs"
)

// A push refuses a commit whose manifest gives a stored blob (a layer,
// the config) another size than it has, as fetch refuses to take one:
// the blob would go as it is, under a manifest that OCI tools refuse and
// that a fetch skips. Nothing is sent.
func TestPushRefusesMisSizedBlob(t *testing.T) {
	r := newRepo(t)
	good := readCommit(t, r, commitFile(t, r, "main", "etc/hello", "hello"))
	cfgSize := good.Manifest.Config.Size
	layer := good.Manifest.Layers[0]
	for name, lie := range map[string]struct {
		edit func(m *ocispec.Manifest)
		want string
	}{
		"layer": {func(m *ocispec.Manifest) { m.Layers[0].Size += 10 },
			"blob " + short(layer.Digest) + " is " + itoa(layer.Size) + " bytes, the commit says " + itoa(layer.Size+10)},
		"config": {func(m *ocispec.Manifest) { m.Config.Size-- },
			"blob " + short(good.Manifest.Config.Digest) + " is " + itoa(cfgSize) + " bytes, the commit says " + itoa(cfgSize-1)},
	} {
		t.Run(name, func(t *testing.T) {
			m := good.Manifest
			m.Layers = append([]ocispec.Descriptor(nil), good.Manifest.Layers...)
			lie.edit(&m)
			desc, err := r.Objects.PutJSON(ocispec.MediaTypeImageManifest, m)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Refs.Update(refs.Heads+name, desc.Digest, "", "test"); err != nil {
				t.Fatal(err)
			}
			// A remote of its own: connect keeps the URL of a remote
			// already configured, which is the last subtest's (removed)
			// directory.
			dir := filepath.Join(t.TempDir(), "shared")
			_, err = connect(t, r, "shared-"+name, dir, Options{}).Push(context.Background(), r, refs.Heads+name, PushOptions{})
			if err == nil || !strings.Contains(err.Error(), lie.want) || !strings.Contains(err.Error(), short(desc.Digest)) {
				t.Fatalf("push of a commit lying about a blob's size: %v, want %q", err, lie.want)
			}
			if !strings.Contains(err.Error(), "nothing was pushed") {
				t.Errorf("push refused with %q, which does not say nothing was pushed", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
				t.Error("something was pushed")
			}
		})
	}
	if _, err := connect(t, r, "ok", filepath.Join(t.TempDir(), "ok"), Options{}).Push(context.Background(), r, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatalf("push of the true commit: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
