package exec

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// credential is a resolved user: uid, primary gid, supplementary groups.
type credential struct {
	UID, GID uint32
	Groups   []uint32
	Home     string
}

// resolveUser resolves spec.User against passwd and group files (those of
// the container's root, after pivot_root). Numeric ids need no entry.
func resolveUser(user, passwdPath, groupPath string) (credential, error) {
	cred := credential{Home: "/"}
	if user == "" {
		user = "0"
	}
	name, group, hasGroup := strings.Cut(user, ":")
	users, _ := readColonFile(passwdPath, 7)
	groups, _ := readColonFile(groupPath, 4)

	var userName string
	found := false
	for _, u := range users {
		if u[0] == name || u[2] == name {
			uid, err1 := strconv.ParseUint(u[2], 10, 32)
			gid, err2 := strconv.ParseUint(u[3], 10, 32)
			if err1 != nil || err2 != nil {
				continue
			}
			cred.UID, cred.GID, cred.Home, userName = uint32(uid), uint32(gid), u[5], u[0]
			found = true
			break
		}
	}
	if !found {
		uid, err := strconv.ParseUint(name, 10, 32)
		if err != nil {
			return cred, fmt.Errorf("user %q: no such user in /etc/passwd", name)
		}
		cred.UID, cred.GID = uint32(uid), uint32(uid)
		if uid == 0 {
			cred.GID = 0
		}
	}
	if hasGroup {
		gid, ok := lookupGroup(groups, group)
		if !ok {
			return cred, fmt.Errorf("group %q: no such group in /etc/group", group)
		}
		cred.GID = gid
	}
	// Supplementary groups: every group listing the user by name.
	if userName != "" {
		for _, g := range groups {
			for _, m := range strings.Split(g[3], ",") {
				if m == userName {
					if gid, err := strconv.ParseUint(g[2], 10, 32); err == nil && uint32(gid) != cred.GID {
						cred.Groups = append(cred.Groups, uint32(gid))
					}
				}
			}
		}
	}
	return cred, nil
}

func lookupGroup(groups [][]string, g string) (uint32, bool) {
	for _, e := range groups {
		if e[0] == g || e[2] == g {
			if gid, err := strconv.ParseUint(e[2], 10, 32); err == nil {
				return uint32(gid), true
			}
		}
	}
	gid, err := strconv.ParseUint(g, 10, 32)
	return uint32(gid), err == nil
}

// readColonFile reads /etc/passwd-style lines with at least n fields.
func readColonFile(path string, n int) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) < n {
			continue
		}
		out = append(out, fields)
	}
	return out, sc.Err()
}
