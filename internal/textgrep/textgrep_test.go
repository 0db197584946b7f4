package textgrep

import (
	"reflect"
	"strconv"
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

// TestSearcherContext: -A and -B lines come once each, with Gap between
// groups that do not touch, and written in pieces as in one; after
// MaxCount matches the After lines are context whatever they hold.
func TestSearcherContext(t *testing.T) {
	text := "a\nhit1\nb\nc\nd\ne\nhit2\nhit3\nf\ng\n"
	for _, tc := range []struct {
		before, after, max int
		want               string
	}{
		{1, 1, -1, "-1 :2 -3 | -6 :7 :8 -9"},
		{0, 0, -1, ":2 | :7 :8"},
		{3, 0, -1, "-1 :2 | -4 -5 -6 :7 :8"},
		{0, 5, 1, ":2 -3 -4 -5 -6 -7"},
		{0, 0, 0, ""},
	} {
		for _, piece := range []int{1, 3, len(text)} {
			re, _ := Compile(Options{Patterns: []string{"hit"}})
			s := NewSearcher(re)
			s.Before, s.After, s.MaxCount = tc.before, tc.after, tc.max
			var got []string
			s.Match = func(n int, _ []byte) { got = append(got, ":"+strconv.Itoa(n)) }
			s.Context = func(n int, _ []byte) { got = append(got, "-"+strconv.Itoa(n)) }
			s.Gap = func() { got = append(got, "|") }
			for i := 0; i < len(text); i += piece {
				s.Write([]byte(text[i:min(i+piece, len(text))]))
			}
			s.Close()
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("-B%d -A%d -m%d, pieces of %d: %q, want %q", tc.before, tc.after, tc.max, piece, g, tc.want)
			}
		}
	}
}

// TestOnlyMatching: -o's matches, with -w only those at word boundaries.
func TestOnlyMatching(t *testing.T) {
	re, _ := Compile(Options{Patterns: []string{"hello"}})
	line := []byte("hellox hello xhello hello")
	if got := OnlyMatching(re, true, line); len(got) != 2 || got[0][0] != 7 || got[1][0] != 20 {
		t.Errorf("-w: %v, want the matches at 7 and 20", got)
	}
	if got := OnlyMatching(re, false, line); len(got) != 4 {
		t.Errorf("%v, want 4 matches", got)
	}
}

// TestOnlyMatchingAsGit: of the patterns' matches at one place the
// longest, and nothing past an empty match, as git 2.39's -o prints
// ('git grep -o -e x -e xx' on "aaxxbxc": xx, x; 'git grep -o "x*"':
// nothing).
func TestOnlyMatchingAsGit(t *testing.T) {
	line := []byte("aaxxbxc")
	for _, c := range []struct {
		o    Options
		want []string
	}{
		{Options{Patterns: []string{"x", "xx"}}, []string{"xx", "x"}},
		{Options{Patterns: []string{"x|xx"}, Kind: Extended}, []string{"xx", "x"}},
		{Options{Patterns: []string{"x*"}}, nil},
		{Options{Patterns: []string{"b", "x*"}}, nil},
		{Options{Patterns: []string{"b", "x"}, Kind: Fixed}, []string{"x", "x", "b", "x"}},
	} {
		re, err := Parts(c.o)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range OnlyMatching(re, false, line) {
			got = append(got, string(line[m[0]:m[1]]))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: %q, want %q", c.o.Patterns, got, c.want)
		}
	}
}
