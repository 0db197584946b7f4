package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/internal/testrootfs"
)

// buildRecipe exercises RUN (shell form, twice, one in a WORKDIR), COPY
// with --chown and --chmod onto a directory RUN made, ENV and CMD.
const buildRecipe = `FROM %s
RUN echo built > /built && mkdir -p /var/www && chmod 700 /var/www
COPY --chown=1000:1000 site/ /var/www/
COPY --chmod=0640 site/index.html /etc/site.html
ENV PORT=8080
WORKDIR /srv
RUN echo $PORT > port && ln -s /built /srv/link
CMD ["httpd", "-f"]
`

// buildFixture is a repository whose main (busybox) is pushed to a
// registry as REG/t/base:main, and a build context.
func buildFixture(t *testing.T) (reg *testregistry.Registry, repoDir, ctxDir string) {
	reg = testregistry.Start(t)
	repoDir = t.TempDir()
	t.Cleanup(func() { unmountUnder(repoDir) })
	strataOK(t, repoDir, "init")
	strataOK(t, repoDir, "import", testrootfs.Busybox(t), "-m", "base")
	strataOK(t, repoDir, "push", "-q", reg.Repo("t/base"), "main")
	ctxDir = t.TempDir()
	if err := os.MkdirAll(filepath.Join(ctxDir, "site", "img"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ctxDir, "site", "index.html"), []byte("<h1>hi</h1>\n"), 0o644)
	os.WriteFile(filepath.Join(ctxDir, "site", "img", "logo.svg"), []byte("<svg/>\n"), 0o600)
	return reg, repoDir, ctxDir
}

func writeRecipe(t *testing.T, ctxDir, base string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(strings.Replace(buildRecipe, "%s", base, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestBuildHistoryInPodman: a pushed build's history, as podman shows
// it, is the recipe's instructions.
func TestBuildHistoryInPodman(t *testing.T) {
	reg, repoDir, ctxDir := buildFixture(t)
	writeRecipe(t, ctxDir, "main")
	strataOK(t, repoDir, "build", "-q", "-t", "web", ctxDir)
	strataOK(t, repoDir, "push", "-q", reg.Repo("t/web"), "web")
	store := t.TempDir()
	podman := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
		"--storage-driver", "vfs", "--events-backend", "file", "--cgroup-manager", "cgroupfs"}
	runTool(t, "podman", append(podman, "pull", "-q", "--tls-verify=false", reg.Repo("t/web")+":web")...)
	out := runTool(t, "podman", append(podman, "history", "--no-trunc", "--format", "{{.CreatedBy}}", reg.Repo("t/web")+":web")...)
	want := []string{`CMD ["httpd","-f"]`, `RUN echo $PORT > port && ln -s /built /srv/link`, `WORKDIR /srv`, `ENV PORT=8080`,
		`COPY --chmod=0640 site/index.html /etc/site.html`, `COPY --chown=1000:1000 site/ /var/www/`,
		`RUN echo built > /built && mkdir -p /var/www && chmod 700 /var/www`, `strata commit`}
	got := strings.Split(strings.TrimSpace(out), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("podman history:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}

// TestBuildMatchesBuildah: the same Dockerfile built by buildah bud and
// by strata build (both FROM the registry image, which strata fetches)
// gives the same files: names, contents, types, modes, owners, symlink
// targets; not mtimes.
func TestBuildMatchesBuildah(t *testing.T) {
	reg, repoDir, ctxDir := buildFixture(t)
	writeRecipe(t, ctxDir, reg.Repo("t/base")+":main")
	store := t.TempDir()
	buildah := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs"}
	runTool(t, "buildah", append(buildah, "bud", "-q", "--tls-verify=false", "--isolation", "chroot", "-t", "cmp", ctxDir)...)
	ctr := strings.TrimSpace(runTool(t, "buildah", append(buildah, "from", "-q", "cmp")...))
	t.Cleanup(func() { exec.Command("buildah", append(buildah, "rm", ctr)...).Run() })
	theirs := strings.TrimSpace(runTool(t, "buildah", append(buildah, "mount", ctr)...))

	strataOK(t, repoDir, "build", "-q", "-t", "cmp", ctxDir)
	ours := filepath.Join(t.TempDir(), "wt")
	t.Cleanup(func() { unmountUnder(filepath.Dir(ours)) })
	strataOK(t, repoDir, "worktree", "add", ours, "cmp")

	// buildah's RUN leaves empty /etc/hostname, /etc/hosts and
	// /etc/resolv.conf behind (its bind-mount targets); strata's leaves
	// nothing. The root directory's own mode is the mount's.
	extra := map[string]bool{"./etc/hostname": true, "./etc/hosts": true, "./etc/resolv.conf": true, ".": true}
	list := func(dir string) string {
		out := runTool(t, "sh", "-c", "cd "+dir+" && find . -printf '%p %M %U %G %s %l\\n' | LC_ALL=C sort")
		var keep []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if name, _, _ := strings.Cut(l, " "); !extra[name] {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	a, b := list(theirs), list(ours)
	if !strings.Contains(b, "./var/www/img/logo.svg -rw------- 1000 1000 7 ") || !strings.Contains(b, "./srv/link lrwxrwxrwx 0 0 6 /built") {
		t.Fatalf("strata's tree lacks the copied files:\n%s", b)
	}
	if a != b {
		t.Fatalf("buildah and strata trees differ:\n%s", lineDiff(a, b))
	}
	if out, err := exec.Command("diff", "-r", "--no-dereference", "-x", "hostname", "-x", "hosts", "-x", "resolv.conf", theirs, ours).CombinedOutput(); err != nil {
		t.Fatalf("diff -r: %v\n%s", err, out)
	}
}

func lineDiff(a, b string) string {
	in := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		in[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		in[l]--
	}
	var out []string
	for l, n := range in {
		if n > 0 {
			out = append(out, "buildah only: "+l)
		} else if n < 0 {
			out = append(out, "strata only:  "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestBuildFromDigest: FROM NAME@DIGEST (and NAME:TAG@DIGEST, whose tag
// docker does not read) builds on that image, as docker pins a base; it
// was refused ("clone a tag, not a digest"). A digest the registry lacks
// is named in the error, and nothing tracks the base.
func TestBuildFromDigest(t *testing.T) {
	reg, repoDir, ctxDir := buildFixture(t)
	base := strings.TrimSpace(strataOK(t, repoDir, "rev-parse", "main"))
	for _, from := range []string{reg.Repo("t/base") + "@" + base, reg.Repo("t/base") + ":nosuchtag@" + base} {
		writeRecipe(t, ctxDir, from)
		strataOK(t, repoDir, "build", "-q", "-t", "pinned", ctxDir)
		// main is a root commit: the build's history ends there.
		log := strings.Fields(strataOK(t, repoDir, "log", "--format=sha256:%H", "pinned"))
		if got := log[len(log)-1]; got != base {
			t.Fatalf("FROM %s: the build's root commit is %s, want %s", from, got, base)
		}
	}
	missing := base[:len(base)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(base, "0")]
	writeRecipe(t, ctxDir, reg.Repo("t/base")+"@"+missing)
	out, err := strataCmd(repoDir, "build", "-q", "-t", "gone", ctxDir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no image "+missing+" in ") {
		t.Fatalf("FROM a digest the registry lacks: %v\n%s", err, out)
	}
	if out := strataOK(t, repoDir, "branch", "-a"); strings.Contains(out, "remotes/") {
		t.Fatalf("FROM NAME@DIGEST made a remote-tracking ref:\n%s", out)
	}
}
