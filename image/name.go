package image

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// The grammar of an image name, as docker and podman parse one
// (github.com/distribution/reference): an optional registry host
// ("localhost", "registry.example.com:5000"), then path components of
// lower-case letters and digits joined by one '.', one or two '_' or any
// number of '-', then ':' and a tag.
var (
	componentRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	})
	hostRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$`)
	})
	imageTagRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`) })
)

// maxNameLen is the longest repository name docker accepts, host included.
const maxNameLen = 255

// ParseName checks an image name given as NAME[:TAG] ("myapp:v1",
// "foo/bar:baz", "localhost:5000/env:main") against the grammar docker
// load and podman load apply to an archive's tags, and returns it as an
// archive records it: with ":latest" when no tag is given, as docker
// save does. A digest (NAME@sha256:...) names no tag and is refused.
func ParseName(s string) (string, error) {
	repo, tag := s, "latest"
	if i := lastColon(s); i >= 0 {
		repo, tag = s[:i], s[i+1:]
	}
	switch {
	case repo == "":
		return "", fmt.Errorf("%q: no name before the tag", s)
	case len(repo) > maxNameLen:
		return "", fmt.Errorf("%q: name longer than %d characters", s, maxNameLen)
	case !imageTagRE().MatchString(tag):
		return "", fmt.Errorf("%q: tag %q: want letters, digits, '_', '.', '-' (at most 128, not starting with '.' or '-')", s, tag)
	}
	parts := strings.Split(repo, "/")
	if len(parts) > 1 && isHost(parts[0]) {
		if !hostRE().MatchString(parts[0]) {
			return "", fmt.Errorf("%q: %q is not a registry host", s, parts[0])
		}
		parts = parts[1:]
	}
	for _, p := range parts {
		if !componentRE().MatchString(p) {
			return "", fmt.Errorf("%q: name component %q: want lower-case letters and digits, joined by one '.', one or two '_' or '-'s", s, p)
		}
	}
	return repo + ":" + tag, nil
}

// isHost reports whether the first component of a name is a registry
// host, as docker decides: it has a '.' or a ':', is "localhost", or has
// an upper-case letter (a path component may not).
func isHost(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost" || strings.ToLower(s) != s
}

// NameComponent makes s (a directory's name) one path component of an
// image name: lower case, runs of other characters than letters and
// digits as one '-' (or the '.', '_' or "__" they were, which the
// grammar allows between letters and digits); "strata" if nothing is
// left.
func NameComponent(s string) string {
	var b strings.Builder
	sep := ""
	for _, c := range strings.ToLower(s) {
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			if b.Len() > 0 && sep != "" {
				if sep != "." && sep != "_" && sep != "__" {
					sep = "-"
				}
				b.WriteString(sep)
			}
			sep = ""
			b.WriteRune(c)
			continue
		}
		sep += string(c)
	}
	n := b.String()
	if len(n) > 128 {
		n = strings.TrimRight(n[:128], "._-")
	}
	if n == "" {
		return "strata"
	}
	return n
}
