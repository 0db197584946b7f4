package main

import (
	"strconv"

	"github.com/strata-sh/strata/exec"
)

// ports are the ports the run publishes: its -p flags.
func (o runOptions) ports() ([]exec.Port, error) {
	var ps []exec.Port
	for _, v := range o.publish {
		p, err := exec.ParsePorts(v)
		if err != nil {
			return nil, usagef("run -p %s: %v", v, err)
		}
		ps = append(ps, p...)
	}
	if len(ps) > 0 && o.network != exec.NetworkPrivate {
		return nil, usagef("run -p: needs --network private")
	}
	if len(ps) > exec.MaxPorts {
		return nil, usagef("run: %d ports to publish, more than a run publishes (%d)", len(ps), exec.MaxPorts)
	}
	return ps, nil
}

// portKey is docker's name of a container port: "80/tcp".
func portKey(port int, proto string) string {
	if proto == "" {
		proto = "tcp"
	}
	return strconv.Itoa(port) + "/" + proto
}
