package main

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/strata-sh/strata/internal/testmountns"
)

// TestResolveHostPathFollowsTreeLinksInItsRoot: links read in an overlay
// (a work tree) resolve in it, as the container sees them; the parts the
// user typed, and links outside every overlay, resolve on the host.
func TestResolveHostPathFollowsTreeLinksInItsRoot(t *testing.T) {
	tree := testmountns.MountOverlay(t)
	host := t.TempDir()
	for _, d := range []string{host + "/etc", tree + "/etc", tree + "/usr/bin", tree + "/a/b"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		tree + "/abs":            "/etc",                  // the container's /etc
		tree + "/a/b/up":         "../../../../../../etc", // ".." stops at the tree's root
		tree + "/chain":          "abs",                   // through another link in the tree
		tree + "/usr/bin/editor": "/a/b/up",               // absolute, to a relative one
		tree + "/loop":           "loop",
		host + "/tolink":         tree + "/abs", // the host's link into the tree
		host + "/intree":         tree + "/a",
	}
	for l, target := range links {
		if err := os.Symlink(target, l); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ path, want string }{
		{tree + "/abs", tree + "/etc"},
		{tree + "/a/b/up", tree + "/etc"},
		{tree + "/chain", tree + "/etc"},
		{tree + "/usr/bin/editor", tree + "/etc"},
		{host + "/tolink", tree + "/etc"},
		{host + "/intree/../../../" + filepath.Base(host) + "/etc", host + "/etc"}, // typed "..": the user's
		{tree + "/a/b/../../..", filepath.Dir(tree)},
	} {
		got, err := resolveHostPath(c.path)
		if err != nil || got != c.want {
			t.Errorf("resolveHostPath(%s) = %q, %v; want %q", c.path, got, err, c.want)
		}
	}
	if _, err := resolveHostPath(tree + "/loop"); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("a loop: %v, want ELOOP", err)
	}
	os.RemoveAll(tree + "/etc")
	_, err := resolveHostPath(tree + "/abs")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a link to nothing in the tree: %v, want not exist", err)
	}
	if _, err := resolveHostPath("rel"); err == nil {
		t.Error("a relative path resolved")
	}
}
