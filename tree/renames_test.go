package tree

import (
	"reflect"
	"testing"

	"github.com/strata-sh/strata/objects/layer"
)

func fileEntry(digest string, size int64) *layer.Entry {
	return &layer.Entry{Type: layer.TypeFile, Mode: 0o644, Size: size, Digest: digest}
}

// Exact renames, as git finds them: same content, not empty, regular
// files; the same base name first; content from the read maps when the
// entry has no digest (a work-tree file).
func TestDetectRenames(t *testing.T) {
	changes := []Change{
		{Path: "/a/x.conf", Kind: Deleted, Old: fileEntry("d1", 3)},
		{Path: "/a/y.conf", Kind: Deleted, Old: fileEntry("d1", 3)},
		{Path: "/b/empty", Kind: Added, New: fileEntry("d0", 0)},
		{Path: "/b/y.conf", Kind: Added, New: fileEntry("d1", 3)},
		{Path: "/c/empty", Kind: Deleted, Old: fileEntry("d0", 0)},
		{Path: "/c/link", Kind: Deleted, Old: &layer.Entry{Type: layer.TypeSymlink, Link: "t", Size: 1}},
		{Path: "/d/link", Kind: Added, New: &layer.Entry{Type: layer.TypeSymlink, Link: "t", Size: 1}},
		{Path: "/e/work", Kind: Added, New: fileEntry("", 5)},
		{Path: "/f/gone", Kind: Deleted, Old: fileEntry("blake3:ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f", 5)},
		{Path: "/g/m", Kind: Modified, Old: fileEntry("d2", 1), New: fileEntry("d3", 1)},
	}
	got := DetectRenames(changes, nil, map[string][]byte{"/e/work": []byte("hello")})
	var summary []string
	for _, c := range got {
		s := string(c.Kind) + " " + c.Path
		if c.Kind == Renamed {
			s = "R " + c.OldPath + " -> " + c.Path
		}
		summary = append(summary, s)
	}
	// In path order: a rename sits at its new path.
	want := []string{
		"D /a/x.conf",
		"A /b/empty",
		"R /a/y.conf -> /b/y.conf", // y.conf, not x.conf: the same base name
		"D /c/empty",
		"D /c/link",
		"A /d/link",
		"R /f/gone -> /e/work", // hello's blake3
		"M /g/m",
	}
	if !reflect.DeepEqual(summary, want) {
		t.Fatalf("DetectRenames:\n%q\nwant\n%q", summary, want)
	}
	if changes[1].Kind != Deleted || len(changes) != 10 {
		t.Fatal("DetectRenames changed its argument")
	}
}
