package main

import (
	"strings"
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
	lines, err := statLines(d, tree.BigFileThreshold, tree.LineDiff{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !lines[0].binary || lines[0].oldSize != tree.BigFileThreshold+1 || lines[0].newSize != tree.BigFileThreshold+2 {
		t.Fatalf("statLines = %+v, want one binary line of the entries' sizes", lines)
	}
}

// TestWriteStatGraphWidth: --stat-graph-width caps the graph, alone and
// within --stat=W, as git 2.39's (its output for the same three files,
// git diff --stat=W --stat-graph-width=G; 0: no cap); a binary file's
// sizes are not cut.
func TestWriteStatGraphWidth(t *testing.T) {
	lines := []statLine{
		{name: "a", removed: 90},
		{name: "b", added: 23},
		{name: "bin", binary: true, oldSize: 3, newSize: 5000},
	}
	for _, tc := range []struct {
		width, graph int
		want         string
	}{
		{0, 0, " a   |  90 --------------------------------------------------------------------\n b   |  23 ++++++++++++++++++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{0, 5, " a   |  90 -----\n b   |  23 ++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{0, 10, " a   |  90 ----------\n b   |  23 +++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{0, 30, " a   |  90 ------------------------------\n b   |  23 ++++++++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{0, 200, " a   |  90 --------------------------------------------------------------------\n b   |  23 ++++++++++++++++++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{60, 0, " a   |  90 ------------------------------------------------\n b   |  23 +++++++++++++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{60, 5, " a   |  90 -----\n b   |  23 ++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{60, 10, " a   |  90 ----------\n b   |  23 +++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{60, 30, " a   |  90 ------------------------------\n b   |  23 ++++++++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{60, 200, " a   |  90 ------------------------------------------------\n b   |  23 +++++++++++++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{40, 0, " a   |  90 ----------------------------\n b   |  23 +++++++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{40, 5, " a   |  90 -----\n b   |  23 ++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{40, 10, " a   |  90 ----------\n b   |  23 +++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{40, 30, " a   |  90 ----------------------------\n b   |  23 +++++++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
		{40, 200, " a   |  90 ----------------------------\n b   |  23 +++++++\n bin | Bin 3 -> 5000 bytes\n 3 files changed, 23 insertions(+), 90 deletions(-)\n"},
	} {
		var b strings.Builder
		writeStat(&b, lines, statLayout{width: tc.width, widthSet: true, graphWidth: tc.graph})
		if b.String() != tc.want {
			t.Errorf("--stat=%d --stat-graph-width=%d:\n%s\nwant (git's)\n%s", tc.width, tc.graph, b.String(), tc.want)
		}
	}
}

// TestWriteStatGraphWidthNarrow: in columns too few for a long name,
// git widens a graph to 6 columns at least, then caps it again at
// --stat-graph-width, and cuts the name to what is left (git 2.39's
// diff --stat=30 --stat-graph-width=3 of these files).
func TestWriteStatGraphWidthNarrow(t *testing.T) {
	lines := []statLine{
		{name: "a", removed: 100},
		{name: "a-file-with-a-rather-long-name-here", added: 10},
		{name: "b", added: 23},
		{name: "bin", binary: true, oldSize: 3, newSize: 5000},
	}
	want := " a                  | 100 ---\n" +
		" ...-long-name-here |  10 +\n" +
		" b                  |  23 +\n" +
		" bin                | Bin 3 -> 5000 bytes\n" +
		" 4 files changed, 33 insertions(+), 100 deletions(-)\n"
	var b strings.Builder
	writeStat(&b, lines, statLayout{width: 30, widthSet: true, graphWidth: 3})
	if b.String() != want {
		t.Errorf("--stat=30 --stat-graph-width=3:\n%s\nwant (git's)\n%s", b.String(), want)
	}
}
