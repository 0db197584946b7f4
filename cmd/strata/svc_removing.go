package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/internal/kmount"
	"github.com/strata-sh/strata/repo"
)

// removingPrefix starts the name removeSvc gives a run's directory, in
// one rename, before it deletes it: out of sight of ps at once.
const removingPrefix = ".removing-"

// finishRemovals deletes the directories of runs whose removal a killed
// strata cut short, renamed but not yet deleted; rm and gc call it, ps
// finishRemovalsIn of the listing it lists runs from.
// It leaves what is not a directory (a symbolic link planted there is
// neither followed nor removed), a directory whose supervisor still
// holds its lock (a --rm run removing itself), whose tree lock a cp or
// commit --from holds, or below which anything is mounted (a deletion
// would go through the mount).
func finishRemovals(r *repo.Repo) {
	if ents, err := readServices(r); err == nil {
		finishRemovalsIn(r, ents)
	}
}

// finishRemovalsIn is finishRemovals of ents, a listing of the services
// directory.
func finishRemovalsIn(r *repo.Repo, ents []fs.DirEntry) {
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), removingPrefix) {
			finishRemoval(&svc{dir: filepath.Join(servicesDir(r), e.Name())})
		}
	}
}

// finishRemoval deletes one half-removed run's directory, unless it is
// still in use (see finishRemovals).
func finishRemoval(s *svc) {
	if s.live() {
		return
	}
	// A tree lock that cannot be taken for another reason (a symbolic
	// link planted as tree.lock) is held by no one either: cp and commit
	// --from open it as lockTree does.
	held, cancel := context.WithCancel(context.Background())
	cancel()
	unlock, err := s.lockTree(held, nil)
	if errors.Is(err, context.Canceled) {
		return
	}
	if err == nil {
		defer unlock()
	}
	if points, err := kmount.Below(realPath(s.dir)); err != nil || len(points) > 0 {
		return
	}
	slog.Debug("finish removing a run", "dir", s.dir)
	os.RemoveAll(s.dir)
}
