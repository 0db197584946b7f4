package tree

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/strata-sh/strata/objects/layer"
)

func fileEntry(digest string, size int64) *layer.Entry {
	return &layer.Entry{Type: layer.TypeFile, Mode: 0o644, Size: size, Digest: digest}
}

func summarize(cs []Change) []string {
	var out []string
	for _, c := range cs {
		s := string(c.Kind) + " " + c.Path
		if c.Kind.Paired() {
			s = fmt.Sprintf("%c%03d %s -> %s", c.Kind, Percent(c.Score), c.OldPath, c.Path)
		}
		out = append(out, s)
	}
	return out
}

// Exact renames, as git finds them: same content, regular files or
// symlinks of one target (empty files too, as git diff's rename_empty);
// the same base name first; the content of a work-tree file (no digest)
// read only when a deleted file has its size.
func TestFindRenamesExact(t *testing.T) {
	changes := []Change{
		{Path: "/a/x.conf", Kind: Deleted, Old: fileEntry("d1", 3)},
		{Path: "/a/y.conf", Kind: Deleted, Old: fileEntry("d1", 3)},
		{Path: "/b/empty", Kind: Added, New: fileEntry("d0", 0)},
		{Path: "/b/y.conf", Kind: Added, New: fileEntry("d1", 3)},
		{Path: "/c/empty", Kind: Deleted, Old: fileEntry("d0", 0)},
		{Path: "/c/link", Kind: Deleted, Old: &layer.Entry{Type: layer.TypeSymlink, Link: "t", Size: 1}},
		{Path: "/d/link", Kind: Added, New: &layer.Entry{Type: layer.TypeSymlink, Link: "t", Size: 1}},
		{Path: "/d/other", Kind: Added, New: &layer.Entry{Type: layer.TypeSymlink, Link: "u", Size: 1}},
		{Path: "/e/work", Kind: Added, New: fileEntry("", 5)},
		{Path: "/e/work2", Kind: Added, New: fileEntry("", 7)},
		{Path: "/f/gone", Kind: Deleted, Old: fileEntry("blake3:ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f", 5)},
		{Path: "/g/m", Kind: Modified, Old: fileEntry("d2", 1), New: fileEntry("d3", 1)},
	}
	var read []string
	o := RenameOptions{Score: MaxScore, Read: func(old bool, want map[string]*layer.Entry, each func(string, []byte)) error {
		for p := range want {
			read = append(read, p)
			if p == "/e/work" {
				each(p, []byte("hello"))
			}
		}
		return nil
	}}
	got, needed, err := FindRenames(changes, o)
	if err != nil || needed.Needed != 0 {
		t.Fatal(needed, err)
	}
	want := []string{
		"D /a/x.conf",
		"R100 /c/empty -> /b/empty",
		"R100 /a/y.conf -> /b/y.conf", // y.conf, not x.conf: the same base name
		"R100 /c/link -> /d/link",
		"A /d/other",
		"R100 /f/gone -> /e/work", // hello's blake3
		"A /e/work2",
		"M /g/m",
	}
	if s := summarize(got); !reflect.DeepEqual(s, want) {
		t.Fatalf("FindRenames:\n%q\nwant\n%q", s, want)
	}
	if !reflect.DeepEqual(read, []string{"/e/work"}) {
		t.Fatalf("read %q; want only /e/work (work2's size is no deleted file's)", read)
	}
	if changes[1].Kind != Deleted || len(changes) != 12 {
		t.Fatal("FindRenames changed its argument")
	}
}

// lines is n numbered lines, "line 1\n" on, after prefix.
func lines(prefix string, from, n int) []byte {
	var b bytes.Buffer
	b.WriteString(prefix)
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "line %d of the file\n", i)
	}
	return b.Bytes()
}

func contentChanges(old, new map[string][]byte) ([]Change, RenameOptions) {
	var cs []Change
	for p, b := range old {
		cs = append(cs, Change{Path: p, Kind: Deleted, Old: fileEntry("old:"+p, int64(len(b)))})
	}
	for p, b := range new {
		cs = append(cs, Change{Path: p, Kind: Added, New: fileEntry("new:"+p, int64(len(b)))})
	}
	sortChanges(cs)
	return cs, RenameOptions{Read: MapRead(old, new)}
}

func sortChanges(cs []Change) {
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			if cs[j].Path < cs[i].Path {
				cs[i], cs[j] = cs[j], cs[i]
			}
		}
	}
}

