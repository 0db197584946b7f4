package objects

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
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

// openLayoutDir is OpenLayout of dir, made if need be.
func openLayoutDir(t *testing.T, dir string) (*Store, error) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return OpenLayout(fd, dir)
}

// OpenLayout makes a directory an OCI layout other tools read, and opens
// an existing one without touching its index.
func TestOpenLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	s, err := openLayoutDir(t, dir)
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
	again, err := openLayoutDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if idx, err := again.ReadLayoutIndex(); err != nil || len(idx.Manifests) != 1 || idx.Manifests[0].Digest != d.Digest {
		t.Fatalf("reopened layout lost its index: %+v, %v", idx, err)
	}
}

// TestOpenLayoutFollowsNoLink: a layout another party holds, with a
// symbolic link where one of its names is, is written and read beneath
// it only: the link is refused (ErrLinkInLayout or ErrNotRegular), and
// what it leads to is neither written nor read.
func TestOpenLayoutFollowsNoLink(t *testing.T) {
	blob := []byte(`{"a":1}`)
	d := digest.FromBytes(blob)
	for _, name := range []string{"blobs", "blobs/sha256", "tmp", "index.json", "blob"} {
		t.Run(name, func(t *testing.T) {
			dir, host := filepath.Join(t.TempDir(), "layout"), t.TempDir()
			if _, err := openLayoutDir(t, dir); err != nil {
				t.Fatal(err)
			}
			hostFile := filepath.Join(host, "f")
			os.WriteFile(hostFile, blob, 0o644)
			target, at := host, filepath.Join(dir, name)
			switch name {
			case "index.json":
				target = hostFile
			case "blob":
				target, at = hostFile, filepath.Join(dir, "blobs", "sha256", d.Encoded())
			}
			os.RemoveAll(at)
			if err := os.Symlink(target, at); err != nil {
				t.Fatal(err)
			}
			s, err := openLayoutDir(t, dir)
			if err == nil {
				if name == "blob" {
					if _, err := s.ReadBlob(d); !errors.Is(err, ErrNotRegular) {
						t.Errorf("ReadBlob through a link: %v", err)
					}
				}
				_, err = s.ReadLayoutIndex()
				if err == nil {
					_, err = s.PutBytes("application/json", blob)
				}
				if err == nil {
					err = s.WriteIndex(&ocispec.Index{})
				}
			}
			if name != "blob" && !errors.Is(err, ErrLinkInLayout) {
				t.Errorf("got %v, want %v", err, ErrLinkInLayout)
			}
			ents, _ := os.ReadDir(host)
			if b, _ := os.ReadFile(hostFile); len(ents) != 1 || string(b) != string(blob) {
				t.Errorf("the host directory was written: %d entries, f = %q", len(ents), b)
			}
			if fi, err := os.Lstat(at); name == "blob" && (err != nil || !fi.Mode().IsRegular()) {
				t.Errorf("the blob's link was not replaced by the blob: %v", err)
			}
		})
	}
}
