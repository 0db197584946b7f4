// Package textgrep searches file contents line by line as git grep does:
// git's pattern kinds (basic, extended, fixed), -i and -w, and git's
// test for a binary file (a NUL in its first 8000 bytes). It holds one
// line at a time, so a search of any number of files of any size takes
// bounded memory.
package textgrep

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Kind is how patterns are read: git grep's -G (the default), -E and -F.
type Kind int

const (
	Basic    Kind = iota // POSIX basic: \( \) \{ \} \| \+ \? are the operators
	Extended             // POSIX extended, as Go's RE2 syntax reads it
	Fixed                // plain text
)

// Options say how to match.
type Options struct {
	Patterns   []string // a line matches if any of them does
	Kind       Kind
	IgnoreCase bool
	Word       bool // git's -w: the match starts and ends at a word boundary
}

// Compile makes one regular expression of o.
func Compile(o Options) (*regexp.Regexp, error) {
	alts := make([]string, len(o.Patterns))
	for i, p := range o.Patterns {
		switch o.Kind {
		case Fixed:
			p = regexp.QuoteMeta(p)
		case Basic:
			p = basicToExtended(p)
		}
		if _, err := regexp.Compile(p); err != nil {
			return nil, fmt.Errorf("pattern %q: %w", o.Patterns[i], unwrapSyntax(err))
		}
		alts[i] = "(?:" + p + ")"
	}
	re := strings.Join(alts, "|")
	if o.Word {
		// As git's -w: what comes before and after the match is no word
		// character (or the line's start and end).
		re = `(?:^|[^0-9A-Za-z_])(?:` + re + `)(?:[^0-9A-Za-z_]|$)`
	}
	if o.IgnoreCase {
		re = "(?i)" + re
	}
	return regexp.Compile(re)
}

// Parts compiles o's expression for OnlyMatching: without Word, and
// leftmost-longest, as git's -o takes of the patterns' matches the one
// that starts first, the longest of those (each found by POSIX regexec,
// itself leftmost-longest): '-o -e x -e xx' prints "xx", not "x" twice.
func Parts(o Options) (*regexp.Regexp, error) {
	o.Word = false
	re, err := Compile(o)
	if err != nil {
		return nil, err
	}
	re.Longest()
	return re, nil
}

// OnlyMatching returns where the matches of the patterns lie in line, in
// order and apart, as git's -o prints them. parts is Parts' expression:
// with word, a match is kept only if it starts and ends at a word
// boundary (Compile's Word expression matches the characters around it
// too). As git's, the line ends at an empty match ('x*' prints nothing
// of "axx").
func OnlyMatching(parts *regexp.Regexp, word bool, line []byte) [][]int {
	var out [][]int
	for _, m := range parts.FindAllIndex(line, -1) {
		if m[1] == m[0] {
			break
		}
		if word && (m[0] > 0 && isWordChar(line[m[0]-1]) || m[1] < len(line) && isWordChar(line[m[1]])) {
			continue
		}
		out = append(out, m)
	}
	return out
}

