package tree

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/internal/xdiff"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/zeebo/blake3"
)

// WritePatch writes a unified diff of one change as git writes it: git's
// headers (modes included, a name that needs quoting quoted with its a/ or
// b/ prefix), git's hunks for text (each header with its function line),
// "Binary files differ" for binary content, the mode lines alone for a
// change of mode, and nothing for a change of owner or xattrs alone (git
// has no word for them). old and new are the contents (nil for none or
// not a file).
//
// A path whose type changed between file and symlink is two patches, as
// git writes it: the old one deleted, with all its lines, then the new one
// added.
//
// Only files and symlinks have patches, as in git, which holds nothing
// else: a directory, device, FIFO or socket is left out (a directory that
// became a file is that file added), and a change of such entries alone
// writes nothing.
func WritePatch(w io.Writer, c Change, old, new []byte) error {
	return WritePatchWith(w, c, old, new, PatchOptions{Context: DefaultContext, BigFile: BigFileThreshold})
}

// DefaultContext is git's lines of context around each change.
const DefaultContext = 3

// PatchOptions are how a patch is written.
type PatchOptions struct {
	// Context is the lines around each change (git's -U N).
	Context int
	// Color writes git's colours: headers bold, hunk lines cyan, removed
	// lines red, added ones green.
	Color bool
	// BigFile is git's core.bigFileThreshold: a file over it is binary
	// ("Binary files differ"), whatever its content. Set it:
	// BigFileThreshold is git's default, 0 makes every file not empty
	// binary.
	BigFile int64
	// Lines is how texts are diffed.
	Lines LineDiff
}

// LineDiff is how two texts are diffed line by line, as git's
// diff.algorithm and diff.indentHeuristic set it; the zero value is
// git's default (Myers, the indent heuristic on).
type LineDiff struct {
	Histogram         bool // --histogram, diff.algorithm=histogram
	Patience          bool // --patience, diff.algorithm=patience
	Minimal           bool // --minimal, diff.algorithm=minimal
	NoIndentHeuristic bool // --no-indent-heuristic, diff.indentHeuristic=false
}

// script is the edit script of two texts cut into lines.
func (l LineDiff) script(x, y [][]byte) []xdiff.Change {
	return xdiff.Diff(x, y, xdiff.Options{Histogram: l.Histogram, Patience: l.Patience, Minimal: l.Minimal, IndentHeuristic: !l.NoIndentHeuristic})
}

// WritePatchWith is WritePatch as o asks.
func WritePatchWith(w io.Writer, c Change, old, new []byte, o PatchOptions) error {
	if !inPatch(c.Old) {
		c.Old, old = nil, nil
	}
	if !inPatch(c.New) {
		c.New, new = nil, nil
	}
	if c.Old == nil && c.New == nil {
		return nil
	}
	if c.Old != nil && c.New != nil && KindOf(c.Old.Type) != KindOf(c.New.Type) {
		if err := WritePatchWith(w, Change{Path: c.Path, Kind: Deleted, Old: c.Old}, old, nil, o); err != nil {
			return err
		}
		return WritePatchWith(w, Change{Path: c.Path, Kind: Added, New: c.New}, nil, new, o)
	}
	from, to := patchFile(c.Old, old), patchFile(c.New, new)
	var binary bool
	var ch []fdiff.Chunk
	switch {
	case TooBig(c.Old) || TooBig(c.New) || IsBinary(old) || IsBinary(new) ||
		OverThreshold(c.Old, o.BigFile) || OverThreshold(c.New, o.BigFile):
		binary = !bytes.Equal(old, new) || TooBig(c.Old) || TooBig(c.New)
	case !bytes.Equal(old, new) || c.Old == nil || c.New == nil:
		ch = o.Lines.chunks(string(old), string(new))
	}
	if c.Old != nil && c.Old.Type == layer.TypeSymlink || c.New != nil && c.New.Type == layer.TypeSymlink {
		// git shows a symlink's target as its content.
		var from, to string
		if c.Old != nil {
			from = c.Old.Link
		}
		if c.New != nil {
			to = c.New.Link
		}
		binary, ch = false, o.Lines.chunks(from, to)
	}
	oldName, verb := c.Path, "rename"
	if c.Kind.Paired() {
		oldName = c.OldPath
	}
	if c.Kind == Copied {
		verb = "copy"
	}
	return writeFilePatch(w, strings.TrimPrefix(oldName, "/"), strings.TrimPrefix(c.Path, "/"), verb, Percent(c.Score), from, to, binary, ch, o)
}

