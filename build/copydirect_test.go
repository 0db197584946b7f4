package build

import (
	"path"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// statedBy hands the layer writer collect's lstat of every entry, by its
// path in the image, and nothing for a path the copy does not list.
func TestStatedByIsCollects(t *testing.T) {
	dir := ctxWith(t, map[string]string{"site/index.html": "hi", "site/css/a.css": "a", "site/link": "->index.html"})
	ents, _, err := collectIn(t, dir, []string{"site"}, "/srv/")
	if err != nil {
		t.Fatal(err)
	}
	stated := statedBy(ents)
	for _, e := range ents {
		got, ok := stated(e.dst)
		if !ok {
			t.Fatalf("%s: no lstat", e.dst)
		}
		var want unix.Stat_t
		if err := unix.Lstat(filepath.Join(dir, e.src), &want); err != nil {
			t.Fatal(err)
		}
		got.Atim, want.Atim = unix.Timespec{}, unix.Timespec{} // read since
		if got != want {
			t.Errorf("%s: lstat %+v, want %+v", e.dst, got, want)
		}
		if e.dst != "/srv" && !strings.HasPrefix(e.dst, "/srv/") {
			t.Errorf("%s: not under /srv", e.dst)
		}
	}
	if len(ents) != 5 {
		t.Errorf("%d entries, want 5", len(ents))
	}
	for _, p := range []string{"/", path.Dir("/srv"), "/srv/nothing", "/site/index.html"} {
		if _, ok := stated(p); ok {
			t.Errorf("%s: an lstat for a path the copy does not list", p)
		}
	}
}
