package refs

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxComponent is the longest name component: each one becomes a file or
// directory name under .strata/refs, and NAME_MAX is 255 bytes.
const maxComponent = 255

// CheckName validates a full ref name (refs/heads/main). It applies every
// rule of git's check-ref-format, and strata's own on top:
//   - the name starts with refs/;
//   - the short name of a branch, tag or remote-tracking ref (what follows
//     refs/heads/, refs/tags/ or refs/remotes/<remote>/) is not HEAD or @,
//     which name the current commit, and does not start with '-', which
//     reads as an option (git branch refuses both too);
//   - a branch or tag is not named by 64 hex digits, which as a revision
//     always mean the commit of that id;
//   - it is valid UTF-8 (it is written into index.json) and no component
//     is longer than 255 bytes (it is a file name);
//   - it holds no C1 control character (U+0080 to U+009F) and no
//     bidirectional embedding, override or isolate (U+202A to U+202E,
//     U+2066 to U+2069), which git allows: a name pulled from a registry
//     must not drive or reorder the terminal it is listed on.
//
// The error wraps ErrBadName and says, in one line, which rule failed.
func CheckName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%q: %w: %s", name, ErrBadName, why) }
	if name == "@" {
		return bad("'@' alone means HEAD")
	}
	if !strings.HasPrefix(name, "refs/") {
		return bad("must start with refs/")
	}
	if !utf8.ValidString(name) {
		return bad("not valid UTF-8")
	}
	for _, c := range name {
		switch {
		case c < 0x20 || c == 0x7f || c >= 0x80 && c <= 0x9f:
			// C1 controls too: a terminal may obey U+009B as CSI.
			return bad(fmt.Sprintf("contains the control character %U", c))
		case isBidiControl(c):
			// It would reorder what the terminal shows around it.
			return bad(fmt.Sprintf("contains the bidirectional control character %U", c))
		case strings.ContainsRune(" ~^:?*[\\", c):
			return bad(fmt.Sprintf("contains %q", c))
		}
	}
	switch {
	case strings.Contains(name, ".."):
		return bad("contains \"..\"")
	case strings.Contains(name, "@{"):
		return bad("contains \"@{\"")
	case strings.HasSuffix(name, "/"):
		return bad("ends with '/'")
	case strings.HasSuffix(name, "."):
		return bad("ends with '.'")
	}
	for _, part := range strings.Split(name, "/") {
		switch {
		case part == "":
			return bad("has an empty component (\"//\")")
		case strings.HasPrefix(part, "."):
			return bad(fmt.Sprintf("component %q starts with '.'", part))
		case strings.HasSuffix(part, ".lock"):
			return bad(fmt.Sprintf("component %q ends with \".lock\"", part))
		case len(part) > maxComponent:
			return bad(fmt.Sprintf("a component is longer than %d bytes", maxComponent))
		}
	}
	short, kind := userPart(name)
	switch {
	case kind == "":
	case short == HEAD || short == "@":
		return bad(fmt.Sprintf("a %s cannot be named %s: it means the current commit", kind, short))
	case strings.HasPrefix(short, "-"):
		return bad(fmt.Sprintf("a %s name cannot start with '-'", kind))
	case kind != "remote-tracking ref" && len(short) == 64 && isHex(short):
		// A full id always means the commit (Resolve): such a name
		// could never be used. (A remote-tracking one reads REMOTE/ID.)
		return bad(fmt.Sprintf("a %s cannot be named like a commit id", kind))
	}
	return nil
}

// isBidiControl reports whether c is a bidirectional embedding, override
// or isolate, as pathquote.IsBidiControl (which refs may not import).
func isBidiControl(c rune) bool {
	return c >= 0x202a && c <= 0x202e || c >= 0x2066 && c <= 0x2069
}

// userPart returns the part of a branch, tag or remote-tracking ref name
// that the user types, and which kind of ref it is ("" for other refs).
func userPart(name string) (short, kind string) {
	switch {
	case strings.HasPrefix(name, Heads):
		return name[len(Heads):], "branch"
	case strings.HasPrefix(name, Tags):
		return name[len(Tags):], "tag"
	case strings.HasPrefix(name, Remotes):
		_, rest, ok := strings.Cut(name[len(Remotes):], "/")
		if ok {
			return rest, "remote-tracking ref"
		}
	}
	return "", ""
}

// checkPath refuses a ref name that would be read or removed outside
// .strata/refs. It is looser than CheckName, so that a ref made before a
// rule existed can still be read and deleted.
func checkPath(name string) error {
	if !strings.HasPrefix(name, "refs/") {
		return fmt.Errorf("%q: %w: must start with refs/", name, ErrBadName)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." || strings.ContainsRune(part, 0) {
			return fmt.Errorf("%q: %w: not a path under refs/", name, ErrBadName)
		}
	}
	return nil
}
