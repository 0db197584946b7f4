package tree

import (
	"bufio"
	"strconv"
	"strings"
)

// The bits of sline.flag past the parents'.
func (c *combined) masks() (all, mark, noPreDelete uint64) {
	return uint64(1)<<c.n - 1, uint64(1) << c.n, uint64(2) << c.n
}

// interesting: a line new to a parent, or one with lines lost before it.
func (c *combined) interesting(s *sline) bool {
	all, _, _ := c.masks()
	return s.flag&all != 0 || len(s.lost) > 0
}

// adjustTail is git's adjust_hunk_tail: a hunk whose last line is there
// only for the lines lost before it ends before it.
func (c *combined) adjustTail(begin, i int) int {
	all, _, _ := c.masks()
	if begin+1 <= i && c.lines[i-1].flag&all == 0 {
		i--
	}
	return i
}

// findNext is the next line from i marked (or not, uninteresting).
func (c *combined) findNext(i int, uninteresting bool) int {
	_, mark, _ := c.masks()
	for ; i <= c.cnt; i++ {
		if (c.lines[i].flag&mark == 0) == uninteresting {
			return i
		}
	}
	return i
}

// giveContext marks the context lines around the marked ones, joining
// groups close enough, as git's give_context; it reports whether any
// line is marked.
func (c *combined) giveContext() bool {
	_, mark, noPre := c.masks()
	i := c.findNext(0, false)
	if c.cnt < i {
		return false
	}
	for i <= c.cnt {
		for j := max(i-c.context, 0); j < i; j++ {
			if c.lines[j].flag&mark == 0 {
				c.lines[j].flag |= noPre
			}
			c.lines[j].flag |= mark
		}
		for {
			j := c.findNext(i, true)
			if c.cnt < j {
				return true // the rest are all marked
			}
			k := c.findNext(j, false)
			j = c.adjustTail(i, j)
			if k < j+c.context {
				for ; j < k; j++ {
					c.lines[j].flag |= mark
				}
				i = k
				continue
			}
			i = k
			for end := min(j+c.context, c.cnt+1); j < end; j++ {
				c.lines[j].flag |= mark
			}
			break
		}
	}
	return true
}

// makeHunks marks the lines to show, as git's make_hunks; dense (--cc)
// leaves out a hunk whose changes all come from the same parents but
// not from every one: the result took a parent's version as it was.
func (c *combined) makeHunks(dense bool) bool {
	all, mark, _ := c.masks()
	for i := 0; i <= c.cnt; i++ {
		if c.interesting(&c.lines[i]) {
			c.lines[i].flag |= mark
		} else {
			c.lines[i].flag &^= mark
		}
	}
	if !dense {
		return c.giveContext()
	}
	for i := 0; i <= c.cnt; {
		for i <= c.cnt && c.lines[i].flag&mark == 0 {
			i++
		}
		if c.cnt < i {
			break
		}
		begin := i
		j := i + 1
		for ; j <= c.cnt; j++ {
			if c.lines[j].flag&mark != 0 {
				continue
			}
			// An interesting line after this one within the
			// context continues the hunk.
			la := min(c.adjustTail(begin, j)+c.context, c.cnt+1)
			contin := false
			for la > 0 {
				la--
				if la < j {
					break
				}
				if c.lines[la].flag&mark != 0 {
					contin = true
					break
				}
			}
			if !contin {
				break
			}
			j = la
		}
		end := j
		var same uint64
		varied := false
		for j := i; j < end && !varied; j++ {
			if d := c.lines[j].flag & all; d != 0 {
				if same == 0 {
					same = d
				} else if same != d {
					varied = true
					break
				}
			}
			for _, l := range c.lines[j].lost {
				if same == 0 {
					same = l.parents
				} else if same != l.parents {
					varied = true
				}
			}
		}
		if !varied && same != all {
			for j := begin; j < end; j++ {
				c.lines[j].flag &^= mark
			}
		}
		i = end
	}
	return c.giveContext()
}

