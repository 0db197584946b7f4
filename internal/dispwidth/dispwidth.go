// Package dispwidth measures text in terminal columns as git does (its
// utf8.c: git_wcwidth, utf8_strwidth), so that columns padded by
// strata (diff --stat's names, branch -v's, tag -n's) line up as git's
// do: a wide or fullwidth character (East Asian Width W or F: CJK,
// Hangul syllables, fullwidth forms, most emoji) takes two columns; a
// combining or format character (general category Mn, Me or Cf, and
// the Hangul medial and final jamo U+1160 to U+11FF, but the soft
// hyphen U+00AD) none; a control character none; any other one.
package dispwidth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Rune is git_wcwidth of r: its columns, or -1 for a control
// character (C0, DEL and C1), which a terminal does not print as one.
func Rune(r rune) int {
	switch {
	case r == 0:
		return 0
	case r < 0x20 || r >= 0x7f && r < 0xa0:
		return -1
	case r < 0x300:
		// Latin-1 and the Latin extensions: one column each, but
		// the soft hyphen (Cf), which git counts as one too.
		return 1
	case r >= 0x1160 && r <= 0x11ff,
		unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// String is git's utf8_strwidth of s: the columns of its characters,
// controls counting none; s not valid UTF-8 is counted in bytes.
func String(s string) int {
	if !utf8.ValidString(s) {
		return len(s)
	}
	n := 0
	for _, r := range s {
		n += max(Rune(r), 0)
	}
	return n
}

// Pad is s followed by the spaces that make it w columns wide (none
// when it is as wide already): git's %(align:w) and its padded names.
func Pad(s string, w int) string {
	return s + strings.Repeat(" ", max(w-String(s), 0))
}

// CutLeft drops the characters at the start of s until what is left is
// at most w columns wide, as git's show_stats cuts a name too long for
// --stat (before it goes on to the next '/'). A byte that is not
// UTF-8 is one column, as utf8_strwidth counts it.
func CutLeft(s string, w int) string {
	n := String(s)
	for n > max(w, 0) && s != "" {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size == 1 {
			n--
		} else {
			n -= max(Rune(r), 0)
		}
		s = s[size:]
	}
	return s
}
