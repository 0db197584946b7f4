package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/internal/regfile"
	"github.com/strata-sh/strata/repo"
	"github.com/strata-sh/strata/worktree"
)

// The names of runs. A run's directory, services/KEY, keeps the key it
// was made with: its first name, or run-HEX when a run renamed since
// holds that directory. The key names its container and cgroup
// (containerID) for as long as the run lives, so that rename changes a
// running run's name without its supervisor, container or cgroup
// knowing, as docker's rename does. A renamed run's name is in its
// directory's file "name", and services/.names/NAME is a link to its
// key; a name without a link is its own key.

const runNameFile = "name"

func namesDir(r *repo.Repo) string { return filepath.Join(servicesDir(r), ".names") }

// runKey is the key of the run named name: where .names/NAME leads, or
// name itself.
func runKey(r *repo.Repo, name string) string {
	if k, err := os.Readlink(filepath.Join(namesDir(r), name)); err == nil && validSvcName(k) {
		return k
	}
	return name
}

// currentName is the name of the run in dir, whose key is key.
func currentName(dir, key string) string {
	b, err := regfile.ReadFile(filepath.Join(dir, runNameFile))
	if n := strings.TrimSpace(string(b)); err == nil && validSvcName(n) {
		return n
	}
	return key
}

// lockNames holds the lock that run -d, rename and rm take to claim or
// free a name, until unlock.
func lockNames(r *repo.Repo) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(servicesDir(r), ".names.lock"), os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// nameInUse reports whether a run is named name; a link of .names that
// names none (left by a rename or rm cut short) is removed.
func nameInUse(r *repo.Repo, name string) bool {
	if _, err := loadSvc(r, name); !errors.Is(err, errNoRun) {
		return true
	}
	os.Remove(filepath.Join(namesDir(r), name))
	return false
}

// claimRunDir makes the directory of a new run named name, holding the
// names lock: services/NAME, or services/run-HEX and a link from
// .names/NAME when a renamed run holds services/NAME. It fails with
// fs.ErrExist when a run is named name.
func claimRunDir(r *repo.Repo, name string) (string, error) {
	if nameInUse(r, name) {
		return "", fs.ErrExist
	}
	dir := filepath.Join(servicesDir(r), name)
	err := os.Mkdir(dir, 0o700)
	if !errors.Is(err, fs.ErrExist) || currentName(dir, name) == name {
		return dir, err // a run being made, or one whose state is gone, holds it too
	}
	key := "run-" + randomHex(6)
	dir = filepath.Join(servicesDir(r), key)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	err = os.WriteFile(filepath.Join(dir, runNameFile), []byte(name+"\n"), 0o600)
	if err == nil {
		err = linkName(r, name, key)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// linkName points .names/NAME at key.
func linkName(r *repo.Repo, name, key string) error {
	if err := os.MkdirAll(namesDir(r), 0o700); err != nil {
		return err
	}
	return os.Symlink(key, filepath.Join(namesDir(r), name))
}

// renameSvc names the run s newName, as docker rename: running or not.
func renameSvc(r *repo.Repo, s *svc, newName string) error {
	unlock, err := lockNames(r)
	if err != nil {
		return err
	}
	defer unlock()
	old, key := s.st.Name, filepath.Base(s.dir)
	// Still named as it was loaded: not renamed (nor removed) by another
	// command meanwhile, whose new name this one would overwrite.
	if _, err := os.Stat(s.path("state.json")); err != nil || currentName(s.dir, key) != old {
		return fmt.Errorf("%w %q", errNoRun, old)
	}
	if nameInUse(r, newName) {
		return fmt.Errorf("the name %q is already in use (strata rm %s, or rename it)", newName, newName)
	}
	if newName == key {
		err = os.Remove(s.path(runNameFile))
	} else {
		// The link first: cut short before the name file is written, it
		// names no run, and is removed by the next claim of that name.
		if err := linkName(r, newName, key); err != nil {
			return err
		}
		err = atomicfile.Write(s.dir, s.path(runNameFile), []byte(newName+"\n"), 0o600)
	}
	if err != nil {
		return err
	}
	if old != key {
		os.Remove(filepath.Join(namesDir(r), old))
	}
	s.st.Name = newName
	// Its work tree names the runs that hold it in the way of checkout,
	// reset and umount: by the new name now.
	w := worktree.Main(r)
	if s.st.Tree != "" {
		if w, err = worktree.ForPath(r, s.st.Tree); err != nil {
			return nil // renamed; a tree gone is rm's to report
		}
	}
	return w.RenameRun(s.id, newName)
}

// unlinkName frees the name of the run s, which is being removed.
func unlinkName(r *repo.Repo, s *svc) {
	if filepath.Base(s.dir) == s.st.Name {
		return
	}
	if unlock, err := lockNames(r); err == nil {
		defer unlock()
	}
	link := filepath.Join(namesDir(r), s.st.Name)
	if k, err := os.Readlink(link); err == nil && k == filepath.Base(s.dir) {
		os.Remove(link)
	}
}

var (
	nameAdjectives = []string{"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lucid", "merry", "nimble", "proud", "quiet", "silly", "sunny", "witty", "zen", "bold", "crisp", "dapper"}
	nameNouns      = []string{"otter", "falcon", "maple", "comet", "badger", "cedar", "heron", "lynx", "panda", "quartz", "raven", "spruce", "tiger", "walrus", "yak", "zebra", "koala", "moth", "newt", "orca"}
)

func generateName() string {
	return nameAdjectives[rand.IntN(len(nameAdjectives))] + "_" + nameNouns[rand.IntN(len(nameNouns))]
}
