package worktree

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/repo"
)

// Repaired is one thing Repair set right: a tree moved by hand (From),
// or a marker written again.
type Repaired struct {
	Name   string
	Target string
	From   string // the directory the state named, when the tree was moved by hand
}

// Repair sets right what moves by hand broke, as git's worktree repair:
// for each of dirs, a second work tree's directory moved with mv while
// unmounted, the state is pointed at it; then, in every second work tree
// not mounted now, a marker that names another project directory (the
// project was moved) or is missing is written again, so that a command
// run in the tree finds the project. A directory is taken only if its
// marker names a tree of this project whose recorded directory is gone,
// and is either that directory (the same device and inode) or its
// marker names this project.
func Repair(ctx context.Context, r *repo.Repo, dirs []string) ([]Repaired, error) {
	var out []Repaired
	for _, d := range dirs {
		rep, err := repairDir(ctx, r, d)
		if err != nil {
			return out, err
		}
		if rep != nil {
			out = append(out, *rep)
		}
	}
	all, err := List(r)
	if err != nil {
		return out, err
	}
	for _, w := range all {
		if w.Name == MainName {
			continue
		}
		if ok, err := w.repairMarker(ctx); err != nil {
			return out, err
		} else if ok {
			out = append(out, Repaired{Name: w.Name, Target: w.target})
		}
	}
	return out, nil
}

func repairDir(ctx context.Context, r *repo.Repo, dir string) (*Repaired, error) {
	abs, err := canonical(dir)
	if err != nil {
		return nil, err
	}
	b, err := readSmall(filepath.Join(abs, MarkerName), maxMarker)
	if err != nil {
		return nil, fmt.Errorf("%s: not a work tree's directory: %w", pathquote.Quote(abs), err)
	}
	project, name, ok := parseMarker(string(b))
	if !ok {
		return nil, fmt.Errorf("%s: its %s does not name a work tree", pathquote.Quote(abs), MarkerName)
	}
	w, err := Named(r, name)
	if err != nil {
		return nil, err
	}
	unlock, err := w.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, found, err := w.State()
	if err != nil {
		return nil, err
	}
	if !found || w.Name == MainName {
		return nil, fmt.Errorf("%s: its marker names work tree %s, which this project does not have", pathquote.Quote(abs), pathquote.Name(name))
	}
	id, err := dirID(abs)
	if err != nil {
		return nil, err
	}
	if st.Target == abs && id == st.TargetID {
		return nil, nil // in place: repairMarker sees to its marker
	}
	if _, err := os.Lstat(st.Target); err == nil && st.Target != abs {
		return nil, fmt.Errorf("%s: work tree %s is at %s, which is there", pathquote.Quote(abs), pathquote.Name(name), pathquote.Quote(st.Target))
	}
	if id != st.TargetID && project != r.Dir {
		return nil, fmt.Errorf("%s: its marker names the project %s, not this one, and it is not the directory work tree %s was made in", pathquote.Quote(abs), pathquote.Quote(project), pathquote.Name(name))
	}
	if mounted, _ := w.isMounted(); mounted {
		return nil, fmt.Errorf("%s: work tree %s is mounted at %s", pathquote.Quote(abs), pathquote.Name(name), pathquote.Quote(st.Target))
	}
	if err := checkPlace(r, abs); err != nil {
		return nil, err
	}
	rep := &Repaired{Name: w.Name, Target: abs, From: st.Target}
	st.Target, st.TargetID, st.MovingTo = abs, id, ""
	if err := w.writeState(st); err != nil {
		return nil, err
	}
	w.target = abs
	if project != r.Dir {
		if err := w.writeMarker(); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// repairMarker writes the marker of a second work tree not mounted now
// again when it names another project, or is gone; it reports whether
// it did.
func (w *Worktree) repairMarker(ctx context.Context) (bool, error) {
	unlock, err := w.lock(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	st, ok, err := w.State()
	if err != nil || !ok {
		return false, err
	}
	w.target = st.Target
	if mounted, err := w.isMounted(); err != nil || mounted {
		return false, nil // the next mount writes it; something else there is not ours
	}
	if w.checkTarget(st) != nil {
		return false, nil // gone, or not its directory: list and prune say so
	}
	b, err := readSmall(filepath.Join(w.target, MarkerName), maxMarker)
	if err == nil {
		if project, name, ok := parseMarker(string(b)); ok && project == w.Repo.Dir && name == w.Name {
			return false, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, w.writeMarker()
}