// Exact copies, as git's find_identical_files under -C: of the sources
// of one content, one unused (and not staying) with the same base name
// first, else one of the two, else the first; a deleted source's last
// pair in path order is its rename, every pair of one that stays a copy
// (git 2.39 -C and -C -C give the same of these files).
func TestFindCopiesExact(t *testing.T) {
	changes := []Change{
		{Path: "/s/f", Kind: Deleted, Old: fileEntry("d1", 3)},
		{Path: "/t/f", Kind: Modified, Old: fileEntry("d1", 3), New: fileEntry("d2", 3)},
		{Path: "/u/f", Kind: Added, New: fileEntry("d1", 3)},
		{Path: "/v/g", Kind: Added, New: fileEntry("d1", 3)},
	}
	o := RenameOptions{Copies: true, Read: MapRead(nil, nil)}
	got, _, err := FindRenames(changes, o)
	if err != nil {
		t.Fatal(err)
	}
	// /v/g: no source unused or of its name; the first, /s/f, again.
	want := []string{"M /t/f", "C100 /s/f -> /u/f", "R100 /s/f -> /v/g"}
	if s := summarize(got); !reflect.DeepEqual(s, want) {
		t.Fatalf("-C: %q, want %q", s, want)
	}
	// --find-copies-harder: an unmodified /w/g has /v/g's base name.
	o.Unmodified = Tree{"/w/g": fileEntry("d1", 3)}
	if got, _, err = FindRenames(changes, o); err != nil {
		t.Fatal(err)
	}
	want = []string{"M /t/f", "R100 /s/f -> /u/f", "C100 /w/g -> /v/g"}
	if s := summarize(got); !reflect.DeepEqual(s, want) {
		t.Fatalf("-C -C: %q, want %q", s, want)
	}
	// Without Copies, a modified file is no source.
	if got, _, _ = FindRenames(changes, RenameOptions{Read: MapRead(nil, nil)}); !reflect.DeepEqual(summarize(got), []string{"M /t/f", "R100 /s/f -> /u/f", "A /v/g"}) {
		t.Fatalf("-M: %q", summarize(got))
	}
}

// Similar renames, with git 2.39's scores for the same files (git diff
// -M --name-status of a commit that makes these changes).
func TestFindRenamesSimilar(t *testing.T) {
	base := lines("", 1, 100)
	old := map[string][]byte{
		"/src/a.txt":   base,
		"/src/b.txt":   lines("", 1000, 40),
		"/src/far.txt": lines("", 5000, 10),
		"/src/bin":     append([]byte{0}, bytes.Repeat([]byte("x"), 300)...),
	}
	new := map[string][]byte{
		"/dst/a.txt":   append(bytes.Clone(base[:len(base)-60]), "a new ending\n"...), // a few lines less
		"/dst/moved":   append(lines("", 1000, 30), lines("", 9000, 10)...),           // 3/4 of b
		"/dst/far.txt": lines("", 7000, 10),                                           // nothing in common
		"/dst/bin2":    append([]byte{0}, bytes.Repeat([]byte("x"), 290)...),
	}
	cs, o := contentChanges(old, new)
	got, _, err := FindRenames(cs, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"R096 /src/a.txt -> /dst/a.txt",
		"R085 /src/bin -> /dst/bin2",
		"A /dst/far.txt",
		"R075 /src/b.txt -> /dst/moved",
		"D /src/far.txt",
	}
	if s := summarize(got); !reflect.DeepEqual(s, want) {
		t.Fatalf("FindRenames:\n%q\nwant\n%q", s, want)
	}

	// -M80%: moved is not similar enough; -M100%: exact only.
	o.Score, _ = ParseRenameScore("80%")
	got, _, _ = FindRenames(cs, o)
	if s := strings.Join(summarize(got), "\n"); !strings.Contains(s, "A /dst/moved") || !strings.Contains(s, "R085") {
		t.Fatalf("-M80%%:\n%s", s)
	}
	o.Score = MaxScore
	got, _, _ = FindRenames(cs, o)
	for _, c := range got {
		if c.Kind == Renamed {
			t.Fatalf("-M100%%: %s renamed", c.Path)
		}
	}
}

// Past the limit, only exact renames and those of a kept base name are
// found, and the limit that would have done is returned.
func TestFindRenamesLimit(t *testing.T) {
	old := map[string][]byte{"/a/one": lines("", 1, 20), "/a/two": lines("", 100, 20), "/a/three": lines("", 200, 20)}
	new := map[string][]byte{"/b/one": lines("", 1, 19), "/b/2": lines("", 100, 19), "/b/3": lines("", 200, 19)}
	cs, o := contentChanges(old, new)
	o.Limit = 1
	got, needed, err := FindRenames(cs, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"D /a/three", "D /a/two", "A /b/2", "A /b/3", "R094 /a/one -> /b/one"} // git's, with diff.renameLimit=1
	if s := summarize(got); !reflect.DeepEqual(s, want) || needed.Needed != 2 {
		t.Fatalf("limit 1: %q, needed %v; want %q, 2", s, needed, want)
	}
	o.Limit = 2
	if got, needed, _ = FindRenames(cs, o); needed.Needed != 0 || len(got) != 3 {
		t.Fatalf("limit 2: %q, needed %v", summarize(got), needed)
	}
}

