package remote

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/internal/testrootfs"
)

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found: apt-get install %s", name, name)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// Images that umoci and skopeo wrote import, as OCI layouts and as a
// docker archive, and keep their layer digests.
func TestImportWhatUmociAndSkopeoWrote(t *testing.T) {
	tree := testrootfs.Busybox(t)
	dir := t.TempDir()
	umoci := filepath.Join(dir, "umoci")
	run(t, "umoci", "init", "--layout", umoci)
	run(t, "umoci", "new", "--image", umoci+":bb")
	run(t, "umoci", "insert", "--image", umoci+":bb", tree, "/")
	run(t, "umoci", "config", "--image", umoci+":bb", "--config.env", "GREETING=hi", "--config.cmd", "/bin/sh")
	skopeo := filepath.Join(dir, "skopeo")
	run(t, "skopeo", "copy", "oci:"+umoci+":bb", "oci:"+skopeo+":bb")
	archive := filepath.Join(dir, "bb.tar")
	run(t, "skopeo", "copy", "oci:"+umoci+":bb", "docker-archive:"+archive+":env:bb")

	r := newRepo(t)
	for _, src := range []string{"oci:" + umoci + ":bb", "oci:" + skopeo + ":bb", "docker-archive:" + archive} {
		c, err := image.ImportImage(context.Background(), r.Objects, src, importOpts)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if len(c.Layers()) != 1 || c.Config.Config.Env[len(c.Config.Config.Env)-1] != "GREETING=hi" {
			t.Fatalf("%s: %+v %+v", src, c.Layers(), c.Config.Config)
		}
	}
	checkFsck(t, r)
}
