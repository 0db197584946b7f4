package exec

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestJoinEndsThoughTheContainerHoldsItsStatusPipe: on nsenter's way,
// the command the joined init forks holds the status pipe's write end
// until its execve. A container that may ptrace stops it there, opens
// /proc/PID/fd/4 for writing, keeps it open for good and fills it:
// strata exec waited for an end of file that never came, after its
// command had ended, reading the container's bytes into memory.
func TestJoinEndsThoughTheContainerHoldsItsStatusPipe(t *testing.T) {
	pid, root := startCatcher(t, "statushold")
	joinUntilCaught(t, root, func(joins int) {
		ended := make(chan result, 1)
		go func() { ended <- join(t, pid, nil, "true") }()
		var r result
		select {
		case r = <-ended:
		case <-time.After(2 * time.Minute):
			// The container's holder ends with it, at cleanup, and the
			// join with it.
			t.Fatalf("strata exec still waits, its command long ended, on a status pipe the container holds (join %d)", joins)
		}
		if r.err != nil && len(r.err.Error()) > statusMessageLimit+3 {
			t.Fatalf("strata exec's error holds %d bytes of the container's", len(r.err.Error()))
		}
	})
}

// heldStatusPipes keeps holdStatusPipe's files from their finalizers,
// which would close them.
var heldStatusPipes []*os.File

// holdStatusPipe (helper mode statushold, through catchUnexecutedJoins)
// opens the status pipe (fd 4) of pid, a joined command before its
// execve, for writing, keeps it open and writes a megabyte into it.
func holdStatusPipe(pid int) {
	f, err := os.OpenFile("/proc/"+strconv.Itoa(pid)+"/fd/"+strconv.Itoa(fdStatus), os.O_WRONLY, 0)
	if err != nil {
		return
	}
	heldStatusPipes = append(heldStatusPipes, f)
	go f.Write([]byte(strings.Repeat("x", 1<<20)))
}
