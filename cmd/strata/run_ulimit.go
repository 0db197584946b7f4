package main

import (
	"github.com/docker/go-units"
	"github.com/strata-sh/strata/exec"
)

// parseUlimits reads docker's --ulimit NAME=SOFT[:HARD] values (-1:
// unlimited; a later one of a name wins, as in docker) with go-units,
// docker's own parser.
func parseUlimits(values []string) ([]exec.Rlimit, error) {
	var out []exec.Rlimit
	at := map[string]int{}
	for _, v := range values {
		u, err := units.ParseUlimit(v)
		if err != nil {
			return nil, usagef("--ulimit %s: %v (want NAME=SOFT[:HARD], as docker's: nofile=1024:2048, core=0, nproc=-1)", v, err)
		}
		rl, err := u.GetRlimit()
		if err != nil {
			return nil, usagef("--ulimit %s: %v", v, err)
		}
		r := exec.Rlimit{Resource: rl.Type, Soft: rl.Soft, Hard: rl.Hard, Name: u.String()}
		if i, ok := at[u.Name]; ok {
			out[i] = r
			continue
		}
		at[u.Name] = len(out)
		out = append(out, r)
	}
	return out, nil
}
