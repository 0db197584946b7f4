//go:build !strata_front

package main

import (
	"net/http"
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
// "Registries and the peers"). Each is an image index of the commit and
// its ancestors. skopeo list-tags and podman search --list-tags list
// them; podman pull --all-tags pulls each as the commit's image; skopeo
// sync copies it as the commit's image (a clone of that mirror is the
// tip alone), skopeo sync --all as the index with the history (a clone of
// that mirror is whole); a registry that lost a list serves the history
// through the parent chain; the registry's garbage collection keeps the
// history, but docker-registry 2.8's --delete-untagged deletes every
// commit but the tip though the index names them (a clone is then
// shallow there).
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

	// podman 4.3 lists the tags of pull --all-tags without its
	// --tls-verify=false: a registries.conf marks the registry insecure.
	conf := filepath.Join(t.TempDir(), "registries.conf")
	if err := os.WriteFile(conf, []byte("[[registry]]\nlocation = \""+reg.Host+"\"\ninsecure = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pull := exec.Command("podman", append(podman, "pull", "-q", "--all-tags", reg.Repo("t/env"))...)
	pull.Env = append(os.Environ(), "CONTAINERS_REGISTRIES_CONF="+conf)
	if out, err := pull.CombinedOutput(); err != nil {
		t.Fatalf("podman pull --all-tags: %v\n%s", err, out)
	}
	imageID := func(tag string) string {
		t.Helper()
		return runTool(t, "podman", append(podman, "image", "inspect", "--format", "{{.Id}}", reg.Repo("t/env")+":"+tag)...)
	}
	if a, b := imageID("main"), imageID(list); a != b {
		t.Errorf("podman pulled %s as image %s, main as %s: want the tip's image", list, b, a)
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
	sync := func(dst string, flags ...string) {
		t.Helper()
		args := append([]string{"sync", "--src", "docker", "--dest", "docker", "--src-tls-verify=false",
			"--dest-tls-verify=false"}, flags...)
		runTool(t, "skopeo", append(args, reg.Repo("t/env"), reg.Repo(dst))...)
		if got := tags(dst + "/env"); !strings.Contains(got, `"main"`) || !strings.Contains(got, list) {
			t.Fatalf("skopeo sync %s: the mirror's tags are %s", flags, got)
		}
	}
	sync("mirror")
	if n, log := commits(reg.Repo("mirror/env") + ":main"); n != 1 || !strings.Contains(log, "grafted") {
		t.Errorf("clone of skopeo sync's mirror:\n%swant the tip alone, grafted", log)
	}
	sync("whole", "--all")
	if n, log := commits(reg.Repo("whole/env") + ":main"); n != 2 || strings.Contains(log, "grafted") {
		t.Errorf("clone of skopeo sync --all's mirror:\n%swant both commits", log)
	}

	// A registry that lost the list (deleted by hand).
	strataOK(t, dir, "push", "-q", reg.Repo("lost/env"), "main")
	deleteTag(t, reg, "lost/env", list)
	if n, log := commits(reg.Repo("lost/env") + ":main"); n != 2 || strings.Contains(log, "grafted") {
		t.Errorf("clone without the list:\n%swant both commits", log)
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
}

// deleteTag deletes the manifest tag names in repo, and so the tag.
func deleteTag(t *testing.T, reg *testregistry.Registry, repo, tag string) {
	t.Helper()
	url := "http://" + reg.Host + "/v2/" + repo + "/manifests/"
	req, _ := http.NewRequest(http.MethodHead, url+tag, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("head %s: %v %v", tag, resp, err)
	}
	req, _ = http.NewRequest(http.MethodDelete, url+resp.Header.Get("Docker-Content-Digest"), nil)
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete %s: %v %v", tag, resp, err)
	}
}
