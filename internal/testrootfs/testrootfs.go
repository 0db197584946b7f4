// Package testrootfs builds small root filesystems for tests and demos.
//
// Busybox builds a tree from the host's static busybox (Debian package
// busybox-static): /bin/busybox, one symlink per applet, the usual empty
// directories, and /etc/passwd and /etc/group with root (0) and user (1000).
package testrootfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BusyboxPath is the static busybox binary copied into the tree.
const BusyboxPath = "/usr/bin/busybox"

const passwd = `root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
`

const group = `root:x:0:
wheel:x:10:root
user:x:1000:
nogroup:x:65534:
`

// Busybox builds a busybox root filesystem in a fresh t.TempDir and returns
// its path. A missing busybox fails the test: it is a setup error, not a skip.
func Busybox(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	if err := BuildBusybox(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// BuildBusybox writes a busybox root filesystem into dir (created if needed).
func BuildBusybox(dir string) error {
	if _, err := os.Stat(BusyboxPath); err != nil {
		return fmt.Errorf("build busybox rootfs: %w (apt-get install busybox-static)", err)
	}
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("build busybox rootfs: busybox --list-full: %w (apt-get install busybox-static)", err)
	}
	dirs := map[string]os.FileMode{
		"bin": 0o755, "sbin": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755,
		"etc": 0o755, "tmp": os.ModeSticky | 0o777, "proc": 0o555, "sys": 0o555, "dev": 0o755,
		"root": 0o700, "home/user": 0o755, "var/tmp": os.ModeSticky | 0o777, "run": 0o755,
	}
	for d, mode := range dirs {
		p := filepath.Join(dir, d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("build busybox rootfs: %w", err)
		}
		// Chmod after MkdirAll: the umask must not clear the sticky bit.
		if err := os.Chmod(p, mode); err != nil {
			return fmt.Errorf("build busybox rootfs: %w", err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "home/user"), 1000, 1000); err != nil && !os.IsPermission(err) {
		return fmt.Errorf("build busybox rootfs: %w", err)
	}
	if err := copyFile(BusyboxPath, filepath.Join(dir, "bin/busybox"), 0o755); err != nil {
		return fmt.Errorf("build busybox rootfs: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		name := strings.Trim(strings.TrimSpace(line), "/")
		if name == "" || name == "bin/busybox" {
			continue
		}
		link := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return fmt.Errorf("build busybox rootfs: %w", err)
		}
		if err := os.Symlink("/bin/busybox", link); err != nil && !os.IsExist(err) {
			return fmt.Errorf("build busybox rootfs: %w", err)
		}
	}
	files := map[string]string{"etc/passwd": passwd, "etc/group": group}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("build busybox rootfs: %w", err)
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = out.ReadFrom(in)
	return err
}