// funcComment is git's hunk_comment_line: a line that starts with a
// letter, '_' or '$'.
func funcComment(s string) bool {
	return s != "" && (isFuncStart(s[0]))
}

// dump writes the marked lines as hunks, as git's dump_sline.
func (c *combined) dump(w *bufio.Writer, color bool) {
	_, mark, noPre := c.masks()
	paint := func(on string) string {
		if color {
			return on
		}
		return ""
	}
	cFrag, cNew, cOld, cReset := paint(colorFrag), paint(colorNew), paint(colorOld), paint(colorReset)
	lno := 0
	for {
		comment, hasComment := "", false
		for lno <= c.cnt && c.lines[lno].flag&mark == 0 {
			if lno < c.cnt && funcComment(c.lines[lno].text) {
				comment, hasComment = c.lines[lno].text, true
			}
			lno++
		}
		if c.cnt < lno {
			return
		}
		end := lno + 1
		for end <= c.cnt && c.lines[end].flag&mark != 0 {
			end++
		}
		rlines := end - lno
		if c.cnt < end {
			rlines-- // the place past the last line, for lines lost there
		}
		nullContext := 0
		if c.context == 0 {
			for j := lno; j < end; j++ {
				if c.lines[j].flag&(mark-1) == 0 {
					nullContext++
				}
			}
			rlines -= nullContext
		}
		at := strings.Repeat("@", c.n+1)
		w.WriteString(cFrag + at)
		for p := 0; p < c.n; p++ {
			l0, l1 := c.lines[lno].pLno[p], c.lines[end].pLno[p]
			w.WriteString(" -" + strconv.Itoa(l0) + "," + ulong(l1-l0-nullContext))
		}
		w.WriteString(" +" + strconv.Itoa(lno+1) + "," + ulong(rlines) + " " + at)
		if hasComment {
			writeComment(w, comment, color)
		}
		w.WriteString(cReset + "\n")
		for lno < end {
			s := &c.lines[lno]
			lno++
			if s.flag&noPre == 0 {
				for _, l := range s.lost {
					w.WriteString(cOld)
					for p := 0; p < c.n; p++ {
						w.WriteByte(" -"[l.parents>>p&1])
					}
					writeToEOL(w, l.text, cReset)
				}
			}
			if c.cnt < lno {
				break
			}
			if s.flag&(mark-1) == 0 {
				if c.context == 0 {
					continue // here only to hang the lost lines on
				}
			} else {
				w.WriteString(cNew)
			}
			for p := 0; p < c.n; p++ {
				w.WriteByte(" +"[s.flag>>p&1])
			}
			writeToEOL(w, s.text, cReset)
		}
	}
}

// ulong is n as git prints its unsigned longs: -1, with -U0 and lines
// lost at the end, is 18446744073709551615.
func ulong(n int) string {
	return strconv.FormatUint(uint64(int64(n)), 10)
}

// writeComment writes a hunk's function line as git's combined diff
// does: of its first 40 bytes, those before the last that is not a
// space (git leaves that one out).
func writeComment(w *bufio.Writer, line string, color bool) {
	end := 0
	for i := 0; i < 40 && i < len(line); i++ {
		ch := line[i]
		if ch == 0 || ch == '\n' {
			break
		}
		if !isCSpace(ch) {
			end = i
		}
	}
	if end == 0 {
		return
	}
	if color {
		w.WriteString(colorReset + " " + colorReset)
	} else {
		w.WriteString(" ")
	}
	w.WriteString(line[:end])
}

// isCSpace is C's isspace in git's (ASCII) locale.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// writeToEOL is git's show_line_to_eol: the line, reset, and a carriage
// return that ended it after the reset.
func writeToEOL(w *bufio.Writer, line, reset string) {
	cr := strings.HasSuffix(line, "\r")
	if cr {
		line = line[:len(line)-1]
	}
	w.WriteString(line + reset)
	if cr {
		w.WriteByte('\r')
	}
	w.WriteByte('\n')
}
