package textgrep

import (
	"strings"
	"testing"
)

// TestBasicPatterns: git grep's default patterns are POSIX basic, as GNU
// reads them: \( \| \+ are operators, ( | + characters; a bracket
// expression is taken as written.
func TestBasicPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern, line string
		want          bool
	}{
		{`foo(bar)`, "foo(bar)", true},
		{`foo\(bar\)`, "foobar", true},
		{`foo\(bar\)`, "foo(bar)", false},
		{`a+b`, "a+b", true},
		{`a\+b`, "aaab", true},
		{`a\|b`, "b", true},
		{`a|b`, "a|b", true},
		{`[(+]x`, "+x", true},
		{`[]a]b`, "]b", true},
		{`[[:digit:]]\{2\}`, "x42", true},
		{`*a`, "*a", true},
		{`x{2}`, "x{2}", true},
	} {
		re, err := Compile(Options{Patterns: []string{tc.pattern}})
		if err != nil {
			t.Errorf("%q: %v", tc.pattern, err)
			continue
		}
		if got := re.MatchString(tc.line); got != tc.want {
			t.Errorf("%q on %q: %v, want %v", tc.pattern, tc.line, got, tc.want)
		}
	}
}

// TestSearcherLines: lines are found whole across writes, the last one
// without its newline, and a NUL in the first 8000 bytes makes a file
// binary (counted, not printed).
func TestSearcherLines(t *testing.T) {
	re, _ := Compile(Options{Patterns: []string{"hello"}, Kind: Fixed})
	var got []string
	s := NewSearcher(re)
	s.Match = func(n int, line []byte) { got = append(got, string(line)) }
	text := "say hello\nno\nhello again"
	for i := 0; i < len(text); i += 3 {
		s.Write([]byte(text[i:min(i+3, len(text))]))
	}
	s.Close()
	if strings.Join(got, "|") != "say hello|hello again" || s.Matches != 2 || s.Binary {
		t.Errorf("got %q, %d matches, binary %v", got, s.Matches, s.Binary)
	}
	b := NewSearcher(re)
	b.Match = func(int, []byte) { t.Error("a binary file's line was printed") }
	b.Write([]byte("\x00hello\n"))
	b.Close()
	if !b.Binary || b.Matches != 1 {
		t.Errorf("binary %v, %d matches", b.Binary, b.Matches)
	}
}
