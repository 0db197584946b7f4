package remote

import (
	"fmt"
	"strings"
)

// validRemoteName checks a name a remote lists (a registry tag, a layout's
// ref name) before fetch makes refs/remotes/REMOTE/NAME of it, with git's
// check-ref-format rules. The name must also be one path component: a
// registry tag never holds '/', and "a" beside "a/b" could not both be
// written. The one place to point at the refs package's checker.
func validRemoteName(n string) error {
	bad := func(why string) error { return fmt.Errorf("invalid name %q: %s", n, why) }
	switch {
	case n == "" || n == "@" || n == "HEAD":
		return bad("reserved")
	case strings.ContainsRune(n, '/'):
		return bad("contains '/'")
	case strings.HasPrefix(n, ".") || strings.HasPrefix(n, "-"):
		return bad("starts with '.' or '-'")
	case strings.HasSuffix(n, ".") || strings.HasSuffix(n, ".lock"):
		return bad("ends with '.' or '.lock'")
	case strings.Contains(n, "..") || strings.Contains(n, "@{"):
		return bad("contains '..' or '@{'")
	}
	for _, c := range n {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return bad(fmt.Sprintf("contains %q", c))
		}
	}
	return nil
}
