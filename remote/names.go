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
	if err := refs.CheckName(refs.Remotes + "r/" + n); err != nil {
		return fmt.Errorf("invalid name %q: %w", n, err)
	}
	return nil
}
