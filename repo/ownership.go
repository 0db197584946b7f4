package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrDubiousOwnership: the repository (its project directory or .strata)
// belongs to another user. Its config (merge drivers) and run records (a
// detached run's command line, started again by start) run commands as
// whoever opens it, so it is not opened, as git refuses such a
// repository (CVE-2022-24765) unless safe.directory names it.
var ErrDubiousOwnership = errors.New("another user's repository is not opened")

// checkOwnership is ErrDubiousOwnership, with the way to trust it, unless
// the project directory dir and its .strata at root are the user's:
// owned by the effective user or, for root under sudo, by the user who
// ran sudo ($SUDO_UID), as git takes them; or unless git's safe.directory
// names dir, or is "*".
func checkOwnership(dir, root string) error {
	for _, p := range []string{dir, root} {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil || ownedByUser(st.Uid) {
			continue // (what opening it next finds wrong says so)
		}
		if safeDirectory(dir) {
			return nil
		}
		return fmt.Errorf("%s is owned by uid %d, not by you (uid %d): %w (its config and run records run commands as whoever opens it); if you trust it: git config --global --add safe.directory %s",
			p, st.Uid, os.Geteuid(), ErrDubiousOwnership, dir)
	}
	return nil
}

// ownedByUser reports whether uid is the user's, as git's
// ensure_valid_ownership takes it.
func ownedByUser(uid uint32) bool {
	me := os.Geteuid()
	if uint32(me) == uid {
		return true
	}
	if me != 0 {
		return false
	}
	sudo, err := strconv.ParseUint(os.Getenv("SUDO_UID"), 10, 32)
	return err == nil && uint32(sudo) == uid
}

// safeDirectory reports whether git's safe.directory, in the user's git
// config files (never a repository's own), names dir or is "*". As in
// git, the values add up, and an empty one clears those before it.
func safeDirectory(dir string) bool {
	safe := false
	for _, f := range gitConfigFiles() {
		for _, e := range configEntries(f, 0) {
			if e.Key != "safe.directory" {
				continue
			}
			v := expandHome(e.Value)
			switch {
			case v == "":
				safe = false
			case v == "*" || filepath.Clean(v) == dir:
				safe = true
			}
		}
	}
	return safe
}
