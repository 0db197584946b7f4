package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/internal/testrootfs"
	"golang.org/x/sys/unix"
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

// copyRecipe, after buildRecipe, exercises what COPY and ADD do beyond
// it: several sources, --chmod on a directory, an archive ADD unpacks
// (and one inside a directory it copies), a FIFO and a device node in a
// copied directory, ENTRYPOINT with CMD.
const copyRecipe = `COPY --chmod=0750 site /chm
COPY site/index.html site/img /two/
ADD site.tgz /unpacked/
ADD arch /arch
COPY special /special
ENTRYPOINT ["/bin/sh", "-c"]
`

// copyFixture adds copyRecipe's files to ctxDir.
func copyFixture(t *testing.T, ctxDir string) {
	t.Helper()
	for _, d := range []string{"arch", "special"} {
		if err := os.Mkdir(filepath.Join(ctxDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	runTool(t, "tar", "-C", filepath.Join(ctxDir, "site"), "-czf", filepath.Join(ctxDir, "site.tgz"), ".")
	runTool(t, "cp", filepath.Join(ctxDir, "site.tgz"), filepath.Join(ctxDir, "arch", "in.tgz"))
	if err := unix.Mkfifo(filepath.Join(ctxDir, "special", "fifo"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(ctxDir, "special", "null"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
}

// TestBuildMatchesBuildah: the same Dockerfile built by buildah bud and
// by strata build (both FROM the registry image, which strata fetches)
// gives the same files: names, contents, types, modes, owners, symlink
// targets, device numbers; not mtimes. And the same image config.
func TestBuildMatchesBuildah(t *testing.T) {
	reg, repoDir, ctxDir := buildFixture(t)
	writeRecipe(t, ctxDir, reg.Repo("t/base")+":main")
	copyFixture(t, ctxDir)
	f, err := os.OpenFile(filepath.Join(ctxDir, "Dockerfile"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(copyRecipe)
	f.Close()
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
		out := runTool(t, "sh", "-c", "cd "+dir+" && find . -printf '%p %M %U %G %s %l\\n' | LC_ALL=C sort; find . \\( -type c -o -type b \\) -exec stat -c '%n %t:%T' {} +")
		var keep []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if name, _, _ := strings.Cut(l, " "); !extra[name] {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	a, b := list(theirs), list(ours)
	for _, want := range []string{"./var/www/img/logo.svg -rw------- 1000 1000 7 ", "./srv/link lrwxrwxrwx 0 0 6 /built",
		"./unpacked/img/logo.svg -rw------- ", "./arch/in.tgz -rw-r--r-- ", "./special/null 1:3", "./special/fifo prw-r----- ", "./two/logo.svg "} {
		if !strings.Contains(b, want) {
			t.Fatalf("strata's tree lacks %q:\n%s", want, b)
		}
	}
	if a != b {
		t.Fatalf("buildah and strata trees differ:\n%s", lineDiff(a, b))
	}
	if out, err := exec.Command("diff", "-r", "--no-dereference", "-x", "hostname", "-x", "hosts", "-x", "resolv.conf", "-x", "fifo", "-x", "null", theirs, ours).CombinedOutput(); err != nil {
		t.Fatalf("diff -r: %v\n%s", err, out)
	}

	// The image config: buildah's own label aside.
	runTool(t, "buildah", append(buildah, "push", "-q", "cmp", "oci:"+filepath.Join(store, "oci")+":cmp")...)
	config := func(ref string) string {
		var img struct {
			Config map[string]any `json:"config"`
		}
		if err := json.Unmarshal([]byte(runTool(t, "skopeo", "inspect", "--config", ref)), &img); err != nil {
			t.Fatal(err)
		}
		if labels, ok := img.Config["Labels"].(map[string]any); ok {
			delete(labels, "io.buildah.version")
			if len(labels) == 0 {
				delete(img.Config, "Labels")
			}
		}
		out, _ := json.Marshal(img.Config)
		return string(out)
	}
	if a, b := config("oci:"+filepath.Join(store, "oci")+":cmp"), config("oci:"+filepath.Join(repoDir, ".strata")+":cmp"); a != b {
		t.Fatalf("image configs differ:\nbuildah: %s\nstrata:  %s", a, b)
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
