package repo

// PushRemote is the remote a push of branch (short name; "" for a
// detached HEAD) that names none goes to, as git's
// pushremote_for_branch: branch.NAME.pushRemote, else
// remote.pushDefault, else the branch's own remote (UpstreamRemote:
// branch.NAME.remote, else origin). Fetch and pull keep UpstreamRemote.
func (r *Repo) PushRemote(branch string) string {
	if branch != "" {
		if v, ok := r.Config.Get("branch." + branch + ".pushRemote"); ok && v != "" {
			return v
		}
	}
	if v, ok := r.Config.Get("remote.pushDefault"); ok && v != "" {
		return v
	}
	if branch == "" {
		return "origin"
	}
	return r.UpstreamRemote(branch)
}
