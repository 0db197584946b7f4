package remote

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

func newRepo(t testing.TB) *repo.Repo {
	t.Helper()
	r, err := repo.Init(filepath.Join(t.TempDir(), "env"), "main")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// commitFile adds a commit on branch whose one new layer holds path with
// content, and returns its id.
func commitFile(t testing.TB, r *repo.Repo, branch, path, content string) digest.Digest {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	fixed := time.Unix(1700000000, 0)
	os.Chtimes(p, fixed, fixed)
	os.Chtimes(dir, fixed, fixed)
	info, err := r.Objects.AddLayerFromDir(context.Background(), dir, layer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	name := refs.Heads + branch
	var parent *objects.Commit
	old, _ := r.Refs.Read(name)
	if old != "" {
		if parent, err = r.Objects.ReadCommit(old); err != nil {
			t.Fatal(err)
		}
	}
	c, err := r.Objects.WriteCommit(objects.NewCommit{
		Parent: parent, Layers: []objects.Layer{{Desc: info.Desc, DiffID: info.DiffID}},
		Author: "Test <t@example.com>", Date: fixed, Message: fmt.Sprintf("add %s", path),
		OS: "linux", Architecture: "amd64",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refs.Update(name, c.ID, old, "test commit"); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// history lists ids from rev back to the root (or a missing parent).
func history(t testing.TB, r *repo.Repo, tip digest.Digest) []digest.Digest {
	t.Helper()
	var out []digest.Digest
	for d := tip; d != ""; {
		p, err := r.Objects.Parent(d)
		if err == nil {
			out = append(out, d)
		}
		if err != nil {
			break
		}
		d = p
	}
	return out
}

func mustRead(t testing.TB, r *repo.Repo, name string) digest.Digest {
	t.Helper()
	d, err := r.Refs.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func connect(t testing.TB, r *repo.Repo, name, url string, o Options) *Session {
	t.Helper()
	if _, err := Get(r.Config, name); err != nil {
		if err := Add(r.Config, Remote{Name: name, URL: url}); err != nil {
			t.Fatal(err)
		}
	}
	rem, err := Get(r.Config, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Connect(rem, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkFsck(t testing.TB, r *repo.Repo) {
	t.Helper()
	res, err := r.Fsck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("fsck: %v", res.Problems)
	}
}

var importOpts = image.ImportOptions{Author: "Test <t@example.com>", Message: "import", Date: time.Unix(1700000000, 0)}

func blobCount(t testing.TB, r *repo.Repo) int {
	n := 0
	r.Objects.Walk(func(digest.Digest, int64) error { n++; return nil })
	idx, _ := os.ReadDir(filepath.Join(r.Root, "indexes", "sha256"))
	return n + len(idx)
}
