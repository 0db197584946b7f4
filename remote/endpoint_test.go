package remote

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSchemeRefused: ggcr reads "https://host/repo" as a registry named
// "https"; a URL with a scheme (file:// aside) is refused, with the name
// to write instead.
func TestSchemeRefused(t *testing.T) {
	for _, c := range []struct{ in, msg string }{
		{"https://registry.example.com/team/env", "https://registry.example.com/team/env: a registry remote has no scheme; use registry.example.com/team/env"},
		{"ftp://x/y", "ftp://x/y: a registry remote has no scheme; use x/y"},
		{"http://10.0.0.5:5000/env/", "http://10.0.0.5:5000/env/: a registry remote has no scheme; use 10.0.0.5:5000/env with --insecure (plain HTTP off loopback)"},
		{"oci+layout://", "oci+layout://: a registry remote has no scheme"},
	} {
		_, err := ParseEndpoint(c.in)
		if !errors.Is(err, ErrScheme) || err.Error() != c.msg {
			t.Errorf("ParseEndpoint(%q) = %v, want %q", c.in, err, c.msg)
		}
		if _, _, err := SplitRef(c.in + ":main"); !errors.Is(err, ErrScheme) {
			t.Errorf("SplitRef(%q) = %v, want ErrScheme", c.in+":main", err)
		}
	}
	for _, bad := range []string{"oci:/tmp/x", "oci-archive:/tmp/x.tar", "host:0/x", "host:65536/x"} {
		if _, err := ParseEndpoint(bad); err == nil {
			t.Errorf("ParseEndpoint(%q): no error", bad)
		}
	}
	for _, ok := range []string{"registry.example.com/team/env", "127.0.0.1:5000/x", "localhost:5000/a/b", "[::1]:5000/x", "h:65535/x"} {
		if _, err := ParseEndpoint(ok); err != nil {
			t.Errorf("ParseEndpoint(%q): %v", ok, err)
		}
	}
	if ep, err := ParseEndpoint("file://" + t.TempDir()); err != nil || ep.Dir == "" {
		t.Errorf("file:// is a layout: %+v, %v", ep, err)
	}
}

func TestRegistryHost(t *testing.T) {
	for in, want := range map[string]string{
		"registry.example.com":           "registry.example.com",
		"https://registry.example.com/":  "registry.example.com",
		"http://127.0.0.1:5000/v2/x":     "127.0.0.1:5000",
		"https://index.docker.io/v1/":    "index.docker.io",
		"registry.example.com:443/a/b/c": "registry.example.com:443",
	} {
		if got, err := RegistryHost(in); got != want || err != nil {
			t.Errorf("RegistryHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://registry.example.com", "", "https://"} {
		if got, err := RegistryHost(bad); err == nil {
			t.Errorf("RegistryHost(%q) = %q, want an error", bad, got)
		}
	}
}

// TestCredentialsRefused: a user:password@ in a registry remote or name
// is refused wherever it is given, and the message hides the password.
func TestCredentialsRefused(t *testing.T) {
	for _, c := range []struct{ in, msg string }{
		{"alice:s3cret@registry.example.com/team/env", "alice:***@registry.example.com/team/env: a registry URL holds no user or password: run 'strata login registry.example.com', then use registry.example.com/team/env"},
		{"https://alice:s3cret@127.0.0.1:5000/x/", "https://alice:***@127.0.0.1:5000/x/: a registry URL holds no user or password: run 'strata login 127.0.0.1:5000', then use 127.0.0.1:5000/x"},
		{"git@host.example/x", "git@host.example/x: a registry URL holds no user or password: run 'strata login host.example', then use host.example/x"},
	} {
		_, err := ParseEndpoint(c.in)
		if !errors.Is(err, ErrCredentials) || err.Error() != c.msg {
			t.Errorf("ParseEndpoint(%q) = %v, want %q", c.in, err, c.msg)
		}
		if _, _, err := SplitRef(c.in + ":main"); !errors.Is(err, ErrCredentials) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("SplitRef(%q) = %v, want ErrCredentials, no password", c.in+":main", err)
		}
	}
	for _, in := range []string{"alice:s3cret@registry.example.com", "https://alice:s3cret@registry.example.com/v2/"} {
		if _, err := RegistryHost(in); !errors.Is(err, ErrCredentials) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("RegistryHost(%q) = %v, want ErrCredentials, no password", in, err)
		}
	}
	// A digest is no user.
	if _, err := ParseEndpoint("busybox@sha256:abcd"); errors.Is(err, ErrCredentials) {
		t.Errorf("busybox@sha256:abcd: %v", err)
	}
	for in, want := range map[string]string{
		"a:b@h/x":           "a:***@h/x",
		"https://a:b:c@h/x": "https://a:***@h/x",
		"a@h/x":             "a@h/x",
		"h/x":               "h/x",
		"h/x@sha256:ab":     "h/x@sha256:ab",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEndpointRepositoryIsNoLink: a directory holding a .strata directory
// is that repository; a .strata that is a symbolic link is not followed
// (a layout a container holds led clone to a repository of the host).
func TestEndpointRepositoryIsNoLink(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(other, ".strata"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(other, ".strata"), filepath.Join(dir, ".strata")); err != nil {
		t.Fatal(err)
	}
	ep, err := ParseEndpoint(dir)
	if err != nil || ep.Dir != dir {
		t.Errorf("ParseEndpoint(%s) = %q, %v: want the directory itself", dir, ep.Dir, err)
	}
	os.Remove(filepath.Join(dir, ".strata"))
	os.Mkdir(filepath.Join(dir, ".strata"), 0o755)
	if ep, err := ParseEndpoint(dir); err != nil || ep.Dir != filepath.Join(dir, ".strata") {
		t.Errorf("ParseEndpoint(%s) = %q, %v: want its .strata", dir, ep.Dir, err)
	}
}

// TestRepositoryLinkSwappedIn: a repository's .strata swapped for a
// symbolic link after ParseEndpoint found it a directory is refused when
// the layout is opened, not followed.
func TestRepositoryLinkSwappedIn(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	os.Mkdir(filepath.Join(dir, ".strata"), 0o755)
	ep, err := ParseEndpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, ".strata"))
	if err := os.Symlink(other, filepath.Join(dir, ".strata")); err != nil {
		t.Fatal(err)
	}
	if _, err := openLayout(ep); err == nil || !strings.Contains(err.Error(), "a symbolic link inside the layout, not followed") {
		t.Errorf("openLayout through a .strata link: %v", err)
	}
}
