package build

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moby/sys/user"
	"github.com/strata-sh/strata/exec"
	"golang.org/x/sys/unix"
)

// resolveOwner reads --chown USER[:GROUP], names looked up in the image's
// /etc/passwd and /etc/group (read inside root); root:root without it.
func resolveOwner(root *os.Root, chown string) (uid, gid int, err error) {
	uid, gid, err = lookupOwner(root, chown)
	if err != nil {
		return 0, 0, fmt.Errorf("--chown=%s: %w", chown, err)
	}
	return uid, gid, nil
}

// lookupOwner is resolveOwner for USER[:GROUP] (also USER's). An empty
// user is root and an empty group the user's primary one, as buildkit
// and buildah read ":staff" and "app:"; "root" needs no /etc/passwd.
func lookupOwner(root *os.Root, chown string) (uid, gid int, err error) {
	u, g, _ := strings.Cut(chown, ":")
	if u != "" {
		// A user alone is also its primary group, as docker (a number
		// stands for both).
		uid, gid, err = lookupID(root, "etc/passwd", u, func(f *os.File, name string) (int, int, bool) {
			us, _ := user.ParsePasswdFilter(f, func(x user.User) bool { return x.Name == name })
			if len(us) == 0 {
				return 0, 0, false
			}
			return us[0].Uid, us[0].Gid, true
		})
		if err != nil {
			return 0, 0, err
		}
	}
	if g == "" {
		return uid, gid, nil
	}
	gid, _, err = lookupID(root, "etc/group", g, func(f *os.File, name string) (int, int, bool) {
		gs, _ := user.ParseGroupFilter(f, func(x user.Group) bool { return x.Name == name })
		if len(gs) == 0 {
			return 0, 0, false
		}
		return gs[0].Gid, gs[0].Gid, true
	})
	if err != nil {
		return 0, 0, err
	}
	return uid, gid, nil
}

// lookupID is the id of name in file and, for a user, its primary group:
// a number is both, and so is root's 0 (as buildkit, without a file).
// An id above exec.MaxID is refused, as the runtime refuses it: chown
// takes 4294967295 for "unchanged" and 4294967296 wraps to 0, so the
// files would silently be root's.
func lookupID(root *os.Root, file, name string, find func(*os.File, string) (int, int, bool)) (int, int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		if n > exec.MaxID {
			return 0, 0, fmt.Errorf("%s: id out of range (0..%d)", name, exec.MaxID)
		}
		return n, n, nil
	}
	if name == "root" {
		return 0, 0, nil
	}
	f, err := openRegular(root, file)
	if errors.Is(err, errNotRegular) {
		return 0, 0, fmt.Errorf("/%s: %w", file, err)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("no /%s in the image to look %s up", file, name)
	}
	defer f.Close()
	id, primary, ok := find(f, name)
	if !ok {
		return 0, 0, fmt.Errorf("%s: not in /%s", name, file)
	}
	if id < 0 || id > exec.MaxID || primary < 0 || primary > exec.MaxID {
		return 0, 0, fmt.Errorf("%s: /%s gives an id out of range (0..%d)", name, file, exec.MaxID)
	}
	return id, primary, nil
}

var errNotRegular = errors.New("not a regular file")

// openRegular opens name in root for reading only if it is a regular
// file. The image's /etc/passwd is whatever its RUNs made it: a FIFO
// (open would wait for ever, deaf to Ctrl-C), or a device node (nodev
// mounts refuse it, as "no /etc/passwd"). O_PATH opens nothing; the file
// is opened for reading only once known to be regular.
func openRegular(root *os.Root, name string) (*os.File, error) {
	p, err := root.OpenFile(name, unix.O_PATH, 0)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	fi, err := p.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", errNotRegular, modeName(fi.Mode()))
	}
	return os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(p.Fd())), os.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
}
