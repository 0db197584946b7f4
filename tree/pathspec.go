package tree

import (
	"regexp"
	"strings"
	"sync"
)

// Pathspecs are git's: a path matches one that names it or a directory
// above it, and a pathspec with *, ? or [...] is also a pattern matched
// against the whole path, where * and ? match '/' too (git's default, not
// the shell's): "/*.conf" matches /etc/x/b.conf, "/etc/[ix]*" matches
// /etc/init.d/a. A backslash quotes the character after it.

// IsGlob reports whether pathspec q is also a pattern.
func IsGlob(q string) bool {
	return strings.ContainsAny(q, "*?[")
}

// globs caches compiled patterns: Under is asked once per path of a tree.
var globs sync.Map // pattern -> *regexp.Regexp

// GlobMatch reports whether p matches pattern q, as git's pathspecs do.
func GlobMatch(q, p string) bool {
	re, ok := globs.Load(q)
	if !ok {
		re, _ = globs.LoadOrStore(q, regexp.MustCompile(globRegexp(q)))
	}
	return re.(*regexp.Regexp).MatchString(p)
}

// globRegexp translates a pattern into a regular expression matching
// whole paths (any byte in a name, newlines included).
func globRegexp(q string) string {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(q); i++ {
		switch c := q[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '\\':
			if i+1 < len(q) {
				i++
			}
			b.WriteString(regexp.QuoteMeta(q[i : i+1]))
		case '[':
			class, n := globClass(q[i:])
			if n == 0 { // no closing ']': a '[' like any other
				b.WriteString(`\[`)
				continue
			}
			b.WriteString(class)
			i += n - 1
		default:
			b.WriteString(regexp.QuoteMeta(q[i : i+1]))
		}
	}
	b.WriteString(`$`)
	return b.String()
}

// globClass translates the [...] that s starts with and says how many
// bytes it took, 0 if it is not closed. '!' or '^' first negates; a ']'
// first is literal.
func globClass(s string) (string, int) {
	var b strings.Builder
	b.WriteString(`[`)
	i := 1
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		b.WriteString(`^`)
		i++
	}
	for first := true; i < len(s); i, first = i+1, false {
		switch c := s[i]; {
		case c == ']' && !first:
			return b.String() + `]`, i + 1
		case c == '\\' || c == '[' || c == ']' || c == '^':
			b.WriteString(`\` + string(c))
		default:
			b.WriteByte(c)
		}
	}
	return "", 0
}
