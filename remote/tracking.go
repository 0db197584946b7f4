package remote

import (
	"strings"

	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// TrackedRef is a remote-tracking ref that a remote's fetch refspecs map
// one of its tags to.
type TrackedRef struct {
	refs.Ref
	Tag  string // the remote tag it stands for
	Glob bool   // mapped by a pattern
}

// TrackingRefs lists the remote-tracking refs (those under refs/remotes/)
// that specs, a remote's fetch refspecs, map a remote tag to, each once,
// with the tag the first such refspec maps back: the refs fetch keeps for
// the remote, which push takes as what the remote has, fetch --prune
// deletes once their tags are gone, and remote show lists. A branch or
// tag of one's own that a refspec fetches into is none of them.
func TrackingRefs(r *repo.Repo, specs []refs.Refspec) ([]TrackedRef, error) {
	var out []TrackedRef
	seen := map[string]bool{}
	for _, rs := range specs {
		if !strings.HasPrefix(rs.Dst, refs.Remotes) {
			continue
		}
		prefix, _, _ := strings.Cut(rs.Dst, "*")
		local, err := r.Refs.List(prefix)
		if err != nil {
			return nil, err
		}
		for _, ref := range local {
			tag, ok := rs.Reverse(ref.Name)
			if !ok || seen[ref.Name] {
				continue
			}
			seen[ref.Name] = true
			out = append(out, TrackedRef{Ref: ref, Tag: tag, Glob: rs.Glob()})
		}
	}
	return out, nil
}
