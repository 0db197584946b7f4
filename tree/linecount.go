package tree

import (
	"bytes"
	"hash/maphash"

	"github.com/strata-sh/strata/objects/layer"
)

// BigFileThreshold is git's core.bigFileThreshold default: a file larger
// than this is binary to git's diff, whatever its content, and --stat and
// --numstat count it in bytes. Below it, git reads the file and counts
// its lines unless it has a NUL in its first 8,000 bytes.
const BigFileThreshold = 512 << 20

// OverThreshold reports whether e is a file over threshold (git's
// core.bigFileThreshold, BigFileThreshold unless the config sets it).
func OverThreshold(e *layer.Entry, threshold int64) bool {
	return e != nil && KindOf(e.Type) == layer.TypeFile && e.Size > threshold
}

// LineText is a file as --stat counts its lines without holding it: a
// hash of each line, and whether git's test finds it binary. Written to
// as an io.Writer, as the content streams past.
type LineText struct {
	hash   maphash.Hash
	seeded bool
	begun  bool // a line has bytes not yet hashed into Lines
	seen   int  // bytes seen, up to 8,000 (git's binary test)
	Binary bool
	Lines  []uint64
}

// textSeed is the one seed of every LineText: two files' hashes are
// compared.
var textSeed = maphash.MakeSeed()

// Write hashes the lines of b, the content's next bytes.
func (t *LineText) Write(b []byte) (int, error) {
	if t.seen < 8000 {
		head := b[:min(len(b), 8000-t.seen)]
		t.Binary = t.Binary || bytes.IndexByte(head, 0) >= 0
		t.seen += len(head)
	}
	if !t.seeded {
		t.hash.SetSeed(textSeed)
		t.seeded = true
	}
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.hash.Write(b)
			t.begun = true
			break
		}
		t.hash.Write(b[:i+1])
		t.Lines = append(t.Lines, t.hash.Sum64())
		t.hash.Reset()
		t.begun = false
		b = b[i+1:]
	}
	return n, nil
}

// Close ends the last line, one without a newline.
func (t *LineText) Close() error {
	if t.begun {
		t.Lines = append(t.Lines, t.hash.Sum64())
		t.hash.Reset()
		t.begun = false
	}
	return nil
}

// TextOf is the LineText of content held in memory.
func TextOf(b []byte) *LineText {
	t := &LineText{}
	t.Write(b)
	t.Close()
	return t
}

// maxCountWork bounds the steps of CountLines' search; past it the
// lines between the common head and tail count as removed and added
// whole, as git's diff gives up on a costly minimal diff too.
const maxCountWork = 200_000_000

// CountLines returns the lines added and removed from a to b, as a
// minimal line diff has them (Myers' greedy search for the length of the
// shortest edit, which needs no edit script): only hashes of lines, so
// files of any size are counted in 8 bytes a line.
func CountLines(a, b []uint64) (added, removed int) {
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return m, n
	}
	// v[off+k]: the furthest x reached on diagonal k = x - y. Each d
	// costs d steps at least, so the work bound keeps d below maxD.
	maxD := min(n+m, 1<<15)
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	work := 0
	for d := 0; d <= maxD; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y, x0 := x-k, x
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			work += 1 + x - x0
			v[off+k] = x
			if x >= n && y >= m {
				// d edits: removed - added is n - m.
				return (d - n + m) / 2, (d + n - m) / 2
			}
		}
		if work > maxCountWork {
			break
		}
	}
	return m, n
}
