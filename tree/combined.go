package tree

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/strata-sh/strata/objects/layer"
)

// CombinedSide is one side of a combined diff: an entry (nil: none),
// its content, and, for a parent, the status letter of the path against
// it (A, M, D, T).
type CombinedSide struct {
	Entry   *layer.Entry
	Content []byte
	Status  byte
}

// CombinedOptions are how a combined diff is written.
type CombinedOptions struct {
	Context int
	// Dense is git's --cc: a hunk where the result takes one parent's
	// version unchanged is left out, and so is a path left with no hunk.
	Dense bool
	Color bool
	// Lines is how each parent is diffed against the result.
	Lines LineDiff
}

// WriteCombined writes git's combined diff of path (git's -c; --cc with
// Dense): the result against every parent at once, as git's
// combine-diff.c builds it from the diffs against each parent. Each
// line has one column per parent: "-" a line that parent had and the
// result lost, "+" a line of the result that parent lacked. The header
// is "diff --cc PATH", "index P1,P2..R" (full ids, as strata's -p),
// the modes when they differ ("new file mode", "deleted file mode
// P1,P2", "mode P1,P2..R"), then "--- a/PATH" and "+++ b/PATH"; binary
// content is "Binary files differ". As git's, only files and symlinks
// (a symlink's target is its content); other entries are as none.
func WriteCombined(w io.Writer, path string, result CombinedSide, parents []CombinedSide, o CombinedOptions) error {
	result = patchSide(result)
	for i := range parents {
		parents[i] = patchSide(parents[i])
	}
	if result.Entry == nil && !anyEntry(parents) {
		return nil
	}
	modeDiffers := false
	binary := TooBig(result.Entry) || IsBinary(result.Content)
	for _, p := range parents {
		modeDiffers = modeDiffers || GitMode(p.Entry) != GitMode(result.Entry)
		binary = binary || TooBig(p.Entry) || IsBinary(p.Content)
	}
	bw := bufio.NewWriter(w)
	h := combinedHeader{path: strings.TrimPrefix(path, "/"), result: result, parents: parents, o: o}
	if binary {
		h.write(bw, modeDiffers, false)
		bw.WriteString("Binary files differ\n")
		return bw.Flush()
	}
	c := newCombined(result, parents, o.Context, o.Lines)
	if c.makeHunks(o.Dense) || modeDiffers {
		h.write(bw, modeDiffers, true)
		c.dump(bw, o.Color)
	}
	return bw.Flush()
}

func anyEntry(sides []CombinedSide) bool {
	for _, s := range sides {
		if s.Entry != nil {
			return true
		}
	}
	return false
}

// patchSide is s as a patch sees it: none unless a file or a symlink,
// a symlink's content its target.
func patchSide(s CombinedSide) CombinedSide {
	if !inPatch(s.Entry) {
		return CombinedSide{Status: s.Status}
	}
	if s.Entry.Type == layer.TypeSymlink {
		s.Content = []byte(s.Entry.Link)
	}
	return s
}

type combinedHeader struct {
	path    string
	result  CombinedSide
	parents []CombinedSide
	o       CombinedOptions
}

// write is git's show_combined_header: the diff line, the ids, the
// modes when they differ, and with files the ---/+++ lines.
func (h combinedHeader) write(w *bufio.Writer, modeDiffers, files bool) {
	var b strings.Builder
	verb := "diff --combined "
	if h.o.Dense {
		verb = "diff --cc "
	}
	b.WriteString(verb + quoteTwo("", h.path) + "\nindex ")
	for i, p := range h.parents {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(sideHash(p))
	}
	b.WriteString(".." + sideHash(h.result) + "\n")
	deleted, added := h.result.Entry == nil, false
	if modeDiffers {
		added = !deleted
		for _, p := range h.parents {
			added = added && p.Status == 'A'
		}
		rmode := GitMode(h.result.Entry)
		if added {
			fmt.Fprintf(&b, "new file mode %06o\n", rmode)
		} else {
			if deleted {
				b.WriteString("deleted file ")
			}
			b.WriteString("mode ")
			for i, p := range h.parents {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%06o", GitMode(p.Entry))
			}
			if rmode != 0 {
				fmt.Fprintf(&b, "..%06o", rmode)
			}
			b.WriteByte('\n')
		}
	}
	if files {
		if added {
			b.WriteString("--- /dev/null\n")
		} else {
			b.WriteString("--- " + quoteTwo("a/", h.path) + "\n")
		}
		if deleted {
			b.WriteString("+++ /dev/null\n")
		} else {
			b.WriteString("+++ " + quoteTwo("b/", h.path) + "\n")
		}
	}
	text := b.String()
	if h.o.Color {
		text = colorLines(text, colorMeta, colorReset)
	}
	w.WriteString(text)
}

// sideHash is the id a side shows in the index line: git's null id
// for none.
func sideHash(s CombinedSide) string {
	f := patchFile(s.Entry, s.Content)
	if f == nil {
		return strings.Repeat("0", 40)
	}
	return f.hash.String()
}

// lline is a line some parents had and the result lost; parents says
// which (bit n: parent n).
type lline struct {
	text    string
	parents uint64
}

// sline is a line of the result (and one past the last, where lines
// lost at the end hang): its text, the lines lost just before it, the
// parents it is new to (bits 0..n-1), and git's mark and
// no-pre-delete bits (n and n+1).
type sline struct {
	text  string
	lost  []lline
	plost []lline // lost from the parent being compared, not yet coalesced
	flag  uint64
	pLno  []int // for each parent, its line number where a hunk from here starts
}

