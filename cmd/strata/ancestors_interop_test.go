//go:build !strata_front

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
)

// TestAncestorTagsAmongPeers: the sha256-<hex>.ancestors tags a push adds
// beside an image, as the peers on this machine meet them (docs/remote.md,
// "Registries and the peers"). skopeo list-tags and podman search
// --list-tags list them; skopeo sync copies them as they are, and a clone
// of the mirror is the tip alone (sync copies tags, not the untagged
// commits below them); the registry's garbage collection keeps the
// history, but with --delete-untagged it deletes every commit but the
// tip, and a clone is then shallow there; podman pull --all-tags stops at
// the first list ("artifact").
func TestAncestorTagsAmongPeers(t *testing.T) {
	for _, tool := range []string{"skopeo", "podman"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (make deps-test): %v", tool, err)
		}
	}
	reg := testregistry.Start(t)
	dir := busyboxRepo(t)
	strataOK(t, dir, "checkout", "main")
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "two"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	strataOK(t, dir, "commit", "-q", "-m", "two")
	tip := strings.TrimSpace(strataOK(t, dir, "rev-parse", "main"))
	strataOK(t, dir, "push", "-q", reg.Repo("t/env"), "main")
	list := "sha256-" + strings.TrimPrefix(tip, "sha256:") + ".ancestors"

	tags := func(repo string) string {
		t.Helper()
		return runTool(t, "skopeo", "list-tags", "--tls-verify=false", "docker://"+reg.Repo(repo))
	}
	for _, want := range []string{`"main"`, `"` + list + `"`} {
		if got := tags("t/env"); !strings.Contains(got, want) {
			t.Fatalf("skopeo list-tags: %s\nwant %s", got, want)
		}
	}
	podman := podmanCmd(t)
	got := runTool(t, "podman", append(podman, "search", "--list-tags", "--tls-verify=false", reg.Repo("t/env"))...)
	if !regexp.MustCompile(`(?m)^\S+/t/env +main$`).MatchString(got) || !strings.Contains(got, list) {
		t.Errorf("podman search --list-tags: %s\nwant main and %s", got, list)
	}

	runTool(t, "skopeo", "sync", "--src", "docker", "--dest", "docker", "--src-tls-verify=false",
		"--dest-tls-verify=false", reg.Repo("t/env"), reg.Repo("mirror"))
	if got := tags("mirror/env"); !strings.Contains(got, `"main"`) || !strings.Contains(got, list) {
		t.Fatalf("skopeo sync: the mirror's tags are %s", got)
	}
	commits := func(src string) (n int, log string) {
		t.Helper()
		clone := filepath.Join(t.TempDir(), "c")
		t.Cleanup(func() { unmountUnder(clone) })
		strataOK(t, filepath.Dir(clone), "clone", "-q", "--no-checkout", src, clone)
		log = strataOK(t, clone, "log", "--oneline")
		strataOK(t, clone, "fsck")
		return strings.Count(log, "\n"), log
	}
	if n, log := commits(reg.Repo("mirror/env") + ":main"); n != 1 || !strings.Contains(log, "grafted") {
		t.Errorf("clone of skopeo sync's mirror:\n%swant the tip alone, grafted", log)
	}

	if err := reg.GarbageCollect(); err != nil {
		t.Fatal(err)
	}
	if n, log := commits(reg.Repo("t/env") + ":main"); n != 2 || strings.Contains(log, "grafted") {
		t.Errorf("clone after garbage-collect:\n%swant both commits", log)
	}
	if err := reg.GarbageCollect("--delete-untagged"); err != nil {
		t.Fatal(err)
	}
	if n, log := commits(reg.Repo("t/env") + ":main"); n != 1 || !strings.Contains(log, "grafted") {
		t.Errorf("clone after garbage-collect --delete-untagged:\n%swant the tip alone, grafted", log)
	}

	// podman 4.3 lists the tags of pull --all-tags without its
	// --tls-verify=false: a registries.conf marks the registry insecure.
	conf := filepath.Join(t.TempDir(), "registries.conf")
	if err := os.WriteFile(conf, []byte("[[registry]]\nlocation = \""+reg.Host+"\"\ninsecure = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pull := exec.Command("podman", append(podman, "pull", "--all-tags", reg.Repo("t/env"))...)
	pull.Env = append(os.Environ(), "CONTAINERS_REGISTRIES_CONF="+conf)
	out, err := pull.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unsupported image-specific operation on artifact") {
		t.Errorf("podman pull --all-tags: %v\n%s\nwant it to stop at the ancestor list", err, out)
	}
}
