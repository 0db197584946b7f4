package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// A new branch's upstream, as git's branch.autoSetupMerge sets it when
// branch, switch -c or checkout -b (and -f, -B, --force-create) makes a
// branch from START:
//   false    never
//   true     START is a remote-tracking branch (the default): its remote
//            and remote branch
//   always   that, or START is a local branch: remote ".", merge START
//   inherit  START is a local branch with an upstream: that upstream,
//            copied (git warns when it has none)
//   simple   as true, when the remote branch has the new branch's name
// START counts as a branch only when it names one as it stands (main,
// origin/main, refs/heads/main, HEAD on a branch), not main~0 or a
// commit id: git's dwim of the start point.

// startBranch is the branch START names, as git's dwim_ref reads a start
// point: HEAD's branch for HEAD, else the first of START itself (a full
// name), refs/START, refs/tags/START, refs/heads/START and
// refs/remotes/START that exists; "" when that is no branch (a tag, a
// commit, a detached HEAD, a revision with a suffix).
func startBranch(r *repo.Repo, start string) string {
	if start == refs.HEAD || start == "@" {
		h, err := r.Refs.Current()
		if err != nil {
			return ""
		}
		return h.Branch
	}
	names := []string{"refs/" + start, refs.Tags + start, refs.Heads + start, refs.Remotes + start}
	if strings.HasPrefix(start, "refs/") {
		names = append([]string{start}, names...)
	}
	for _, full := range names {
		if r.Refs.Exists(full) {
			if strings.HasPrefix(full, refs.Heads) || strings.HasPrefix(full, refs.Remotes) {
				return full
			}
			return ""
		}
	}
	return ""
}

// trackPlan is what a new branch's upstream comes from, read before the
// branch is made (HEAD may be on it then; a bad mode makes nothing, as
// git reads its config first).
type trackPlan struct {
	mode string // branch.autoSetupMerge's
	from string // startBranch's
}

// planTracking reads branch.autoSetupMerge and the start point's branch.
func planTracking(r *repo.Repo, what, start string) (trackPlan, error) {
	mode, err := r.AutoSetupMerge()
	if err != nil {
		return trackPlan{}, fmt.Errorf("%s: %w", what, err)
	}
	return trackPlan{mode: mode, from: startBranch(r, start)}, nil
}

// setupTracking gives branch name, just made as p planned, the upstream
// branch.autoSetupMerge says, and says so as git's: "branch 'dev' set up
// to track 'origin/dev'.". what names the command in messages.
func setupTracking(g *globals, r *repo.Repo, what, name string, p trackPlan) error {
	mode, from := p.mode, p.from
	if mode == repo.TrackFalse || from == "" {
		return nil
	}
	remoteName, tag, err := trackedBy(r, from)
	notTracked := errors.Is(err, errNotTracked)
	if notTracked && !strings.HasPrefix(from, refs.Heads) {
		return nil // a ref under refs/remotes/ no remote fetches into
	}
	var merge string
	switch {
	case mode == repo.TrackInherit:
		return inheritTracking(g, r, what, name, from)
	case notTracked && mode != repo.TrackAlways:
		return nil // a local branch: only always tracks it
	case notTracked:
		remoteName, merge = "", from
	case err != nil:
		return fmt.Errorf("%s: not tracking: %w", what, err)
	case mode == repo.TrackSimple && tag != name:
		return nil
	default:
		merge = refs.Heads + tag
	}
	if remoteName == "" && merge == refs.Heads+name {
		fmt.Fprintf(g.stderr, "strata: warning: %s: not setting branch '%s' as its own upstream\n", what, name)
		return nil
	}
	return writeTracking(g, r, what, name, remoteName, merge)
}

// inheritTracking copies branch from's upstream to branch name, as git's
// --track=inherit; from without one is a warning, as git's.
func inheritTracking(g *globals, r *repo.Repo, what, name, from string) error {
	bare := strings.TrimPrefix(from, refs.Heads)
	remoteName, _ := r.Config.Get("branch." + bare + ".remote")
	merge, _ := r.Config.Get("branch." + bare + ".merge")
	switch {
	case remoteName == "":
		fmt.Fprintf(g.stderr, "strata: warning: %s: asked to inherit tracking from '%s', but no remote is set\n", what, bare)
		return nil
	case merge == "":
		fmt.Fprintf(g.stderr, "strata: warning: %s: asked to inherit tracking from '%s', but no merge configuration is set\n", what, bare)
		return nil
	}
	return writeTracking(g, r, what, name, remoteName, merge)
}

// writeTracking sets branch.NAME.remote (remoteName, "" for git's local
// ".") and branch.NAME.merge, and says so, naming the upstream as git's
// does: REMOTE/BRANCH, or BRANCH alone for a local one.
func writeTracking(g *globals, r *repo.Repo, what, name, remoteName, merge string) error {
	tracked := strings.TrimPrefix(merge, refs.Heads)
	if remoteName != "" {
		tracked = remoteName + "/" + tracked
	} else {
		remoteName = repo.LocalRemote
	}
	return writeUpstream(g, r, what+": set its upstream", name, remoteName, merge, tracked)
}

// flagTracking plans a new branch's upstream as git's --track (mode
// trackDirect), --track=inherit (trackInherit) or --no-track
// (trackNever) say, else as branch.autoSetupMerge does (planTracking);
// a bad branch.autoSetupMerge is refused whatever the flags, as git
// reads its config first.
func flagTracking(r *repo.Repo, what, start, mode string) (trackPlan, error) {
	p, err := planTracking(r, what, start)
	if err != nil {
		return trackPlan{}, err
	}
	switch mode {
	case trackDirect:
		return explicitTracking(r, what, start)
	case trackInherit:
		p.mode = repo.TrackInherit
	case trackNever:
		p.mode = repo.TrackFalse
	}
	return p, nil
}

// explicitTracking plans the upstream of a new branch made with git's
// --track (BRANCH_TRACK_EXPLICIT): as always, but START must name a
// branch, a local one or a remote-tracking one that a remote's fetch
// refspecs map to; else git's refusals, before anything is made.
func explicitTracking(r *repo.Repo, what, start string) (trackPlan, error) {
	from := startBranch(r, start)
	if from == "" {
		if _, err := r.Resolve(start); err != nil {
			return trackPlan{}, fmt.Errorf("%s: the requested upstream branch '%s' does not exist", what, start)
		}
		return trackPlan{}, fmt.Errorf("%s: cannot set up tracking information; starting point '%s' is not a branch", what, start)
	}
	if strings.HasPrefix(from, refs.Remotes) {
		if _, _, err := trackedBy(r, from); errors.Is(err, errNotTracked) {
			return trackPlan{}, fmt.Errorf("%s: cannot set up tracking information; starting point '%s' is not a branch", what, start)
		}
	}
	return trackPlan{mode: repo.TrackAlways, from: from}, nil
}

// createBranch is branch NAME [START] (args): NAME made at START
// (default HEAD), force moving it if it exists, its upstream as
// --track or --no-track (track) or branch.autoSetupMerge say.
func createBranch(g *globals, r *repo.Repo, args []string, force bool, track string) error {
	name, start := args[0], refs.HEAD
	if len(args) == 2 {
		start = args[1]
	}
	p, err := flagTracking(r, "branch "+name, start, track)
	if err != nil {
		return err
	}
	if err := createRef(r, refs.Heads, name, start, force, "branch: created from "+start); err != nil {
		return err
	}
	return setupTracking(g, r, "branch "+name, name, p)
}
