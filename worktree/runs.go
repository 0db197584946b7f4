package worktree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrRunning is wrapped when a command that must swap the work tree's mount
// finds a container running in it.
var ErrRunning = errors.New("a container is running in the work tree")

// validRunID keeps run ids file-name safe (they name files under runs/):
// [A-Za-z0-9][A-Za-z0-9_.-]{0,127}. A loop, not a regexp: compiling that
// one took a share of every strata start.
func validRunID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}

func (w *Worktree) runsDir() string { return filepath.Join(w.Dir, "runs") }

// RegisterRun records that container id runs in this work tree, for as long
// as the returned release is not called and this process lives: the record
// is a file under runs/ held with an exclusive flock, so a killed strata
// leaves a record that Runs sees as stale and removes. It holds name, the
// run's name as the user knows it ("" for id), for the errors that name
// the runs in the way.
func (w *Worktree) RegisterRun(id, name string) (release func(), err error) {
	if !validRunID(id) {
		return nil, fmt.Errorf("run id %q: not a valid name", id)
	}
	if err := os.MkdirAll(w.runsDir(), 0o700); err != nil {
		return nil, fmt.Errorf("register run: %w", err)
	}
	path := filepath.Join(w.runsDir(), id)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Left by a strata that was killed (a supervisor, at a crash or a
		// reboot): runLive removes a record nobody holds.
		if live, lerr := w.runLive(id); lerr == nil && !live {
			f, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
		} else if live {
			return nil, fmt.Errorf("register run: %s runs here already", id)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("register run: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("register run: %w", err)
	}
	if name != "" && name != id {
		if _, err := f.WriteString(name); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("register run: %w", err)
		}
	}
	return func() {
		os.Remove(path)
		f.Close()
	}, nil
}

// RenameRun records name as the name of the run id registered here (a
// detached run renamed while it runs); a run not registered here is
// left alone.
func (w *Worktree) RenameRun(id, name string) error {
	if !validRunID(id) {
		return fmt.Errorf("run id %q: not a valid name", id)
	}
	f, err := os.OpenFile(filepath.Join(w.runsDir(), id), os.O_WRONLY|os.O_TRUNC|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rename run: %w", err)
	}
	_, err = f.WriteString(name)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rename run: %w", err)
	}
	return nil
}

// Runs lists the ids of the containers running in this work tree, sorted,
// and removes the records of runs whose strata process is gone.
func (w *Worktree) Runs() ([]string, error) {
	entries, err := os.ReadDir(w.runsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !validRunID(e.Name()) {
			continue
		}
		live, err := w.runLive(e.Name())
		if err != nil {
			return nil, err
		}
		if live {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// runLive reports whether the run's record is still locked by its strata
// process; a record nobody holds is removed.
func (w *Worktree) runLive(id string) (bool, error) {
	path := filepath.Join(w.runsDir(), id)
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("list runs: %w", err)
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("list runs: %w", err)
	}
	os.Remove(path)
	return false, nil
}

// refuseRuns returns an error wrapping ErrRunning when a container runs
// in the work tree.
func (w *Worktree) refuseRuns() error {
	ids, err := w.Runs()
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	noun := "container"
	if len(ids) > 1 {
		noun = "containers"
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = w.runName(id)
	}
	return fmt.Errorf("%w: %s holds %d %s (%s); stop them "+ForceHint,
		ErrRunning, w.Target(), len(ids), noun, strings.Join(names, ", "))
}

// runName is the name run id was registered with, else its id. The
// record is strata's own file in .strata, but the name is printed, so
// it must be one a run can have.
func (w *Worktree) runName(id string) string {
	f, err := os.OpenFile(filepath.Join(w.runsDir(), id), os.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return id
	}
	defer f.Close()
	b := make([]byte, 129)
	n, _ := f.Read(b)
	if name := string(b[:n]); n > 0 && n <= 128 && validRunID(name) {
		return name
	}
	return id
}
