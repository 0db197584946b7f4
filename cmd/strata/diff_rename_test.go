package main

import "testing"

// git's --stat names of renames (pprint_rename), checked against git
// 2.39's 'git diff --stat -M' on the same moves (without the leading '/').
func TestStatRenameIsGits(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"/etc/a/x.conf", "/etc/b/x.conf", "/etc/{a => b}/x.conf"},
		{"/etc/a.conf", "/etc/b.conf", "/etc/{a.conf => b.conf}"},
		{"/a/x", "/a/b/x", "/a/{ => b}/x"},
		{"/a/b/x", "/a/x", "/a/{b => }/x"},
		{"/x", "/y", "/x => /y"}, // git's "x => y": '/' is no common directory
		{"/a/x", "/b", "/a/x => /b"},
		{"/a/x", "/b/x", "/{a => b}/x"},
		{"/a/t\tx", "/a/y", `"/a/t\tx" => /a/y`}, // quoted whole, as git's
		{"/srv/app/main.go", "/opt/app/main.go", "/{srv => opt}/app/main.go"},
		// A name git quotes: each whole, quoted if need be, no braces
		// (they were cut into the quotes: "/{we\nird" => na\tme"}).
		{"/we\nird", "/na\tme", `"/we\nird" => "/na\tme"`},
		{"/etc/a\tb", "/etc/c", `"/etc/a\tb" => /etc/c`},
	} {
		if got := statRename(c.from, c.to); got != c.want {
			t.Errorf("statRename(%q, %q) = %q, want %q", c.from, c.to, got, c.want)
		}
	}
}
