package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/repo"
)

func init() { register("start", newStartCommand) }

// strata has no daemon: "start --all" is what docker's daemon does when it
// starts (at boot, or after its supervisors were killed). The --restart
// policy then decides, as docker's does:
//
//	no              never started again
//	on-failure[:N]  started if it was running when its supervisor went away
//	always          started, even if the user stopped it
//	unless-stopped  started unless the user stopped it (stop, kill, rm -f)
func newStartCommand(g *globals) *cobra.Command {
	var all, attach, interactive bool
	var detachKeys string
	cmd := &cobra.Command{
		Use:   "start (--all | NAME... | -a [-i] [--detach-keys KEYS] NAME)",
		Short: "Start ended detached runs again; --all: those their --restart policy brings back at boot",
		Long: `Start detached runs that have ended, from their recorded command line
(as restart does; a running one is left as it is, one that another
start started first too, and a paused one refused).

--all starts what docker's daemon would when it starts, by --restart policy:
  no              never
  on-failure[:N]  a run that was running when its supervisor went away
                  (killed, or the machine rebooted)
  always          every run, even one the user stopped
  unless-stopped  every run the user did not stop (stop, kill, rm -f)
Run it at boot, e.g. from a systemd unit: strata -C /srv/env start --all

-a (--attach) attaches to the run as attach does, before it starts, so
that none of its output is missed (docker's start -a); -i (--interactive)
attaches too, and passes stdin on to a run started with -i. For a -t
run, stdin from a pipe goes to its terminal as typed keys, as docker
start -ai's does (attach refuses a pipe there). A running run is
attached to as it is, one that another start is starting or that is
restarting once its container runs (docker's start -a takes both for
running). For a -t run, the detach keys (ctrl-p ctrl-q; --detach-keys)
leave it running and start exits 0, as docker start -a does (attach
says "read escape sequence" and exits 1 then, as docker attach does);
else start exits with its exit code when it ends, as attach does.

  strata run -dit --name box --rev main -- sh
  strata stop box
  strata start -ai box                # the shell again, at your terminal

Exit status: 0 on success (-a: on detach); with -a, the run's exit code
when it ends (128+N when killed by signal N); 125 when a run cannot be
started (as run -d's: a port it publishes taken meanwhile, say); 1 on
other errors, 2 on usage errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			attachTo := attach || interactive
			switch {
			case attachTo && (all || len(args) != 1):
				return usagef("start -a: give one NAME: you cannot start and attach several runs at once")
			case all && len(args) > 0:
				// --all chooses the runs by policy: names would be dropped.
				return usagef("start --all: takes no NAME (it starts the runs their --restart policy brings back)")
			case !all && len(args) == 0:
				return usagef("start: name runs or give --all")
			}
			if attachTo {
				keys, err := parseDetachKeys(detachKeys)
				if err != nil {
					return usagef("start --detach-keys %s: %v", detachKeys, err)
				}
				o := attachOptions{noStdin: !interactive, sigProxy: true, pipeToTTY: true}
				return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
					err := startAttached(cmd.Context(), g, s, o, keys)
					if errors.Is(err, errDetached) { // as docker start -a's
						return nil
					}
					return err
				})
			}
			if !all {
				return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
					return startSvc(g, s)
				})
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			svcs, err := listSvcs(r)
			if err != nil {
				return fmt.Errorf("start: %w", err)
			}
			var first error
			for _, s := range svcs {
				if !bootWanted(s) {
					continue
				}
				if err := startSvc(g, s); err != nil {
					if first == nil {
						first = err
					} else {
						fmt.Fprintf(g.stderr, "strata: start: %v\n", err)
					}
				}
			}
			return first
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "start the runs their --restart policy brings back at boot")
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "attach to the run's output before it starts, and pass signals on (without -t)")
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "attach, and pass stdin on to the run (one started with -i)")
	cmd.Flags().StringVar(&detachKeys, "detach-keys", defaultDetachKeys, "with -a or -i: the `KEYS` that detach, leaving the run going")
	return cmd
}

// startAttached is start -a: it starts an ended run with a connection
// to its supervisor that the supervisor serves before the container
// starts, and relays the run's stdio over it (attach's relayAttach); a
// running run is attached to.
func startAttached(ctx context.Context, g *globals, s *svc, o attachOptions, keys []byte) error {
	if s.live() && s.paused() { // as start's
		return fmt.Errorf("%s is paused; unpause it instead", s.st.Name)
	}
	if s.live() {
		return attachStarted(ctx, g, s, o, keys)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", s.st.Name, err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "attach"), os.NewFile(uintptr(fds[1]), "attach")
	err = startSvcWith(s, theirs)
	theirs.Close()
	if err != nil {
		mine.Close()
		if s.live() { // another start began it first
			return attachStarted(ctx, g, s, o, keys)
		}
		return err
	}
	c, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", s.st.Name, err)
	}
	// Its pid now, for the signals passed on.
	if err := s.reload(); err != nil {
		c.Close()
		return fmt.Errorf("%s: %w", s.st.Name, err)
	}
	return relayAttach(ctx, g, s, o, keys, c.(*net.UnixConn))
}

// attachStarted attaches start -a to s, whose supervisor runs: one that
// another start began may not have started its container yet (its
// state still says so), and one between restarts will start it again;
// each is waited for, as docker's start -a attaches to a container that
// another start starts, or that is restarting (running, to docker's
// start).
func attachStarted(ctx context.Context, g *globals, s *svc, o attachOptions, keys []byte) error {
	for s.live() && (s.st.Status == "created" || s.st.Status == "exited" || s.st.Status == "restarting") {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(20 * time.Millisecond):
		}
		if err := s.reload(); err != nil {
			return fmt.Errorf("%s: %w", s.st.Name, err)
		}
	}
	return attachRun(ctx, g, s, o, keys)
}

// startSvc starts an ended run again from its recorded command line.
func startSvc(g *globals, s *svc) error {
	if s.live() && s.paused() { // as docker's: start does not unpause
		return fmt.Errorf("%s is paused; unpause it instead", s.st.Name)
	}
	if !s.live() {
		// Another start that began it first (its supervisor holds the
		// run's lock, ours gave up) leaves it running, as docker's.
		if err := startSvcWith(s); err != nil && !s.live() {
			return err
		}
	}
	fmt.Fprintln(g.stdout, s.st.Name)
	return nil
}

// startSvcWith starts s's supervisor (spawnSupervisor, with its first
// attacher if one is given); an error names the run.
func startSvcWith(s *svc, attacher ...*os.File) error {
	if err := spawnSupervisor(s, attacher...); err != nil {
		var ec exitCodeError
		if errors.As(err, &ec) { // its code, and a message naming the run
			ec.err = fmt.Errorf("%s: %w", s.st.Name, ec.err)
			return ec
		}
		return fmt.Errorf("%s: %w", s.st.Name, err)
	}
	return nil
}

// bootWanted says whether start --all starts run s (see newStartCommand).
func bootWanted(s *svc) bool {
	if s.live() {
		return false
	}
	userStopped := s.stopRequested()
	// Recorded as running, but its supervisor is gone: killed, or a reboot.
	cutShort := s.st.Status == "running" || s.st.Status == "restarting" || s.st.Status == "created"
	kind, _, _ := strings.Cut(s.st.Restart, ":")
	switch kind {
	case "always":
		return true
	case "unless-stopped":
		return !userStopped
	case "on-failure":
		return cutShort && !userStopped
	}
	return false
}
