package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// How STASH arguments name entries (stash@{N}, N, or any revision), and
// git's errors for those that name none.

var stashEntryRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:stash@\{(\d+)\}|(\d+))$`) })

// stashEntry reads STASH as stash@{N} or N ("" is 0); ok is false for
// anything else, "stash" too: drop and pop need an entry of the reflog,
// as git's do, and show and apply resolve "stash" as a revision.
func stashEntry(arg string) (n int, ok bool) {
	if arg == "" {
		return 0, true
	}
	m := stashEntryRE().FindStringSubmatch(arg)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1] + m[2])
	return n, err == nil
}

// stashCommit is the commit STASH names: an entry of the stash, or, when
// anyRev, any revision.
func stashCommit(r *repo.Repo, arg string, anyRev bool) (digest.Digest, error) {
	n, ok := stashEntry(arg)
	if !ok {
		if !anyRev {
			return "", notStashEntry(r, arg)
		}
		c, err := r.Resolve(arg)
		if errors.Is(err, refs.ErrUnknownRevision) {
			return "", fmt.Errorf("%s is not a valid reference", arg) // git's words
		}
		if err != nil {
			return "", err
		}
		return c.ID, nil
	}
	entries, err := r.Refs.Log(refs.Stash)
	if err != nil {
		return "", err
	}
	if n >= len(entries) {
		return "", noStashEntry(arg, len(entries))
	}
	return entries[n].New, nil
}

// notStashEntry is git 2.39's error for a STASH that drop, pop or
// branch cannot take, being no entry of the reflog: "not a reflog" for
// the stash itself, "is not a valid reference" for a name that resolves
// to nothing, "is not a stash reference" for any other revision (git's
// "is not a stash-like commit" does not apply: every commit is one to
// apply). git's pop and branch apply the stash before they refuse it;
// strata refuses first, so that nothing is half done.
func notStashEntry(r *repo.Repo, arg string) error {
	if arg == "stash" || arg == refs.Stash {
		return fmt.Errorf("not a reflog: %s (an entry is stash@{N} or N)", arg)
	}
	_, err := r.Resolve(arg)
	if errors.Is(err, refs.ErrUnknownRevision) {
		return fmt.Errorf("%s is not a valid reference", arg)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("'%s' is not a stash reference (an entry is stash@{N} or N)", arg)
}

// noStashEntry is git 2.39's error for STASH (arg, "" for the default)
// when the stash has only count entries: "No stash entries found." for
// none asked of an empty stash, "stash@{1} is not a valid reference"
// for one named, "log for 'stash' only has 1 entries" for one past the
// end. Its words but the first capital and the full stop.
func noStashEntry(arg string, count int) error {
	n, _ := stashEntry(arg)
	switch {
	case arg == "" && count == 0:
		return errors.New("no stash entries found")
	case count == 0:
		name := arg
		if !strings.HasPrefix(arg, "stash") {
			name = fmt.Sprintf("refs/stash@{%d}", n)
		}
		return fmt.Errorf("%s is not a valid reference", name)
	case strings.HasPrefix(arg, "stash"):
		return fmt.Errorf("log for 'stash' only has %d entries", count)
	}
	return fmt.Errorf("log for 'refs/stash' only has %d entries", count)
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
