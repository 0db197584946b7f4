package main

import (
	"io"

	"github.com/strata-sh/strata/internal/textgrep"
	"github.com/strata-sh/strata/tree"
)

// onlyLines is -o with context (-A, -B, -C, -W), as git's show_line with
// only_matching: no line of context is printed, only the "--" lines its
// context makes. Each line git would show gives "--" when it is the
// file's first (between files), or when it does not follow the last
// line whose match was printed (git's last_shown, which only a printed
// match moves: an empty match, as of ^$, does not). A match's lines
// before it start after that line, so lines already shown after an
// earlier match come again (git's show_pre_context).
type onlyLines struct {
	o       grepOptions
	w       io.Writer
	emit    func(sep byte, n int, line []byte, context bool)
	start   func() // the file's first line shown
	started *bool
	last    int // the last line whose match was printed (0: none)
	// since: with -W, the lines since last, for git's rewind to a
	// match's function (record).
	since []grepLine
}

type grepLine struct {
	n    int
	line []byte
}

// attach makes s give its lines to l.
func (l *onlyLines) attach(s *textgrep.Searcher) {
	s.After = l.o.after
	if !l.o.funcBody {
		s.Context = func(n int, line []byte) { l.matches('-', n, line) }
		s.Match = func(n int, line []byte) {
			for k := max(n-l.o.before, l.last+1, 1); k < n; k++ {
				l.show(k)
			}
			l.matches(':', n, line)
		}
		return
	}
	s.Before, s.FuncBody, s.FuncLine = l.o.before, true, tree.IsFuncLine
	s.Each = l.record
	given := func(n int, line []byte) {
		if !s.Pre {
			l.matches('-', n, line) // a line of the function after a match
		}
	}
	s.Context, s.Func = given, given
	s.Match = func(n int, line []byte) {
		for _, b := range l.before(n, line) {
			l.matches('-', b.n, b.line)
		}
		l.matches(':', n, line)
		if l.last == n {
			l.since = l.since[:0]
		}
	}
}

// record keeps line n for the rewind of a later match (before): every
// line since the last printed match, less those a function line puts
// out of reach (above its comment and the -B lines before it).
func (l *onlyLines) record(n int, line []byte) {
	l.since = append(l.since, grepLine{n, append([]byte(nil), line...)})
	if !tree.IsFuncLine(line) {
		return
	}
	f := len(l.since) - 1
	c := f
	for c > 0 && !textgrep.IsEmptyLine(l.since[c-1].line) && !tree.IsFuncLine(l.since[c-1].line) {
		c--
	}
	if drop := min(c-1, f-l.o.before); drop > 0 {
		l.since = append(l.since[:0], l.since[drop:]...)
	}
}

// show is a line git shows: "--" before it when it does not follow.
func (l *onlyLines) show(n int) {
	switch {
	case !*l.started:
		l.start()
	case l.last == 0 || n > l.last+1:
		io.WriteString(l.w, "--\n")
	}
}

// matches shows line n, printing its matches.
func (l *onlyLines) matches(sep byte, n int, line []byte) {
	l.show(n)
	for _, m := range textgrep.OnlyMatching(l.o.parts, l.o.word, line) {
		l.emit(sep, n, line[m[0]:m[1]], sep == '-')
		l.last = n
	}
}

// before is what git's show_pre_context shows before match n with -W:
// from the line after the last printed match, rewound to the match's
// function line and the comment above it (for a match on a function
// line, its comment alone), or to its -B lines when they go further.
func (l *onlyLines) before(n int, match []byte) []grepLine {
	var h []grepLine
	for _, g := range l.since {
		if g.n > l.last && g.n < n {
			h = append(h, g) // the lines after the last printed match
		}
	}
	origFrom := max(n-l.o.before, l.last+1, 1)
	comment := tree.IsFuncLine(match)
	funcNeeded := !comment
	cur, from := len(h), 0
	for cur > from {
		cur--
		line := h[cur].line
		if comment && (textgrep.IsEmptyLine(line) || tree.IsFuncLine(line)) {
			comment = false
			if from = firstAt(h, origFrom); cur < from {
				cur++
				break
			}
		}
		if funcNeeded && tree.IsFuncLine(line) {
			funcNeeded, comment = false, true
		}
	}
	return h[cur:]
}

// firstAt is the index of the first of h numbered n or later.
func firstAt(h []grepLine, n int) int {
	for i, g := range h {
		if g.n >= n {
			return i
		}
	}
	return len(h)
}
