package repo

import "strings"

// Fsync is the set of a repository's files that are flushed to disk as
// they are written: git's core.fsync components. Blobs are always
// flushed before any ref can name them, whatever core.fsync says, so a
// ref never outlives a power cut that its commit did not.
type Fsync uint8

// The components strata writes, with git's names.
const (
	// FsyncReference: refs, HEAD, ORIG_HEAD and index.json (the refs' copy
	// for OCI tools).
	FsyncReference Fsync = 1 << iota
	// FsyncIndex: a work tree's state (the commit it is based on), strata's
	// counterpart of git's index.
	FsyncIndex
)

// fsyncNames are git 2.39's core.fsync words and what each names of the
// components strata writes; the object and pack words name blobs, which
// strata flushes anyway.
var fsyncNames = []struct {
	name string
	bits Fsync
}{
	{"loose-object", 0},
	{"pack", 0},
	{"pack-metadata", 0},
	{"commit-graph", 0},
	{"index", FsyncIndex},
	{"objects", 0},
	{"reference", FsyncReference},
	{"derived-metadata", 0},
	{"committed", FsyncReference},
	{"added", FsyncReference | FsyncIndex},
	{"all", FsyncReference | FsyncIndex},
}

// ParseFsync reads a core.fsync value as git does (parse_fsync_components):
// comma-separated words, each the prefix of one or more component names,
// added to git's default (which has neither refs nor the index), or taken
// away with a leading "-"; "none" as the whole rest of the value empties
// the set. A word that names nothing is returned in unknown, for a
// warning: git ignores it.
func ParseFsync(v string) (set Fsync, unknown []string) {
	var add, drop Fsync
	for v != "" {
		v = strings.TrimLeft(v, ", \t\n\r")
		if v == "" {
			break
		}
		word, rest, _ := strings.Cut(v, ",")
		v = rest
		if word == "none" && rest == "" {
			set = 0
			continue
		}
		negated := strings.HasPrefix(word, "-")
		word = strings.TrimPrefix(word, "-")
		if word == "" {
			// git warns of a lone "-" and reads no further.
			unknown = append(unknown, "-")
			break
		}
		found := false
		for _, n := range fsyncNames {
			if strings.HasPrefix(n.name, word) {
				found = true
				if negated {
					drop |= n.bits
				} else {
					add |= n.bits
				}
			}
		}
		if !found {
			unknown = append(unknown, word)
		}
	}
	return set&^drop | add, unknown
}
