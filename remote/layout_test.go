package remote

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
)

// A layout directory as a remote is written by the store's writer: blobs
// are staged in tmp/, never inside blobs/sha256, and are read-only; a push
// after a killed one takes its index.json.lock over; the result is a
// layout a fresh clone reads.
func TestLayoutRemoteWriter(t *testing.T) {
	ctx := context.Background()
	a, _ := threeCommits(t)
	dir := filepath.Join(t.TempDir(), "shared")
	// A killed push left its lock: created, never removed, flock gone.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json.lock"), []byte("1 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, a, "shared", dir, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatalf("push over a dead holder's lock: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json.lock")); !os.IsNotExist(err) {
		t.Errorf("index.json.lock left behind: %v", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no blobs pushed")
	}
	for _, e := range entries {
		if digest.NewDigestFromEncoded(digest.SHA256, e.Name()).Validate() != nil {
			t.Errorf("blobs/sha256 holds %q, not a blob", e.Name())
			continue
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o444 {
			t.Errorf("blob %s has mode %v, want read-only for all", e.Name(), fi.Mode().Perm())
		}
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("tmp/ holds %v after a push", left)
	}

	// A live holder of the lock (its flock held) is waited for, not
	// taken over: the push fails after the wait rather than race it.
	old := layoutLockTimeout
	layoutLockTimeout = 200 * time.Millisecond
	t.Cleanup(func() { layoutLockTimeout = old })
	f, err := os.OpenFile(filepath.Join(dir, "index.json.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	tip := commitFile(t, a, "main", "etc/four", "4")
	_, err = connect(t, a, "shared2", dir, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err == nil || !strings.Contains(err.Error(), "index.json") {
		t.Fatalf("push while a live process holds index.json.lock: %v", err)
	}
	f.Close()
	os.Remove(filepath.Join(dir, "index.json.lock"))

	res, err := connect(t, a, "shared3", dir, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil || res.New != tip {
		t.Fatalf("push after the holder went: %+v, %v", res, err)
	}
}
