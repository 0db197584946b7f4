package main

import (
	"time"

	"github.com/strata-sh/strata/internal/epoch"
)

// layerMtimes is how every layer the CLI writes (import, commit,
// run --commit, build, a step concluded after a conflict) stores mtimes:
// in whole seconds, as tar(1), docker and buildkit write them, so that a
// directory and a tar of it give the same commit, and a commit needs no
// PAX header for a file's mtime (which doubled the tar of 100,000 small
// files); then clamped to SOURCE_DATE_EPOCH when it is set, as buildkit's
// rewrite-timestamp does, so that the same commands give the same commit
// id twice. The work tree keeps its files' own mtimes; status trusts them
// by git's racy-clean rule (worktree.State.Settled).
func layerMtimes() (func(time.Time) time.Time, error) {
	clamp, set, err := epoch.Source()
	if err != nil {
		return nil, err
	}
	return func(t time.Time) time.Time {
		t = t.Truncate(time.Second)
		if set && t.After(clamp) {
			return clamp
		}
		return t
	}, nil
}
