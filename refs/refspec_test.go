package refs

import (
	"errors"
	"testing"
)

// TestParseRefspec: git's fetch refspecs, mapped onto remote tags and
// strata's refs; what git calls invalid is refused, and so is what no
// registry or strata repository can hold.
func TestParseRefspec(t *testing.T) {
	for _, c := range []struct {
		in       string
		force    bool
		src, dst string
	}{
		{"main", false, "main", ""},
		{"main:", false, "main", ""},
		{"main:feature", false, "main", "refs/heads/feature"},
		{"+main:feature", true, "main", "refs/heads/feature"},
		{"refs/heads/main:refs/remotes/origin/other", false, "main", "refs/remotes/origin/other"},
		{"refs/tags/v1:refs/tags/v1", false, "v1", "refs/tags/v1"},
		// A short DST, as git's fetch reads it (remote.c, get_local_ref):
		// heads/, tags/ and remotes/ under refs/, else a branch, even
		// for a tag's SRC (git 2.39: refs/tags/v1:w1 makes refs/heads/w1).
		{"refs/tags/v1:w1", false, "v1", "refs/heads/w1"},
		{"main:heads/side", false, "main", "refs/heads/side"},
		{"main:tags/t2", false, "main", "refs/tags/t2"},
		{"main:remotes/o/m", false, "main", "refs/remotes/o/m"},
		// A pattern's short DST is not read so: git ignores each ref it
		// maps to as funny (Funny), but for '*:*', its identity map.
		{"refs/tags/*:tags/*", false, "*", "tags/*"},
		{"+refs/heads/*:foo/*", true, "*", "foo/*"},
		{"refs/heads/*:*", false, "*", "*"},
		{"*:*", false, "*", "refs/heads/*"},
		{"main:headsx/y", false, "main", "refs/heads/headsx/y"},
		{"+refs/heads/*:refs/remotes/origin/*", true, "*", "refs/remotes/origin/*"},
		{"refs/heads/feat-*:refs/heads/f/*", false, "feat-*", "refs/heads/f/*"},
	} {
		rs, err := ParseRefspec(c.in)
		if err != nil || rs.Force != c.force || rs.Src != c.src || rs.Dst != c.dst || rs.Raw != c.in {
			t.Errorf("ParseRefspec(%q) = %+v, %v; want force %v src %q dst %q", c.in, rs, err, c.force, c.src, c.dst)
		}
	}
	for _, in := range []string{
		"", "+", ":", ":x", "a:b:c", "ma in:x", "main:a..b", "main:HEAD",
		"refs/heads/*", "refs/heads/*:x", "main:refs/heads/*", "a*b*:c*",
		"refs/pull/1:x", "main:refs/notes/x", "a/b:x", "main:x.lock",
		"refs/heads/*:a..b/*", "refs/heads/*:x/*.lock",
	} {
		if rs, err := ParseRefspec(in); !errors.Is(err, ErrBadRefspec) {
			t.Errorf("ParseRefspec(%q) = %+v, %v; want ErrBadRefspec", in, rs, err)
		}
	}
}

// TestRefspecMatch: a pattern maps each tag it matches, and back.
func TestRefspecMatch(t *testing.T) {
	rs, err := ParseRefspec("refs/heads/feat-*:refs/remotes/o/f-*")
	if err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]string{"feat-x": "refs/remotes/o/f-x", "feat-": "refs/remotes/o/f-", "main": "", "feat": ""} {
		got, ok := rs.Match(tag)
		if got != want || ok != (want != "") {
			t.Errorf("Match(%q) = %q, %v; want %q", tag, got, ok, want)
		}
		if want != "" {
			if back, ok := rs.Reverse(want); !ok || back != tag {
				t.Errorf("Reverse(%q) = %q, %v; want %q", want, back, ok, tag)
			}
		}
	}
	one, _ := ParseRefspec("main:feature")
	if dst, ok := one.Match("main"); !ok || dst != "refs/heads/feature" {
		t.Errorf("main:feature maps main to %q, %v", dst, ok)
	}
	if _, ok := one.Match("mainx"); ok {
		t.Error("main:feature matched mainx")
	}
}

