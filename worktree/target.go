package worktree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/internal/stagedir"
	"github.com/strata-sh/strata/repo"
	"golang.org/x/sys/unix"
)

// ErrBadTarget is wrapped when a work tree's directory is somewhere a
// mount would hide the repository or another work tree, or is not the
// directory the work tree was made in.
var ErrBadTarget = errors.New("not a place for a work tree")

// canonical returns p absolute, with the symlinks of its existing part
// resolved. A target named through a symlink (a cd through one is
// enough: the working directory is $PWD) must be the path mountinfo
// shows, or strata would not see its own mount and would stack another,
// on the same upper, over it.
func canonical(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	dir := filepath.Dir(abs)
	if dir == abs {
		return abs, nil
	}
	d, err := canonical(dir)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, filepath.Base(abs)), nil
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// checkPlace refuses a new extra work tree at target where its mount
// would hide the repository (the project directory, one above it, or
// .strata) or sit inside another work tree, whose status would list it.
// Nor is it anywhere in .strata: gc removes what it finds in .strata/tmp,
// and .strata/services is the runs'. Only strata's own runs put trees
// there (internal), and not through this check.
func checkPlace(r *repo.Repo, target string) error {
	switch {
	case within(r.Dir, target):
		return fmt.Errorf("%s: %w: it would hide the project %s", target, ErrBadTarget, r.Dir)
	case within(target, r.Root):
		return fmt.Errorf("%s: %w: it is inside the repository's %s", target, ErrBadTarget, r.Root)
	}
	all, err := List(r)
	if err != nil {
		return err
	}
	for _, o := range append(all, Main(r)) {
		if within(target, o.target) {
			return fmt.Errorf("%s: %w: it is inside the work tree %s", target, ErrBadTarget, o.target)
		}
	}
	return nil
}

// internal reports whether target is where strata puts the trees of its
// own runs: a run's throwaway tree (.strata/tmp/run-X/run-X) or a
// detached run's (.strata/services/KEY/tree/svc-NAME).
func internal(r *repo.Repo, target string) bool {
	if rel, err := filepath.Rel(r.Objects.TempDir(), target); err == nil {
		dir, base := filepath.Split(rel)
		if strings.HasPrefix(base, stagedir.Run) && dir == base+"/" {
			return true
		}
	}
	rel, err := filepath.Rel(filepath.Join(r.Root, "services"), target)
	parts := strings.Split(rel, "/")
	return err == nil && len(parts) == 3 && parts[0] != ".." && parts[1] == "tree" && strings.HasPrefix(parts[2], "svc-")
}

// dirID names the directory at p by device and inode, without following
// a symlink there.
func dirID(p string) (string, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return "", &fs.PathError{Op: "lstat", Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", fmt.Errorf("%s: %w: not a directory", p, ErrBadTarget)
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), nil
}

// recordTarget makes an extra work tree's directory, if need be, and
// records which directory it is: its state names its path, and a state
// is only a file in .strata, which a repository handed over may have
// written to name any directory of this machine.
func (w *Worktree) recordTarget(st *State) error {
	if w.Name == MainName {
		return nil
	}
	if err := os.MkdirAll(w.target, 0o755); err != nil {
		return err
	}
	id, err := dirID(w.target)
	if err != nil {
		return err
	}
	st.TargetID = id
	return nil
}

// checkTarget refuses to mount an extra work tree anywhere but the
// directory its first checkout recorded: a copied or restored project's
// state, or a hostile one, names another.
func (w *Worktree) checkTarget(st State) error {
	if w.Name == MainName {
		return nil
	}
	id, err := dirID(st.Target)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("worktree %s: %s is gone; 'strata worktree prune' forgets it", w.Name, st.Target)
	}
	if err != nil {
		return fmt.Errorf("worktree %s: %w", w.Name, err)
	}
	if st.TargetID == "" || id != st.TargetID {
		// remove takes the PATH, not the name.
		return fmt.Errorf("worktree %s: %s: %w: not the directory it was made in (a copied or restored project?); 'strata worktree remove --force %s' forgets it",
			w.Name, st.Target, ErrBadTarget, pathquote.Quote(st.Target))
	}
	// Some ids are known in advance (/ is inode 2 on ext4, on a device
	// one of a few): a state naming one is no tree checkPlace let be
	// made, and mounted there it would hide the project, or the host.
	if within(w.Repo.Dir, st.Target) || within(st.Target, w.Repo.Root) && !internal(w.Repo, st.Target) {
		return fmt.Errorf("worktree %s: %s: %w: it would hide the project %s, or lie in its .strata; 'strata worktree remove --force %s' forgets it",
			w.Name, st.Target, ErrBadTarget, w.Repo.Dir, pathquote.Quote(st.Target))
	}
	return nil
}
