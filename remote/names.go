package remote

import (
	"fmt"
	"strings"

	"github.com/strata-sh/strata/refs"
)

// validRemoteName checks a name a remote lists (a registry tag, a layout's
// ref name) before fetch makes refs/remotes/REMOTE/NAME of it, with the
// refs package's rules (git's check-ref-format, HEAD and @ refused). The
// name must also be one path component: a registry tag never holds '/',
// and "a" beside "a/b" could not both be written.
func validRemoteName(n string) error {
	if n == "" || strings.ContainsRune(n, '/') {
		return fmt.Errorf("invalid name %q: empty or contains '/'", n)
	}
	full := refs.Remotes + "r/" + n
	if err := refs.CheckName(full); err != nil {
		// The reason alone, as CheckName (config.go) says it: the
		// made-up remote "r" is not the user's.
		why := strings.TrimPrefix(err.Error(), fmt.Sprintf("%q: %v: ", full, refs.ErrBadName))
		return fmt.Errorf("invalid name %q: %s", n, why)
	}
	return nil
}
