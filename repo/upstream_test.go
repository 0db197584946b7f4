package repo

import (
	"strings"
	"testing"

	"github.com/strata-sh/strata/refs"
)

// TestUpstreamMapped: a branch's upstream is the remote-tracking ref its
// remote's fetch refspecs map the remote branch of its name to (the
// first that matches), @{u} and @{push} alike; one that none maps is
// git's "not stored as a remote-tracking branch".
func TestUpstreamMapped(t *testing.T) {
	r, cs := linearRepo(t, 1)
	set := func(k, v string) {
		t.Helper()
		if err := r.Config.Add(k, v); err != nil {
			t.Fatal(err)
		}
	}
	set("remote.origin.url", "127.0.0.1:5000/x")
	set("remote.origin.fetch", "refs/tags/*:refs/tags/*")
	set("remote.origin.fetch", "+refs/heads/*:refs/remotes/up/*")
	set("remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")
	set("remote.other.url", "127.0.0.1:5000/y")
	set("remote.other.fetch", "refs/heads/dev:refs/remotes/other/dev")
	set("branch.main.remote", "origin")
	set("branch.main.merge", "refs/heads/main")
	set("branch.lone.remote", "other")
	set("branch.lone.merge", "refs/heads/lone")
	for _, b := range []string{"main", "lone"} {
		if err := r.Refs.Update(refs.Heads+b, cs[0].ID, refs.Any, "test"); err != nil {
			t.Fatal(err)
		}
	}
	for _, push := range []bool{false, true} {
		got, err := r.Upstream("main", push)
		if err != nil || got.Ref != refs.Remotes+"up/main" || got.Remote != "origin" || got.NoRemote || !got.Set {
			t.Errorf("Upstream(main, push %v) = %+v, %v; want refs/remotes/up/main of origin", push, got, err)
		}
	}
	if _, err := r.Refs.Upstream("main"); err == nil || err.Error() != "the upstream up/main is gone: no remote-tracking branch ('strata fetch origin' makes it while the remote has the branch)" {
		t.Errorf("main@{u} before a fetch: err = %v", err)
	}
	if err := r.Refs.Update(refs.Remotes+"up/main", cs[0].ID, "", "test"); err != nil {
		t.Fatal(err)
	}
	if d, err := r.Refs.Resolve("main@{u}", r.Objects); err != nil || d != cs[0].ID {
		t.Errorf("main@{u} = %s, %v", d, err)
	}
	for push, want := range map[bool]string{
		false: "upstream branch 'refs/heads/lone' not stored as a remote-tracking branch (no remote.other.fetch maps it)",
		true:  "push destination 'refs/heads/lone' on remote 'other' has no local tracking branch (no remote.other.fetch maps it)",
	} {
		if _, err := r.Upstream("lone", push); err == nil || err.Error() != want {
			t.Errorf("Upstream(lone, push %v): err = %v; want %q", push, err, want)
		}
	}
	// No remote.NAME.fetch (a remote added before strata wrote it), or
	// no remote at all: git's default refspec.
	set("remote.old.url", "127.0.0.1:5000/z")
	set("branch.dev.remote", "old")
	set("branch.dev.merge", "refs/heads/dev")
	set("branch.stray.remote", "gone")
	set("branch.stray.merge", "refs/heads/stray")
	for b, want := range map[string]refs.Tracked{
		"dev":   {Remote: "old", Ref: refs.Remotes + "old/dev", Set: true},
		"stray": {Remote: "gone", Ref: refs.Remotes + "gone/stray", NoRemote: true, Set: true},
		// No branch.NAME.remote: origin's branch of its name, not set.
		"loose": {Remote: "origin", Ref: refs.Remotes + "up/loose"},
	} {
		if got, err := r.Upstream(b, false); err != nil || got != want {
			t.Errorf("Upstream(%s) = %+v, %v; want %+v", b, got, err, want)
		}
	}
	// git's branch.NAME.merge: the remote branch it merges; @{push}
	// (push.default simple) is the branch's own name only when that is
	// its upstream.
	if err := r.Config.Set("branch.main.merge", "refs/heads/other"); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Upstream("main", false); err != nil || got.Ref != refs.Remotes+"up/other" {
		t.Errorf("Upstream(main) merging other = %+v, %v; want up/other", got, err)
	}
	want := "cannot resolve 'simple' push to a single destination: the branch's upstream is up/other, a push of it goes to up/main"
	if _, err := r.Upstream("main", true); err == nil || err.Error() != want {
		t.Errorf("Upstream(main, push) merging other: err = %v; want %q", err, want)
	}
	if err := r.SimplePushError("main", "origin"); err == nil || !strings.Contains(err.Error(), "'strata push origin HEAD:other' pushes to the upstream branch") {
		t.Errorf("SimplePushError(main, origin) merging other = %v", err)
	}
	if err := r.SimplePushError("main", "other"); err != nil {
		t.Errorf("SimplePushError(main, other), another remote than its upstream's: %v", err)
	}
	for _, bad := range []string{"refs/heads/*", "a:b", "refs/remotes/origin/x", "+main"} {
		if err := r.Config.Set("branch.main.merge", bad); err != nil {
			t.Fatal(err)
		}
		want := "branch.main.merge: '" + bad + "' names no remote branch (refs/heads/NAME)"
		if _, err := r.Upstream("main", false); err == nil || err.Error() != want {
			t.Errorf("branch.main.merge %s: err = %v; want %q", bad, err, want)
		}
	}
	if err := r.Config.Set("branch.main.merge", "refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	set("remote.origin.fetch", "a:b:c")
	if _, err := r.Upstream("main", false); err == nil || !strings.Contains(err.Error(), "remote.origin.fetch: invalid refspec 'a:b:c'") {
		t.Errorf("a bad remote.origin.fetch: err = %v", err)
	}
}

// TestUpstreamLocal: git's branch.NAME.remote "." (branch --track B): the
// upstream is the branch of this repository that branch.NAME.merge names,
// and a push has no destination there.
func TestUpstreamLocal(t *testing.T) {
	r, cs := linearRepo(t, 1)
	for k, v := range map[string]string{"branch.side.remote": ".", "branch.side.merge": "refs/heads/main",
		"branch.odd.remote": ".", "branch.odd.merge": "refs/heads/nosuch"} {
		if err := r.Config.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []string{"side", "odd"} {
		if err := r.Refs.Update(refs.Heads+b, cs[0].ID, refs.Any, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := r.Upstream("side", false); err != nil || got != (refs.Tracked{Remote: ".", Ref: refs.Heads + "main"}) {
		t.Errorf("Upstream(side) = %+v, %v; want refs/heads/main of .", got, err)
	}
	if d, err := r.Refs.Resolve("side@{u}", r.Objects); err != nil || d != cs[0].ID {
		t.Errorf("side@{u} = %s, %v", d, err)
	}
	for rev, want := range map[string]string{
		"side@{push}": "push destination 'refs/heads/side' on remote '.' has no local tracking branch",
		"odd@{u}":     "no branch nosuch, which branch odd tracks",
	} {
		if _, err := r.Refs.Resolve(rev, r.Objects); err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%s: err = %v; want it to end %q", rev, err, want)
		}
	}
}

// TestUpstreamMergeForms: branch.NAME.merge as git reads it. A full
// refs/heads/ name maps through remote.NAME.fetch; a short name and a
// tag map to no remote-tracking branch through git's default refspec
// (git's "not stored as a remote-tracking branch"), a tag does through a
// refs/tags/ refspec; a remote without merge is no upstream.
func TestUpstreamMergeForms(t *testing.T) {
	r, _ := linearRepo(t, 1)
	for k, v := range map[string]string{
		"remote.origin.url":   "127.0.0.1:5000/x",
		"remote.origin.fetch": "+refs/heads/*:refs/remotes/origin/*",
		"branch.main.remote":  "origin",
	} {
		if err := r.Config.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ merge, want string }{
		{"", "no upstream configured for branch 'main' (branch.main.remote is set, branch.main.merge is not)"},
		{"main", "upstream branch 'main' not stored as a remote-tracking branch (branch.main.merge names it short: write refs/heads/main)"},
		{"refs/tags/v1", "upstream branch 'refs/tags/v1' not stored as a remote-tracking branch (no remote.origin.fetch maps it)"},
		{"refs/heads/main", "refs/remotes/origin/main"},
	} {
		merge, want := c.merge, c.want
		if merge != "" {
			if err := r.Config.Set("branch.main.merge", merge); err != nil {
				t.Fatal(err)
			}
		}
		got, err := r.Upstream("main", false)
		if strings.HasPrefix(want, "refs/") {
			if err != nil || got.Ref != want {
				t.Errorf("merge %q: Upstream = %+v, %v; want %s", merge, got, err, want)
			}
			continue
		}
		if err == nil || err.Error() != want {
			t.Errorf("merge %q: err = %v; want %q", merge, err, want)
		}
	}
	if err := r.Config.Add("remote.origin.fetch", "refs/tags/*:refs/tags/*"); err != nil {
		t.Fatal(err)
	}
	if err := r.Config.Set("branch.main.merge", "refs/tags/v1"); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Upstream("main", false); err != nil || got.Ref != refs.Tags+"v1" {
		t.Errorf("merge refs/tags/v1 with a tags refspec: Upstream = %+v, %v; want refs/tags/v1", got, err)
	}
}
