//go:build !strata_init

package exec

import (
	"bufio"
	"context"
	"io"
	"testing"

	"github.com/strata-sh/strata/internal/testrootfs"
)

// TestReadUsagePids: PIDS counts the container's tasks as docker stats
// does: a shell and its two sleepers, and with Init the tiny init once,
// as docker's tini (its Go runtime runs several threads). On cgroup v2
// the init's threads counted each, and with a pids limit, where the
// command runs in the cgroup's threaded child (initPids), the command's
// were not counted at all (make test-vm).
func TestReadUsagePids(t *testing.T) {
	root := testrootfs.Busybox(t)
	for _, c := range []struct {
		name string
		init bool
		res  Resources
		want int
	}{
		{"plain", false, Resources{}, 3},
		{"init", true, Resources{}, 4},
		{"init-pids-limit", true, Resources{PidsLimit: 32}, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := "usage-pids-" + randomHex(4)
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			pid1 := make(chan int, 1)
			done := make(chan struct{})
			go func() {
				defer close(done)
				Run(ctx, Spec{ID: id, Root: root, Stdout: pw, Init: c.init, Resources: c.res,
					Started: func(pid int) { pid1 <- pid },
					Args:    []string{"sh", "-c", "sleep 1000 & sleep 1000 & echo up; wait"}})
				pw.Close()
			}()
			defer func() { cancel(); go io.Copy(io.Discard, pr); <-done }()
			if l, _ := bufio.NewReader(pr).ReadString('\n'); l != "up\n" {
				t.Fatalf("container said %q", l)
			}
			u, err := ReadUsage(id, <-pid1, c.init)
			if err != nil {
				t.Fatal(err)
			}
			if u.Pids != c.want {
				t.Errorf("Pids = %d, want %d (v2: %v)", u.Pids, c.want, cgroupV2())
			}
		})
	}
}
