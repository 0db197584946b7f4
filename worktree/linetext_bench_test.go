package worktree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
)

// bigFilesDiff is a diff of two commits of one layer each, whose
// bigFiles files, each over tree.MaxPatchSize, all change.
func bigFilesDiff(tb testing.TB, bigFiles int) *Diff {
	r := newRepo(tb)
	var revs []string
	for v := 0; v < 2; v++ {
		dir := tb.TempDir()
		for i := 0; i < bigFiles; i++ {
			b := make([]byte, 0, tree.MaxPatchSize+(1<<20))
			for n := 0; len(b) < tree.MaxPatchSize+(1<<19); n++ {
				b = strconv.AppendInt(b, int64(n*(1+v*(n%1000/999))), 10)
				b = append(b, '\n')
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("big%02d", i)), b, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
		revs = append(revs, commitDir(tb, r, dir, fmt.Sprint(v)).ID.String())
	}
	d, err := Main(r).Diff(context.Background(), DiffOptions{Revs: revs, Contents: true})
	if err != nil {
		tb.Fatal(err)
	}
	if len(d.Changes) != bigFiles {
		tb.Fatalf("%d changes, want %d", len(d.Changes), bigFiles)
	}
	return d
}

// TestLineTextsAsLineText: LineTexts of a commit's files, read in one
// pass of their layer, are LineText's of each.
func TestLineTextsAsLineText(t *testing.T) {
	d := bigFilesDiff(t, 3)
	for _, old := range []bool{true, false} {
		want := map[string]*layer.Entry{}
		for _, c := range d.Changes {
			want[c.Path] = map[bool]*layer.Entry{true: c.Old, false: c.New}[old]
		}
		got, err := d.LineTexts(old, want)
		if err != nil {
			t.Fatal(err)
		}
		for p, e := range want {
			one, err := d.LineText(old, p, e)
			if err != nil {
				t.Fatal(err)
			}
			if g := got[p]; g == nil || len(g.Lines) != len(one.Lines) || len(one.Lines) == 0 ||
				g.Lines[0] != one.Lines[0] || g.Lines[len(g.Lines)-1] != one.Lines[len(one.Lines)-1] {
				t.Fatalf("%s (old %v): LineTexts differs from LineText", p, old)
			}
		}
	}
}

// BenchmarkLineTexts: the lines of 8 files over the patch cap, on both
// sides of a diff of two one-layer commits, read one file at a time
// (LineText: the layer streamed again for each) or in one pass a side
// (LineTexts), as diff --stat reads them. With -short (make test runs
// every benchmark once so), one file.
func BenchmarkLineTexts(b *testing.B) {
	files := 8
	if testing.Short() {
		files = 1
	}
	d := bigFilesDiff(b, files)
	for _, name := range []string{"per-file", "one-pass"} {
		b.Run(name, func(b *testing.B) {
			var ds []time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				for _, old := range []bool{true, false} {
					want := map[string]*layer.Entry{}
					for _, c := range d.Changes {
						want[c.Path] = map[bool]*layer.Entry{true: c.Old, false: c.New}[old]
					}
					if name == "one-pass" {
						if _, err := d.LineTexts(old, want); err != nil {
							b.Fatal(err)
						}
						continue
					}
					for p, e := range want {
						if _, err := d.LineText(old, p, e); err != nil {
							b.Fatal(err)
						}
					}
				}
				ds = append(ds, time.Since(start))
			}
			medianMs(b, ds)
		})
	}
}
