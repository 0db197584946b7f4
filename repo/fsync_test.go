package repo

import (
	"path/filepath"
	"slices"
	"testing"
)

// core.fsync read as git 2.39's parse_fsync_components reads it,
// projected on what strata writes besides blobs.
func TestParseFsync(t *testing.T) {
	for _, c := range []struct {
		value   string
		want    Fsync
		unknown []string
	}{
		{"", 0, nil},
		{"reference", FsyncReference, nil},
		{"ref", FsyncReference, nil}, // a prefix names the component
		{"index", FsyncIndex, nil},
		{"i", FsyncIndex, nil},
		{"committed", FsyncReference, nil},
		{"added", FsyncReference | FsyncIndex, nil},
		{"all", FsyncReference | FsyncIndex, nil},
		// An added component stays even when it is also taken away: git
		// takes the removals from its default, then adds.
		{"all,-index", FsyncReference | FsyncIndex, nil},
		{"reference,-reference", FsyncReference, nil},
		{"-reference", 0, nil},
		{"objects,pack", 0, nil},
		// Blanks before a word are skipped, after it they are part of it.
		{" reference, index", FsyncReference | FsyncIndex, nil},
		{"reference ,index", FsyncIndex, []string{"reference "}},
		// "none" as the rest of the value empties git's default only.
		{"reference,none", FsyncReference, nil},
		{"none,reference", FsyncReference, []string{"none"}},
		{"bogus,index", FsyncIndex, []string{"bogus"}},
		{"reference index", 0, []string{"reference index"}},
		{"index,-,reference", FsyncIndex, []string{"-"}},
	} {
		got, unknown := ParseFsync(c.value)
		if got != c.want || !slices.Equal(unknown, c.unknown) {
			t.Errorf("ParseFsync(%q) = %b, %q; want %b, %q", c.value, got, unknown, c.want, c.unknown)
		}
	}
}

// Open leaves refs, index.json and the work tree's state unflushed by
// default, as git's default core.fsync, and flushes what the value names.
func TestOpenFollowsCoreFsync(t *testing.T) {
	dir := t.TempDir()
	r, err := Init(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Refs.NoSync || !r.Objects.NoSyncIndex || r.Fsync != 0 {
		t.Fatalf("default: refs NoSync %v, index.json NoSync %v, fsync %b; want neither flushed", r.Refs.NoSync, r.Objects.NoSyncIndex, r.Fsync)
	}
	cfg, err := LoadConfig(filepath.Join(r.Root, "config"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Set("core.fsync", "reference,index,bogus"); err != nil {
		t.Fatal(err)
	}
	r, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Refs.NoSync || r.Objects.NoSyncIndex || r.Fsync != FsyncReference|FsyncIndex {
		t.Fatalf("core.fsync=reference,index: refs NoSync %v, index.json NoSync %v, fsync %b", r.Refs.NoSync, r.Objects.NoSyncIndex, r.Fsync)
	}
	if !slices.Equal(r.FsyncUnknown, []string{"bogus"}) {
		t.Fatalf("unknown words %q, want bogus", r.FsyncUnknown)
	}
}