func TestParseRenameScore(t *testing.T) {
	for in, want := range map[string]int{"": 30000, "50%": 30000, "5": 30000, "50": 30000, "0.5": 30000, "100": 6000, "100%": MaxScore, "9": 54000, "90%": 54000, "0": 0} {
		if got, err := ParseRenameScore(in); err != nil || got != want {
			t.Errorf("ParseRenameScore(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"x", "50%x", "5 0"} {
		if _, err := ParseRenameScore(bad); err == nil {
			t.Errorf("ParseRenameScore(%q): no error", bad)
		}
	}
}

// BenchmarkFindRenames finds 1000 renames among 1000 deleted and 1000
// added text files of 4 KiB, each changed a little: git's full
// comparison at its default limit (1000 × 1000 pairs, most cut off by
// their sizes), with the exact and base-name steps finding nothing.
func BenchmarkFindRenames(b *testing.B) {
	old, new := map[string][]byte{}, map[string][]byte{}
	for i := range 1000 {
		body := lines(fmt.Sprintf("file %d\n", i), i*1000, 200)
		old[fmt.Sprintf("/old/f%04d.txt", i)] = body
		new[fmt.Sprintf("/new/g%04d.txt", i)] = append(bytes.Clone(body[:len(body)-20]), "changed\n"...)
	}
	cs, o := contentChanges(old, new)
	b.ReportAllocs()
	for b.Loop() {
		got, needed, err := FindRenames(cs, o)
		if err != nil || needed.Needed != 0 || len(got) != 1000 {
			b.Fatal(len(got), needed, err)
		}
	}
}

// The files compared are held as signatures in batches of heldBytes of
// content (one file at least), the other side read past each batch:
// memory stays bounded however many files are compared, and the renames
// are the same.
func TestFindRenamesHoldsBatches(t *testing.T) {
	old, new := map[string][]byte{}, map[string][]byte{}
	for i := range 30 {
		body := lines(fmt.Sprintf("file %d\n", i), i*100, 30)
		old[fmt.Sprintf("/old/f%02d", i)] = body
		new[fmt.Sprintf("/new/g%02d", i)] = append(bytes.Clone(body), "more\n"...)
	}
	cs, o := contentChanges(old, new)
	whole, _, err := FindRenames(cs, o)
	if err != nil {
		t.Fatal(err)
	}
	defer func(b int64) { heldBytes = b }(heldBytes)
	heldBytes = 2000 // about two files
	read := o.Read
	most := 0
	o.Read = func(isOld bool, want map[string]*layer.Entry, each func(string, []byte)) error {
		if isOld { // the sources are the side held: as many as the destinations
			size := 0
			for p := range want {
				size += len(old[p])
			}
			most = max(most, size)
		}
		return read(isOld, want, each)
	}
	batched, _, err := FindRenames(cs, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(summarize(batched), summarize(whole)) || len(batched) != 30 {
		t.Fatalf("in batches:\n%q\nat once:\n%q", summarize(batched), summarize(whole))
	}
	if most > 2000+len(old["/old/f00"])*2 {
		t.Fatalf("a batch held %d bytes of content; want about 2000", most)
	}
}

// Pairs of a deleted and an added file are compared, never listed: with
// no limit, 1500 × 1500 files of one size (every pair a partner) took
// 2.25 million indexes twice over (a list per file held, and a map of
// them per batch: 400 MB each for 10,000 × 10,000); what FindRenames
// allocates now grows with the files, not the pairs.
func TestFindRenamesListsNoPairs(t *testing.T) {
	old, new := map[string][]byte{}, map[string][]byte{}
	for i := range 1500 {
		old[fmt.Sprintf("/old/f%04d", i)] = fmt.Appendf(nil, "old %08d\n", i)
		new[fmt.Sprintf("/new/g%04d", i)] = fmt.Appendf(nil, "new %08d\n", i)
	}
	cs, o := contentChanges(old, new)
	o.Limit = -1
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, _, err := FindRenames(cs, o)
	runtime.ReadMemStats(&after)
	if err != nil || len(got) != 3000 {
		t.Fatal(len(got), err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Fatalf("FindRenames allocated %d bytes for 1500 × 1500 files; want under 4 MiB", n)
	}
}
