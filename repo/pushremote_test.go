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
	// Keys are case-insensitive, as git's. An empty value is the remote
	// '', as git's (whose push there fails), not unset: it wins over
	// remote.pushDefault, and remote.pushDefault "" over the branch's
	// own remote.
	set("branch.main.pushremote", "")
	check("main", "")
	check("dev", "fork")
	if _, key := r.PushRemoteFrom("main"); key != "branch.main.pushRemote" {
		t.Errorf("PushRemoteFrom(main) key = %q", key)
	}
	set("remote.pushDefault", "")
	check("dev", "")
	check("", "")
	if _, key := r.PushRemoteFrom("dev"); key != "remote.pushDefault" {
		t.Errorf("PushRemoteFrom(dev) key = %q", key)
	}
}
