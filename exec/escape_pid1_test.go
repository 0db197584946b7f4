package exec

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// What the tiny init (pid 1 with Init) holds open, seen from a container
// that may open its /proc/1/fd links (CAP_SYS_PTRACE).

// TestInitHoldsNoCgroupFile: the tiny init (pid 1 with Init) keeps no
// file of a cgroup file system open. Go's runtime opens its cgroup's CPU
// limit files (cpu.cfs_quota_us, cpu.max) when it starts, on the host's
// cgroup mount, and kept them for GOMAXPROCS updates: a container given
// CAP_SYS_PTRACE reopened them for writing through /proc/1/fd and lifted
// the CPU quota of the cgroup strata ran in.
func TestInitHoldsNoCgroupFile(t *testing.T) {
	out := pid1Fds(t)
	if strings.Contains(out, ", cgroup") {
		t.Errorf("pid 1 holds files of a cgroup file system:\n%s", out)
	}
}

// TestInitHoldsNoLeakedFd: a descriptor strata's caller left open
// without close-on-exec (here the test's, as strata's own process) passes
// into the init through its execve; the tiny init closes it, as the
// command never gets it (close_range), instead of keeping it open as pid
// 1 for a container that may ptrace it.
func TestInitHoldsNoLeakedFd(t *testing.T) {
	p := filepath.Join(t.TempDir(), "leaked")
	if err := os.WriteFile(p, []byte("host file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(p, unix.O_RDONLY, 0) // no O_CLOEXEC: a leak
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	out := pid1Fds(t)
	if leaked := fmt.Sprintf(": %d:%d", st.Dev, st.Ino); strings.Contains(out, leaked) {
		t.Errorf("pid 1 holds the caller's descriptor of %s (%s):\n%s", p, leaked, out)
	}
}

// pid1Fds runs the pid1fds probe under the tiny init with CAP_SYS_PTRACE,
// which lets it open pid 1's descriptors.
func pid1Fds(t *testing.T) string {
	t.Helper()
	r := run(t, probeRoot(t), func(s *Spec) {
		s.Env = []string{helperEnv + "=pid1fds"}
		s.Init = true
		s.CapAdd = []string{"SYS_PTRACE"}
	}, "/bin/probe")
	if r.code != 0 || r.err != nil {
		t.Fatalf("code %d err %v stderr %q", r.code, r.err, r.stderr)
	}
	if n, _ := strconv.Atoi(parseProbe(r.stdout)["opened"]); n < 3 {
		t.Fatalf("the probe opened %d of pid 1's descriptors, want its stdio at least: %q", n, r.stdout)
	}
	return r.stdout
}
