package main

import (
	"regexp"
	"strings"

	"github.com/strata-sh/strata/repo"
)

// configMatching is git config --get-regexp: the entries whose key
// matches keyPattern and, when valuePattern is given, whose value
// matches it (or, after a leading '!', does not), in file order. As
// git's, the pattern's section (before its first '.') and name (after
// its last) are lower-cased, as keys are, so REMOTE finds remote.*.
func configMatching(entries []repo.Entry, keyPattern string, valuePattern *string, fixed bool) ([]repo.Entry, error) {
	keyRE, err := regexp.Compile(lowerKeyEnds(keyPattern))
	if err != nil {
		return nil, usagef("config --get-regexp: invalid key pattern: %s", keyPattern)
	}
	var keep func(string) bool
	if valuePattern != nil {
		if keep, err = valueMatcher(*valuePattern, fixed); err != nil {
			return nil, err
		}
	}
	var out []repo.Entry
	for _, e := range entries {
		if !keyRE.MatchString(e.Key) {
			continue
		}
		// git matches a key with no value as the empty string.
		if keep != nil && !keep(e.Value) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// valueMatcher is git config's VALUE_REGEX: the values it matches, or
// after a leading '!' those it does not. A bad pattern is a usage error
// (git's exit 6). fixed is git's --fixed-value: the values equal to
// pattern, '!' and all, as git compares them.
func valueMatcher(pattern string, fixed bool) (func(string) bool, error) {
	if fixed {
		return func(v string) bool { return v == pattern }, nil
	}
	p, negate := strings.CutPrefix(pattern, "!")
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, usagef("config: invalid value pattern: %s", pattern)
	}
	return func(v string) bool { return re.MatchString(v) != negate }, nil
}

// valueFilter is the VALUE_REGEX at args[at], if given: nil keeps all.
func valueFilter(args []string, at int, fixed bool) (func(string) bool, error) {
	if len(args) <= at {
		return nil, nil
	}
	return valueMatcher(args[at], fixed)
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
