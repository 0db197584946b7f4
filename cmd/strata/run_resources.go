package main

import (
	"errors"
	"math"
	"runtime"

	units "github.com/docker/go-units"

	"github.com/strata-sh/strata/exec"
)

func (o runOptions) resources() (exec.Resources, error) {
	res := exec.Resources{CPUs: o.cpus, PidsLimit: o.pidsLimit}
	if o.pidsLimit == -1 {
		res.PidsLimit = 0 // docker's "unlimited"
	}
	if o.stopTimeout < -1 {
		return res, usagef("--stop-timeout %d: want seconds, or 0 or -1 to wait forever", o.stopTimeout)
	}
	if o.pidsLimit < -1 {
		return res, usagef("--pids-limit %d: want a number of processes, or 0 or -1 for no limit", o.pidsLimit)
	}
	if o.pidsLimit > exec.MaxPidsLimit {
		// The kernel refuses more in pids.max, after the container was set up.
		return res, usagef("--pids-limit %d: the kernel's most is %d processes (0 or -1: no limit)", o.pidsLimit, exec.MaxPidsLimit)
	}
	if o.cpus != 0 {
		// As docker's: a quota below 1000 us in 100 ms is refused by
		// the kernel, and more CPUs than there are limits nothing.
		n := runtime.NumCPU()
		if math.IsNaN(o.cpus) || o.cpus < 0.01 || o.cpus > float64(n) {
			return res, usagef("--cpus %v: the range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available (0: no limit)", o.cpus, n, n)
		}
	}
	if o.init && o.pidsLimit == 1 {
		return res, usagef("--pids-limit 1: --init is one process of the limit, and leaves none for the command")
	}
	if o.memory != "" {
		n, err := parseBytes(o.memory)
		if err != nil && o.commit {
			// run --commit -m MSG was the commit message once.
			return res, usagef("--memory %s: %v (-m is --memory, as docker's; the commit message is --message)", o.memory, err)
		}
		if err != nil {
			return res, usagef("--memory %s: %v", o.memory, err)
		}
		if n > 0 && n < minMemory {
			// Less fails in odd places (the cgroup refuses the
			// container's first task, unshare or execve run out).
			return res, usagef("--memory %s: the minimum memory limit allowed is 6m (6 MiB), as docker's", o.memory)
		}
		res.MemoryBytes = n
	}
	swap, err := o.swap(res.MemoryBytes)
	if err != nil {
		return res, err
	}
	res.MemorySwap = swap
	if err := exec.CheckCpuset(o.cpusetCpus, ""); err != nil {
		return res, usagef("--cpuset-cpus %s: %v", o.cpusetCpus, err)
	}
	if err := exec.CheckCpuset("", o.cpusetMems); err != nil {
		return res, usagef("--cpuset-mems %s: %v", o.cpusetMems, err)
	}
	res.CpusetCpus, res.CpusetMems = o.cpusetCpus, o.cpusetMems
	return res, nil
}

// swap reads --memory-swap as docker's: memory and swap together, -1
// for no limit on swap, only with a --memory limit of memory bytes.
// As docker's, -1 without --memory limits nothing, and is taken.
func (o runOptions) swap(memory int64) (int64, error) {
	if o.memorySwap == "" || o.memorySwap == "-1" && memory == 0 {
		return 0, nil
	}
	if o.memorySwap == "-1" {
		return -1, nil
	}
	n, err := parseBytes(o.memorySwap)
	if err != nil {
		return 0, usagef("--memory-swap %s: want a size such as 512m or 1g, or -1 for no limit on swap", o.memorySwap)
	}
	if n > 0 && memory == 0 {
		return 0, usagef("--memory-swap %s: You should always set the Memory limit when using Memoryswap limit, see usage", o.memorySwap)
	}
	if n > 0 && n < memory {
		return 0, usagef("--memory-swap %s: Minimum memoryswap limit should be larger than memory limit, see usage", o.memorySwap)
	}
	return n, nil
}

// minMemory is docker's smallest --memory: 6 MiB.
const minMemory = 6 << 20

// parseBytes reads a size as docker run --memory does (go-units'
// RAMInBytes): 512, 512k, 1.5g, 256mb, 1GiB, binary units; 0 means no
// limit, as with docker. RAMInBytes converts a float, so a size past
// int64 comes back wrapped negative (amd64) or clamped (arm64): refused.
func parseBytes(s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil || n < 0 || n == math.MaxInt64 {
		return 0, errors.New("want a size such as 256m or 1g")
	}
	return n, nil
}
