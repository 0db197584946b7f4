package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/repo"
)

// pause and unpause freeze and thaw a detached run's cgroup, as docker's.
// Nothing is recorded: the cgroup's freezer is the run's paused state,
// which ps reads (svc.paused).

func init() {
	register("pause", newPauseCommand)
	register("unpause", newUnpauseCommand)
}

func newPauseCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pause NAME...",
		Short: "Pause every process of detached runs (the cgroup freezer)",
		Long: `Pause every process of detached runs, as docker pause: the cgroup
freezer stops them where they are, unknown to them, until unpause. ps
shows such a run as "Up 2 minutes (Paused)", state "paused".

exec, start and rm (without -f) refuse a paused run. stop, restart and
rm -f thaw it once its stop signal (or SIGKILL) is sent; kill does too
with SIGKILL or the run's stop signal (any signal when neither run nor
image set one), as docker's; commit --from reads it and leaves it
paused.

Exit status: 0 on success, 1 on errors (a run that is not running, or
is paused already), 2 on usage errors.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				return pauseSvc(g, s, true)
			})
		},
	}
}

func newUnpauseCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "unpause NAME...",
		Short: "Let paused detached runs go on",
		Long: `Let detached runs that pause stopped go on, as docker unpause.

Exit status: 0 on success, 1 on errors (a run that is not running, or
not paused), 2 on usage errors.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				return pauseSvc(g, s, false)
			})
		},
	}
}

// pauseSvc pauses (or unpauses) the run s and prints its name.
func pauseSvc(g *globals, s *svc, pause bool) error {
	if _, ok := s.containerPid(); !ok {
		if !pause && s.restarting() { // as docker's
			return fmt.Errorf("%s %w", s.st.Name, exec.ErrNotPaused)
		}
		return s.notRunning()
	}
	f := exec.Unpause
	if pause {
		f = exec.Pause
	}
	switch err := f(s.id); {
	case errors.Is(err, exec.ErrNotRunning):
		if _, ok := s.containerPid(); ok {
			return fmt.Errorf("%s has no cgroup to freeze (a rootless run without limits)", s.st.Name)
		}
		return s.notRunning()
	case errors.Is(err, exec.ErrPaused):
		return fmt.Errorf("%s %w", s.st.Name, exec.ErrPaused)
	case errors.Is(err, exec.ErrNotPaused):
		return fmt.Errorf("%s %w", s.st.Name, exec.ErrNotPaused)
	case err != nil:
		return fmt.Errorf("%s: %w", s.st.Name, err)
	}
	fmt.Fprintln(g.stdout, s.st.Name)
	return nil
}

// paused reports whether the run s, running, is paused (its cgroup
// frozen; also while a commit --from reads it, as docker's commit
// pauses).
func (s *svc) paused() bool {
	pid, ok := s.containerPid()
	return ok && exec.Paused(pid)
}

// thawAfter lets the run s go on if it is paused, once it has been sent
// sig, which it gets only thawed: as docker's, after SIGKILL or the
// run's stop signal, and after any signal when neither the run nor its
// image set one.
func (s *svc) thawAfter(sig unix.Signal) {
	if sig == unix.SIGKILL || s.st.StopSignal == "" || sig == s.stopSignal() {
		exec.Unpause(s.id) // ErrNotPaused: it is not
	}
}
