//go:build !strata_front

package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// TestExportWarnsPastRuntimeLayerLimit: exporting an image of 129 layers
// warns that podman and docker will not run it, and says how to squash;
// 128 layers, the deepest they run, export without a word on stderr.
func TestExportWarnsPastRuntimeLayerLimit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "env")
	r, err := repo.Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := r.Objects.AddLayerFromDir(context.Background(), src, layer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{maxRuntimeLayers, maxRuntimeLayers + 1} {
		c, err := r.Objects.WriteCommit(objects.NewCommit{Layers: slices.Repeat([]objects.Layer{l}, n),
			Date: time.Unix(1700000000, 0), Message: "deep", OS: "linux", Architecture: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		branch := "layers" + strings.Repeat("+", n-maxRuntimeLayers)
		if err := r.Refs.Update(refs.Heads+branch, c.ID, "", "test"); err != nil {
			t.Fatal(err)
		}
		cmd := strataCmd(dir, "export", branch, "-o", filepath.Join(t.TempDir(), "img.tar"))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if out, err := cmd.Output(); err != nil {
			t.Fatalf("export of %d layers: %v\n%s%s", n, err, out, stderr.String())
		}
		warned := strings.Contains(stderr.String(), "has 129 layers; podman and docker run images of at most 128")
		if n > maxRuntimeLayers && (!warned || !strings.Contains(stderr.String(), "hint: ") || strings.Count(stderr.String(), "\n") != 2) {
			t.Errorf("export of %d layers, stderr %q: want the warning and the hint, a line each", n, stderr.String())
		}
		if n <= maxRuntimeLayers && stderr.String() != "" {
			t.Errorf("export of %d layers, stderr %q: want nothing", n, stderr.String())
		}
	}
}