func TestCheckRemoteName(t *testing.T) {
	for _, n := range []string{"main", "v1.2.3", "latest", "a-b_c", "x.lockx", "_x"} {
		if err := CheckRemoteName(n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
	for _, n := range []string{"", "@", "HEAD", "a..b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", `a\b`, "-x", ".x",
		"x.lock", "x.", "a@{1}", "a/b", "a/", "a//b", "a\x01", "a\x7f", "a\nb", "fix\u009b2J", "safe\u202etxt", "\u2067x"} {
		if err := CheckRemoteName(n); err == nil {
			t.Errorf("%q accepted", n)
		}
	}
}

// TestTracking: a branch's upstream, and what push sent, map through
// the first refspec that matches with a destination, as git's
// remote_find_tracking; a refspec written refs/tags/... maps tags only.
func TestTracking(t *testing.T) {
	specs, err := ParseRefspecs([]string{
		"refs/tags/*:refs/tags/*",               // git's tags: not a branch's
		"main",                                  // no DST: maps nothing
		"+refs/heads/m*:refs/remotes/first/m*",  // first match wins
		"+refs/heads/*:refs/remotes/second/*",   // the rest
		"refs/heads/dev:refs/remotes/third/dev", // after a pattern that matched
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tag    string
		branch bool
		want   string
	}{
		{"main", true, "refs/remotes/first/main"},
		{"dev", true, "refs/remotes/second/dev"},
		{"v1", true, "refs/remotes/second/v1"},
		{"v1", false, "refs/tags/v1"},
	} {
		if got := Tracking(specs, c.tag, c.branch); got != c.want {
			t.Errorf("Tracking(%s, branch %v) = %q; want %q", c.tag, c.branch, got, c.want)
		}
	}
	only, _ := ParseRefspecs([]string{"refs/heads/dev:refs/remotes/origin/dev", "refs/tags/*:refs/tags/*"})
	if got := Tracking(only, "main", true); got != "" {
		t.Errorf("Tracking(main) through dev and tags = %q; want none", got)
	}
	if got := Tracking(nil, "main", true); got != "" {
		t.Errorf("Tracking(main) through no refspec = %q", got)
	}
}

// TestFetchRefspecs: a remote without remote.NAME.fetch maps as git's
// default; a bad value names the key.
func TestFetchRefspecs(t *testing.T) {
	specs, err := FetchRefspecs("up", nil)
	if err != nil || len(specs) != 1 || specs[0].Raw != "+refs/heads/*:refs/remotes/up/*" {
		t.Fatalf("FetchRefspecs(up, none) = %+v, %v", specs, err)
	}
	if _, err := FetchRefspecs("up", []string{"a:b:c"}); !errors.Is(err, ErrBadRefspec) || err.Error() != "remote.up.fetch: invalid refspec 'a:b:c'" {
		t.Errorf("FetchRefspecs(a:b:c): err = %v", err)
	}
}

// TestRefspecFunny: a pattern whose DST is not under refs/ is git's
// funny map: Funny says so, and Tracking maps no upstream through it
// (the next refspec does).
func TestRefspecFunny(t *testing.T) {
	specs, err := ParseRefspecs([]string{"+refs/heads/*:foo/*", "refs/heads/*:refs/remotes/origin/*"})
	if err != nil {
		t.Fatal(err)
	}
	if !specs[0].Funny() || specs[1].Funny() {
		t.Errorf("Funny = %v, %v; want true, false", specs[0].Funny(), specs[1].Funny())
	}
	if dst, ok := specs[0].Match("main"); !ok || dst != "foo/main" {
		t.Errorf("Match(main) = %q, %v; want foo/main, true", dst, ok)
	}
	if got := Tracking(specs, "main", true); got != "refs/remotes/origin/main" {
		t.Errorf("Tracking(main) = %q; want refs/remotes/origin/main", got)
	}
	for _, in := range []string{"main:foo", "*:*", "refs/heads/*:refs/heads/*", "main"} {
		if rs, err := ParseRefspec(in); err != nil || rs.Funny() {
			t.Errorf("ParseRefspec(%q) = %+v, %v; want not funny", in, rs, err)
		}
	}
}

// TestNegativeRefspec: git's ^SRC maps nothing, forward or back, and
// keeps the tags it matches out (Excluded); a '+' or a DST beside it is
// invalid, as in git 2.39.
func TestNegativeRefspec(t *testing.T) {
	specs, err := ParseRefspecs([]string{"+refs/heads/*:refs/remotes/origin/*", "^refs/heads/tmp-*", "^old", "^refs/heads/tmp/*"})
	if err != nil {
		t.Fatal(err)
	}
	neg := specs[1]
	if !neg.Negative || neg.Src != "tmp-*" || neg.Dst != "" || neg.Force {
		t.Errorf("^refs/heads/tmp-* = %+v", neg)
	}
	if _, ok := neg.Match("tmp-a"); ok {
		t.Error("a negative refspec maps tmp-a")
	}
	if _, ok := neg.Reverse("refs/remotes/origin/tmp-a"); ok {
		t.Error("a negative refspec maps a ref back")
	}
	for tag, want := range map[string]bool{"tmp-a": true, "tmp-": true, "old": true, "main": false, "xtmp-a": false, "older": false} {
		if got := Excluded(specs, tag); got != want {
			t.Errorf("Excluded(%s) = %v, want %v", tag, got, want)
		}
	}
	if got := Tracking(specs, "tmp-a", true); got != Remotes+"origin/tmp-a" {
		t.Errorf("Tracking(tmp-a) = %q: git's upstream mapping ignores negative refspecs", got)
	}
	for _, in := range []string{"^main:x", "+^main", "^", "^a*b*", "^refs/pull/1", "^a..b"} {
		if rs, err := ParseRefspec(in); !errors.Is(err, ErrBadRefspec) {
			t.Errorf("ParseRefspec(%q) = %+v, %v; want ErrBadRefspec", in, rs, err)
		}
	}
}
