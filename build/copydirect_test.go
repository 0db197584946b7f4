package build

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/objects/layer"
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

// A context that changes between a direct COPY's listing (collect, of
// which the step's key is made) and the layer's write: the layer holds
// what the listing saw, or the step fails; never an entry the listing
// did not see, nor one the key describes otherwise.
func TestDirectCopyContextChanged(t *testing.T) {
	for _, c := range []struct {
		what   string
		change func(dir string) error
		fails  bool
	}{
		{"a file made", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "site", "new"), []byte("new"), 0o644)
		}, false},
		{"a directory made", func(dir string) error {
			return os.MkdirAll(filepath.Join(dir, "site", "css", "newdir"), 0o755)
		}, false},
		{"a link retargeted", func(dir string) error {
			p := filepath.Join(dir, "site", "link")
			os.Remove(p)
			return os.Symlink("/etc/passwd", p)
		}, true},
		{"a link removed", func(dir string) error {
			return os.Remove(filepath.Join(dir, "site", "link"))
		}, true},
		{"a FIFO removed", func(dir string) error {
			return os.Remove(filepath.Join(dir, "site", "fifo"))
		}, true},
		{"a file swapped for a link", func(dir string) error {
			p := filepath.Join(dir, "site", "index.html")
			os.Remove(p)
			return os.Symlink("/etc/passwd", p)
		}, true},
		{"a directory swapped for a link", func(dir string) error {
			p := filepath.Join(dir, "site", "css")
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			return os.Symlink("/etc", p)
		}, true},
	} {
		t.Run(c.what, func(t *testing.T) {
			dir := ctxWith(t, map[string]string{"site/index.html": "hi", "site/css/a.css": "a", "site/link": "->index.html"})
			if err := unix.Mkfifo(filepath.Join(dir, "site", "fifo"), 0o644); err != nil {
				t.Fatal(err)
			}
			afterCollect = func() {
				if err := c.change(dir); err != nil {
					t.Error(err)
				}
			}
			defer func() { afterCollect = nil }()
			r := newRepo(t, false)
			res, err := buildIn(t, r, dir, "FROM scratch\nCOPY site/ /srv/\n")
			if c.fails {
				// The writer's own check, or the key's (the same inode
				// number may come back, of another type).
				if err == nil || !errors.Is(err, layer.ErrFileChanged) && !errors.Is(err, layer.ErrNotRegular) && !strings.Contains(err.Error(), "changed while it was copied") {
					t.Fatalf("built (%v), want a failure: changed while it was copied", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			idx, err := r.Objects.LayerIndex(res.Commit.Layers()[0])
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range idx {
				got = append(got, e.Path)
			}
			want := "/srv /srv/css /srv/css/a.css /srv/fifo /srv/index.html /srv/link"
			if strings.Join(got, " ") != want {
				t.Errorf("layer holds %s, want %s", strings.Join(got, " "), want)
			}
		})
	}
}
