package main

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// psStates are the states a detached run can be in (docker's, less those
// strata has no use for: removing, dead).
var psStates = []string{"created", "restarting", "running", "paused", "exited"}

// parsePsFilters reads ps -f KEY=VALUE filters into a test of a run's
// name, state and exit code (-1: none), as docker's: values of one key
// are alternatives, keys all hold. A status filter lists ended runs
// without -a (listEnded).
func parsePsFilters(filters []string) (keep func(name, state string, code int) bool, listEnded bool, err error) {
	var names []*regexp.Regexp
	var states []string
	var codes []int
	for _, f := range filters {
		key, val, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			return nil, false, usagef("ps --filter %s: want KEY=VALUE", f)
		case key == "name":
			re, err := regexp.Compile(val)
			if err != nil {
				return nil, false, usagef("ps --filter %s: not a regular expression", f)
			}
			names = append(names, re)
		case key == "status":
			if !slices.Contains(psStates, val) {
				return nil, false, usagef("ps --filter %s: want one of %s", f, strings.Join(psStates, ", "))
			}
			states = append(states, val)
		case key == "exited":
			code, err := strconv.Atoi(val)
			if err != nil || code < 0 {
				return nil, false, usagef("ps --filter %s: want an exit code", f)
			}
			codes = append(codes, code)
		default:
			return nil, false, usagef("ps --filter %s: strata filters on name, status and exited", f)
		}
	}
	keep = func(name, state string, code int) bool {
		if len(names) > 0 && !slices.ContainsFunc(names, func(re *regexp.Regexp) bool { return re.MatchString(name) }) {
			return false
		}
		if len(states) > 0 && !slices.Contains(states, state) {
			return false
		}
		return len(codes) == 0 || state == "exited" && slices.Contains(codes, code)
	}
	return keep, len(states) > 0, nil
}
