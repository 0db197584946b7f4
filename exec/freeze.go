//go:build !strata_init

package exec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A container's cgroup is named strata-<owner pid>-<id>: the pid lets the
// sweep tell leftovers from live runs, the id lets Freeze find it.

func cgroupName(pid int, id string) string {
	return cgroupPrefix + strconv.Itoa(pid) + "-" + id
}

// checkID accepts ids that are safe as one path component and one line.
func checkID(id string) error {
	if len(id) == 0 || len(id) > 64 {
		return fmt.Errorf("container id %q: want 1 to 64 characters", id)
	}
	for i, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '_' || c == '.' || c == '-')
		if !ok {
			return fmt.Errorf("container id %q: want letters, digits, and _ . - after the first character", id)
		}
	}
	return nil
}

// findCgroup returns the directory of the live container id in the
// hierarchy under parent, or "" if there is none.
func findCgroup(parent, id string) string {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), cgroupPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pid, cid, _ := strings.Cut(rest, "-")
		if _, err := strconv.Atoi(pid); err == nil && cid == id && ownerAlive(e.Name(), cgroupPrefix) {
			return filepath.Join(parent, e.Name())
		}
	}
	return ""
}

// freezerDir is where the freezer of container id lives: the v1 freezer
// hierarchy or the v2 cgroup itself.
func freezerDir(id string) (dir string, v2 bool) {
	if cgroupV2() {
		return findCgroup(cgroupRoot, id), true
	}
	return findCgroup(filepath.Join(cgroupRoot, "freezer"), id), false
}

// Freeze stops every task of the running container id with the cgroup
// freezer and returns once the kernel reports the cgroup frozen. thaw lets
// the tasks run again. While one process holds a container frozen, another
// Freeze of it waits for the thaw. If the process dies before it thaws,
// ThawOrphans finds the container. The error wraps ErrNotRunning when no
// container has the id.
func Freeze(id string) (thaw func() error, err error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("freeze: %w", err)
	}
	dir, v2 := freezerDir(id)
	if dir == "" {
		return nil, fmt.Errorf("freeze %s: %w", id, ErrNotRunning)
	}
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil || len(strings.TrimSpace(string(procs))) == 0 {
		return nil, fmt.Errorf("freeze %s: %w", id, ErrNotRunning)
	}
	lock, err := lockFreeze(id)
	if err != nil {
		return nil, fmt.Errorf("freeze %s: %w", id, err)
	}
	if paused, _ := isFrozen(dir, v2); paused {
		// Paused (Pause): it stays so. The lock file says so to
		// ThawOrphans, should this process die before it lets go.
		if lock != nil {
			if _, err := lock.WriteString(pausedMark); err != nil {
				unlockFreeze(lock)
				return nil, fmt.Errorf("freeze %s: %w", id, err)
			}
		}
		return func() error { unlockFreeze(lock); return nil }, nil
	}
	thaw = func() error {
		defer unlockFreeze(lock)
		if err := writeFreezer(dir, v2, false); err != nil {
			return fmt.Errorf("thaw %s: %w", id, err)
		}
		return nil
	}
	if err := freezeDir(dir, v2); err != nil {
		thaw()
		return nil, fmt.Errorf("freeze %s: %w", id, err)
	}
	return thaw, nil
}

// freezeDir freezes the cgroup at dir and returns once the kernel reports
// it frozen; the caller thaws it after a failure.
func freezeDir(dir string, v2 bool) error {
	if err := writeFreezer(dir, v2, true); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return ErrNotRunning
		}
		return err
	}
	// Freezing is asynchronous: a task in an uninterruptible sleep holds
	// it back. Wait, but not forever.
	deadline := time.Now().Add(10 * time.Second)
	for wait := 100 * time.Microsecond; ; wait = min(2*wait, 10*time.Millisecond) {
		frozen, err := isFrozen(dir, v2)
		if err != nil {
			return err
		}
		if frozen {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("not frozen after 10s")
		}
		time.Sleep(wait)
	}
}

// pausedMark is what a freeze lock file holds when the container was
// paused before Freeze: its thaw, or ThawOrphans, leaves it frozen.
const pausedMark = "paused\n"

// Errors of Pause and Unpause.
var (
	ErrPaused    = errors.New("is already paused")
	ErrNotPaused = errors.New("is not paused")
)

// Pause freezes the running container id, as docker pause, until Unpause:
// unlike Freeze's, the freeze outlives this process, and ThawOrphans
// leaves it. It waits while a Freeze of the container is in progress, and
// fails with ErrPaused when it is paused already, ErrNotRunning when no
// container has the id.
func Pause(id string) error {
	return pauseOrUnpause(id, true)
}

// Unpause thaws the container id that Pause froze. It fails with
// ErrNotPaused when it is not, ErrNotRunning when no container has the id.
func Unpause(id string) error {
	return pauseOrUnpause(id, false)
}

func pauseOrUnpause(id string, pause bool) (err error) {
	what := "unpause"
	if pause {
		what = "pause"
	}
	if err := checkID(id); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s %s: %w", what, id, err)
		}
	}()
	dir, v2 := freezerDir(id)
	if dir == "" {
		return ErrNotRunning
	}
	lock, err := lockFreeze(id)
	if err != nil {
		return err
	}
	defer unlockFreeze(lock)
	frozen, err := isFrozen(dir, v2)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return ErrNotRunning
	case err != nil:
		return err
	case frozen && pause:
		return ErrPaused
	case !frozen && !pause:
		return ErrNotPaused
	case !pause:
		return writeFreezer(dir, v2, false)
	}
	if err := freezeDir(dir, v2); err != nil {
		writeFreezer(dir, v2, false)
		return err
	}
	return nil
}

// Paused reports whether the container whose pid 1 is pid is frozen:
// paused, or frozen by a Freeze in progress. It reads the freezer cgroup
// /proc/PID/cgroup names (two small reads, not a listing of the freezer
// hierarchy): exec asks it on a path where each fraction of a
// millisecond shows, and ps, rm and start ask it too.
func Paused(pid int) bool {
	cgs, err := readProcCgroups("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return false
	}
	v2 := cgroupV2()
	for _, c := range cgs {
		switch {
		case v2 && c.id == "0" && c.controllers == "":
			frozen, _ := isFrozen(filepath.Join(cgroupRoot, c.path), true)
			return frozen
		case !v2 && slices.Contains(strings.Split(c.controllers, ","), "freezer"):
			frozen, _ := isFrozen(filepath.Join(cgroupRoot, "freezer", c.path), false)
			return frozen
		}
	}
	return false
}

func isFrozen(dir string, v2 bool) (bool, error) {
	if !v2 {
		b, err := os.ReadFile(filepath.Join(dir, "freezer.state"))
		return strings.TrimSpace(string(b)) == "FROZEN", err
	}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	for _, l := range strings.Split(string(b), "\n") {
		if l == "frozen 1" {
			return true, err
		}
	}
	return false, err
}
