package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRootlessCheckoutSaysWhatIsMissing: a user without CAP_SYS_ADMIN gets
// one line saying overlay work trees need root, not a bare EPERM, before
// anything is unpacked.
func TestRootlessCheckoutSaysWhatIsMissing(t *testing.T) {
	dir, bin := nobodyDir(t)
	project := filepath.Join(dir, "env")
	src := bigTree(t, 2, 1024)
	if out, err := strataCmd(dir, "init", project).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if out, err := strataCmd(project, "import", src).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := exec.Command("chown", "-R", "65534:65534", project).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	out, err := asNobody(bin, dir, "-C", project, "checkout", "main").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("checkout as uid 65534: %v\n%s", err, out)
	}
	msg := strings.TrimSpace(string(out))
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "overlay work trees need root") {
		t.Fatalf("want one line saying what is missing, got:\n%s", msg)
	}
	// Said before any layer is unpacked: a lower unpacked by this user
	// once stayed in the cache with every file the user's, and root's
	// next checkout mounted it.
	if snaps, _ := os.ReadDir(filepath.Join(project, ".strata", "snapshots")); len(snaps) != 0 {
		t.Errorf("the refused checkout left %d snapshots", len(snaps))
	}
}

// nobodyDir makes a test directory that uid 65534 can enter (t.TempDir's
// are 0700), holding bin, a copy of this test binary it can execute.
func nobodyDir(t *testing.T) (dir, bin string) {
	t.Helper()
	dir = t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin = filepath.Join(dir, "strata.test")
	copyExecutable(t, os.Args[0], bin)
	return dir, bin
}

// asNobody is strata (bin, from nobodyDir) run as uid 65534, HOME home.
func asNobody(bin, home string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "STRATA_TEST_MAIN=1", "HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return cmd
}

func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestImportTarAsUser: a tar imported by a user other than root keeps the
// tar's owners, setuid bits and devices, the commit root makes of it; a
// tar only an unpack can take, with owners not the user's, is refused in
// one line, where an unpack by that user once made every file its own.
func TestImportTarAsUser(t *testing.T) {
	dir, bin := nobodyDir(t)
	plain := writeTestTar(t, filepath.Join(dir, "plain.tar"), nil)
	xattr := writeTestTar(t, filepath.Join(dir, "xattr.tar"), map[string]string{"SCHILY.xattr.user.k": "v"})
	meta := []string{"-m", "x", "--author", "A <a@example.com>", "--date", "2024-05-01T00:00:00Z"}
	asUser := func(project string, args ...string) ([]byte, error) {
		return asNobody(bin, dir, append([]string{"-C", project}, args...)...).CombinedOutput()
	}
	newRepo := func(name string, owner string) string {
		project := filepath.Join(dir, name)
		if out, err := strataCmd(dir, "init", project).CombinedOutput(); err != nil {
			t.Fatalf("init: %v\n%s", err, out)
		}
		if out, err := exec.Command("chown", "-R", owner, project).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v\n%s", err, out)
		}
		return project
	}

	// Each user's repository its own (another user's is not opened).
	byRoot, byUser := newRepo("root", "0:0"), newRepo("user", "65534:65534")
	if out, err := strataCmd(byRoot, append([]string{"import", plain}, meta...)...).CombinedOutput(); err != nil {
		t.Fatalf("import as root: %v\n%s", err, out)
	}
	if out, err := asUser(byUser, append([]string{"import", plain}, meta...)...); err != nil {
		t.Fatalf("import as uid 65534: %v\n%s", err, out)
	}
	want, err := strataCmd(byRoot, "log", "--format", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := asNobody(bin, dir, "-C", byUser, "log", "--format", "json").Output()
	if err != nil || string(got) != string(want) {
		t.Errorf("import as uid 65534 made another commit than root's (%v):\n%s\nroot's:\n%s", err, got, want)
	}

	refused := newRepo("refused", "65534:65534")
	out, err := asUser(refused, append([]string{"import", xattr}, meta...)...)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("import of a tar with xattrs as uid 65534: %v, want exit 1\n%s", err, out)
	}
	msg := strings.TrimSpace(string(out))
	if strings.Count(msg, "\n") != 0 || !strings.HasSuffix(msg, ": owner 0:0: only root can give a file another owner") {
		t.Errorf("want one line saying the owners would be lost, got:\n%s", msg)
	}
	if out, err := strataCmd(refused, "log").CombinedOutput(); err == nil {
		t.Errorf("a commit was made:\n%s", out)
	}
	if left, _ := os.ReadDir(filepath.Join(refused, ".strata", "tmp")); len(left) != 0 {
		t.Errorf(".strata/tmp holds %d entries after the refusal", len(left))
	}
}

// writeTestTar writes a small root filesystem tar to path, 0644: a root
// directory, owners other than root, a setuid file, a device, a symlink
// and a hard link; pax, when set, goes on the file's header.
func writeTestTar(t *testing.T, path string, pax map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1700000000, 0)
	content := "#!/bin/sh\n"
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755, ModTime: mtime},
		{Typeflag: tar.TypeDir, Name: "./bin/", Mode: 0o755, ModTime: mtime},
		{Typeflag: tar.TypeReg, Name: "./bin/su", Mode: 0o4755, Uid: 5, Gid: 6, Size: int64(len(content)), ModTime: mtime, PAXRecords: pax},
		{Typeflag: tar.TypeLink, Name: "./bin/su2", Linkname: "./bin/su", ModTime: mtime},
		{Typeflag: tar.TypeSymlink, Name: "./bin/sh", Linkname: "su", ModTime: mtime},
		{Typeflag: tar.TypeDir, Name: "./dev/", Mode: 0o755, ModTime: mtime},
		{Typeflag: tar.TypeChar, Name: "./dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3, ModTime: mtime},
		{Typeflag: tar.TypeDir, Name: "./home/", Mode: 0o700, Uid: 1000, Gid: 1000, ModTime: mtime},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			io.WriteString(tw, content)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRootlessRunSaysWhatIsMissing: run, with -d or without, needs root
// (the work tree is an overlay; run -d's supervisor gets a mount
// namespace of its own). A user gets one line saying so, exit 125 as
// for run's other failures, where run -d said "start supervisor:
// fork/exec /proc/self/exe: operation not permitted"; no run is left.
func TestRootlessRunSaysWhatIsMissing(t *testing.T) {
	dir, bin := nobodyDir(t)
	project := filepath.Join(dir, "env")
	if out, err := strataCmd(dir, "init", project).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if out, err := strataCmd(project, "import", bigTree(t, 1, 16)).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := exec.Command("chown", "-R", "65534:65534", project).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"run", "--rev", "main", "--", "/bin/true"},
		{"run", "-d", "--rev", "main", "--", "/bin/true"},
	} {
		out, err := asNobody(bin, dir, append([]string{"-C", project}, args...)...).CombinedOutput()
		var ee *exec.ExitError
		msg := strings.TrimSpace(string(out))
		if !errors.As(err, &ee) || ee.ExitCode() != 125 || strings.Count(msg, "\n") != 0 ||
			msg != "strata: run --rev main: permission denied: overlay work trees need root (CAP_SYS_ADMIN); rootless checkouts are not supported yet" {
			t.Errorf("%v as uid 65534: %v, want exit 125 and one line saying root is needed, got:\n%s", args, err, msg)
		}
	}
	if runs, _ := os.ReadDir(filepath.Join(project, ".strata", "services")); len(runs) != 0 {
		t.Errorf("the refused run -d left %d runs", len(runs))
	}
}
