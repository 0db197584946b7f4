package textgrep

import (
	"regexp"
	"strings"
	"testing"
)

// TestFuncBodyHoldsLittle: with -W, the lines held for a later match's
// function are those since the last function line's comment, and the
// Before lines: a long file of functions and no match holds a few lines,
// not the file.
func TestFuncBodyHoldsLittle(t *testing.T) {
	s := NewSearcher(regexp.MustCompile("nomatch"))
	s.FuncBody, s.Before = true, 2
	s.FuncLine = func(l []byte) bool { return len(l) > 0 && l[0] != ' ' }
	s.Func = func(int, []byte) {}
	s.Match = func(int, []byte) {}
	s.Context = func(int, []byte) {}
	for i := 0; i < 10000; i++ {
		s.Write([]byte("f(void)\n  body\n  more\n\n"))
	}
	s.Close()
	if len(s.held) > 8 {
		t.Errorf("%d lines held after 10000 functions, want at most 8", len(s.held))
	}
}

// TestFuncBodyGivesFunction: a match's function from its comment to the
// line before the next function, the empty line before that one left out.
func TestFuncBodyGivesFunction(t *testing.T) {
	s := NewSearcher(regexp.MustCompile("hit"))
	s.FuncBody = true
	s.FuncLine = func(l []byte) bool { return len(l) > 0 && l[0] != ' ' && l[0] != '#' }
	var got []string
	s.Func = func(n int, l []byte) { got = append(got, "="+string(l)) }
	s.Match = func(n int, l []byte) { got = append(got, ":"+string(l)) }
	s.Context = func(n int, l []byte) { got = append(got, "-"+string(l)) }
	s.Write([]byte("a\n\n# c\nf\n x\n hit\n y\n\ng\n hit2\n"))
	s.Close()
	if g, want := strings.Join(got, " "), "-# c =f - x : hit - y =g : hit2"; g != want {
		t.Errorf("gave %q, want %q", g, want)
	}
}
