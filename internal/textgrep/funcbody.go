package textgrep

import "bytes"

// git's grep -W (Searcher.FuncBody): each match's function as context,
// as git 2.39's grep.c gives it.
//
// Before a match (show_pre_context): the lines back to the nearest
// function line (FuncLine), and the lines above that one back to an
// empty line or another function line (its comment); when the match is
// a function line itself, only those above it. No function line: every
// line since the last given. The function line goes to Func (git's "=").
//
// After it: every line up to the next function line; empty lines (white
// space only) are held until the next line that is not empty, and are
// part of the function only when that line is no function line (or the
// file ends), as git's peek.

// isEmptyLine is git's is_empty_line: white space only.
func isEmptyLine(l []byte) bool {
	return len(bytes.TrimLeft(l, " \t\n\v\f\r")) == 0
}

// funcBody takes a line that did not match inside a match's function;
// it reports false when the line is not the function's (the function
// ended: the line is any other line).
func (s *Searcher) funcBody(l []byte) bool {
	if s.Binary || s.Context == nil {
		return false
	}
	if isEmptyLine(l) {
		s.pending = append(s.pending, heldLine{s.n, bytes.Clone(l)})
		return true
	}
	s.endPending(l)
	if !s.inFunc {
		return false
	}
	s.giveBody(s.n, l)
	return true
}

// giveBody gives line n as the function's, which counts as After too.
func (s *Searcher) giveBody(n int, l []byte) {
	if s.afterLeft > 0 {
		s.afterLeft--
	}
	s.give(n, l, s.Context)
}

// endPending decides the empty lines held by the line l that follows
// them: a function line ends the function before them.
func (s *Searcher) endPending(l []byte) {
	if s.inFunc && s.FuncLine(l) {
		s.inFunc = false
	}
	pend := s.pending
	s.pending = nil
	for _, p := range pend {
		if s.inFunc {
			s.giveBody(p.n, p.line)
		} else {
			s.other(p.n, p.line, s.MaxCount >= 0 && s.Matches >= s.MaxCount)
		}
	}
}

// endFunc ends the file: empty lines held at its end are the
// function's, as git's peek finds no function line after them.
func (s *Searcher) endFunc() {
	for _, p := range s.pending {
		s.giveBody(p.n, p.line)
	}
	s.pending, s.inFunc = nil, false
}

// holdFunc holds line n, not given, for the function of a later match:
// every line since the last given, less those above the comment of the
// last function line (the last Before lines are kept).
func (s *Searcher) holdFunc(n int, l []byte) {
	s.held = append(s.held, heldLine{n, bytes.Clone(l)})
	if !s.FuncLine(l) {
		return
	}
	j := len(s.held) - 2
	for j >= 0 && !isEmptyLine(s.held[j].line) && !s.FuncLine(s.held[j].line) {
		j--
	}
	if drop := min(j, len(s.held)-s.Before); drop > 0 {
		s.held = append(s.held[:0], s.held[drop:]...)
	}
}

// giveFuncBefore gives, before match, the lines of its function above
// it, as git's show_pre_context with -W: back to the function line and
// its comment, or to the Before lines if they go further.
func (s *Searcher) giveFuncBefore(match []byte) {
	h := s.held
	origFrom := max(len(h)-s.Before, 0)
	from, fnAt := 0, -1
	comment := s.FuncLine(match)
	needFunc := s.FuncName || !comment
	cur := len(h)
	for cur > from {
		cur--
		l := h[cur].line
		if comment && (isEmptyLine(l) || s.FuncLine(l)) {
			comment, from = false, origFrom
			if cur < from {
				cur++
				break
			}
		}
		if needFunc && s.FuncLine(l) {
			fnAt, needFunc, comment = cur, false, true
		}
	}
	if needFunc && s.FuncName {
		// -p too: the function line above the comment, if not given,
		// as git's show_funcname_line.
		for i := cur - 1; i >= 0; i-- {
			if s.FuncLine(h[i].line) {
				s.give(h[i].n, h[i].line, s.Func)
				break
			}
		}
	}
	for i := cur; i < len(h); i++ {
		fn := s.Context
		if i == fnAt {
			fn = s.Func
		}
		s.give(h[i].n, h[i].line, fn)
	}
	s.held = s.held[:0]
}

// IsEmptyLine is git's is_empty_line: white space only (how -W's
// function and its comment end).
func IsEmptyLine(l []byte) bool { return isEmptyLine(l) }