// inPatch reports whether e is an entry git could hold: a file or a symlink.
func inPatch(e *layer.Entry) bool {
	return e != nil && (KindOf(e.Type) == layer.TypeFile || e.Type == layer.TypeSymlink)
}

// writeFilePatch writes git's header of one file's patch, then the hunks
// of its chunks. from or to is nil for a file added
// or deleted; oldName is not name for a file renamed or copied (verb
// says which), similarity percent similar.
func writeFilePatch(w io.Writer, oldName, name, verb string, similarity int, from, to *file, binary bool, ch []fdiff.Chunk, o PatchOptions) error {
	// The same content (a zero id is an unknown one: a work-tree file over
	// the cap, not hashed).
	same := from != nil && to != nil && from.hash == to.hash && from.hash != plumbing.ZeroHash
	renamed := oldName != name
	if same && from.mode == to.mode && !renamed {
		// Only owner or xattrs changed: git has nothing to show, and a
		// bare "diff --git" line would make git apply fail on the next patch.
		return nil
	}
	a, b := quoteTwo("a/", oldName), quoteTwo("b/", name)
	var h strings.Builder
	fmt.Fprintf(&h, "diff --git %s %s\n", a, b)
	switch {
	case from == nil:
		fmt.Fprintf(&h, "new file mode %o\nindex %s..%s\n", to.mode, plumbing.ZeroHash, to.hash)
		a = "/dev/null"
	case to == nil:
		fmt.Fprintf(&h, "deleted file mode %o\nindex %s..%s\n", from.mode, from.hash, plumbing.ZeroHash)
		b = "/dev/null"
	default:
		if from.mode != to.mode {
			fmt.Fprintf(&h, "old mode %o\nnew mode %o\n", from.mode, to.mode)
		}
		if renamed {
			fmt.Fprintf(&h, "similarity index %d%%\n%s from %s\n%s to %s\n", similarity, verb, pathquote.Quote(oldName), verb, pathquote.Quote(name))
		}
		switch {
		case from.hash == to.hash:
		case from.mode != to.mode:
			fmt.Fprintf(&h, "index %s..%s\n", from.hash, to.hash)
		default:
			fmt.Fprintf(&h, "index %s..%s %o\n", from.hash, to.hash, from.mode)
		}
	}
	switch {
	case same:
	case binary:
		fmt.Fprintf(&h, "Binary files %s and %s differ\n", a, b)
	case hasHunks(ch):
		// As git: a tab ends a name with a space, for patch(1).
		fmt.Fprintf(&h, "--- %s%s\n+++ %s%s\n", a, tabIfSpace(a), b, tabIfSpace(b))
	}
	header := h.String()
	if o.Color {
		header = colorLines(header, colorMeta, colorReset)
	}
	if _, err := io.WriteString(w, header); err != nil {
		return err
	}
	return writeHunks(w, ch, o.Context, o.Color)
}

// colorLines wraps each line of text (each ends in "\n") in on and off,
// as git colours a patch's header lines one by one.
func colorLines(text, on, off string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if l == "" {
			continue
		}
		b.WriteString(on + strings.TrimSuffix(l, "\n") + off + "\n")
	}
	return b.String()
}

// quoteTwo is git's quote_two: prefix and name, in double quotes with C
// escapes when the name needs them ("a/x\\y", not a/"x\\y").
func quoteTwo(prefix, name string) string {
	q := pathquote.Quote(name)
	if q == name {
		return prefix + name
	}
	return `"` + prefix + q[1:]
}

func tabIfSpace(s string) string {
	if strings.Contains(s, " ") {
		return "\t"
	}
	return ""
}

// hasHunks reports whether chunks change a line: an empty file added has
// none, and git writes no "---" and "+++" lines for it.
func hasHunks(ch []fdiff.Chunk) bool {
	for _, c := range ch {
		if c.Type() != fdiff.Equal && c.Content() != "" {
			return true
		}
	}
	return false
}

// isBinary uses git's test: a NUL byte in the first 8,000 bytes.
func isBinary(b []byte) bool {
	if len(b) > 8000 {
		b = b[:8000]
	}
	return bytes.IndexByte(b, 0) >= 0
}

