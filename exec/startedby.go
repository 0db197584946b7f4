package exec

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Strata starts its own binary again for itself: as a container's init,
// a watchdog or a join (ModeVar), as a run's supervisor or exec -d's
// waiter (package main). Variables in its environment tell each what it
// is, and a user's shell may hold any of them too (exported by a script,
// inherited from a container's or a CI's environment), where they must
// not steer what the user typed: _STRATA_EXEC_MODE=watchdog made any
// command remove the directory named by its first word. So a strata
// started for itself is also given a pipe as fd 3 (its config, its
// watchdog's or its ready pipe) and ChildVar set to that pipe's device
// and inode: no shell passes that on by chance, as the pipe is made for
// the one child. Checking it is one fstat, done only when some such
// variable is set.

// ChildVar holds "DEV:INO" of the pipe at fd 3 of a strata that strata
// started for itself.
const ChildVar = "_STRATA_CHILD"

// childFd is where a strata started for itself has its pipe.
const childFd = 3

// ChildSetting is ChildVar's setting ("NAME=VALUE") for a child that is
// given fd, a pipe of this process, as its fd 3.
func ChildSetting(fd uintptr) (string, error) {
	id, ok := pipeID(int(fd))
	if !ok {
		return "", fmt.Errorf("hand over to a child: fd %d is no pipe", fd)
	}
	return ChildVar + "=" + id, nil
}

// StartedByStrata reports whether strata started this process for itself:
// ChildVar names the pipe at its fd 3. It removes ChildVar from the
// environment, as nothing this process starts is given that pipe.
func StartedByStrata() bool {
	ok := startedByStrata()
	os.Unsetenv(ChildVar)
	return ok
}

// startedByStrata is StartedByStrata leaving ChildVar set.
func startedByStrata() bool {
	want, set := os.LookupEnv(ChildVar)
	if !set {
		return false
	}
	got, ok := pipeID(childFd)
	return ok && got == want
}

// pipeID is "DEV:INO" of fd if it is a pipe.
func pipeID(fd int) (string, bool) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return "", false
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), true
}
