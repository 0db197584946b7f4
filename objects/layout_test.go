package objects

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A blob written again is not written twice, but its mtime moves: gc keeps
// unreachable blobs younger than its grace period, and a command that
// deduplicated against an old unreachable blob is about to make it
// reachable again.
func TestDedupRefreshesMtime(t *testing.T) {
	ctx := context.Background()
	old := time.Now().Add(-48 * time.Hour)
	writes := map[string]func(s *Store, b []byte) error{
		"Put": func(s *Store, b []byte) error {
			_, err := s.Put(ctx, bytes.NewReader(b), digest.FromBytes(b))
			return err
		},
		"PutBytes": func(s *Store, b []byte) error {
			_, err := s.PutBytes("application/octet-stream", b)
			return err
		},
		"PutAllBytes": func(s *Store, b []byte) error {
			_, err := s.PutAllBytes(ctx, [][]byte{b}, 2)
			return err
		},
		"Reuse": func(s *Store, b []byte) error {
			if !s.Reuse(digest.FromBytes(b)) {
				t.Error("Reuse of a present blob says absent")
			}
			return nil
		},
	}
	for name, write := range writes {
		s := newTestStore(t)
		b := []byte("content of " + name)
		p := s.BlobPath(digest.FromBytes(b))
		if _, err := s.PutBytes("", b); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		if err := write(s, b); err != nil {
			t.Fatalf("%s again: %v", name, err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().Before(time.Now().Add(-time.Hour)) {
			t.Errorf("%s of a present blob left its mtime at %s", name, fi.ModTime())
		}
		if left := tempFiles(t, s); len(left) != 0 {
			t.Errorf("%s left temp files %v", name, left)
		}
	}
	if newTestStore(t).Reuse(digest.FromString("absent")) {
		t.Error("Reuse of an absent blob says present")
	}
}

// PutAllBytes renames in the order given and stores each under its digest.
func TestPutAllBytes(t *testing.T) {
	s := newTestStore(t)
	blobs := [][]byte{[]byte("a"), []byte("b"), []byte("a"), []byte("c")}
	ds, err := s.PutAllBytes(context.Background(), blobs, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blobs {
		got, err := s.ReadBlob(ds[i])
		if err != nil || !bytes.Equal(got, b) || ds[i] != digest.FromBytes(b) {
			t.Errorf("blob %d: %q, %v", i, got, err)
		}
	}
	if left := tempFiles(t, s); len(left) != 0 {
		t.Errorf("left temp files %v", left)
	}
}

// OpenLayout makes a directory an OCI layout other tools read, and opens
// an existing one without touching its index.
func TestOpenLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	s, err := OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	var layout ocispec.ImageLayout
	if b, err := os.ReadFile(filepath.Join(dir, ocispec.ImageLayoutFile)); err != nil || json.Unmarshal(b, &layout) != nil || layout.Version != ocispec.ImageLayoutVersion {
		t.Fatalf("oci-layout: %+v, %v", layout, err)
	}
	idx, err := s.ReadLayoutIndex()
	if err != nil || len(idx.Manifests) != 0 || idx.SchemaVersion != 2 {
		t.Fatalf("index.json: %+v, %v", idx, err)
	}
	d, err := s.PutBytes(ocispec.MediaTypeImageManifest, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	idx.Manifests = append(idx.Manifests, d)
	if err := s.WriteIndex(idx); err != nil {
		t.Fatal(err)
	}
	again, err := OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if idx, err := again.ReadLayoutIndex(); err != nil || len(idx.Manifests) != 1 || idx.Manifests[0].Digest != d.Digest {
		t.Fatalf("reopened layout lost its index: %+v, %v", idx, err)
	}
}
