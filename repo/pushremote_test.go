package repo

import "testing"

// TestPushRemote: git's precedence for where a push that names no
// remote goes: branch.NAME.pushRemote, remote.pushDefault,
// branch.NAME.remote, origin; a detached HEAD ("") skips the branch's.
func TestPushRemote(t *testing.T) {
	r, _ := linearRepo(t, 1)
	check := func(branch, want string) {
		t.Helper()
		if got := r.PushRemote(branch); got != want {
			t.Errorf("PushRemote(%q) = %q; want %q", branch, got, want)
		}
	}
	set := func(k, v string) {
		t.Helper()
		if err := r.Config.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	check("main", "origin")
	check("", "origin")
	set("branch.main.remote", "up")
	check("main", "up")
	set("remote.pushDefault", "fork")
	check("main", "fork")
	check("dev", "fork")
	check("", "fork")
	set("branch.main.pushRemote", "mine")
	check("main", "mine")
	check("dev", "fork")
	// Keys are case-insensitive, as git's. An empty value is unset, as
	// UpstreamRemote takes an empty branch.NAME.remote (git fails on
	// either: a remote named '').
	set("branch.main.pushremote", "")
	check("main", "fork")
}
