// Package pathquote prints file names as git does: a name with a control
// character, a double quote or a backslash is written in double quotes
// with C escapes, so that a name from a pulled image can neither break a
// line-oriented listing (status --short, diff --name-status) nor forge a
// line of it. With core.quotePath on (git's default, SetQuotePath) every
// byte over 0x7f is escaped in octal too ("caf\303\251"); with it off,
// valid UTF-8 stays as it is and only bytes that are not UTF-8 are
// escaped (git prints those raw: a stray 0x9b is a terminal's CSI).
//
// Text does the same for free text from an image (commit messages,
// authors, config strings) without the quotes: a pulled commit's subject
// must not move the cursor, retitle the terminal or write its clipboard.
// Both escape the C1 controls (U+0080 to U+009F) too, which some
// terminals obey as escape sequences, and the bidirectional embeddings,
// overrides and isolates (IsBidiControl), which reorder what is shown
// around them; git passes both (unless core.quotePath escapes all
// non-ASCII).
package pathquote

import (
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// rawUTF8 is core.quotePath off: names keep their valid UTF-8.
var rawUTF8 atomic.Bool

// SetQuotePath sets core.quotePath for the names Quote prints: on, git's
// default, escapes every byte over 0x7f; off keeps valid UTF-8.
func SetQuotePath(on bool) { rawUTF8.Store(!on) }

// Quote returns p as it may be printed on one line.
func Quote(p string) string { return quote(p, false) }

// QuoteSpaced is Quote that also quotes a name with a space, as git's
// status --short and --porcelain do: there a space separates the code
// from the name, and " M a -> b" must not read as a rename.
func QuoteSpaced(p string) string { return quote(p, true) }

func quote(p string, space bool) string {
	ascii := !rawUTF8.Load()
	if clean(p, false, ascii) && !(space && strings.IndexByte(p, ' ') >= 0) {
		return p
	}
	var b strings.Builder
	b.Grow(len(p) + 8)
	b.WriteByte('"')
	escape(&b, p, true, ascii)
	b.WriteByte('"')
	return b.String()
}

// Name returns s as Text does, with its newlines escaped too ("\n"):
// a ref's or work tree's name on one line of a listing, with no quotes.
// A repository handed over may hold a ref named "x\n* main", which
// would otherwise forge a line of its own.
func Name(s string) string {
	return strings.ReplaceAll(Text(s), "\n", `\n`)
}

// Text returns s with its control characters escaped as Quote escapes
// them, tabs and newlines kept: what is printed as a message, not a name.
func Text(s string) string {
	if clean(s, true, false) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	escape(&b, s, false, false)
	return b.String()
}

// escape writes s to b with C escapes; quoted also escapes '"' and '\',
// and every tab and newline; ascii every byte over 0x7f.
func escape(b *strings.Builder, s string, quoted, ascii bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		c := s[i]
		switch {
		case ascii && c >= 0x80:
			octal(b, c)
			size = 1
		case r == utf8.RuneError && size <= 1:
			octal(b, c)
		case isC1(r) || IsBidiControl(r):
			for j := range size {
				octal(b, s[i+j])
			}
		case size > 1:
			b.WriteString(s[i : i+size])
		case quoted && (c == '"' || c == '\\'):
			b.WriteByte('\\')
			b.WriteByte(c)
		case !quoted && (c == '\t' || c == '\n'):
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			if c < 0x20 && escapes[c] != 0 {
				b.WriteByte('\\')
				b.WriteByte(escapes[c])
			} else {
				octal(b, c)
			}
		default:
			b.WriteByte(c)
		}
		i += max(size, 1)
	}
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

func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

// IsBidiControl reports whether r is a bidirectional embedding, override
// or isolate (U+202A to U+202E, U+2066 to U+2069).
func IsBidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// clean reports whether s prints as it is: valid UTF-8 without controls
// (tabs and newlines allowed in text), and for a name without '"' or '\';
// with ascii, without a byte over 0x7f.
func clean(s string, text, ascii bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case ascii && c >= 0x80:
			return false
		case text && (c == '\t' || c == '\n'):
		case c < 0x20 || c == 0x7f:
			return false
		case !text && (c == '"' || c == '\\'):
			return false
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			return false // U+0080 to U+009F
		case c == 0xe2 && i+2 < len(s):
			if r, _ := utf8.DecodeRuneInString(s[i:]); IsBidiControl(r) {
				return false
			}
		}
	}
	return utf8.ValidString(s)
}
