package exec

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// span is lo-hi of a cpuset list, both included.
type span struct{ lo, hi uint64 }

// maxCpusetID is the largest CPU or memory node number a list may name
// on a machine with fewer, as docker's check has it (8192, the kernel's
// largest NR_CPUS); a machine with more takes its own largest.
const maxCpusetID = 8192

// parseCpuList reads a cpuset list as docker takes it: comma-separated
// decimal numbers and lo-hi ranges ("0-3,6"), hi not below lo, each
// number an int64 as docker's Atoi reads it. (The
// kernel takes more, "1," and " 1"; docker's check and strata's
// refuse them, and "+1" too, which docker's passes on to the kernel
// to refuse.)
func parseCpuList(s string) ([]span, error) {
	if s == "" {
		return nil, fmt.Errorf("invalid format: %s", s)
	}
	var out []span
	for _, part := range strings.Split(s, ",") {
		loS, hiS, isRange := strings.Cut(part, "-")
		lo, err := strconv.ParseUint(loS, 10, 63)
		if err != nil {
			return nil, fmt.Errorf("invalid format: %s", s)
		}
		hi := lo
		if isRange {
			if hi, err = strconv.ParseUint(hiS, 10, 63); err != nil || hi < lo {
				return nil, fmt.Errorf("invalid format: %s", s)
			}
		}
		out = append(out, span{lo, hi})
	}
	return out, nil
}

// largest is the largest number of a list's spans.
func largest(spans []span) uint64 {
	var m uint64
	for _, s := range spans {
		m = max(m, s.hi)
	}
	return m
}

// covers reports whether every number of want is in one of have's spans.
func covers(have, want []span) bool {
	for _, w := range want {
		for x := w.lo; x <= w.hi; {
			next := x
			for _, h := range have {
				if h.lo <= x && x <= h.hi {
					next = h.hi + 1
					break
				}
			}
			if next == x {
				return false
			}
			x = next
		}
	}
	return true
}

// availableCpuset is the root cgroup's list of CPUs ("cpus") or memory
// nodes ("mems"), which a container's cgroup, made below it, may take.
func availableCpuset(kind string) (string, error) {
	f := filepath.Join(cgroupRoot, "cpuset", "cpuset."+kind)
	if cgroupV2() {
		f = filepath.Join(cgroupRoot, "cpuset."+kind+".effective")
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("read the available %s: %w", kind, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// CheckCpuset checks docker's --cpuset-cpus and --cpuset-mems ("" for
// all) against what this machine has, in docker's words.
func CheckCpuset(cpus, mems string) error {
	for _, c := range []struct{ kind, val, invalid, unavailable string }{
		{"cpus", cpus, "Invalid value %s for cpuset cpus: %v", "Requested CPUs are not available - requested %s, available: %s"},
		{"mems", mems, "Invalid value %s for cpuset mems: %v", "Requested memory nodes are not available - requested %s, available: %s"},
	} {
		if c.val == "" {
			continue
		}
		want, err := parseCpuList(c.val)
		if err != nil {
			return fmt.Errorf(c.invalid, c.val, err)
		}
		avail, err := availableCpuset(c.kind)
		if err != nil {
			return err
		}
		have, err := parseCpuList(avail)
		if err != nil {
			return fmt.Errorf(c.unavailable, c.val, avail)
		}
		// docker's words, "of out" as its own.
		if top := max(maxCpusetID, largest(have)); largest(want) > top {
			return fmt.Errorf(c.invalid, c.val, fmt.Errorf("value of out range, maximum is %d", top))
		}
		if !covers(have, want) {
			return fmt.Errorf(c.unavailable, c.val, avail)
		}
	}
	return nil
}

// v1Cpuset is what a v1 cpuset cgroup needs written before a task can
// join it: both lists, the root's where r leaves one out (a new v1
// cpuset starts with none).
func v1Cpuset(r Resources) ([]limit, error) {
	cpus, mems := r.CpusetCpus, r.CpusetMems
	var err error
	if cpus == "" {
		if cpus, err = availableCpuset("cpus"); err != nil {
			return nil, err
		}
	}
	if mems == "" {
		if mems, err = availableCpuset("mems"); err != nil {
			return nil, err
		}
	}
	return []limit{{"cpuset.cpus", cpus}, {"cpuset.mems", mems}}, nil
}
