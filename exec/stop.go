package exec

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// escalation turns forwarded stop signals into a SIGKILL: a second SIGINT
// (the user pressing ^C again) at once, any stop signal after the
// container had StopTimeout to exit.
type escalation struct {
	interrupts int
	timer      *time.Timer
}

// note records signal s and reports whether it must become a SIGKILL.
func (e *escalation) note(s os.Signal, timeout time.Duration) bool {
	switch s {
	case unix.SIGINT:
		e.interrupts++
		if e.interrupts > 1 {
			return true
		}
	case unix.SIGTERM, unix.SIGHUP:
	default:
		return false
	}
	if e.timer == nil && timeout > 0 {
		e.timer = time.NewTimer(timeout)
	}
	return false
}

// expired fires once StopTimeout has passed since the first stop signal;
// nil (never fires) before that.
func (e *escalation) expired() <-chan time.Time {
	if e.timer == nil {
		return nil
	}
	return e.timer.C
}

func (e *escalation) stop() {
	if e.timer != nil {
		e.timer.Stop()
	}
}

// syncWatchdog starts the watchdog now (Spec.LongRunning).
func syncWatchdog(exeOf func() (*os.File, error), cg *cgroup, tmpDir, umount string) *watchdogHandle {
	h := &watchdogHandle{cancel: make(chan struct{}), done: make(chan struct{}), begun: true}
	h.w = watchdogFrom(exeOf, cg, tmpDir, umount)
	close(h.done)
	return h
}
