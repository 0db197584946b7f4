package objects

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func newTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Init(t.TempDir() + "/.strata")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tempFiles lists what is left in tmp/: a failed write must leave nothing.
func tempFiles(t *testing.T, s *Store) []string {
	t.Helper()
	entries, err := os.ReadDir(s.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestPutIsIdempotentAndVerified(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	content := []byte("hello layer")
	want := digest.FromBytes(content)
	for i := 0; i < 2; i++ {
		desc, err := s.Put(ctx, bytes.NewReader(content), want)
		if err != nil {
			t.Fatal(err)
		}
		if desc.Digest != want || desc.Size != int64(len(content)) {
			t.Fatalf("Put = %+v", desc)
		}
	}
	got, err := s.ReadBlob(want)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("ReadBlob = %q, %v", got, err)
	}

	wrong := digest.FromString("something else")
	_, err = s.Put(ctx, strings.NewReader("other content"), wrong)
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("Put with wrong digest: %v", err)
	}
	if s.Has(wrong) || s.Has(digest.FromString("other content")) {
		t.Fatal("a mismatched blob was stored")
	}
	if left := tempFiles(t, s); len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

func TestCorruptBlobDetectedOnRead(t *testing.T) {
	s := newTestStore(t)
	desc, err := s.PutBytes("application/octet-stream", []byte("precious content"))
	if err != nil {
		t.Fatal(err)
	}
	p := s.BlobPath(desc.Digest)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("precious c0ntent"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBlob(desc.Digest); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("ReadBlob of a corrupt blob: %v", err)
	}
	rc, err := s.Open(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("streaming a corrupt blob: %v", err)
	}
}

func TestMissingBlob(t *testing.T) {
	s := newTestStore(t)
	d := digest.FromString("never stored")
	if _, err := s.Open(d); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open missing: %v", err)
	}
	if _, err := s.Open("sha256:../../etc/passwd"); err == nil {
		t.Fatal("Open accepted an invalid digest")
	}
}

// TestWriteCommitRefusesBadDiffID: a layer without a diff id, or with one
// that is not a digest, is refused before anything is written; every
// reader would refuse the commit.
func TestWriteCommitRefusesBadDiffID(t *testing.T) {
	s := newTestStore(t)
	layerDesc, err := s.PutBytes(ocispec.MediaTypeImageLayerZstd, []byte("not really a layer"))
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.Digests()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []digest.Digest{"", "sha256:short", "diff"} {
		_, err := s.WriteCommit(NewCommit{Layers: []Layer{{Desc: layerDesc, DiffID: d}}, Message: "bad"})
		if err == nil || !strings.Contains(err.Error(), "diff id") {
			t.Errorf("WriteCommit of diff id %q: %v, want it refused", d, err)
		}
	}
	after, err := s.Digests()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("a refused commit wrote blobs: %d before, %d after", len(before), len(after))
	}
}

func TestCommitRoundTrip(t *testing.T) {
	s := newTestStore(t)
	date := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	layerDesc, err := s.PutBytes(ocispec.MediaTypeImageLayerZstd, []byte("not really a layer"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := s.WriteCommit(NewCommit{
		Layers:  []Layer{{Desc: layerDesc, DiffID: digest.FromString("diff")}},
		Config:  &ocispec.ImageConfig{Env: []string{"A=1"}, Cmd: []string{"/bin/sh"}},
		Author:  "A U Thor <a@example.com>",
		Date:    date,
		Message: "root",
		OS:      "linux", Architecture: "amd64",
	})
	if err != nil {
		t.Fatal(err)
	}
	child, err := s.WriteCommit(NewCommit{Parent: root, Author: "B <b@example.com>", Date: date.Add(time.Hour), Message: "empty child"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.ReadCommit(child.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Parent() != root.ID || c.Message() != "empty child" || c.Author() != "B <b@example.com>" || !c.Date().Equal(date.Add(time.Hour)) {
		t.Fatalf("child = parent %s message %q author %q date %s", c.Parent(), c.Message(), c.Author(), c.Date())
	}
	if len(c.Layers()) != 1 || c.Config.Config.Cmd[0] != "/bin/sh" || len(c.Config.History) != 2 || !c.Config.History[1].EmptyLayer {
		t.Fatalf("child does not inherit its parent's layers, config and history: %+v", c.Config)
	}
	sum, err := s.ReadSummary(child.ID)
	if err != nil || sum.Message != "empty child" || sum.Parent != root.ID || !sum.Date.Equal(date.Add(time.Hour)) {
		t.Fatalf("summary = %+v, %v", sum, err)
	}
	// Same inputs, same id: commits are reproducible.
	again, err := s.WriteCommit(NewCommit{Parent: root, Author: "B <b@example.com>", Date: date.Add(time.Hour), Message: "empty child"})
	if err != nil || again.ID != child.ID {
		t.Fatalf("same commit written twice has ids %s and %s", child.ID, again.ID)
	}
	if root.Config.History[0].EmptyLayer {
		t.Fatal("a root commit's history entry does not stand for its layer")
	}
	// An imported image brings a history that already covers its layers:
	// strata's own entry must then be empty, or OCI tools miscount.
	imported, err := s.WriteCommit(NewCommit{
		Layers:  []Layer{{Desc: layerDesc, DiffID: digest.FromString("diff")}},
		History: []ocispec.History{{CreatedBy: "ADD rootfs.tar /"}},
		Date:    date, Message: "import",
	})
	if err != nil {
		t.Fatal(err)
	}
	if h := imported.Config.History; len(h) != 2 || h[0].EmptyLayer || !h[1].EmptyLayer {
		t.Fatalf("imported history = %+v", h)
	}
	if _, err := s.ReadCommit(layerDesc.Digest); err == nil {
		t.Fatal("a layer blob was read as a commit")
	}
	ds, err := s.CommitsWithPrefix(child.ID.Encoded()[:6])
	if err != nil || len(ds) != 1 || ds[0] != child.ID {
		t.Fatalf("CommitsWithPrefix = %v, %v", ds, err)
	}
}
