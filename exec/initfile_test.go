package exec

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// resetInit forgets the cached init files (memfd and installed), closing
// them, so that the next Run makes them again.
func resetInit() {
	if self.file != nil {
		self.file.Close()
	}
	self.once, self.file, self.err = sync.Once{}, nil, nil
	if installed.file != nil {
		installed.file.Close()
	}
	installed.once, installed.file, installed.err = sync.Once{}, nil, nil
}

// useInstalledInit makes Runs of this test install bin under a directory
// of the test's own and run it from there; it returns the installed path.
func useInstalledInit(t *testing.T, bin string) string {
	t.Helper()
	return useInitIn(t, bin, filepath.Join(t.TempDir(), "run", "init"))
}

func useInitIn(t *testing.T, bin, dir string) string {
	t.Helper()
	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, f)
	f.Close()
	digest := hex.EncodeToString(h.Sum(nil))
	savedInit, savedDigest, savedDir := self.init, installed.digest, initDir
	resetInit()
	SetInitBinary(func() (io.Reader, error) { return os.Open(bin) })
	SetInitDigest(digest)
	initDir = dir
	t.Cleanup(func() {
		resetInit()
		self.init, installed.digest, initDir = savedInit, savedDigest, savedDir
	})
	return filepath.Join(dir, digest)
}

// exeOf runs a container whose pid 1 is strata's init and returns where
// that init was executed from, as the host sees it.
func exeOf(t *testing.T, root string, mod func(*Spec)) string {
	t.Helper()
	var exe string
	// cat runs until Started has looked: pid 1 is alive then.
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinR.Close()
	defer stdinW.Close()
	r := run(t, root, func(s *Spec) {
		s.Init = true
		s.Stdin = stdinR
		s.Started = func(pid int) {
			exe, _ = os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
			stdinW.Close()
		}
		if mod != nil {
			mod(s)
		}
	}, "/bin/cat")
	if r.code != 0 || r.err != nil {
		t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
	}
	return exe
}

// TestInstalledInit: a root strata installs the init once, read-only and
// root's, and every run executes it from a read-only mount.
func TestInstalledInit(t *testing.T) {
	self, _ := os.Executable()
	path := useInstalledInit(t, self)
	root := probeRoot(t)
	exe := exeOf(t, root, nil)
	if strings.HasPrefix(exe, "/memfd:") {
		t.Fatalf("init ran from %q, want the installed file", exe)
	}
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("not installed: %v", err)
	}
	if st.Mode() != 0o555 {
		t.Errorf("installed mode %v, want -r-xr-xr-x", st.Mode())
	}
	dst, _ := os.Stat(filepath.Dir(path))
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("init directory mode %v, want 0700", dst.Mode())
	}
	// A second process finds it there (the once is per process).
	resetInit()
	if exe := exeOf(t, root, nil); strings.HasPrefix(exe, "/memfd:") {
		t.Fatalf("second run from %q, want the installed file", exe)
	}
	// Containers with CAP_SYS_ADMIN get the memfd: mount operations on
	// the init's read-only mount are within their reach.
	if exe := exeOf(t, root, func(s *Spec) { s.Privileged = true }); !strings.HasPrefix(exe, "/memfd:strata") {
		t.Errorf("privileged run from %q, want the sealed memfd", exe)
	}
	for _, add := range []string{"SYS_ADMIN", "cap_sys_admin", "ALL"} {
		if exe := exeOf(t, root, func(s *Spec) { s.CapAdd = []string{add} }); !strings.HasPrefix(exe, "/memfd:strata") {
			t.Errorf("--cap-add %s: run from %q, want the sealed memfd", add, exe)
		}
	}
	// Other added capabilities keep the installed init.
	if exe := exeOf(t, root, func(s *Spec) { s.CapAdd = []string{"NET_ADMIN"} }); strings.HasPrefix(exe, "/memfd:") {
		t.Errorf("--cap-add NET_ADMIN: run from %q, want the installed file", exe)
	}
}

