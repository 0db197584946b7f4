// Package pathquote prints file names as git does with core.quotePath
// off: a name with a control character, a double quote or a backslash is
// written in double quotes with C escapes, so that a name from a pulled
// image can neither break a line-oriented listing (status --short, diff
// --name-status) nor forge a line of it. Valid UTF-8 stays as it is;
// bytes that are not UTF-8 are escaped in octal, as git escapes them.
package pathquote

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Quote returns p as it may be printed on one line.
func Quote(p string) string {
	if !needsQuote(p) {
		return p
	}
	var b strings.Builder
	b.Grow(len(p) + 8)
	b.WriteByte('"')
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRuneInString(p[i:])
		c := p[i]
		switch {
		case r == utf8.RuneError && size <= 1:
			octal(&b, c)
		case size > 1:
			b.WriteString(p[i : i+size])
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			if c < 0x20 && escapes[c] != 0 {
				b.WriteByte('\\')
				b.WriteByte(escapes[c])
			} else {
				octal(&b, c)
			}
		default:
			b.WriteByte(c)
		}
		i += max(size, 1)
	}
	b.WriteByte('"')
	return b.String()
}

// escapes are the C escapes git writes for these bytes.
var escapes = [0x20]byte{'\a': 'a', '\b': 'b', '\t': 't', '\n': 'n', '\v': 'v', '\f': 'f', '\r': 'r'}

func octal(b *strings.Builder, c byte) {
	b.WriteByte('\\')
	s := strconv.FormatUint(uint64(c), 8)
	for range 3 - len(s) {
		b.WriteByte('0')
	}
	b.WriteString(s)
}

func needsQuote(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '"' || c == '\\' {
			return true
		}
	}
	return !utf8.ValidString(p)
}
