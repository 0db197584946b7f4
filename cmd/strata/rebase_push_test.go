package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/internal/testrootfs"
)

// TestRebasePushUploadsNoLayer rebases a 20-commit branch onto a new base
// and pushes it to the real registry: the registry's log shows a blob
// upload for each new config and none for a layer, since every replayed
// commit kept its layer blob.
func TestRebasePushUploadsNoLayer(t *testing.T) {
	reg := testregistry.Start(t, testregistry.WithAccessLog())
	url := reg.Repo("team/app")
	src := t.TempDir()
	if err := testrootfs.BuildBusybox(src); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Cleanup(func() { strataCmd(dir, "umount").Run() })
	strataOK(t, dir, "init")
	strataOK(t, dir, "import", src, "-m", "busybox")
	strataOK(t, dir, "remote", "add", "origin", url)
	strataOK(t, dir, "checkout", "main")
	strataOK(t, dir, "checkout", "-b", "app")
	root := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(filepath.Join(root, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := os.WriteFile(filepath.Join(root, "app", fmt.Sprintf("f%02d", i)), []byte(strings.Repeat("x", 1000+i)), 0o644); err != nil {
			t.Fatal(err)
		}
		strataOK(t, dir, "commit", "-m", fmt.Sprintf("app %d", i))
	}
	strataOK(t, dir, "push", "-q", "origin", "app")
	strataOK(t, dir, "checkout", "main")
	if err := os.WriteFile(filepath.Join(root, "etc", "patched"), []byte("yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	strataOK(t, dir, "commit", "-m", "patched base")
	strataOK(t, dir, "push", "-q", "origin", "main")
	strataOK(t, dir, "checkout", "app")
	out := strataOK(t, dir, "rebase", "main")
	if !strings.Contains(out, "Rebased 20 commits onto main: 20 layers reused, 0 written") {
		t.Fatalf("rebase: %s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "etc", "patched")); err != nil {
		t.Fatalf("the work tree does not show the new base: %v", err)
	}
	before := len(reg.Log())
	strataOK(t, dir, "push", "-q", "--force", "origin", "app")
	log := reg.Log()[before:]
	uploads := regexp.MustCompile(`"PUT /v2/team/app/blobs/uploads/[^ "]*digest=sha256(?::|%3A)([0-9a-f]{64})`).FindAllStringSubmatch(log, -1)
	layerDigests := regexp.MustCompile(`"digest": "sha256:([0-9a-f]{64})"`).FindAllStringSubmatch(strataOK(t, dir, "show", "--format", "json", "app"), -1)
	if len(layerDigests) != 22 {
		t.Fatalf("app has %d layers, want 22 (busybox, patched, 20 replayed)", len(layerDigests))
	}
	isLayer := map[string]bool{}
	for _, l := range layerDigests {
		isLayer[l[1]] = true
	}
	for _, u := range uploads {
		if isLayer[u[1]] {
			t.Errorf("layer %s uploaded again", u[1][:12])
		}
	}
	// The uploads that did happen: the 20 new configs and the ancestor
	// list. Fewer would mean the log missed requests and proves nothing.
	if len(uploads) < 20 {
		t.Fatalf("%d blob uploads seen, want at least the 20 new configs:\n%s", len(uploads), log)
	}
	t.Logf("push after rebase: %d blob uploads, none a layer", len(uploads))
}
