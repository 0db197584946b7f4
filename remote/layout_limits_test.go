package remote

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/refs"
)

// A layout directory as a remote: a blob longer than its descriptor, and
// an unknown layout version, are refused; nothing is stored.
func TestLayoutRemoteLimits(t *testing.T) {
	ctx := context.Background()
	a, _ := threeCommits(t)
	c, _ := a.Resolve("main")
	for _, tc := range []struct{ name, want string }{
		{"blob longer", "longer than its descriptor"},
		{"version", `OCI image layout version "1.1.0" is unknown (strata reads "1.0.0")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shared")
			if _, err := connect(t, a, "shared", dir, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
				t.Fatal(err)
			}
			a.Config.RemoveSubsection("remote", "shared")
			if tc.name == "version" {
				os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.1.0"}`), 0o644)
			} else {
				p := filepath.Join(dir, "blobs", "sha256", c.Manifest.Layers[2].Digest.Encoded())
				f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString("more")
				f.Close()
			}
			b := newRepo(t)
			s, err := Connect(Remote{Name: "shared", URL: dir}, Options{})
			if err == nil {
				_, err = s.Fetch(ctx, b, nil)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("fetch: %v, want one line with %q", err, tc.want)
			}
			if b.Objects.Has(c.Manifest.Layers[2].Digest) || b.Refs.Exists("refs/remotes/shared/main") {
				t.Fatal("something of a refused fetch was stored")
			}
			checkFsck(t, b)
		})
	}
}