func isWordChar(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// unwrapSyntax drops regexp's "error parsing regexp: " prefix.
func unwrapSyntax(err error) error {
	return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
}

// basicToExtended rewrites a POSIX basic expression in extended syntax,
// as GNU reads it: \( \) \{ \} \| \+ \? are operators, and ( ) { } | +
// ? are characters; a bracket expression is copied as it is.
func basicToExtended(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '[':
			j := bracketEnd(p, i)
			b.WriteString(p[i:j])
			i = j - 1
		case c == '\\' && i+1 < len(p) && strings.IndexByte("(){}|+?", p[i+1]) >= 0:
			b.WriteByte(p[i+1])
			i++
		case c == '\\' && i+1 < len(p):
			b.WriteString(p[i : i+2])
			i++
		case strings.IndexByte("(){}|+?", c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '*' && (i == 0 || p[i-1] == '^' && i == 1):
			b.WriteString(`\*`) // a leading * is a character
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// bracketEnd returns the index after the bracket expression at p[i]
// ("[]a]", "[^]a]", "[[:alpha:]]"), or len(p) if it does not end.
func bracketEnd(p string, i int) int {
	j := i + 1
	if j < len(p) && p[j] == '^' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for j < len(p) {
		switch {
		case p[j] == '[' && j+1 < len(p) && strings.IndexByte(":.=", p[j+1]) >= 0:
			end := strings.Index(p[j+2:], string(p[j+1])+"]")
			if end < 0 {
				return len(p)
			}
			j += 2 + end + 2
		case p[j] == ']':
			return j + 1
		default:
			j++
		}
	}
	return len(p)
}

// binaryPeek is how much of a file git looks at for a NUL byte.
const binaryPeek = 8000

// MaxLine is the longest line searched whole: a longer one (a file of
// no newlines) is searched in pieces of MaxLine bytes, so that memory
// stays bounded; a match across two pieces is not found.
const MaxLine = 8 << 20

// Searcher searches one file's content, written to it in pieces; Close
// ends its last line. It calls Match for each matching line of a text
// file (n counts from 1; line has no newline) and counts them; of a
// binary file it only counts them.
type Searcher struct {
	re    *regexp.Regexp
	Match func(n int, line []byte)
	// First stops the search at the first match (git's -l, -q).
	First bool
	// Text searches a binary file as text (git's -a).
	Text bool
	// Invert selects the lines that do not match (git's -v).
	Invert bool
	// MaxCount stops the search after that many matching lines (git's
	// -m), once the After lines that follow the last are given; < 0, as
	// NewSearcher sets it: no limit.
	MaxCount int
	// Before and After are how many lines around each match of a text
	// file Context gets (git's -B, -A), each line once; Gap is called
	// before a line given that does not follow the last one given (git's
	// "--" between groups). After MaxCount matches, the After lines are
	// context whatever they hold, as git's.
	Before, After int
	Context       func(n int, line []byte)
	Gap           func()
	// FuncName gives each match's function line (git's grep -p; it
	// needs FuncLine and Func): the nearest line above the match that
	// FuncLine accepts, when it was not given yet, goes to Func (git's
	// "=" lines) before the match and its Before lines, or in place of
	// Context when it is one of them.
	FuncName bool
	FuncLine func(line []byte) bool
	Func     func(n int, line []byte)
	// FuncBody gives each match's whole function as context (git's grep
	// -W; it needs FuncLine and Func): funcbody.go.
	FuncBody bool
	// Pre is true while Context and Func are given a match's lines
	// before it (Before, or -W's function above it), false for the
	// lines after it.
	Pre bool
	// Each, when set, gets every line of a text file as it is searched,
	// before Match or Context do.
	Each func(n int, line []byte)

	Binary  bool // decided once binaryPeek bytes (or all) were seen
	Matches int  // matching lines

	decided   bool
	buf       []byte
	n         int
	held      []heldLine // the last Before lines not given
	afterLeft int        // lines still to give after a match
	lastGiven int        // the number of the last line given (0: none)
	fn        heldLine   // the last line FuncLine accepted (with Func)
	inFunc    bool       // FuncBody: in a match's function, after it
	pending   []heldLine // FuncBody: empty lines in it, not given yet
	done      bool       // MaxCount reached and its context given
}

// heldLine is a line kept for Before context.
type heldLine struct {
	n    int
	line []byte
}

// NewSearcher returns a Searcher for re.
func NewSearcher(re *regexp.Regexp) *Searcher { return &Searcher{re: re, MaxCount: -1} }

// stopped reports whether nothing more is to be searched.
func (s *Searcher) stopped() bool { return s.done || s.First && s.Matches > 0 }

// Write searches the complete lines of p (with what came before).
func (s *Searcher) Write(p []byte) (int, error) {
	if s.stopped() {
		return len(p), nil
	}
	s.buf = append(s.buf, p...)
	if !s.decided {
		if len(s.buf) < binaryPeek {
			return len(p), nil
		}
		s.decide()
	}
	s.lines(false)
	return len(p), nil
}

// Close searches the last line, which need not end in a newline.
func (s *Searcher) Close() error {
	if !s.decided {
		s.decide()
	}
	s.lines(true)
	s.endFunc()
	return nil
}

func (s *Searcher) decide() {
	s.decided = true
	s.Binary = !s.Text && bytes.IndexByte(s.buf[:min(len(s.buf), binaryPeek)], 0) >= 0
}

// lines searches each whole line of buf (and, at the end, what is left),
// keeping an incomplete one for the next write.
func (s *Searcher) lines(end bool) {
	rest := s.buf
	for len(rest) > 0 && !s.stopped() {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if !end && len(rest) < MaxLine {
				break
			}
			i = min(len(rest), MaxLine)
			s.line(rest[:i])
			rest = rest[i:]
			continue
		}
		s.line(rest[:i])
		rest = rest[i+1:]
	}
	if s.stopped() {
		rest = nil
	}
	s.buf = append(s.buf[:0], rest...)
}

// line searches one line, then notes whether it is a function line.
func (s *Searcher) line(l []byte) {
	s.search(l)
	if s.FuncName && !s.Binary && s.FuncLine(l) {
		s.fn.n, s.fn.line = s.n, append(s.fn.line[:0], l...)
	}
}

func (s *Searcher) search(l []byte) {
	s.n++
	if s.Each != nil && !s.Binary {
		s.Each(s.n, l)
	}
	limited := s.MaxCount >= 0 && s.Matches >= s.MaxCount
	if !limited && s.re.Match(l) != s.Invert {
		s.Matches++
		if !s.Binary && s.Match != nil {
			if s.FuncBody {
				s.endPending(l)
				s.Pre = true
				s.giveFuncBefore(l)
			} else {
				s.Pre = true
				s.giveHeld()
			}
			s.Pre = false
			s.give(s.n, l, s.Match)
			s.inFunc = s.FuncBody
		}
		s.afterLeft = s.After
		return
	}
	if s.inFunc && s.funcBody(l) {
		return
	}
	s.other(s.n, l, limited)
}

// other takes line n, which did not match: it is After context, or
// held for Before context.
func (s *Searcher) other(n int, l []byte, limited bool) {
	switch {
	case limited && s.afterLeft == 0:
		s.done = true
	case s.Binary || s.Context == nil:
	case s.afterLeft > 0:
		s.afterLeft--
		s.give(n, l, s.Context)
	case s.FuncBody:
		s.holdFunc(n, l)
	case s.Before > 0:
		if len(s.held) == s.Before {
			s.held = append(s.held[:0], s.held[1:]...)
		}
		s.held = append(s.held, heldLine{n, bytes.Clone(l)})
	}
}

// giveHeld gives the Before lines held, before a match, and its
// function line (with Func), as git's show_pre_context: the nearest of
// them FuncLine accepts goes to Func; when none does, the last function
// line seen, if not given yet, goes to Func before them.
func (s *Searcher) giveHeld() {
	at := -1
	if s.FuncName {
		for i := len(s.held) - 1; i >= 0 && at < 0; i-- {
			if s.FuncLine(s.held[i].line) {
				at = i
			}
		}
		if at < 0 && s.fn.n > s.lastGiven {
			s.give(s.fn.n, s.fn.line, s.Func)
		}
	}
	for i, h := range s.held {
		fn := s.Context
		if i == at {
			fn = s.Func
		}
		s.give(h.n, h.line, fn)
	}
	s.held = s.held[:0]
}

// give passes line n to fn, after Gap if it does not follow the last
// line given.
func (s *Searcher) give(n int, l []byte, fn func(int, []byte)) {
	if s.lastGiven > 0 && n > s.lastGiven+1 && s.Gap != nil {
		s.Gap()
	}
	fn(n, l)
	s.lastGiven = n
}
