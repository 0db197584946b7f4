package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/strata-sh/strata/repo"
)

// configMatching is git config --get-regexp: the entries whose key
// matches keyPattern and, when valuePattern is given, whose value
// matches it (or, after a leading '!', does not), in file order. As
// git's, the pattern's section (before its first '.') and name (after
// its last) are lower-cased, as keys are, so REMOTE finds remote.*.
func configMatching(entries []repo.Entry, keyPattern string, valuePattern *string) ([]repo.Entry, error) {
	keyRE, err := regexp.Compile(lowerKeyEnds(keyPattern))
	if err != nil {
		return nil, usagef("config --get-regexp: invalid key pattern: %s", keyPattern)
	}
	var valueRE *regexp.Regexp
	negate := false
	if valuePattern != nil {
		p := *valuePattern
		p, negate = strings.CutPrefix(p, "!")
		if valueRE, err = regexp.Compile(p); err != nil {
			return nil, usagef("config --get-regexp: invalid value pattern: %s", *valuePattern)
		}
	}
	var out []repo.Entry
	for _, e := range entries {
		if !keyRE.MatchString(e.Key) {
			continue
		}
		// git matches a key with no value as the empty string.
		if valueRE != nil && valueRE.MatchString(e.Value) == negate {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// lowerKeyEnds lower-cases a key pattern up to its first '.' and from
// its last, as git's get_value does before it compiles one.
func lowerKeyEnds(p string) string {
	first, last := strings.IndexByte(p, '.'), strings.LastIndexByte(p, '.')
	if first < 0 {
		return strings.ToLower(p)
	}
	return strings.ToLower(p[:first]) + p[first:last] + strings.ToLower(p[last:])
}

// printConfigEntries writes entries as git config does: "KEY=VALUE"
// for --list (sep '='), "KEY VALUE" for --get-regexp (sep ' '), KEY alone
// for a key with no value or with --name-only.
func printConfigEntries(g *globals, entries []repo.Entry, sep string, nameOnly bool) {
	for _, e := range entries {
		if nameOnly || e.NoValue {
			fmt.Fprintln(g.stdout, e.Key)
			continue
		}
		fmt.Fprintf(g.stdout, "%s%s%s\n", e.Key, sep, e.Value)
	}
}
