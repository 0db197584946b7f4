package tree

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-sh/strata/objects/layer"
)

// numbers is n lines, from..from+n-1: every line distinct.
func numbers(from, n int) []byte {
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// TestPatchOfManyLines: a text of more than MaxPatchLines lines is shown
// as binary, by a patch and by --stat's count: the line diff of two such
// files of numbers takes seconds, more than in proportion to the lines.
// A text at the bound is diffed line by line.
func TestPatchOfManyLines(t *testing.T) {
	old, new := numbers(0, 600_000), numbers(600_000, 600_000)
	if !IsBinary(old) || !IsBinary(new) {
		t.Fatal("600,000 lines are not shown as binary")
	}
	c := Change{Path: "/nums",
		Old: &layer.Entry{Type: layer.TypeFile, Size: int64(len(old)), Mode: 0o644},
		New: &layer.Entry{Type: layer.TypeFile, Size: int64(len(new)), Mode: 0o644}}
	var out bytes.Buffer
	if err := WritePatch(&out, c, old, new); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Binary files a/nums and b/nums differ") {
		t.Fatalf("patch of 600,000 lines:\n%.400s", out.String())
	}

	at := numbers(0, MaxPatchLines)
	if IsBinary(at) {
		t.Fatalf("%d lines are shown as binary", MaxPatchLines)
	}
	changed := append(numbers(0, MaxPatchLines-1), "last\n"...)
	if a, d := (LineDiff{}).LineCounts(at, changed); a != 1 || d != 1 {
		t.Fatalf("--stat of one changed line in %d: +%d -%d", MaxPatchLines, a, d)
	}
}
