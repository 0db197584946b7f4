package tree

import (
	"strings"
	"testing"

	"github.com/strata-sh/strata/objects/layer"
)

// TestApply: a layer's whiteouts and opaque directories hide what lies
// below, an opaque root hides everything, and a file replacing a
// directory takes its children with it. Pure: no store, no mounts.
func TestApply(t *testing.T) {
	t1 := Tree{}
	t1.Apply([]layer.Entry{
		{Path: "/a", Type: layer.TypeDir}, {Path: "/a/x", Type: layer.TypeFile},
		{Path: "/b", Type: layer.TypeDir}, {Path: "/b/y", Type: layer.TypeFile},
		{Path: "/c", Type: layer.TypeDir}, {Path: "/c/z", Type: layer.TypeFile},
	})
	t1.Apply([]layer.Entry{
		{Path: "/a/x", Type: layer.TypeWhiteout},
		{Path: "/b", Type: layer.TypeOpaque}, {Path: "/b/new", Type: layer.TypeFile},
		{Path: "/c", Type: layer.TypeFile},
	})
	if got := strings.Join(t1.Sorted(), " "); got != "/a /b /b/new /c" {
		t.Fatalf("after whiteout, opaque dir and dir->file: %s", got)
	}
	if t1["/c"].Type != layer.TypeFile {
		t.Fatalf("/c is %v, want a file", t1["/c"].Type)
	}
	t1.Apply([]layer.Entry{{Path: "/", Type: layer.TypeOpaque}, {Path: "/only", Type: layer.TypeFile}})
	if got := strings.Join(t1.Sorted(), " "); got != "/only" {
		t.Fatalf("an opaque root kept lower entries: %s", got)
	}
}

// TestUnder: paths select themselves and what lies below, not siblings
// that share a prefix; no paths select everything.
func TestUnder(t *testing.T) {
	for _, c := range []struct {
		p     string
		paths []string
		want  bool
	}{
		{"/etc/motd", nil, true},
		{"/etc/motd", []string{"/etc"}, true},
		{"/etc", []string{"/etc"}, true},
		{"/etcetera", []string{"/etc"}, false},
		{"/usr/bin", []string{"/"}, true},
		{"/usr/bin", []string{"/etc", "/var"}, false},
	} {
		if got := Under(c.p, c.paths); got != c.want {
			t.Errorf("Under(%q, %q) = %v", c.p, c.paths, got)
		}
	}
}
