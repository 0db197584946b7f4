package remote

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/strata-sh/strata/image"
	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/refs"
)

// Where the registry lost an ancestor, fetch stops and marks the history
// shallow.
func TestFetchShallowWhereAncestorIsGone(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	url := reg.Repo("env")
	a, tip := threeCommits(t)
	if _, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	h := history(t, a, tip)
	req, _ := http.NewRequest(http.MethodDelete, "http://"+reg.Host+"/v2/env/manifests/"+h[1].String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete manifest: %v %v", resp, err)
	}
	b, res, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fetch.Commits != 1 || !b.Shallow()[tip] || len(history(t, b, tip)) != 1 {
		t.Fatalf("shallow clone: %+v, shallow %v", res.Fetch, b.Shallow())
	}
	checkFsck(t, b)
}

func TestAuthWithHtpasswd(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, testregistry.WithAuth("alice", "s3cret-pw"))
	url := reg.Repo("private/env")
	a, tip := threeCommits(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	_, err := connect(t, a, "origin", url, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err == nil || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("push without credentials: %v", err)
	}
	_, err = Login(ctx, reg.Host, "alice", "wrong-pw", Options{})
	if err == nil || strings.Contains(err.Error(), "wrong-pw") || strings.Contains(err.Error(), "log in to") {
		t.Fatalf("login with a wrong password: %v", err)
	}
	// A config.json others may read is made 0600 once it holds the
	// credentials, and docker's four-line warning is not printed.
	cfgPath := filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json")
	if err := os.WriteFile(cfgPath, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	var res LoginResult
	stderr := captureStderr(t, func() { res, err = Login(ctx, reg.Host, "alice", "s3cret-pw", Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	if stderr != "" {
		t.Errorf("login wrote to stderr: %q", stderr)
	}
	if fi, _ := os.Stat(cfgPath); res.File != cfgPath || !res.Tightened || fi.Mode().Perm() != 0o600 {
		t.Errorf("login: %+v, config.json mode %v, want 0600", res, fi.Mode())
	}
	cfg, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(cfg), reg.Host) {
		t.Fatalf("config.json has no entry for %s:\n%s", reg.Host, cfg)
	}
	if _, err := connect(t, a, "origin", url, Options{Keychain: authn.DefaultKeychain}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	b, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil || mustRead(t, b, refs.Heads+"main") != tip {
		t.Fatalf("clone with credentials: %v", err)
	}
	repoCfg, _ := os.ReadFile(filepath.Join(b.Root, "config"))
	if strings.Contains(string(repoCfg), "s3cret") || strings.Contains(string(repoCfg), "alice") {
		t.Fatalf("credentials in the repository config:\n%s", repoCfg)
	}
	if err := Logout(reg.Host); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Clone(ctx, url, filepath.Join(t.TempDir(), "c"), Options{}); err == nil {
		t.Fatal("clone after logout succeeded")
	}
}

// skopeo copies what strata pushed, and strata clones what skopeo pushed
// with the same commit id (an OCI manifest is kept byte for byte).
func TestSkopeoInterop(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	a, tip := threeCommits(t)
	if _, err := connect(t, a, "origin", reg.Repo("strata/env"), Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	run(t, "skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://"+reg.Repo("strata/env:main"), "docker://"+reg.Repo("skopeo/env:copied"))
	out := filepath.Join(t.TempDir(), "layout")
	run(t, "skopeo", "copy", "--src-tls-verify=false", "docker://"+reg.Repo("strata/env:main"), "oci:"+out+":main")

	b, res, err := Clone(ctx, reg.Repo("skopeo/env:copied"), filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Commit != tip || res.Branch != "copied" {
		t.Fatalf("clone of skopeo's copy: %+v, want commit %s", res, tip)
	}
	// skopeo copies only the tip; its parents are not in that repository.
	if !b.Shallow()[tip] {
		t.Fatalf("history should be shallow at the tip: %v", b.Shallow())
	}
	c, _, err := Clone(ctx, out+":main", filepath.Join(t.TempDir(), "c"), Options{})
	if err != nil || mustRead(t, c, refs.Heads+"main") != tip {
		t.Fatalf("clone of skopeo's layout: %v", err)
	}
}

// A layout directory is a remote like a registry, and OCI tools read it.
func TestLayoutDirectoryRemote(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "shared")
	a, tip := threeCommits(t)
	res, err := connect(t, a, "shared", dir, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil || res.Commits != 3 {
		t.Fatalf("push to a directory: %+v %v", res, err)
	}
	run(t, "skopeo", "inspect", "oci:"+dir+":main")
	b, _, err := Clone(ctx, dir, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil || len(history(t, b, tip)) != 3 {
		t.Fatalf("clone from a directory: %v", err)
	}
	commitFile(t, b, "main", "new", "n")
	sb := connect(t, b, "origin", dir, Options{})
	if res, err := sb.Push(ctx, b, refs.Heads+"main", PushOptions{}); err != nil || res.Sent != 2 {
		t.Fatalf("second push: %+v %v", res, err)
	}
	if _, err := connect(t, a, "shared", dir, Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); !errors.Is(err, ErrNonFastForward) {
		t.Fatalf("stale push to a directory: %v", err)
	}
	// Another strata repository is read, never written.
	if _, err := connect(t, b, "peer", a.Dir, Options{}).Fetch(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, b, "peer", a.Dir, Options{}).Push(ctx, b, refs.Heads+"main", PushOptions{}); err == nil {
		t.Fatal("push into a strata repository's store succeeded")
	}
}

// An exported archive is read by skopeo, and imports back to the same
// layers and config.
func TestExportReadBySkopeo(t *testing.T) {
	ctx := context.Background()
	a, _ := threeCommits(t)
	c, _ := a.Resolve("main")
	for _, format := range []string{image.FormatDocker, image.FormatOCI} {
		p := filepath.Join(t.TempDir(), "env.tar")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := image.Export(ctx, a.Objects, c, format, "env:main", f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		src := "docker-archive:" + p
		if format == image.FormatOCI {
			dir := filepath.Join(t.TempDir(), "oci")
			os.MkdirAll(dir, 0o755)
			run(t, "tar", "-C", dir, "-xf", p)
			src = "oci:" + dir // its one image
		}
		out, err := exec.Command("skopeo", "inspect", src).CombinedOutput()
		if err != nil || !strings.Contains(string(out), c.Config.RootFS.DiffIDs[2].String()) && format == image.FormatDocker {
			t.Fatalf("skopeo inspect %s: %v\n%s", src, err, out)
		}
		back, err := image.ImportImage(ctx, newRepo(t).Objects, src, importOpts)
		if err != nil {
			t.Fatalf("import of the export: %v", err)
		}
		if len(back.Layers()) != 3 || back.Config.RootFS.DiffIDs[2] != c.Config.RootFS.DiffIDs[2] {
			t.Fatalf("%s round trip: %+v", format, back.Config.RootFS)
		}
	}
}

// Within one registry, blobs another remote's repository holds are
// mounted, not sent.
func TestCrossRepositoryMount(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t)
	a, _ := threeCommits(t)
	if _, err := connect(t, a, "origin", reg.Repo("one/env"), Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	s := connect(t, a, "fork", reg.Repo("two/env"), Options{})
	s.MountFrom(List(a.Config))
	res, err := s.Push(ctx, a, refs.Heads+"main", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 0 || res.Skipped != 6 {
		t.Fatalf("push to a second repository sent blobs instead of mounting them: %+v", res)
	}
}

// captureStderr returns what f writes to os.Stderr.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	f()
	os.Stderr = old
	w.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

// A symbolic link config.json is written through and its target's mode
// left alone, as docker does.
func TestLoginSymlinkedConfigKeepsMode(t *testing.T) {
	h := newHostileRegistry(t)
	h.user, h.pass = "u", "p"
	dir, elsewhere := t.TempDir(), filepath.Join(t.TempDir(), "real.json")
	t.Setenv("DOCKER_CONFIG", dir)
	if err := os.WriteFile(elsewhere, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	res, err := Login(context.Background(), h.host, "u", "p", Options{})
	if err != nil || res.Tightened {
		t.Fatalf("login: %+v, %v", res, err)
	}
	fi, _ := os.Stat(elsewhere)
	b, _ := os.ReadFile(elsewhere)
	if fi.Mode().Perm() != 0o644 || !strings.Contains(string(b), h.host) {
		t.Errorf("the link's target: mode %v, %s", fi.Mode(), b)
	}
}

// Credentials are looked up registry by registry: docker's config.json
// first, then podman's auth file, as podman and skopeo look in both. A
// config.json for other registries (any docker or strata login) hid
// every podman login.
func TestPodmanCredentialsBesideDockers(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.Start(t, testregistry.WithAuth("alice", "s3cret-pw"))
	a, _ := threeCommits(t)
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(dir, "auth.json"))
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"other.example":{"auth":"eDp5"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cret-pw"))
	if err := os.WriteFile(filepath.Join(dir, "auth.json"), []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, a, "origin", reg.Repo("env"), Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{}); err != nil {
		t.Fatalf("push with podman's credentials beside docker's config: %v", err)
	}
	// docker's entry for the registry wins over podman's.
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+base64.StdEncoding.EncodeToString([]byte("alice:wrong"))+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, a, "origin", reg.Repo("env"), Options{}).Push(ctx, a, refs.Heads+"main", PushOptions{Force: true}); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("push with docker's wrong credentials: %v, want them used (unauthorized)", err)
	}
}
