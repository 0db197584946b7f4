// Package textmerge merges three versions of a text file as git
// merge-file does, writing conflict markers where both sides changed the
// same lines.
package textmerge

import "bytes"

// Options label the conflict markers.
type Options struct {
	Ours, Base, Theirs string // marker labels, as git merge-file -L
	Diff3              bool   // also show the base's lines (merge.conflictStyle=diff3)
}

// Result is a merge's output and how many conflicts it marks.
type Result struct {
	Content   []byte
	Conflicts int
}

// Merge merges ours and theirs, both changed from base.
//
// PLACEHOLDER until the line-level merge lands this session: whole-file
// resolution only (one side unchanged, or both the same), else one
// conflict spanning the file.
func Merge(base, ours, theirs []byte, o Options) Result {
	switch {
	case bytes.Equal(ours, theirs), bytes.Equal(base, theirs):
		return Result{Content: ours}
	case bytes.Equal(base, ours):
		return Result{Content: theirs}
	}
	var b bytes.Buffer
	b.WriteString("<<<<<<< " + o.Ours + "\n")
	b.Write(ours)
	b.WriteString("=======\n")
	b.Write(theirs)
	b.WriteString(">>>>>>> " + o.Theirs + "\n")
	return Result{Content: b.Bytes(), Conflicts: 1}
}
