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
// name, state, exit code (-1: none) and labels, as docker's: values of
// one key are alternatives, keys all hold, and every label= holds
// (label=KEY: the run has the label; label=KEY=VALUE: with that value).
// A status filter lists ended runs without -a (listEnded).
func parsePsFilters(filters []string) (keep func(name, state string, code int, labels map[string]string) bool, listEnded bool, err error) {
	var names []*regexp.Regexp
	var states []string
	var codes []int
	var labels []string
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
		case key == "label":
			if k, _, _ := strings.Cut(val, "="); k == "" {
				return nil, false, usagef("ps --filter %s: want label=KEY or label=KEY=VALUE", f)
			}
			labels = append(labels, val)
		default:
			return nil, false, usagef("ps --filter %s: strata filters on name, status, exited and label", f)
		}
	}
	keep = func(name, state string, code int, have map[string]string) bool {
		if len(names) > 0 && !slices.ContainsFunc(names, func(re *regexp.Regexp) bool { return re.MatchString(name) }) {
			return false
		}
		for _, l := range labels {
			k, v, withValue := strings.Cut(l, "=")
			if got, ok := have[k]; !ok || withValue && got != v {
				return false
			}
		}
		if len(states) > 0 && !slices.Contains(states, state) {
			return false
		}
		return len(codes) == 0 || state == "exited" && slices.Contains(codes, code)
	}
	return keep, len(states) > 0, nil
}