// chunks is the line diff of a and b as go-git's chunk types hold it,
// which tree/hunks.go writes out: runs of equal, removed and added
// lines, removed before added.
func (l LineDiff) chunks(a, b string) []fdiff.Chunk {
	x, y := xdiff.SplitLines([]byte(a)), xdiff.SplitLines([]byte(b))
	var out []fdiff.Chunk
	ax, bx := 0, 0 // bytes of a and b before the next chunk
	emit := func(text string, op fdiff.Operation) {
		if text != "" {
			out = append(out, chunk{text, op})
		}
	}
	at := 0 // lines of a before the next chunk
	for _, c := range l.script(x, y) {
		n := lineBytes(x[at:c.I1])
		emit(a[ax:ax+n], fdiff.Equal)
		ax, bx = ax+n, bx+n
		n = lineBytes(x[c.I1 : c.I1+c.Chg1])
		emit(a[ax:ax+n], fdiff.Delete)
		ax += n
		n = lineBytes(y[c.I2 : c.I2+c.Chg2])
		emit(b[bx:bx+n], fdiff.Add)
		bx += n
		at = c.I1 + c.Chg1
	}
	emit(a[ax:], fdiff.Equal)
	return out
}

// lineBytes is the length of lines joined.
func lineBytes(lines [][]byte) int {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	return n
}

// LineCounts returns the lines added and removed between two texts (--stat).
func (l LineDiff) LineCounts(a, b []byte) (added, removed int) {
	for _, c := range l.script(xdiff.SplitLines(a), xdiff.SplitLines(b)) {
		added += c.Chg2
		removed += c.Chg1
	}
	return added, removed
}

// IsBinary reports whether content is shown as binary: it holds a NUL in
// its first 8,000 bytes (git's test), or more than MaxPatchLines lines.
func IsBinary(b []byte) bool { return isBinary(b) || bytes.Count(b, []byte{'\n'}) > MaxPatchLines }

// MaxPatchLines is the most lines a text may have to be diffed line by
// line: a container's file of millions of numbers is shown as binary,
// as it would take the line diff seconds and the screen nothing useful.
const MaxPatchLines = 200_000

type chunk struct {
	content string
	op      fdiff.Operation
}

func (c chunk) Content() string       { return c.content }
func (c chunk) Type() fdiff.Operation { return c.op }

// GitMode is the mode word shown for an entry, in a patch's header and
// in --summary: 120000 for a symlink, 100000 and the permission bits for
// a file. git keeps only 100644 and 100755; strata keeps every bit, as
// ls-tree shows them (100600, 104755 with setuid), because they matter
// in a container: a change of 0644 to 0600 is a mode change. A device or
// FIFO, which git cannot hold, has its type's bits as stat(2) gives them
// (020644 for a character device); a directory, which git does not
// track, and no entry, 0.
func GitMode(e *layer.Entry) uint32 {
	if e == nil {
		return 0
	}
	perm := uint32(e.Mode & 0o7777)
	switch KindOf(e.Type) {
	case layer.TypeFile:
		return 0o100000 | perm
	case layer.TypeSymlink:
		return uint32(filemode.Symlink)
	case layer.TypeChar:
		return 0o020000 | perm
	case layer.TypeBlock:
		return 0o060000 | perm
	case layer.TypeFIFO:
		return 0o010000 | perm
	}
	return 0
}

// file is one side of a patch: git's mode, and its id.
type file struct {
	hash plumbing.Hash
	mode filemode.FileMode
}

// patchFile describes an entry for the header: git's mode words, and the
// first 20 bytes of the content digest in place of a git blob id.
func patchFile(e *layer.Entry, content []byte) *file {
	if e == nil {
		return nil
	}
	f := &file{mode: filemode.FileMode(GitMode(e))}
	d := e.Digest
	if d == "" && KindOf(e.Type) == layer.TypeFile && content != nil {
		sum := blake3.Sum256(content) // a work-tree file not hashed yet
		d = "blake3:" + hex.EncodeToString(sum[:])
	}
	if _, hexd, ok := strings.Cut(d, ":"); ok {
		if b, err := hex.DecodeString(hexd); err == nil && len(b) >= 20 {
			copy(f.hash[:], b)
		}
	} else if e.Type == layer.TypeSymlink {
		f.hash = plumbing.ComputeHash(plumbing.BlobObject, []byte(e.Link))
	}
	return f
}

// ChangedLine reports whether a line the diff of two texts adds or
// removes (as a patch shows it) satisfies match: git's log -G.
func (l LineDiff) ChangedLine(a, b []byte, match func(line []byte) bool) bool {
	x, y := xdiff.SplitLines(a), xdiff.SplitLines(b)
	for _, c := range l.script(x, y) {
		for _, l := range append(x[c.I1:c.I1+c.Chg1:c.I1+c.Chg1], y[c.I2:c.I2+c.Chg2]...) {
			if match(bytes.TrimSuffix(l, []byte{'\n'})) {
				return true
			}
		}
	}
	return false
}
