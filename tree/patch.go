package tree

import (
	"bytes"
	"encoding/hex"
	"io"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/zeebo/blake3"
)

// WritePatch writes a unified diff of one change with go-git's encoder:
// git's headers (modes included), hunks for text, "Binary files differ"
// for binary content, and nothing but the header for a change of
// metadata. old and new are the contents (nil for none or not a file).
func WritePatch(w io.Writer, c Change, old, new []byte) error {
	fp := &filePatch{from: patchFile(c.Old, c.Path, old), to: patchFile(c.New, c.Path, new)}
	isFile := func(e *layer.Entry) bool { return e != nil && KindOf(e.Type) == layer.TypeFile }
	tooBig := func(e *layer.Entry) bool { return isFile(e) && e.Size > MaxPatchSize }
	switch {
	case tooBig(c.Old) || tooBig(c.New) || IsBinary(old) || IsBinary(new):
		fp.binary = !bytes.Equal(old, new) || tooBig(c.Old) || tooBig(c.New)
	case !bytes.Equal(old, new) || c.Old == nil || c.New == nil:
		fp.chunks = chunks(string(old), string(new))
	}
	if c.Old != nil && c.Old.Type == layer.TypeSymlink || c.New != nil && c.New.Type == layer.TypeSymlink {
		// git shows a symlink's target as its content.
		var o, n string
		if c.Old != nil {
			o = c.Old.Link
		}
		if c.New != nil {
			n = c.New.Link
		}
		fp.binary, fp.chunks = false, chunks(o, n)
	}
	return fdiff.NewUnifiedEncoder(w, fdiff.DefaultContextLines).Encode(patch{fp})
}

// isBinary uses git's test: a NUL byte in the first 8,000 bytes.
func isBinary(b []byte) bool {
	if len(b) > 8000 {
		b = b[:8000]
	}
	return bytes.IndexByte(b, 0) >= 0
}

// diffmatchpatch operations, as go-git's line differ returns them.
const (
	dmpDelete = -1
	dmpInsert = 1
)

func chunks(a, b string) []fdiff.Chunk {
	var out []fdiff.Chunk
	for _, d := range lineDiff(a, b) {
		op := fdiff.Equal
		switch int(d.Type) {
		case dmpDelete:
			op = fdiff.Delete
		case dmpInsert:
			op = fdiff.Add
		}
		out = append(out, chunk{d.Text, op})
	}
	return out
}

// LineCounts returns the lines added and removed between two texts (--stat).
func LineCounts(a, b []byte) (added, removed int) {
	for _, d := range lineDiff(string(a), string(b)) {
		n := strings.Count(d.Text, "\n")
		if !strings.HasSuffix(d.Text, "\n") && d.Text != "" {
			n++
		}
		switch int(d.Type) {
		case dmpDelete:
			removed += n
		case dmpInsert:
			added += n
		}
	}
	return added, removed
}

// IsBinary reports whether content is shown as binary: it holds a NUL in
// its first 8,000 bytes (git's test), or more than MaxPatchLines lines.
func IsBinary(b []byte) bool { return isBinary(b) || bytes.Count(b, []byte{'\n'}) > MaxPatchLines }

// MaxPatchLines is the most lines a text may have to be diffed line by
// line. go-git's line differ maps every distinct line of both sides to a
// rune and panicked past about 1.1 million of them (a container's 8 MB
// file of numbers), and its time grows with the square of the lines.
const MaxPatchLines = 200_000

// patchTimeout bounds the line diff of one file: past it the differ
// gives a valid, coarser answer (what is left, deleted and added whole).
const patchTimeout = 5 * time.Second

// lineDiff is go-git's line diff, bounded in time (diff.Do allows an hour).
func lineDiff(a, b string) []diffmatchpatch.Diff {
	return diff.DoWithTimeout(a, b, patchTimeout)
}

type patch struct{ fp *filePatch }

func (p patch) FilePatches() []fdiff.FilePatch { return []fdiff.FilePatch{p.fp} }
func (p patch) Message() string                { return "" }

type filePatch struct {
	from, to fdiff.File
	binary   bool
	chunks   []fdiff.Chunk
}

func (f *filePatch) IsBinary() bool                  { return f.binary }
func (f *filePatch) Files() (fdiff.File, fdiff.File) { return f.from, f.to }
func (f *filePatch) Chunks() []fdiff.Chunk           { return f.chunks }

type chunk struct {
	content string
	op      fdiff.Operation
}

func (c chunk) Content() string       { return c.content }
func (c chunk) Type() fdiff.Operation { return c.op }

type file struct {
	hash plumbing.Hash
	mode filemode.FileMode
	path string
}

func (f file) Hash() plumbing.Hash     { return f.hash }
func (f file) Mode() filemode.FileMode { return f.mode }
func (f file) Path() string            { return f.path }

// patchFile describes an entry for the encoder: git's mode words, and the
// first 20 bytes of the content digest in place of a git blob id.
func patchFile(e *layer.Entry, p string, content []byte) fdiff.File {
	if e == nil {
		return nil
	}
	f := file{path: strings.TrimPrefix(p, "/")}
	switch KindOf(e.Type) {
	case layer.TypeFile:
		f.mode = filemode.FileMode(0o100000 | e.Mode&0o777)
	case layer.TypeSymlink:
		f.mode = filemode.Symlink
	case layer.TypeDir:
		f.mode = filemode.Dir
	default:
		f.mode = filemode.FileMode(0o100000 | e.Mode&0o777)
	}
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
