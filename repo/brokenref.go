package repo

import (
	"fmt"
	"strings"

	"github.com/strata-sh/strata/refs"
)

// fixBroken says how to get rid of broken ref name: the command that
// deletes it (or points it at a commit again).
func fixBroken(name string) string {
	switch short := refs.ShortName(name); {
	case strings.HasPrefix(name, refs.Tags):
		return fmt.Sprintf("'strata tag -d %s' deletes it, 'strata tag -f %s COMMIT' points it at a commit", short, short)
	case strings.HasPrefix(name, refs.Heads):
		return fmt.Sprintf("'strata branch -D %s' deletes it, 'strata branch -f %s COMMIT' points it at a commit", short, short)
	}
	return fmt.Sprintf("removing .strata/%s deletes it", name)
}

// refuseBrokenRefs is an error naming the first of broken, which gc
// cannot prune around: what such a ref kept is unknown, and git's gc
// stops on one too ("bad object").
func refuseBrokenRefs(broken []refs.BrokenRef) error {
	if len(broken) == 0 {
		return nil
	}
	more := ""
	if len(broken) > 1 {
		more = fmt.Sprintf(" (and %d more broken refs)", len(broken)-1)
	}
	return fmt.Errorf("%w%s: what it kept is unknown, so nothing is removed; %s", broken[0].Err, more, fixBroken(broken[0].Name))
}
