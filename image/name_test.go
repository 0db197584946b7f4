package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNameComponent: export's default image name, from the project
// directory, is one docker load and podman load accept.
func TestNameComponent(t *testing.T) {
	for dir, want := range map[string]string{
		"env": "env", "My Env": "my-env", "-x_": "x", "...": "strata", "a.b_c-d": "a.b_c-d", "été": "t",
		"a..b": "a-b", "a_-b": "a-b", "a___b": "a-b", "a.-b": "a-b", "a__b": "a__b", "a--b": "a-b",
	} {
		got := NameComponent(dir)
		if got != want {
			t.Errorf("NameComponent(%q) = %q, want %q", dir, got, want)
		}
		if _, err := ParseName(got + ":main"); err != nil {
			t.Errorf("ParseName(%q): %v", got+":main", err)
		}
	}
}

// TestParseName: --tag takes the names docker save and podman save take,
// and refuses those docker load or podman load refuse in an archive.
func TestParseName(t *testing.T) {
	for in, want := range map[string]string{
		"myapp:v1": "myapp:v1", "foo/bar:baz": "foo/bar:baz", "r1:main": "r1:main", "foo-bar:x": "foo-bar:x",
		"myapp": "myapp:latest", "localhost/myapp:v1": "localhost/myapp:v1",
		"registry.example.com:5000/a/b:c": "registry.example.com:5000/a/b:c", "localhost:5000/env": "localhost:5000/env:latest",
		"Reg.IO/x:Y_1.0": "Reg.IO/x:Y_1.0", "a__b/c---d:1": "a__b/c---d:1",
	} {
		if got, err := ParseName(in); err != nil || got != want {
			t.Errorf("ParseName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", ":v1", "MyApp:v1", "a..b:x", "a_-b:x", "a___b:x", "a.-b:x", "-a:x", "a/:x", "/a:x", "a:", "a:.x",
		"a:x\ny", "a@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "a b:x",
		"bad_host.io/a:x",
	} {
		if got, err := ParseName(in); err == nil {
			t.Errorf("ParseName(%q) = %q, want an error", in, got)
		}
	}
}

// TestSplitPathTag: the path ends at the first ':', as skopeo's oci: and
// docker-archive: transports read it, unless a longer path exists.
func TestSplitPathTag(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "a:b"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, path, ref string }{
		{"x.tar", "x.tar", ""},
		{"lay:feature/x", "lay", "feature/x"},
		{"lay:localhost/foo:bar", "lay", "localhost/foo:bar"},
		{"../r1/.strata:main", "../r1/.strata", "main"},
		{dir + "/a:b", dir + "/a:b", ""},
		{dir + "/a:b:localhost/x:1", dir + "/a:b", "localhost/x:1"},
		{dir + ":v1", dir, "v1"},
	} {
		if p, ref := SplitPathTag(c.in); p != c.path || ref != c.ref {
			t.Errorf("SplitPathTag(%q) = %q, %q; want %q, %q", c.in, p, ref, c.path, c.ref)
		}
	}
}

// TestPickTag: a docker archive's image is picked by its whole name or,
// failing that, by its tag alone; a name that fits two images is refused.
func TestPickTag(t *testing.T) {
	tags := [][]string{{"localhost/a:latest"}, {"localhost/b:latest", "env:v1"}, {"foo:latest"}}
	for ref, want := range map[string]int{
		"localhost/a:latest": 0, "localhost/b": 1, "env:v1": 1, "v1": 1, "foo": 2, "docker.io/library/foo:latest": 2,
	} {
		if got, err := pickTag(tags, ref); err != nil || got != want {
			t.Errorf("pickTag(%q) = %d, %v; want %d", ref, got, err, want)
		}
	}
	if _, err := pickTag(tags, "latest"); err == nil || !strings.Contains(err.Error(), "latest names 3 images, localhost/a:latest, localhost/b:latest, foo:latest: give the whole name") {
		t.Errorf("pickTag(latest): %v, want the ambiguity named", err)
	}
	if _, err := pickTag(tags, "nope"); !errors.Is(err, errNoImage) {
		t.Errorf("pickTag(nope): %v", err)
	}
}
