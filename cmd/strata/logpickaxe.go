package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/textgrep"
	"github.com/strata-sh/strata/objects/layer"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/tree"
	"github.com/strata-sh/strata/worktree"
	"github.com/zeebo/blake3"
)

// pickaxe is git's log -S and -G: it keeps the commits whose change (the
// files that differ from the first parent, as log -p shows them) adds or
// removes STRING (-S: its number of occurrences in a file changed) or a
// line that matches REGEX (-G). Merges never match, as in git without -m.
// Only the files the commit changed are read, each streamed from its
// layers (tree.CopyFiles) through a counter: memory holds one file of up
// to 8 MiB, never a commit's whole change.
type pickaxe struct {
	r      *repo.Repo
	paths  []string
	needle []byte         // -S
	fold   bool           // -S with -i
	re     *regexp.Regexp // -G
	lines  tree.LineDiff  // how -G diffs a file
	seen   map[digest.Digest]bool
	err    error // the first error; the walk stops on it
}

// newPickaxe returns the pickaxe of -S s or -G expr (nil: neither).
func newPickaxe(r *repo.Repo, s, expr string, ignoreCase bool, paths []string, lines tree.LineDiff) (*pickaxe, error) {
	if s == "" && expr == "" {
		return nil, nil
	}
	if s != "" && expr != "" {
		return nil, usagef("log: -S and -G: give one")
	}
	p := &pickaxe{r: r, paths: paths, lines: lines, seen: map[digest.Digest]bool{}}
	if s != "" {
		p.needle, p.fold = []byte(s), ignoreCase
		if ignoreCase {
			p.needle = bytes.ToLower(p.needle)
		}
		return p, nil
	}
	re, err := textgrep.Compile(textgrep.Options{Patterns: []string{expr}, Kind: textgrep.Extended, IgnoreCase: ignoreCase})
	if err != nil {
		return nil, usagef("log: -G: %v", err)
	}
	p.re = re
	return p, nil
}

// keeps says whether commit n is kept; an error is kept in p.err.
func (p *pickaxe) keeps(n *logNode) bool {
	if p.err != nil {
		return false
	}
	if kept, ok := p.seen[n.sum.ID]; ok {
		return kept
	}
	// The merge parent a walk took may come from a forged summary
	// record, which would keep the commit from being searched.
	if p.err = checkSummary(p.r, n.sum); p.err != nil || n.sum.MergeParent != "" {
		p.seen[n.sum.ID] = false
		return false
	}
	kept, err := p.changes(n.sum.ID, n.sum.Parent)
	p.seen[n.sum.ID], p.err = kept, err
	return kept
}

// changes compares, file by file, what commit d and its parent hold.
func (p *pickaxe) changes(d, parent digest.Digest) (bool, error) {
	diff, err := worktree.Main(p.r).Diff(context.Background(), worktree.DiffOptions{Revs: []string{d.String()}, Parent: true, Paths: p.paths})
	if err != nil {
		return false, err
	}
	old, new := map[string]*layer.Entry{}, map[string]*layer.Entry{}
	for _, c := range diff.Changes {
		if c.Old != nil && tree.KindOf(c.Old.Type) == layer.TypeFile {
			old[oldPath(c)] = c.Old
		}
		if c.New != nil && tree.KindOf(c.New.Type) == layer.TypeFile {
			new[c.Path] = c.New
		}
	}
	if len(old)+len(new) == 0 {
		return false, nil
	}
	// counts: per path, what the parent's file has less what the
	// commit's has: -S's occurrences, -G's matching lines (by hash).
	counts := map[string]map[[8]byte]int{}
	read := func(id digest.Digest, files map[string]*layer.Entry, sign int) error {
		if len(files) == 0 {
			return nil
		}
		c, err := p.r.Objects.ReadCommit(id)
		if err != nil {
			return err
		}
		return tree.NewHistory(p.r.Objects).CopyFiles(c.Layers(), files, filepath.Join(p.r.Root, "tmp"), func(q string) io.WriteCloser {
			m := counts[q]
			if m == nil {
				m = map[[8]byte]int{}
				counts[q] = m
			}
			return p.counter(m, sign)
		})
	}
	if err := read(d, new, -1); err != nil {
		return false, err
	}
	if parent != "" {
		if err := read(parent, old, 1); err != nil {
			return false, err
		}
	}
	for _, m := range counts {
		for _, n := range m {
			if n != 0 {
				return true, nil
			}
		}
	}
	if p.re == nil {
		return false, nil
	}
	// -G: the same matching lines on both sides may still be added and
	// removed (moved): the line diff of such a file, read one at a time,
	// tells, as log -p shows it (a file over MaxPatchSize, or binary, has
	// no line diff there either).
	for _, c := range diff.Changes {
		o, n := old[c.Path], new[c.Path]
		if o == nil || n == nil || len(counts[c.Path]) == 0 || tree.TooBig(o) || tree.TooBig(n) {
			continue
		}
		moved, err := p.movedLine(d, parent, c.Path, o, n)
		if moved || err != nil {
			return moved, err
		}
	}
	return false, nil
}

// movedLine reads file q of commit d and of its parent and says whether
// their line diff adds or removes a line -G matches.
func (p *pickaxe) movedLine(d, parent digest.Digest, q string, o, n *layer.Entry) (bool, error) {
	h := tree.NewHistory(p.r.Objects)
	content := func(id digest.Digest, e *layer.Entry) ([]byte, error) {
		c, err := p.r.Objects.ReadCommit(id)
		if err != nil {
			return nil, err
		}
		got, err := h.ReadContents(c.Layers(), map[string]*layer.Entry{q: e})
		return got[q], err
	}
	a, err := content(parent, o)
	if err != nil {
		return false, err
	}
	b, err := content(d, n)
	if err != nil || tree.IsBinary(a) || tree.IsBinary(b) {
		return false, err
	}
	return p.lines.ChangedLine(a, b, p.re.Match), nil
}

// counter adds sign to m for each occurrence of the needle (-S, under
// the zero key) or for each matching line, by its hash (-G).
func (p *pickaxe) counter(m map[[8]byte]int, sign int) io.WriteCloser {
	if p.re == nil {
		return &needleCounter{needle: p.needle, fold: p.fold, add: func() { m[[8]byte{}] += sign }}
	}
	s := textgrep.NewSearcher(p.re)
	s.Match = func(_ int, line []byte) {
		var k [8]byte
		h := blake3.Sum256(line)
		copy(k[:], h[:])
		m[k] += sign
	}
	return s // a binary file has no lines, as git's -G without --text
}

// needleCounter counts the occurrences of needle in what is written to
// it, without overlaps, as git's -S: it holds the end of the last piece
// that may begin one.
type needleCounter struct {
	needle []byte
	fold   bool
	add    func()
	carry  []byte
}

func (c *needleCounter) Write(b []byte) (int, error) {
	n := len(b)
	if c.fold {
		b = bytes.ToLower(b)
	}
	buf := append(c.carry, b...)
	pos := 0
	for {
		i := bytes.Index(buf[pos:], c.needle)
		if i < 0 {
			break
		}
		c.add()
		pos += i + len(c.needle)
	}
	keep := max(pos, len(buf)-(len(c.needle)-1))
	c.carry = append(c.carry[:0:0], buf[keep:]...)
	return n, nil
}

func (c *needleCounter) Close() error { return nil }
