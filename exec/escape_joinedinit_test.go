package exec

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestJoinedInitKeepsNoCapabilityOfTheHost: on nsenter's way, once the
// command runs, no thread of the joined init that waits for it holds a
// capability beyond the container's. Only the thread that forked the
// command was confined: the others, in the host's PID namespace, held
// every capability strata has, and before its execve the command hands
// a container that may ptrace the init's epoll descriptor, whose events
// the init's Go runtime takes for pointers of its own.
func TestJoinedInitKeepsNoCapabilityOfTheHost(t *testing.T) {
	useSmallInit(t)
	pid, _ := startJoinable(t, func(s *Spec) { s.CapAdd = []string{"SYS_PTRACE"} }, "touch /ready; exec sleep 600")
	wantPidfd(t, pid, false, false)
	bnd, err := capField(pid, "CapBnd")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan int, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		Join(ctx, pid, Spec{Args: []string{"sleep", "600"}, Started: func(p int) { started <- p }})
	}()
	defer func() { cancel(); <-done }()
	var init int
	select {
	case init = <-started:
	case <-done:
		t.Fatal("the join ended before its command ran")
	}
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(init) + "/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		for _, field := range []string{"CapEff", "CapPrm", "CapBnd"} {
			if v, err := capField(tid, field); err == nil && v&^bnd != 0 {
				t.Errorf("thread %d of the joined init %d holds %s %#x beyond the container's %#x", tid, init, field, v, bnd)
			}
		}
	}
}
