package repo

// PushRemote is the remote a push of branch (short name; "" for a
// detached HEAD) that names none goes to, as git's
// pushremote_for_branch: branch.NAME.pushRemote, else
// remote.pushDefault, else the branch's own remote (UpstreamRemote:
// branch.NAME.remote, else DefaultRemote). Fetch and pull keep
// UpstreamRemote.
func (r *Repo) PushRemote(branch string) string {
	name, _ := r.PushRemoteFrom(branch)
	return name
}

// PushRemoteFrom is PushRemote and the config key that named it
// (branch.NAME.pushRemote, remote.pushDefault, branch.NAME.remote): ""
// for the default, DefaultRemote. A key set to the empty string names a
// remote of that name, as git reads it (a push there then fails: git's
// "no path specified"); it is not unset.
func (r *Repo) PushRemoteFrom(branch string) (name, key string) {
	if branch != "" {
		key = "branch." + branch + ".pushRemote"
		if v, ok := r.Config.Get(key); ok {
			return v, key
		}
	}
	if v, ok := r.Config.Get("remote.pushDefault"); ok {
		return v, "remote.pushDefault"
	}
	if branch != "" {
		key = "branch." + branch + ".remote"
		if v, ok := r.Config.Get(key); ok {
			return v, key
		}
	}
	return r.DefaultRemote(), ""
}
