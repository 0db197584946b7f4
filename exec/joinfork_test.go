package exec

import (
	"bytes"
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestJoinLimitsTheForkedCommand: on nsenter's way the joined init
// forks the command as its user, and the command's limits are set by the
// child: set on the init, an nproc of 1 refused that fork to user 1000
// (EAGAIN), where the command executed in place had started.
func TestJoinLimitsTheForkedCommand(t *testing.T) {
	joinWay(t, "nsenter")
	pid, _ := startJoinable(t, nil, "touch /ready; exec sleep 1000")
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err := Join(ctx, pid, Spec{Args: []string{"sh", "-c", "ulimit -u; ulimit -n"}, User: "1000:1000",
		Rlimits: []Rlimit{
			{Resource: unix.RLIMIT_NPROC, Soft: 1, Hard: 1, Name: "nproc"},
			{Resource: unix.RLIMIT_NOFILE, Soft: 64, Hard: 64, Name: "nofile"},
		},
		Stdout: &out, Stderr: &errb})
	if code != 0 || err != nil {
		t.Fatalf("code %d err %v stderr %q", code, err, errb.String())
	}
	if out.String() != "1\n64\n" {
		t.Errorf("ulimit -u, -n: %q, want 1 and 64", out.String())
	}
}
