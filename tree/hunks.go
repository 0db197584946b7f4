package tree

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
)

// hunkLine is one line of a patch: its text, with its "\n" unless it is
// a last line without one, and whether it is kept, removed or added.
type hunkLine struct {
	text string
	op   fdiff.Operation
}

// git's colours of a patch's lines.
const (
	colorMeta  = "\033[1m"
	colorFrag  = "\033[36m"
	colorOld   = "\033[31m"
	colorNew   = "\033[32m"
	colorReset = "\033[m"
)

// writeHunks writes the hunks of ch as git's xdiff emits them: changes
// at most 2×context lines apart in one hunk, each with context lines
// around it, and each hunk's header followed by its function line
// (funcLine).
func writeHunks(w io.Writer, ch []fdiff.Chunk, context int, color bool) error {
	n, nOld := 0, 0
	for _, c := range ch {
		k := strings.Count(c.Content(), "\n") + 1
		n += k
		if c.Type() != fdiff.Add {
			nOld += k
		}
	}
	lines := make([]hunkLine, 0, n)
	old := make([]int32, 0, nOld) // the old side's lines (in lines), where function lines are found
	for _, c := range ch {
		for l := range strings.SplitAfterSeq(c.Content(), "\n") {
			if l == "" {
				continue
			}
			if c.Type() != fdiff.Add {
				old = append(old, int32(len(lines)))
			}
			lines = append(lines, hunkLine{l, c.Type()})
		}
	}
	bw := bufio.NewWriter(w)
	// at, i1, i2: a line of lines, and the lines of each side before it.
	at, i1, i2 := 0, 0, 0
	advance := func(to int) {
		for ; at < to; at++ {
			if lines[at].op != fdiff.Add {
				i1++
			}
			if lines[at].op != fdiff.Delete {
				i2++
			}
		}
	}
	// fn is the last function line found, searched down to line searched
	// (git's funclineprev: a hunk with none of its own above it, down to
	// the hunk before, has that hunk's).
	fn, searched := "", -1
	for k := 0; ; {
		for k < len(lines) && lines[k].op == fdiff.Equal {
			k++
		}
		if k == len(lines) {
			break
		}
		start := max(k-context, 0)
		end := k
		for {
			for end < len(lines) && lines[end].op != fdiff.Equal {
				end++
			}
			next := end
			for next < len(lines) && lines[next].op == fdiff.Equal {
				next++
			}
			if next == len(lines) || next-end > 2*context {
				end = min(end+context, len(lines))
				break
			}
			end = next
		}
		advance(start)
		s1, s2 := i1, i2
		advance(end)
		for l := s1 - 1; l > searched; l-- {
			if f, ok := funcLine(lines[old[l]].text); ok {
				fn = f
				break
			}
		}
		searched = s1 - 1
		writeHunkHeader(bw, s1, i1-s1, s2, i2-s2, fn, color)
		for _, l := range lines[start:end] {
			writeHunkLine(bw, l, color)
		}
		k = end
	}
	return bw.Flush()
}

// writeHunkHeader writes git's "@@ -s1,n1 +s2,n2 @@ func" (xdiff's
// xdl_emit_hunk_hdr): lines counted from 1, a count of 1 left out, and
// the line before a side's place where it has none.
func writeHunkHeader(w *bufio.Writer, s1, n1, s2, n2 int, fn string, color bool) {
	if color {
		w.WriteString(colorFrag)
	}
	w.WriteString("@@ -")
	writeRange(w, s1, n1)
	w.WriteString(" +")
	writeRange(w, s2, n2)
	w.WriteString(" @@")
	if color {
		w.WriteString(colorReset)
	}
	if fn != "" {
		if color {
			// As git: the blank and the function line each in their
			// colour, both plain by default.
			w.WriteString(" " + colorReset + fn + colorReset)
		} else {
			w.WriteString(" " + fn)
		}
	}
	w.WriteByte('\n')
}

func writeRange(w *bufio.Writer, start, n int) {
	if n > 0 {
		start++
	}
	w.WriteString(strconv.Itoa(start))
	if n != 1 {
		w.WriteByte(',')
		w.WriteString(strconv.Itoa(n))
	}
}

func writeHunkLine(w *bufio.Writer, l hunkLine, color bool) {
	sign, on := byte(' '), ""
	switch l.op {
	case fdiff.Delete:
		sign, on = '-', colorOld
	case fdiff.Add:
		sign, on = '+', colorNew
	}
	if color {
		w.WriteString(on)
	}
	w.WriteByte(sign)
	if text, ok := strings.CutSuffix(l.text, "\n"); ok {
		w.WriteString(text)
	} else {
		w.WriteString(l.text + "\n\\ No newline at end of file")
	}
	if color && on != "" {
		w.WriteString(colorReset)
	}
	w.WriteByte('\n')
}

// funcLineMax is the most bytes of a function line git shows (xdiff's
// struct func_line).
const funcLineMax = 80

// IsFuncLine reports whether line is a function line by git's default
// rule (funcLine): the hunk headers' rule, and git grep -p's.
func IsFuncLine(line []byte) bool {
	return len(line) > 0 && isFuncStart(line[0])
}

func isFuncStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '$'
}

// funcLine is git's default function line rule (xdiff's def_ff): a line
// that begins with an ASCII letter, '_' or '$', cut to 80 bytes, without
// its trailing white space as git's isspace has it (blank, tab, newline,
// carriage return: a form feed or vertical tab stays).
func funcLine(line string) (string, bool) {
	if line == "" {
		return "", false
	}
	if !isFuncStart(line[0]) {
		return "", false
	}
	if len(line) > funcLineMax {
		line = line[:funcLineMax]
	}
	return strings.TrimRight(line, " \t\n\r"), true
}
