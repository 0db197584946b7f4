package build

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/internal/buildcache"
)

// Cache entries are written without fsync, after the blobs they name
// are flushed: what a power cut or gc does to them (an entry lost or
// left empty, a blob of its commit gone) is a rebuild, never an error
// or a commit reused without its blobs.
func TestCacheEntryDamageIsRebuilt(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"a": "a"})
	r := newRepo(t, false)
	recipe := "FROM scratch\nCOPY a /a\nENV A=1\n"
	first, err := buildIn(t, r, ctxDir, recipe)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := r.Objects.ReadCommit(first.Commit.Parent())
	if err != nil {
		t.Fatal(err)
	}
	c := openCache(r)
	entry := c.path(copied.Manifest.Annotations[AnnotationKey])
	for _, damage := range []struct {
		name string
		do   func() error
	}{
		{"the layer blob gone", func() error { return os.Remove(r.Objects.BlobPath(copied.Manifest.Layers[0].Digest)) }},
		{"the config blob gone", func() error { return os.Remove(r.Objects.BlobPath(copied.Manifest.Config.Digest)) }},
		{"the entry empty", func() error { return os.WriteFile(entry, nil, 0o644) }},
		{"the entry gone", func() error { return os.Remove(entry) }},
	} {
		if err := damage.do(); err != nil {
			t.Fatal(err)
		}
		res, err := buildIn(t, r, ctxDir, recipe)
		if err != nil {
			t.Fatalf("%s: %v", damage.name, err)
		}
		if res.Steps[1].Cached || res.Commit.ID != first.Commit.ID {
			t.Fatalf("%s: COPY cached %v, commit %s, want rebuilt as %s", damage.name, res.Steps[1].Cached, res.Commit.ID, first.Commit.ID)
		}
		for _, l := range copied.Manifest.Layers {
			if !r.Objects.Has(l.Digest) {
				t.Fatalf("%s: the rebuilt commit lacks its layer %s", damage.name, l.Digest)
			}
		}
		if !r.Objects.Has(copied.Manifest.Config.Digest) {
			t.Fatalf("%s: the rebuilt commit lacks its config", damage.name)
		}
	}
}

// A stat memo is used only for the stat key it names: a memo file that
// holds another memo's bytes (a freed block an unflushed write can come
// back with after a power cut) is a miss, not that other content's key.
func TestStatMemoOfAnotherStatKeyIsIgnored(t *testing.T) {
	old := racyWindow
	racyWindow = 0
	t.Cleanup(func() { racyWindow = old })
	r := newRepo(t, false)
	memoDir := openCache(r).memoDir
	recipe := "FROM scratch\nCOPY a /a\n"
	memoOf := func(ctxDir string, seen map[string]bool) (*Result, string) {
		t.Helper()
		res, err := buildIn(t, r, ctxDir, recipe)
		if err != nil {
			t.Fatal(err)
		}
		names, err := os.ReadDir(memoDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if !seen[n.Name()] {
				seen[n.Name()] = true
				return res, filepath.Join(memoDir, n.Name())
			}
		}
		t.Fatal("the COPY wrote no stat memo")
		return nil, ""
	}
	seen := map[string]bool{}
	other, otherMemo := memoOf(ctxWith(t, map[string]string{"a": "two"}), seen)
	ctxDir := ctxWith(t, map[string]string{"a": "one"})
	want, memo := memoOf(ctxDir, seen)
	if other.Commit.ID == want.Commit.ID {
		t.Fatal("two contents, one commit")
	}
	b, err := os.ReadFile(otherMemo)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(memo, b, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := buildIn(t, r, ctxDir, recipe)
	if err != nil {
		t.Fatal(err)
	}
	if res.Commit.ID != want.Commit.ID {
		t.Fatalf("the memo of another stat key was trusted: got %s (the other content's), want %s", res.Commit.ID, want.Commit.ID)
	}
	// The rehash wrote the memo back as its own.
	if b, _ := os.ReadFile(memo); string(b) != string(buildcache.Memo("sha256:"+filepath.Base(memo), want.Commit.Manifest.Annotations[AnnotationKey])) {
		t.Fatalf("memo after the rebuild: %q", b)
	}
}

// The cache index is only a hint: a cached commit that gc removed, or an
// entry naming a commit of another key, is rebuilt, never trusted.
func TestCacheToleratesMissingAndWrongEntries(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"a": "a"})
	r := newRepo(t, false)
	recipe := "FROM scratch\nCOPY a /a\nENV A=1\n"
	first, err := buildIn(t, r, ctxDir, recipe)
	if err != nil {
		t.Fatal(err)
	}
	again, err := buildIn(t, r, ctxDir, recipe)
	if err != nil || again.Commit.ID != first.Commit.ID || !again.Steps[1].Cached || !again.Steps[2].Cached {
		t.Fatalf("rebuild: %v, %+v", err, again)
	}
	// gc took the last commit's manifest.
	if err := r.Objects.Delete(first.Commit.ID); err != nil {
		t.Fatal(err)
	}
	res, err := buildIn(t, r, ctxDir, recipe)
	if err != nil || res.Commit.ID != first.Commit.ID || !res.Steps[1].Cached || res.Steps[2].Cached {
		t.Fatalf("after the commit went: %v, %+v", err, res)
	}
	// An entry naming a commit without the key is ignored.
	key := res.Commit.Manifest.Annotations[AnnotationKey]
	parent, _ := r.Objects.ReadCommit(res.Commit.Parent())
	if err := openCache(r).put(key, parent.ID); err != nil {
		t.Fatal(err)
	}
	res, err = buildIn(t, r, ctxDir, recipe)
	if err != nil || res.Commit.ID != first.Commit.ID || res.Steps[2].Cached {
		t.Fatalf("with a wrong entry: %v, %+v", err, res)
	}
}
