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

// resolveUser resolves spec.User and spec.GroupAdd against passwd and
// group files (those of the container's root, after pivot_root). Numeric
// ids need no entry. Every id, also those from the files, must be in
// 0..MaxID.
func resolveUser(user string, groupAdd []string, passwdPath, groupPath string) (credential, error) {
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
			uid, err1 := parseID(u[2])
			gid, err2 := parseID(u[3])
			if err1 != nil || err2 != nil {
				return cred, fmt.Errorf("user %q: /etc/passwd entry has an id out of range (0..%d)", name, MaxID)
			}
			cred.UID, cred.GID, cred.Home, userName = uid, gid, u[5], u[0]
			found = true
			break
		}
	}
	if !found {
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
			for _, m := range strings.Split(g[3], ",") {
				if m == userName {
					gid, err := parseID(g[2])
					if err != nil {
						return cred, fmt.Errorf("group %q: /etc/group entry has an id out of range (0..%d)", g[0], MaxID)
					}
					if gid != cred.GID {
						cred.Groups = append(cred.Groups, gid)
					}
				}
			}
		}
	}
	return cred, nil
}

func lookupGroup(groups [][]string, g string) (uint32, error) {
	for _, e := range groups {
		if e[0] == g || e[2] == g {
			gid, err := parseID(e[2])
			if err != nil {
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
