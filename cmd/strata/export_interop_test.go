//go:build !strata_front

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// podmanCmd is podman with its own store under t's temporary directory.
func podmanCmd(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatalf("podman is not installed (make deps-test): %v", err)
	}
	store, err := os.MkdirTemp("", "pm") // podman wants a runroot under 50 characters
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(store) })
	return []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
		"--storage-driver", "vfs", "--events-backend", "file", "--cgroup-manager", "cgroupfs"}
}

// TestExportNamesPodmanLoads: podman load takes the archives export
// writes, named as docker save names images (no registry) or by default
// after a project directory whose name docker's grammar refuses.
func TestExportNamesPodmanLoads(t *testing.T) {
	podman := podmanCmd(t)
	repoDir := busyboxRepoNamed(t, "a..b")
	work := t.TempDir()
	for _, c := range []struct{ tag, want string }{
		{"", "localhost/a-b:main"},
		{"myapp:v1", "localhost/myapp:v1"},
		{"foo/bar:baz", "localhost/foo/bar:baz"},
	} {
		out := filepath.Join(work, "x.tar")
		args := []string{"export", "main", "-o", out}
		if c.tag != "" {
			args = append(args, "--tag", c.tag)
		}
		strataOK(t, repoDir, args...)
		got := runTool(t, "podman", append(podman, "load", "-q", "-i", out)...)
		if !strings.Contains(got, "Loaded image: "+c.want+"\n") {
			t.Errorf("export --tag %q, podman load: %s\nwant %s", c.tag, got, c.want)
		}
	}
}

// TestExportOCINamePodmanSkopeo: an OCI archive keeps the image's whole
// name, as skopeo writes oci-archive:FILE:NAME: podman load names the
// image so and skopeo finds it by that name.
func TestExportOCINamePodmanSkopeo(t *testing.T) {
	podman := podmanCmd(t)
	repoDir := busyboxRepoNamed(t, "r1")
	work := t.TempDir()
	for _, c := range []struct{ tag, want string }{
		{"", "localhost/r1:main"},
		{"localhost/foo:bar", "localhost/foo:bar"},
	} {
		out := filepath.Join(work, "x.tar")
		args := []string{"export", "main", "--format", "oci", "-o", out}
		name := "r1:main"
		if c.tag != "" {
			args, name = append(args, "--tag", c.tag), c.tag
		}
		strataOK(t, repoDir, args...)
		got := runTool(t, "podman", append(podman, "load", "-q", "-i", out)...)
		if !strings.Contains(got, "Loaded image: "+c.want+"\n") {
			t.Errorf("export --format oci --tag %q, podman load: %s\nwant %s", c.tag, got, c.want)
		}
		runTool(t, "skopeo", "inspect", "oci-archive:"+out+":"+name)
	}
}

// TestFoldedCommitRunsInPodman: a commit 300 deep, which strata folds to
// within 128 layers, runs in podman on its overlay driver, which refuses
// an image of more ("max depth exceeded").
func TestFoldedCommitRunsInPodman(t *testing.T) {
	if _, err := exec.LookPath("runc"); err != nil {
		t.Fatalf("runc is not installed (make deps-test): %v", err)
	}
	dir := busyboxRepo(t)
	strataOK(t, dir, "checkout", "main")
	commits := exec.Command("sh", "-c", `for i in $(seq 1 300); do echo $i > rootfs/n; "$STRATA" commit -q -m c$i || exit 1; done`)
	commits.Dir = dir
	commits.Env = append(os.Environ(), "STRATA="+os.Args[0], "STRATA_TEST_MAIN=1", "SOURCE_DATE_EPOCH=1700000000")
	if out, err := commits.CombinedOutput(); err != nil {
		t.Fatalf("300 commits: %v\n%s", err, out)
	}
	archive := filepath.Join(t.TempDir(), "deep.tar")
	if out := strataOK(t, dir, "export", "-o", archive, "--tag", "deep:1", "HEAD"); strings.Contains(out, "warning") {
		t.Fatalf("export warns: %s", out)
	}
	store, err := os.MkdirTemp("", "pm") // podman wants a runroot under 50 characters
	if err != nil {
		t.Fatal(err)
	}
	podman := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
		"--storage-driver", "overlay", "--events-backend", "file", "--cgroup-manager", "cgroupfs", "--runtime", "runc"}
	t.Cleanup(func() {
		exec.Command("podman", append(podman, "system", "reset", "-f")...).Run()
		unmountUnder(store)
		os.RemoveAll(store)
	})
	runTool(t, "podman", append(podman, "load", "-q", "-i", archive)...)
	layers := strings.TrimSpace(runTool(t, "podman", append(podman, "image", "inspect", "--format", "{{len .RootFS.Layers}}", "deep:1")...))
	if n, err := strconv.Atoi(layers); err != nil || n > 128 {
		t.Fatalf("podman sees %s layers", layers)
	}
	out := runTool(t, "podman", append(podman, "run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "deep:1", "cat", "/n")...)
	if out != "300\n" {
		t.Fatalf("podman run cat /n: %q, want 300", out)
	}
}
