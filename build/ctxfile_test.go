package build

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// asNobody runs f on a thread whose file system uid is 65534 (the
// kernel drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH with it): a file
// of mode 0 is unreadable there, even to a test run as root (and to any
// other user, for whom Setfsuid changes nothing).
func asNobody(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		unix.Setfsuid(65534)
		f()
	}()
	<-done
}

// An unreadable context file is named as the context has it, not by the
// descriptor it is opened through ("open /proc/self/fd/9: permission
// denied").
func TestReadContextFileNamesAnUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("x\n"), 0); err != nil {
		t.Fatal(err)
	}
	asNobody(t, func() {
		_, err := ReadContextFile(dir, ".dockerignore", MaxDockerfile)
		if err == nil || err.Error() != "open .dockerignore: permission denied" {
			t.Errorf("ReadContextFile: %v, want open .dockerignore: permission denied", err)
		}
		_, err = loadIgnore(dir, "", nil)
		if err == nil || err.Error() != ".dockerignore: permission denied" {
			t.Errorf("loadIgnore: %v, want .dockerignore: permission denied", err)
		}
		_, err = ReadFile(filepath.Join(dir, ".dockerignore"), MaxDockerfile)
		if err == nil || strings.Contains(err.Error(), "/proc/") {
			t.Errorf("ReadFile: %v, want the file named", err)
		}
	})
}
