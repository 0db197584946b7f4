//go:build !strata_front

package main

import (
	"os"
	"os/exec"
	"path/filepath"
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
