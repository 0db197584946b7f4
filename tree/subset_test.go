package tree

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// TestSubset: the subset of a tree read line by line equals the whole
// tree filtered, through whiteouts, an opaque directory, a file replacing
// a directory and a chain long enough to be cut at the cached prefix
// (read both before and after that cache exists).
func TestSubset(t *testing.T) {
	s, err := objects.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	add := func(names ...string) objects.Layer {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, n := range names {
			h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(n)), ModTime: time.Unix(1, 0)}
			if strings.HasSuffix(n, "/") {
				h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
			}
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			if h.Size > 0 {
				tw.Write([]byte(n))
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		l, err := s.AddLayer(context.Background(), bytes.NewReader(buf.Bytes()), ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer}, "")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	ls := []objects.Layer{
		add("a/", "a/x", "a/y", "b/", "b/z", "b/q/", "b/q/r", "c/", "c/w", "d", "e/", "e/f"),
		add("a/.wh.x", "b/.wh..wh..opq", "b/new", "c", "e/f"),
	}
	for i := 0; len(ls) <= CacheGroup+3; i++ {
		ls = append(ls, add(fmt.Sprintf("fill%d", i)))
	}
	ls = append(ls, add("e/.wh.f", "e/g"))
	c, err := s.WriteCommit(objects.NewCommit{Layers: ls, Date: time.Unix(1, 0), Message: "m", OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{
		{"/a/x", "/a/y"},
		{"/b/z", "/b/q/r", "/b/new"},
		{"/c/w", "/d"},
		{"/e/f", "/e/g", "/fill3", "/nothing/here"},
		{},
	} {
		keep := map[string]bool{"/": true}
		for _, p := range paths {
			for q := p; q != "/"; q = filepath.Dir(q) {
				keep[q] = true
			}
		}
		for pass := 0; pass < 2; pass++ { // without, then with the cached prefix
			ts := NewTrees(s)
			got, err := ts.Subset(c, func(p string) bool { return keep[p] })
			if err != nil {
				t.Fatal(err)
			}
			full, err := NewTrees(s).Of(c)
			if err != nil {
				t.Fatal(err)
			}
			want := Tree{}
			for p, e := range full {
				if keep[p] {
					want[p] = e
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("pass %d, %v: subset %v, want %v", pass, paths, got.Sorted(), want.Sorted())
			}
		}
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "snapshots")); err != nil {
		t.Fatalf("no cached prefix was written: %v", err)
	}
}
