package tree

import "testing"

// As git ls-files matches its pathspecs (checked against git 2.39): '*'
// and '?' match '/', classes and quoting work, and a path matches a
// pattern only whole.
func TestGlobMatchIsGits(t *testing.T) {
	for _, c := range []struct {
		q, p string
		want bool
	}{
		{"/*.conf", "/c.conf", true},
		{"/*.conf", "/etc/x/b.conf", true},
		{"/etc/*.conf", "/etc/x/b.conf", true},
		{"/etc/*.conf", "/c.conf", false},
		{"/etc/*.d", "/etc/init.d/a", false},
		{"/etc/[ix]*", "/etc/init.d/a", true},
		{"/etc/[!ix]*", "/etc/init.d/a", false},
		{"/etc/[^ix]*", "/etc/c.conf", true},
		{"/e?c", "/etc", true},
		{"/e?c", "/e/c", true},
		{"/etc/f[]]", "/etc/f]", true},
		{`/etc/\*`, "/etc/*", true},
		{`/etc/\*`, "/etc/x", false},
		{"/etc/[a", "/etc/[a", true},
		{"/a.b*", "/axb", false},
		{"/a*", "/a\nb", true},
		{"/etc/[a-c]", "/etc/b", true},
		{"/etc/[a-c]", "/etc/d", false},
	} {
		if got := GlobMatch(c.q, c.p); got != c.want {
			t.Errorf("GlobMatch(%q, %q) = %v, want %v", c.q, c.p, got, c.want)
		}
	}
}

// A pattern is also a path: a file named "/etc/*" is under "/etc/*", and
// a literal pathspec is no pattern.
func TestUnderTakesPatternsAndPaths(t *testing.T) {
	if !Under("/etc/*", []string{"/etc/*"}) || !Under("/etc/a/b", []string{"/etc/*"}) {
		t.Fatal("a pattern's own path or a match is not under it")
	}
	if Under("/etcx", []string{"/etc"}) || !Under("/etc/x", []string{"/etc"}) {
		t.Fatal("a literal path matches as a prefix of names, not of bytes")
	}
}
