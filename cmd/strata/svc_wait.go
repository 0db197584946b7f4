package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/internal/regfile"
)

// waitLockName is the file by which waiters hold off a --rm run's
// removal: each holds a shared lock on it until it has read the exit
// code, and the supervisor takes it exclusively, for a while at most,
// before it removes the run (holdForWaiters).
const waitLockName = "wait.lock"

// waitExitCode blocks until the run has ended (its supervisor's lock is
// free), or until a signal stops the command (ctx): then it returns ctx's
// cause. It returns the run's exit code. A --rm run's state goes with it: the supervisor saves
// the code, then waits for the waiters' shared locks before it removes
// the run, so a waiter that holds one returns as soon as the code is
// saved.
func (s *svc) waitExitCode(ctx context.Context) (int, error) {
	if s.st.Remove {
		if f, err := regfile.OpenNoFollow(s.path(waitLockName)); err == nil {
			defer f.Close() // releases the lock
			unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		}
	}
	for {
		err := s.reload()
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("%s ended and was removed (--rm) before its exit code was read", s.st.Name)
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", s.st.Name, err)
		}
		if s.st.Remove && s.st.Status == "exited" && s.st.ExitCode != nil {
			return *s.st.ExitCode, nil
		}
		if !s.live() {
			break
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return 0, context.Cause(ctx)
		}
	}
	if err := s.reload(); errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%s ended and was removed (--rm) before its exit code was read", s.st.Name)
	} else if err != nil {
		return 0, fmt.Errorf("%s: %w", s.st.Name, err)
	}
	_, code := s.status()
	return code, nil
}

// awaitRemoval waits, up to max, until the supervisor of a --rm run
// whose exit code was read has removed it, so that after wait the name
// is free for the next run -d --name (docker's wait leaves a window
// there). A run that restart keeps, or whose supervisor is gone, is not
// waited for.
func (s *svc) awaitRemoval(ctx context.Context, max time.Duration) {
	if !s.st.Remove {
		return
	}
	for end := time.Now().Add(max); time.Now().Before(end); {
		if _, err := os.Stat(s.path("restart")); err == nil || !s.live() {
			return
		}
		if err := s.reload(); errors.Is(err, fs.ErrNotExist) {
			return
		}
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return
		}
	}
}

// holdForWaiters gives the waiters of a --rm run that has saved its
// exit code up to max to read it: it returns once it holds waitLockName
// exclusively (no waiter holds it shared), or after max (a stopped
// waiter must not keep the run forever).
func (s *svc) holdForWaiters(max time.Duration) {
	f, err := regfile.OpenNoFollow(s.path(waitLockName))
	if err != nil {
		return
	}
	defer f.Close()
	deadline := time.Now().Add(max)
	for unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}
