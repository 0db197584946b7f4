package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/internal/stagedir"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
	"github.com/strata-sh/strata/worktree"
)

// sweepRuns removes what runs killed before they cleaned up left behind:
// their cgroups (exec.SweepLeftovers: those whose strata process is gone),
// and the throwaway work trees of "run --rev" and "bisect run",
// .strata/worktrees/run-* and .strata/tmp/run-* with the overlay mounted
// there (a work tree named run-* mounted elsewhere is a user's), once
// no live strata holds the run's record or the directory's lock
// (stagedir: a run holds it from before its checkout until its tree is
// gone). It returns the names removed.
func sweepRuns(r *repo.Repo, dryRun bool) ([]string, error) {
	if !dryRun {
		exec.SweepLeftovers()
		thawOrphans()
		finishRemovals(r)
	}
	tmp := r.Objects.TempDir()
	names := map[string]bool{}
	for _, dir := range []string{filepath.Join(r.Root, "worktrees"), tmp} {
		ents, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for _, e := range ents {
			if e.IsDir() && strings.HasPrefix(e.Name(), stagedir.Run) {
				names[e.Name()] = true
			}
		}
	}
	var removed []string
	for name := range names {
		w, err := worktree.Named(r, name)
		if err != nil {
			continue
		}
		// A user's work tree may be named run-* too (worktree add
		// ../run-1): a run's is at its throwaway place, or has no state
		// yet.
		target := filepath.Join(tmp, name, name)
		if st, ok, err := w.State(); err != nil || ok && st.Target != target {
			continue
		}
		if live, err := w.Runs(); err != nil || len(live) > 0 {
			continue
		}
		if stagedir.Held(filepath.Join(tmp, name)) {
			continue
		}
		if dryRun {
			removed = append(removed, name)
			continue
		}
		// Unmount first: removing through a live overlay would only
		// fill its upper with whiteouts.
		for isMountPoint(target) {
			if err := snapshot.Unmount(target); err != nil {
				return removed, fmt.Errorf("unmount %s: %w", target, err)
			}
		}
		if err := os.RemoveAll(w.Dir); err != nil {
			return removed, err
		}
		if err := os.RemoveAll(filepath.Join(tmp, name)); err != nil {
			return removed, err
		}
		w.RemoveHeadLog()
		removed = append(removed, name)
	}
	return removed, nil
}
