//go:build !strata_init

package exec

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Pids returns the processes in the cgroup of the running container id,
// as docker top lists them: its pid 1, what that started, and what Join
// runs there, as host pids. It reads only the kernel's cgroup.procs,
// never a file of the container's tree. The error wraps ErrNotRunning
// when no container has the id, or it has no cgroup (rootless, without
// limits).
func Pids(id string) ([]int, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	dir, _ := freezerDir(id)
	if dir == "" {
		return nil, fmt.Errorf("list processes of %s: %w", id, ErrNotRunning)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("list processes of %s: %w", id, ErrNotRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("list processes of %s: %w", id, err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("list processes of %s: bad cgroup.procs line %q", id, f)
		}
		pids = append(pids, pid)
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("list processes of %s: %w", id, ErrNotRunning)
	}
	return pids, nil
}
