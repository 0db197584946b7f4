package worktree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/snapshot"
)

// FindByMount finds the extra work tree mounted at dir or above it, from
// the overlays dir lies in: its overlay's upper lies in
// <project>/.strata/worktrees/<name>/. It returns the project directory
// and the work tree's name.
func FindByMount(dir string) (project, name string, ok bool) {
	overlays, err := snapshot.OverlaysAbove(dir)
	if err != nil {
		return "", "", false
	}
	inTree := false
	for _, m := range overlays { // innermost first
		inTree = inTree || strings.Contains(m.Upper, "/.strata/")
		p, rest, found := strings.Cut(m.Upper, "/.strata/worktrees/")
		if n, _, _ := strings.Cut(rest, "/"); found && n != "" {
			return p, n, true
		}
	}
	// Inside a mounted work tree (the main one, a run's), a marker is
	// a file of the image's, which a container may write: not ours.
	if !inTree {
		return findByMarker(dir)
	}
	return "", "", false
}

// MarkerName is the file every mount of an extra work tree leaves in its
// directory first, beneath the overlay: hidden while the tree is mounted,
// it names the work tree once the tree is not (after a reboot), so that
// a command run in it finds the work tree and mounts it again, where it
// would find no repository.
const MarkerName = ".strata-worktree"

// maxMarker caps the marker: a project path and a name.
const maxMarker = 8 << 10

// findByMarker finds the marker in dir or above it (the nearest wins).
func findByMarker(dir string) (project, name string, ok bool) {
	for d := dir; ; d = filepath.Dir(d) {
		b, err := readSmall(filepath.Join(d, MarkerName), maxMarker)
		if err == nil {
			project, name, ok = parseMarker(string(b))
			return project, name, ok && markerHolds(project, name, d)
		}
		if d == filepath.Dir(d) {
			return "", "", false
		}
	}
}

// markerHolds reports whether the work tree a marker in dir names is
// still the one made there. A tree pruned while its directory was away
// (a disk unplugged) leaves its marker, and its name may since have gone
// to a new tree elsewhere, whose changes a command run in the old
// directory would show, commit or reset. A tree whose directory is gone
// (moved here by hand) is left to say so itself.
func markerHolds(project, name, dir string) bool {
	r, err := repo.Open(project)
	if err != nil {
		return false
	}
	w, err := Named(r, name)
	if err != nil {
		return false
	}
	st, found, err := w.State()
	if err != nil {
		return true // the command says what is wrong with it
	}
	if !found {
		return false
	}
	at, err := os.Stat(st.Target)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	here, herr := os.Stat(dir)
	return err == nil && herr == nil && os.SameFile(at, here)
}

func parseMarker(s string) (project, name string, ok bool) {
	for _, line := range strings.Split(s, "\n") {
		k, v, _ := strings.Cut(line, " ")
		if strings.HasPrefix(v, `"`) {
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
		}
		switch k {
		case "project":
			project = v
		case "name":
			name = v
		}
	}
	return project, name, filepath.IsAbs(project) && name != "" && !strings.ContainsAny(name, "/\x00")
}

// writeMarker leaves the marker in the target, which must not be mounted.
func (w *Worktree) writeMarker() error {
	if w.Name == MainName {
		return nil // found from the project directory above it
	}
	b := fmt.Sprintf("project %s\nname %s\n", markerValue(w.Repo.Dir), markerValue(w.Name))
	if err := os.WriteFile(filepath.Join(w.target, MarkerName), []byte(b), 0o644); err != nil {
		return fmt.Errorf("mark %s as a work tree: %w", w.target, err)
	}
	return nil
}

// markerValue is v on a marker line: in Go's double quotes if it holds a
// newline (a directory name may) or starts with one; as it is otherwise.
func markerValue(v string) string {
	if strings.Contains(v, "\n") || strings.HasPrefix(v, `"`) {
		return strconv.Quote(v)
	}
	return v
}

// Link makes w the work tree a command runs in: for an extra work tree,
// HEAD, @, HEAD~N, HEAD@{N} and @{-N} in revisions, and HEAD's reflog,
// are then its own, as in a git linked worktree.
func (w *Worktree) Link() {
	if w.Name == MainName {
		w.Repo.Refs.Linked = nil
		return
	}
	if st, _, _ := w.State(); st.Head == "" {
		return // not checked out yet: HEAD stays where the command runs
	}
	w.Repo.Refs.Linked = &refs.Linked{Head: w.Head, Log: w.HeadLog(), OrigHead: w.origHeadFile(), FetchHead: w.fetchHeadFile()}
}

// Containing finds the work tree holding dir (its mount point or any
// directory below it, existing or not): a work tree of the nearest
// repository above dir, or an extra work tree found in the mount table.
// It returns that repository's project directory.
func Containing(dir string) (project string, ok bool) {
	abs, err := canonical(dir)
	if err != nil {
		return "", false
	}
	if r, err := repo.Find(abs); err == nil {
		all, _ := List(r)
		for _, w := range append(all, Main(r)) {
			if w.target != "" && within(abs, w.target) {
				return r.Dir, true
			}
		}
	}
	project, _, ok = FindByMount(abs)
	return project, ok
}
