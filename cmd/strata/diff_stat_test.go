package main

import (
	"testing"

	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

// TestStatLinesThreshold: a file over git's core.bigFileThreshold (512
// MiB) is binary to --stat and --numstat, its sizes the entries', and its
// content is not read (this diff has no side to read it from: reading
// would count it as an empty text).
func TestStatLinesThreshold(t *testing.T) {
	huge := func(size int64) *layer.Entry {
		return &layer.Entry{Path: "/huge", Type: layer.TypeFile, Mode: 0o644, Size: size, Digest: "blake3:00"}
	}
	d := &worktree.Diff{Changes: []tree.Change{{Kind: tree.Modified, Path: "/huge",
		Old: huge(tree.BigFileThreshold + 1), New: huge(tree.BigFileThreshold + 2)}}}
	lines, err := statLines(d, tree.BigFileThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !lines[0].binary || lines[0].oldSize != tree.BigFileThreshold+1 || lines[0].newSize != tree.BigFileThreshold+2 {
		t.Fatalf("statLines = %+v, want one binary line of the entries' sizes", lines)
	}
}
