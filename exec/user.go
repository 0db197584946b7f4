package exec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/sys/user"
)

// credential is a resolved user: uid, primary gid, supplementary groups.
type credential struct {
	UID, GID uint32
	Groups   []uint32
	Home     string
}

// MaxID is the largest uid or gid a container may use: ids above 2^31-1
// are refused (runc and the kernel's overflow ids live up there), and
// 4294967295 (-1) means "unchanged" to setresuid, which would leave the
// process root.
const MaxID = 1<<31 - 1

// parseID parses a decimal uid or gid in 0..MaxID.
func parseID(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v > MaxID {
		return 0, fmt.Errorf("%q: id out of range (0..%d)", s, MaxID)
	}
	return uint32(v), nil
}

// isNumeric reports whether s looks like a number (signed or not), and so
// must be an id, never a name.
func isNumeric(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// idInRange is parseID for an id moby/sys/user has already read as an int.
func idInRange(id int) (uint32, bool) {
	if id < 0 || id > MaxID {
		return 0, false
	}
	return uint32(id), true
}

// resolveUser resolves spec.User and spec.GroupAdd against passwd and
// group files (those of the container's root, after pivot_root). Numeric
// ids need no entry. Every id, also those from the files, must be in
// 0..MaxID.
//
// The files are read by github.com/moby/sys/user (runc's parser); the
// resolution is strata's own: user.GetExecUser differs (a bare uid keeps
// gid 0, an explicit group drops the supplementary ones) and knows no
// MaxID. Like runc, the parser reads an id field that is not a number as
// 0; the image could name 0 outright, so that grants nothing new.
func resolveUser(spec string, groupAdd []string, passwdPath, groupPath string) (credential, error) {
	cred := credential{Home: "/"}
	if spec == "" {
		spec = "0"
	}
	name, group, hasGroup := strings.Cut(spec, ":")
	// "user:" names no group, as runc reads it: the user's own.
	hasGroup = hasGroup && group != ""
	// A missing file is an image without users: numeric ids still work.
	// The group parser skips comment lines; the passwd parser does not.
	passwdDB, err := readUserDB(passwdPath)
	if err != nil {
		return cred, err
	}
	users, err := user.ParsePasswdFilter(bytes.NewReader(passwdDB), func(u user.User) bool {
		return !strings.HasPrefix(u.Name, "#") && (u.Name == name || strconv.Itoa(u.Uid) == name)
	})
	if err != nil {
		return cred, fmt.Errorf("%s: %w", passwdPath, err)
	}
	groupDB, err := readUserDB(groupPath)
	if err != nil {
		return cred, err
	}
	groups, err := user.ParseGroup(bytes.NewReader(groupDB))
	if err != nil {
		return cred, fmt.Errorf("%s: %w", groupPath, err)
	}

	var userName string
	if len(users) > 0 {
		u := users[0] // the first entry wins, as in glibc
		uid, ok1 := idInRange(u.Uid)
		gid, ok2 := idInRange(u.Gid)
		if !ok1 || !ok2 {
			return cred, fmt.Errorf("user %q: /etc/passwd entry has an id out of range (0..%d)", name, MaxID)
		}
		cred.UID, cred.GID, cred.Home, userName = uid, gid, u.Home, u.Name
	} else {
		if !isNumeric(name) {
			return cred, fmt.Errorf("user %q: no such user in /etc/passwd", name)
		}
		uid, err := parseID(name)
		if err != nil {
			return cred, fmt.Errorf("user %w", err)
		}
		cred.UID, cred.GID = uid, uid
		if uid == 0 {
			cred.GID = 0
		}
	}
	if hasGroup {
		gid, err := lookupGroup(groups, group)
		if err != nil {
			return cred, err
		}
		cred.GID = gid
	}
	for _, g := range groupAdd {
		gid, err := lookupGroup(groups, g)
		if err != nil {
			return cred, err
		}
		cred.Groups = append(cred.Groups, gid)
	}
	// Supplementary groups: every group listing the user by name.
	if userName != "" {
		for _, g := range groups {
			if !slices.Contains(g.List, userName) {
				continue
			}
			gid, ok := idInRange(g.Gid)
			if !ok {
				return cred, fmt.Errorf("group %q: /etc/group entry has an id out of range (0..%d)", g.Name, MaxID)
			}
			if gid != cred.GID {
				cred.Groups = append(cred.Groups, gid)
			}
		}
	}
	return cred, nil
}

// maxUserDB bounds what is read of /etc/passwd and /etc/group (the
// bound moby/sys/user puts on its own reads).
const maxUserDB = 10 << 20

// readUserDB reads a passwd or group file of the container's root; a
// missing one reads as empty. strata reads it on its own thread (a direct
// start or join), outside the container's memory limit and before any
// signal is forwarded, and the container may have put anything there: a
// FIFO would hold the open forever, a link to /dev/urandom would never
// end (and every line of it matches user 0, whose id does not parse). So
// the open does not wait, and only a regular file of at most maxUserDB
// bytes is read.
func readUserDB(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file", path, fileKind(st.Mode()))
	}
	b, err := io.ReadAll(io.LimitReader(f, maxUserDB+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxUserDB {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxUserDB)
	}
	return b, nil
}

// fileKind names a file's type in words, for an error.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	}
	return "of type " + m.Type().String()
}

func lookupGroup(groups []user.Group, g string) (uint32, error) {
	for _, e := range groups {
		if e.Name == g || strconv.Itoa(e.Gid) == g {
			gid, ok := idInRange(e.Gid)
			if !ok {
				return 0, fmt.Errorf("group %q: /etc/group entry has an id out of range (0..%d)", g, MaxID)
			}
			return gid, nil
		}
	}
	if !isNumeric(g) {
		return 0, fmt.Errorf("group %q: no such group in /etc/group", g)
	}
	gid, err := parseID(g)
	if err != nil {
		return 0, fmt.Errorf("group %w", err)
	}
	return gid, nil
}
