package main

import (
	"fmt"

	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
)

// textCount is a change --stat counts from its lines' hashes: binary
// content (a NUL in the first 8,000 bytes), or a file over the patch
// cap, streamed, never held (o, n: the contents Diff holds, nil for
// such a file).
type textCount struct {
	line int // its index in the stat lines
	c    tree.Change
	o, n []byte
}

// countBatch bounds the bytes of the files over the patch cap whose
// lines' hashes are held at once (8 bytes a line): within it, each
// layer that holds some of them is streamed once, not once a file.
const countBatch = 512 << 20

// countTexts counts, as git's diffstat, the changes -p does not diff
// line by line: binary content, or the lines added and removed, from
// their hashes (tree.CountLines). Files over the patch cap are read in
// batches (countBatch), each side's in one pass (Diff.LineTexts).
func countTexts(d *worktree.Diff, lines []statLine, texts []textCount) error {
	for len(texts) > 0 {
		batch, size := 0, int64(0)
		for batch < len(texts) && (batch == 0 || size+bigSize(texts[batch].c) <= countBatch) {
			size += bigSize(texts[batch].c)
			batch++
		}
		if err := countBatchOf(d, lines, texts[:batch]); err != nil {
			return err
		}
		texts = texts[batch:]
	}
	return nil
}

// bigSize is the bytes of c's sides over the patch cap.
func bigSize(c tree.Change) int64 {
	n := int64(0)
	for _, e := range []*layer.Entry{c.Old, c.New} {
		if tree.TooBig(e) {
			n += e.Size
		}
	}
	return n
}

func countBatchOf(d *worktree.Diff, lines []statLine, texts []textCount) error {
	oldWant, newWant := map[string]*layer.Entry{}, map[string]*layer.Entry{}
	for _, t := range texts {
		if tree.TooBig(t.c.Old) {
			oldWant[oldPath(t.c)] = t.c.Old
		}
		if tree.TooBig(t.c.New) {
			newWant[t.c.Path] = t.c.New
		}
	}
	oldTexts, err := d.LineTexts(true, oldWant)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	newTexts, err := d.LineTexts(false, newWant)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	for _, t := range texts {
		ot, nt := oldTexts[oldPath(t.c)], newTexts[t.c.Path]
		if !tree.TooBig(t.c.Old) {
			ot = tree.TextOf(t.o)
		}
		if !tree.TooBig(t.c.New) {
			nt = tree.TextOf(t.n)
		}
		l := &lines[t.line]
		if l.binary = ot.Binary || nt.Binary; l.binary {
			if sameContent(t.c, t.o, t.n) {
				l.oldSize, l.newSize = 0, 0 // git's "Bin": a change of mode alone
			}
			continue
		}
		l.added, l.removed = tree.CountLines(ot.Lines, nt.Lines)
	}
	return nil
}
