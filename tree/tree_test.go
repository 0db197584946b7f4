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

// TestApplyHidesBelowWhatItDeletes: a whiteout hides what lies below a
// directory, also one the tree lacks an entry for (a tar may name
// /d/f without /d), and a sibling that merely shares its prefix stays;
// a dozen deletions in one layer (the other way of finding what they hide)
// do the same.
func TestApplyHidesBelowWhatItDeletes(t *testing.T) {
	for _, n := range []int{1, 12} {
		t1 := Tree{}
		t1.Apply([]layer.Entry{
			{Path: "/d/f", Type: layer.TypeFile}, {Path: "/dd", Type: layer.TypeDir}, {Path: "/dd/g", Type: layer.TypeFile},
			{Path: "/e", Type: layer.TypeDir}, {Path: "/e/h", Type: layer.TypeFile}, {Path: "/file", Type: layer.TypeFile},
		})
		del := []layer.Entry{{Path: "/d", Type: layer.TypeWhiteout}, {Path: "/e", Type: layer.TypeWhiteout}, {Path: "/file", Type: layer.TypeWhiteout}}
		for i := 3; i < n; i++ {
			del = append(del, layer.Entry{Path: "/absent" + strings.Repeat("x", i), Type: layer.TypeWhiteout})
		}
		t1.Apply(del)
		if got := strings.Join(t1.Sorted(), " "); got != "/dd /dd/g" {
			t.Fatalf("%d deletions: %s left, want /dd /dd/g", len(del), got)
		}
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
