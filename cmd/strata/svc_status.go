package main

import (
	"fmt"
	"os"
	"time"

	units "github.com/docker/go-units"
	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/exec"
)

// status is what ps shows: the recorded one, corrected when the
// supervisor is gone (killed: its container died with it).
func (s *svc) status() (string, int) {
	code := -1
	if s.st.ExitCode != nil {
		code = *s.st.ExitCode
	}
	switch s.st.Status {
	case "running", "restarting", "created":
		if !s.live() {
			if code < 0 || s.st.Status == "running" {
				code = 128 + int(unix.SIGKILL)
			}
			if s.st.Finished.Before(s.st.Started) || s.st.Finished.IsZero() {
				// The recorded end is the previous run's, if any.
				s.st.Finished = s.endNoticed()
			}
			return "exited", code
		}
	}
	return s.st.Status, code
}

// endNoticed is when a run whose supervisor died (SIGKILL, a reboot)
// was first found ended, as docker's daemon records the end of a
// container it finds dead when it starts: the file "ended" keeps that
// time, unless it is older than the run's start (an earlier death).
func (s *svc) endNoticed() time.Time {
	file := s.path("ended")
	if fi, err := os.Lstat(file); err == nil && fi.Mode().IsRegular() && !fi.ModTime().Before(s.st.Started) {
		return fi.ModTime().UTC()
	}
	now := time.Now()
	if err := s.writeRunFile("ended", nil, 0o600); err == nil {
		ts := unix.NsecToTimespec(now.UnixNano())
		unix.UtimesNanoAt(unix.AT_FDCWD, file, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	}
	return now.UTC()
}

// stopTimeout is how long stop and restart wait for the run before
// SIGKILL when -t is not given: its --stop-timeout, as docker's; a
// negative value waits forever.
func (s *svc) stopTimeout() time.Duration {
	if s.st.StopTimeout == nil {
		return defaultStopTimeout * time.Second
	}
	if n := *s.st.StopTimeout; n > 0 {
		return time.Duration(n) * time.Second
	}
	return -1
}

// stopSignal is the signal stop and restart send the run first, as
// docker's: its StopSignal, else SIGTERM (also for one that does not
// parse, which an image may carry).
func (s *svc) stopSignal() unix.Signal {
	if s.st.StopSignal != "" {
		if n, err := parseSignal(s.st.StopSignal); err == nil {
			return n
		}
	}
	return unix.SIGTERM
}

// defaultStopTimeout is run's --stop-timeout and stop's -t when not
// given, in seconds: docker's.
const defaultStopTimeout = 10

// restarting reports whether the run is between restarts: its
// supervisor lives and starts its container again after the backoff.
func (s *svc) restarting() bool {
	return s.st.Status == "restarting" && s.live()
}

// notRunning is the error of a command that needs the run's container
// and finds none: docker's words for one between restarts.
func (s *svc) notRunning() error {
	if s.restarting() {
		return fmt.Errorf("%s is restarting, wait until it is running", s.st.Name)
	}
	return fmt.Errorf("%s is not running", s.st.Name)
}

// containerPid returns the pid of the run's container pid 1 if it runs
// now: a child of the live supervisor (so never a reused pid), and not
// one that has ended and waits to be reaped.
func (s *svc) containerPid() (int, bool) {
	pid, _, ok := s.containerAndSupervisor()
	return pid, ok
}

// containerAndSupervisor is containerPid with the supervisor it found
// to be the container's parent.
func (s *svc) containerAndSupervisor() (pid, sup int, ok bool) {
	if s.st.Pid == 0 || s.st.Status != "running" || !s.live() {
		return 0, 0, false
	}
	if sup = s.lockHolder(); sup == 0 || exec.LiveParentOf(s.st.Pid) != sup {
		return 0, 0, false
	}
	return s.st.Pid, sup, true
}

// humanSince is how long ago t was, as docker's ps says it ("3 seconds",
// "About a minute"): go-units' HumanDuration, which its daemon and CLI
// print.
func humanSince(t time.Time) string {
	return units.HumanDuration(time.Since(t))
}
