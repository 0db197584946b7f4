package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-sh/strata/exec"
)

// checkIDFlags refuses numeric ids that a container must never get: above
// 2^31-1, or negative (-1 and 4294967295 mean "unchanged" to the kernel,
// which would leave the process root). Names are resolved, and checked
// again, inside the container.
func checkIDFlags(user string, groupAdd []string) error {
	if user != "" {
		u, g, hasGroup := strings.Cut(user, ":")
		if err := checkID(u); err != nil {
			return usagef("--user %s: uid %v", user, err)
		}
		if hasGroup {
			if err := checkID(g); err != nil {
				return usagef("--user %s: gid %v", user, err)
			}
		}
	}
	for _, g := range groupAdd {
		if g == "" {
			return usagef("--group-add: empty group")
		}
		if err := checkID(g); err != nil {
			return usagef("--group-add %s: gid %v", g, err)
		}
	}
	return nil
}

// checkID fails for a numeric id out of range; names pass.
func checkID(s string) error {
	digits := strings.TrimLeft(s, "+-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > exec.MaxID {
		return errOutOfRange
	}
	return nil
}

var errOutOfRange = fmt.Errorf("out of range (0..%d)", exec.MaxID)
