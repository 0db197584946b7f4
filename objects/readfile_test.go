package objects

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// A read that stops short of EOF (toEOF false, a walk's) still refuses a
// blob cut short, changed, or with bytes appended: a local filesystem
// returns all of a small file to one read, so content and trailing bytes
// are checked together.
func TestReadVerifiedToEOF(t *testing.T) {
	s, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	content := []byte(`{"schemaVersion":2}`)
	desc, err := s.PutBytes("application/json", content)
	if err != nil {
		t.Fatal(err)
	}
	set := func(b []byte) {
		t.Helper()
		p := s.BlobPath(desc.Digest)
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	read := func(toEOF bool) error {
		b, err := s.readVerified(desc.Digest, nil, toEOF, false)
		if err == nil && string(b) != string(content) {
			t.Fatalf("toEOF %v: read %q, want %q", toEOF, b, content)
		}
		return err
	}
	for _, toEOF := range []bool{true, false} {
		if err := read(toEOF); err != nil {
			t.Fatalf("intact blob, toEOF %v: %v", toEOF, err)
		}
	}
	appended := append(append([]byte{}, content...), " trailing"...)
	for _, bad := range [][]byte{content[:5], []byte(`{"schemaVersion":3}`), appended} {
		set(bad)
		for _, toEOF := range []bool{true, false} {
			if err := read(toEOF); !errors.Is(err, ErrDigestMismatch) {
				t.Errorf("blob %q, toEOF %v: %v, want ErrDigestMismatch", bad, toEOF, err)
			}
		}
	}
}

// Blobs are opened relative to the store's sha256 directory; an error
// still names the blob's whole path, as an open by path did.
func TestBlobReadErrorsNameThePath(t *testing.T) {
	s, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("a directory where a blob should be")
	if err := os.Mkdir(s.BlobPath(d), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBlob(d); err == nil || !strings.Contains(err.Error(), s.BlobPath(d)+": ") {
		t.Fatalf("ReadBlob of a directory: %v; want the error to name %s", err, s.BlobPath(d))
	}
	if s.sha256Dir() < 0 {
		t.Fatal("the read went by path: the sha256 directory was not opened")
	}
	if _, err := s.ReadBlob(digest.FromString("absent")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReadBlob of an absent blob: %v, want ErrNotFound", err)
	}
}

// A Store's directory descriptor is closed once the Store is collected:
// commands and tests open many stores.
func TestStoreDirClosedWhenCollected(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir); err != nil {
		t.Fatal(err)
	}
	// Only descriptors of this store's blob directory are counted: other
	// tests' stores may be collected, and close theirs, at any time.
	var target string
	fds := func() int {
		names, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range names {
			if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && l == target {
				n++
			}
		}
		return n
	}
	const stores = 500
	held := make([]*Store, 0, stores) // none collected before the count
	for i := 0; i < stores; i++ {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		fd := s.sha256Dir()
		if fd < 0 {
			t.Fatal("sha256 directory not opened")
		}
		if target == "" {
			if target, err = os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err != nil {
				t.Fatal(err)
			}
		}
		held = append(held, s)
	}
	if n := fds(); n != stores {
		t.Fatalf("%d descriptors of %s open after opening %d stores: the test proves nothing", n, target, stores)
	}
	runtime.KeepAlive(held)
	// Cleanups run on their own goroutine after a collection.
	for i := 0; i < 500 && fds() > stores/10; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := fds(); n > stores/10 {
		t.Fatalf("%d descriptors of %s still open after the stores were collected", n, target)
	}
}

// A file larger than the first buffer is read into one buffer sized from
// its length, not one doubled from 4 KiB (three buffers for a 21 KB
// config, a third of the garbage of a long clone), and whole.
func TestReadFileSizesItsBuffer(t *testing.T) {
	p := t.TempDir() + "/config"
	want := strings.Repeat("0123456789abcdef", 21<<10/16)
	if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []byte
	allocs := testing.AllocsPerRun(20, func() {
		b, err := ReadFile(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		got = b
	})
	if string(got) != want {
		t.Fatalf("read %d bytes, want the file's %d", len(got), len(want))
	}
	// The first buffer, the sized one, and what opening the file takes.
	if allocs > 3 {
		t.Errorf("reading a 21 KB file took %.0f allocations, want at most 3", allocs)
	}
}