type combined struct {
	lines    []sline // cnt+2: the result's lines, then two past the end
	cnt      int
	n        int // parents
	context  int
	lineDiff LineDiff
}

func newCombined(result CombinedSide, parents []CombinedSide, context int, l LineDiff) *combined {
	text := string(result.Content)
	var ls []string
	for l := range strings.SplitAfterSeq(text, "\n") {
		if l != "" {
			ls = append(ls, l)
		}
	}
	c := &combined{cnt: len(ls), n: len(parents), context: context, lineDiff: l, lines: make([]sline, len(ls)+2)}
	for i := range c.lines {
		c.lines[i].pLno = make([]int, len(parents))
		if i < len(ls) {
			c.lines[i].text = strings.TrimSuffix(ls[i], "\n")
		}
	}
	for i, p := range parents {
		j := 0
		for ; j < i; j++ {
			if sideHash(parents[j]) == sideHash(p) {
				c.reuse(i, j)
				break
			}
		}
		if j == i {
			c.diff(p.Content, text, i)
		}
	}
	return c
}

// reuse copies parent j's comparison to parent i, of the same content.
func (c *combined) reuse(i, j int) {
	im, jm := uint64(1)<<i, uint64(1)<<j
	for l := range c.lines[:c.cnt+1] {
		s := &c.lines[l]
		s.pLno[i] = s.pLno[j]
		for k := range s.lost {
			if s.lost[k].parents&jm != 0 {
				s.lost[k].parents |= im
			}
		}
		if s.flag&jm != 0 {
			s.flag |= im
		}
	}
	c.lines[c.cnt+1].pLno[i] = c.lines[c.cnt+1].pLno[j]
}

// diff compares parent n's content with the result, as git's
// combine_diff: each hunk's removed lines hang on the result's line
// after them, its added lines are marked new to n. A result deleted is
// an empty one, as git's for commits: its parents' lines are lost.
func (c *combined) diff(parent []byte, result string, n int) {
	nmask := uint64(1) << n
	oldAt, newAt := 0, 0 // lines of each side before the chunk
	ch := c.lineDiff.chunks(string(parent), result)
	for k := 0; k < len(ch); {
		if ch[k].Type() == fdiff.Equal {
			m := lineCount(ch[k].Content())
			oldAt, newAt = oldAt+m, newAt+m
			k++
			continue
		}
		var removed []string
		added := 0
		for ; k < len(ch) && ch[k].Type() != fdiff.Equal; k++ {
			for l := range strings.SplitAfterSeq(ch[k].Content(), "\n") {
				if l == "" {
					continue
				}
				if ch[k].Type() == fdiff.Delete {
					removed = append(removed, strings.TrimSuffix(l, "\n"))
				} else {
					added++
				}
			}
		}
		// git's hunk: the line before a side's place when it has none.
		nb := newAt + 1
		if added == 0 {
			nb = newAt
		}
		bucket := nb - 1
		if added == 0 {
			bucket = nb
		}
		for _, l := range removed {
			c.lines[bucket].plost = append(c.lines[bucket].plost, lline{l, nmask})
		}
		for lno := nb; lno < nb+added; lno++ {
			c.lines[lno-1].flag |= nmask
		}
		oldAt, newAt = oldAt+len(removed), newAt+added
	}
	p := 1
	for lno := 0; lno <= c.cnt; lno++ {
		s := &c.lines[lno]
		s.pLno[n] = p
		if len(s.plost) > 0 {
			s.lost = coalesce(s.lost, s.plost, n)
			s.plost = nil
		}
		for _, l := range s.lost {
			if l.parents&nmask != 0 {
				p++
			}
		}
		if lno < c.cnt && s.flag&nmask == 0 {
			p++
		}
	}
	c.lines[c.cnt+1].pLno[n] = p
}

func lineCount(s string) int {
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// coalesce merges the lines parent n lost at a place into those other
// parents lost there, as git's coalesce_lines: a line both lost is one
// line marked lost from both (by their longest common subsequence).
func coalesce(base, lost []lline, n int) []lline {
	if len(base) == 0 {
		return lost
	}
	lcs := make([][]int, len(base)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(lost)+1)
	}
	const match, fromBase, fromNew = 0, 1, 2
	dir := func(i, j int) int {
		switch {
		case i == 0:
			return fromNew
		case j == 0:
			return fromBase
		case base[i-1].text == lost[j-1].text:
			return match
		case lcs[i][j-1] >= lcs[i-1][j]:
			return fromNew
		}
		return fromBase
	}
	for i := 1; i <= len(base); i++ {
		for j := 1; j <= len(lost); j++ {
			switch dir(i, j) {
			case match:
				lcs[i][j] = lcs[i-1][j-1] + 1
			case fromNew:
				lcs[i][j] = lcs[i][j-1]
			default:
				lcs[i][j] = lcs[i-1][j]
			}
		}
	}
	out := append([]lline(nil), base...)
	for i, j := len(base), len(lost); i != 0 || j != 0; {
		switch dir(i, j) {
		case match:
			out[i-1].parents |= uint64(1) << n
			i, j = i-1, j-1
		case fromNew:
			out = append(out[:i], append([]lline{lost[j-1]}, out[i:]...)...)
			j--
		default:
			i--
		}
	}
	return out
}
