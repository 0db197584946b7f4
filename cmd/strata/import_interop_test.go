package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/testrootfs"
)

// TestImportOfPodmanExport: what podman export writes (the tar docker
// export writes) imported from standard input is the commit of the
// directory the image came from, written from the tar's headers: it
// needs no unpack.
func TestImportOfPodmanExport(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root (an import keeps owners only as root): run the tests as root")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatalf("podman is not installed (make deps-test): %v", err)
	}
	rootfs := testrootfs.Busybox(t)
	work := t.TempDir()
	rootTar := filepath.Join(work, "rootfs.tar")
	runTool(t, "tar", "-C", rootfs, "-cf", rootTar, ".")
	store := t.TempDir()
	podman := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
		"--storage-driver", "vfs", "--events-backend", "file", "--cgroup-manager", "cgroupfs"}
	t.Cleanup(func() { exec.Command("podman", append(podman, "rm", "-af")...).Run() })
	runTool(t, "podman", append(podman, "import", "-q", rootTar, "localhost/strata-export:test")...)
	runTool(t, "podman", append(podman, "create", "--name", "strata-export", "localhost/strata-export:test", "/bin/true")...)
	exported := filepath.Join(work, "exported.tar")
	runTool(t, "podman", append(podman, "export", "-o", exported, "strata-export")...)

	repoDir := t.TempDir()
	strataOK(t, repoDir, "init")
	fromDir := strataOK(t, repoDir, "import", rootfs, "-m", "busybox")
	in, err := os.Open(exported)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd := strataCmd(repoDir, "--verbose", "import", "-", "-b", "exported", "-m", "busybox")
	cmd.Stdin = in
	fromExport, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("strata import -: %v\n%s", err, fromExport)
	}
	if strings.Contains(string(fromExport), "unpacking the tar") {
		t.Errorf("podman's export was unpacked, not written from its headers:\n%s", fromExport)
	}
	id := regexp.MustCompile(`\(root-commit\) ([0-9a-f]{12})\]`)
	a, b := id.FindStringSubmatch(fromDir), id.FindStringSubmatch(string(fromExport))
	if a == nil || b == nil || a[1] != b[1] {
		t.Fatalf("import of the directory:\n%s\nimport of podman's export:\n%s\nwant the same commit", fromDir, fromExport)
	}
}

// TestImportSkopeoNamedRefs: images skopeo wrote under a name with '/'
// and ':' are imported by that name, as skopeo reads them back.
func TestImportSkopeoNamedRefs(t *testing.T) {
	if _, err := exec.LookPath("skopeo"); err != nil {
		t.Fatalf("skopeo is not installed (make deps-test): %v", err)
	}
	repoDir := t.TempDir()
	t.Cleanup(func() { unmountUnder(repoDir) })
	strataOK(t, repoDir, "init")
	strataOK(t, repoDir, "import", testrootfs.Busybox(t), "-m", "base")
	work := t.TempDir()
	ociTar, dockerTar := filepath.Join(work, "oci.tar"), filepath.Join(work, "docker.tar")
	strataOK(t, repoDir, "export", "main", "--format", "oci", "-o", ociTar)
	strataOK(t, repoDir, "export", "main", "-o", dockerTar)
	lay, archive := filepath.Join(work, "lay"), filepath.Join(work, "d.tar")
	runTool(t, "skopeo", "copy", "-q", "oci-archive:"+ociTar, "oci:"+lay+":localhost/foo:bar")
	runTool(t, "skopeo", "copy", "-q", "oci-archive:"+ociTar, "oci:"+lay+":other")
	runTool(t, "skopeo", "copy", "-q", "docker-archive:"+dockerTar, "docker-archive:"+archive+":localhost/foo:bar")
	for i, src := range []string{"oci:" + lay + ":localhost/foo:bar", "docker-archive:" + archive + ":localhost/foo:bar"} {
		b := fmt.Sprintf("b%d", i)
		strataOK(t, repoDir, "import", src, "-b", b)
		if out := strataOK(t, repoDir, "diff", "main", b); out != "" {
			t.Errorf("import %s: differs from main:\n%s", src, out)
		}
	}
}
