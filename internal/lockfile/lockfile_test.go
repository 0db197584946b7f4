package lockfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestTryTakesNoLinkOver: a lock file planted as a symbolic link (in a
// layout a container holds) is refused, not taken over: taking it over
// truncated and wrote the file it leads to.
func TestTryTakesNoLinkOver(t *testing.T) {
	dir := t.TempDir()
	canary := filepath.Join(dir, "canary")
	os.WriteFile(canary, []byte("host secret\n"), 0o600)
	lock := filepath.Join(dir, "index.json.lock")
	if err := os.Symlink(canary, lock); err != nil {
		t.Fatal(err)
	}
	l, err := Try(lock)
	if l != nil {
		l.Release()
	}
	if err == nil || !strings.Contains(err.Error(), "a symbolic link, not followed") {
		t.Errorf("Try of a link: %v, want refused", err)
	}
	if b, _ := os.ReadFile(canary); string(b) != "host secret\n" {
		t.Errorf("the link's target was written: %q", b)
	}
}

// TestTryTakesOnlyAFileOver: a lock that is not a regular file (a FIFO
// here; a device would be written through) is refused, not written.
func TestTryTakesOnlyAFileOver(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "x.lock")
	if err := syscall.Mkfifo(lock, 0o600); err != nil {
		t.Fatal(err)
	}
	if l, err := Try(lock); err == nil {
		l.Release()
		t.Fatal("a FIFO was taken over as a lock")
	}
}
