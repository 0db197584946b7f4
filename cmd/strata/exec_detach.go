package main

import (
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"strconv"
	"syscall"

	"github.com/strata-sh/strata/repo"
)

// envExecDetached, set to its parent's pid, tells a strata started by
// 'exec -d' that it is the command's waiter: it runs the exec as typed
// and reports on fd 3 once the command runs.
const envExecDetached = "_STRATA_EXEC_DETACHED"

// spawnDetachedExec starts strata again with the same command line, in a
// session of its own with its streams on /dev/null (docker's exec -d
// keeps no output), to run the command and wait for it: its parent, it
// reaps it, as docker's shim does. It returns once the command runs, or
// with why it cannot, as exec without -d would.
func spawnDetachedExec(_ *repo.Repo, s *svc) error {
	if _, ok := s.containerPid(); !ok {
		return s.notRunning()
	}
	cwd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	cmd := &osexec.Cmd{
		Path:        "/proc/self/exe",
		Args:        os.Args,
		Dir:         cwd,
		Env:         childEnv(envExecDetached + "=" + strconv.Itoa(os.Getpid())),
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = startAndAwait(cmd, "exec: start the waiter")
	if errors.Is(err, errNoReport) {
		return fmt.Errorf("exec: the waiter exited before the command ran: %v", cmd.ProcessState)
	}
	return err
}