// TestInstalledInitRefusesForeign: whatever another user could have put in
// the way (a directory of theirs, a symlink, a file of theirs or one they
// can write) is never executed: the run falls back to the memfd copy.
func TestInstalledInitRefusesForeign(t *testing.T) {
	self, _ := os.Executable()
	root := probeRoot(t)
	cases := map[string]func(t *testing.T, path string){
		"dir of another user": func(t *testing.T, path string) {
			mkdir(t, filepath.Dir(path), 0o700)
			chown(t, filepath.Dir(path), 1000)
		},
		"group-writable dir": func(t *testing.T, path string) {
			mkdir(t, filepath.Dir(path), 0o770)
			os.Chmod(filepath.Dir(path), 0o770)
		},
		"dir is a symlink": func(t *testing.T, path string) {
			other := filepath.Join(filepath.Dir(filepath.Dir(path)), "other")
			mkdir(t, other, 0o700)
			if err := os.Symlink(other, filepath.Dir(path)); err != nil {
				t.Fatal(err)
			}
		},
		"file of another user": func(t *testing.T, path string) {
			mkdir(t, filepath.Dir(path), 0o700)
			copyFile(t, self, path, 0o555)
			chown(t, path, 1000)
		},
		"world-writable file": func(t *testing.T, path string) {
			mkdir(t, filepath.Dir(path), 0o700)
			copyFile(t, self, path, 0o557)
			os.Chmod(path, 0o557)
		},
		"file is a symlink": func(t *testing.T, path string) {
			mkdir(t, filepath.Dir(path), 0o700)
			other := filepath.Join(filepath.Dir(path), "other")
			copyFile(t, self, other, 0o555)
			if err := os.Symlink(other, path); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, plant := range cases {
		t.Run(name, func(t *testing.T) {
			path := useInstalledInit(t, self)
			plant(t, path)
			if exe := exeOf(t, root, nil); !strings.HasPrefix(exe, "/memfd:strata") {
				t.Errorf("init ran from %q, want the sealed memfd", exe)
			}
		})
	}
	// A noexec mount is kept to: the run falls back, it does not fail.
	t.Run("noexec mount", func(t *testing.T) {
		mnt := filepath.Join(t.TempDir(), "run")
		mkdir(t, mnt, 0o700)
		if err := unix.Mount("tmpfs", mnt, "tmpfs", unix.MS_NOEXEC, "mode=0700"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
		useInitIn(t, self, filepath.Join(mnt, "init"))
		if exe := exeOf(t, root, nil); !strings.HasPrefix(exe, "/memfd:strata") {
			t.Errorf("init ran from %q, want the sealed memfd", exe)
		}
	})
	// Content that does not have the digest is never installed.
	t.Run("wrong content", func(t *testing.T) {
		path := useInstalledInit(t, self)
		SetInitBinary(func() (io.Reader, error) { return strings.NewReader("not the init"), nil })
		if _, err := roInit(); err == nil || !strings.Contains(err.Error(), "digest") {
			t.Errorf("install of wrong content: %v", err)
		}
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Errorf("wrong content installed: %v", err)
		}
	})
}

func mkdir(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(p, mode); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, p string, uid int) {
	t.Helper()
	if err := os.Lchown(p, uid, uid); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// TestInstalledInitPrunesOld: installing an init removes the inits
// installed more than an hour before (one per strata version would pile
// up in /run, which is memory) and leaves recent ones and anything that
// is not an installed init.
func TestInstalledInitPrunesOld(t *testing.T) {
	self, _ := os.Executable()
	root := probeRoot(t)
	path := useInstalledInit(t, self)
	dir := filepath.Dir(path)
	mkdir(t, dir, 0o700)
	old := time.Now().Add(-2 * time.Hour)
	plant := func(name string, at time.Time, isDir bool) string {
		p := filepath.Join(dir, name)
		if isDir {
			mkdir(t, p, 0o700)
		} else if err := os.WriteFile(p, []byte("old init"), 0o555); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := plant(strings.Repeat("a", 64), old, false)
	recent := plant(strings.Repeat("b", 64), time.Now().Add(-time.Minute), false)
	other := plant("notes", old, false)
	oldDir := plant(strings.Repeat("c", 64), old, true)

	if exe := exeOf(t, root, nil); strings.HasPrefix(exe, "/memfd:") {
		t.Fatalf("init ran from %q, want the installed file", exe)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("not installed: %v", err)
	}
	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Errorf("an init installed two hours ago is still there (%v)", err)
	}
	for _, p := range []string{recent, other, oldDir} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}
}
