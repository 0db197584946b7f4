package fold

import (
	"testing"

	"github.com/strata-sh/strata/objects/layer"
)

// TestRegionOfARun: the region holds what a run names and every
// directory above it (a layer may name a file but not its directory),
// and all below what it hides: a whiteout, an opaque directory, a name
// that is no directory; nothing else. An opaque root hides everything.
func TestRegionOfARun(t *testing.T) {
	r := regionOf([][]layer.Entry{
		{{Path: "/a/b/c", Type: layer.TypeFile}, {Path: "/d", Type: layer.TypeDir}},
		{{Path: "/w", Type: layer.TypeWhiteout}, {Path: "/o", Type: layer.TypeOpaque}, {Path: "/d/e", Type: layer.TypeDir}},
	})
	for p, want := range map[string]bool{
		"/": true, "/a": true, "/a/b": true, "/a/b/c": true, "/a/b/c/under": true,
		"/a/other": false, "/a/b/other": false, "/d": true, "/d/e": true, "/d/x": false, "/d/e/x": false,
		"/w": true, "/w/x/y": true, "/o": true, "/o/x": true, "/x": false, "/wx": false, "/ox": false,
	} {
		if got := r.keep(p); got != want {
			t.Errorf("keep(%s) = %v, want %v", p, got, want)
		}
	}
	root := regionOf([][]layer.Entry{{{Path: "/", Type: layer.TypeOpaque}}})
	if !root.keep("/any/path") {
		t.Error("an opaque root hides everything, and keeps nothing out")
	}
}
