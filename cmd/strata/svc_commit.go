package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"strconv"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/worktree"
)

// commitFrom is 'commit --from NAME': the changes of a --rev run's
// throwaway tree become a commit whose parent is the run's revision, as
// docker commit makes an image of a container. No branch moves; the run
// goes on from the new commit if restarted. A running run is frozen for
// the read and goes on after, in the same tree.
func commitFrom(ctx context.Context, g *globals, name string, co worktree.CommitOptions) (*objects.Commit, int, error) {
	r, err := g.openRepo()
	if err != nil {
		return nil, 0, err
	}
	s, err := loadSvc(r, name)
	if err != nil {
		return nil, 0, fmt.Errorf("commit --from: %w", err)
	}
	if s.st.Tree == "" {
		return nil, 0, fmt.Errorf("commit --from %s: it runs in the checkout; use 'strata commit' there", name)
	}
	w, err := worktree.ForPath(r, s.st.Tree)
	if err != nil {
		return nil, 0, fmt.Errorf("commit --from %s: %w", name, err)
	}
	if co.Config, err = commitConfig(r, w, co.Config, &s.st); err != nil {
		return nil, 0, fmt.Errorf("commit --from %s: %w", name, err)
	}
	var c *objects.Commit
	var n int               // paths changed
	unlockTree := func() {} // held to the end in the default case
	defer func() { unlockTree() }()
	switch {
	case os.Getenv(envCommitInRun) == name:
		// In the supervisor's mount namespace (below): the run's tree is
		// mounted here, and stays, as in any commit. The container is
		// frozen while the upper is read, as docker commit pauses.
		if !w.Mounted() {
			return nil, 0, fmt.Errorf("commit --from %s: its tree is not mounted in its supervisor", name)
		}
		thaw, ferr := freezeRuns(w)
		if ferr != nil {
			return nil, 0, fmt.Errorf("commit --from %s: %w", name, ferr)
		}
		c, n, err = w.Commit(ctx, co)
		thaw()
	default:
		// A start of the run waits until the tree mounted here for the
		// commit is unmounted (lockTree).
		var lerr error
		if unlockTree, lerr = s.lockTree(ctx, treeWaitNotice(g, "commit", name)); lerr != nil {
			return nil, 0, fmt.Errorf("commit --from %s: %w", name, lerr)
		}
		if s.live() {
			// The tree of a running run is mounted only in its supervisor's
			// mount namespace; mounting its upper here too would put it
			// under two overlays. Commit from there.
			return nil, 0, commitInSupervisor(g, s)
		}
		c, n, err = w.Commit(ctx, co)
		// Commit mounted the tree here; the run's tree is mounted only by
		// its supervisor.
		if uerr := w.Umount(); uerr != nil && err == nil {
			err = uerr
		}
	}
	if errors.Is(err, worktree.ErrNothingToCommit) {
		return nil, 0, fmt.Errorf("commit --from %s: nothing to commit (use --allow-empty to commit anyway)", name)
	}
	if c != nil && s.reload() == nil { // as a supervisor may have saved it since
		s.st.Commit = c.ID.String()
		s.save()
	}
	return c, n, err
}

// envCommitInRun names the run whose supervisor's mount namespace this
// strata was started in, to commit its tree (commitInSupervisor). As
// strata's other hand-over variables, it counts only in a strata that
// strata started (dropHandOvers): in a user's shell it made commit
// --from skip the run's lock and fail, its tree not mounted there.
const envCommitInRun = "_STRATA_COMMIT_IN_RUN"

// commitInSupervisor runs this same commit command again inside the
// mount namespace of run s's supervisor, where its tree is mounted, with
// util-linux nsenter (a Go process cannot setns into a mount namespace);
// that one prints the result, its exit code is ours. The working directory
// is looked up again there (--wdns): a directory opened here would be
// unreachable from that namespace.
func commitInSupervisor(g *globals, s *svc) error {
	nsenter, err := osexec.LookPath("nsenter")
	if err != nil {
		return fmt.Errorf("commit --from %s: it is running, and committing it needs nsenter (util-linux): %w", s.st.Name, err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("commit --from %s: %w", s.st.Name, err)
	}
	cwd, err := g.userDir()
	if err != nil {
		return fmt.Errorf("commit --from %s: %w", s.st.Name, err)
	}
	// The supervisor as the kernel knows it (it holds the run's lock),
	// not as recorded: a recorded pid may be a dead supervisor's, reused
	// by another process, whose mount namespace (a container's) would
	// then hold the strata that runs here as root.
	sup := s.lockHolder()
	if sup == 0 {
		return fmt.Errorf("commit --from %s: its supervisor has just ended; commit again", s.st.Name)
	}
	args := append([]string{"-t", strconv.Itoa(sup), "-m", "--wdns=" + cwd, "--", self}, g.argv...)
	// The pipe at its fd 3 (nsenter passes it on) tells it that strata
	// started it; it reads nothing from it.
	rd, wr, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("commit --from %s: %w", s.st.Name, err)
	}
	wr.Close()
	defer rd.Close()
	child, err := exec.ChildSetting(rd.Fd())
	if err != nil {
		return fmt.Errorf("commit --from %s: %w", s.st.Name, err)
	}
	cmd := osexec.Command(nsenter, args...)
	cmd.Env = childEnv(child, envCommitInRun+"="+s.st.Name)
	cmd.ExtraFiles = []*os.File{rd}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = g.stdin, g.stdout, g.stderr
	err = cmd.Run()
	var ee *osexec.ExitError
	if errors.As(err, &ee) {
		return exitCodeError{code: ee.ExitCode()} // it said why
	}
	if err != nil {
		return fmt.Errorf("commit --from %s: enter its supervisor's mount namespace: %w", s.st.Name, err)
	}
	return nil
}
