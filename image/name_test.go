package image

import "testing"

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
