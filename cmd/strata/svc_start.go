package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

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
	var all bool
	cmd := &cobra.Command{
		Use:   "start (--all | NAME...)",
		Short: "Start ended detached runs again; --all: those their --restart policy brings back at boot",
		Long: `Start detached runs that have ended, from their recorded command line
(as restart does; a running one is left as it is, a paused one refused).

--all starts what docker's daemon would when it starts, by --restart policy:
  no              never
  on-failure[:N]  a run that was running when its supervisor went away
                  (killed, or the machine rebooted)
  always          every run, even one the user stopped
  unless-stopped  every run the user did not stop (stop, kill, rm -f)
Run it at boot, e.g. from a systemd unit: strata -C /srv/env start --all

Exit status: 0 on success; 125 when a run cannot be started (as run -d's:
a port it publishes taken meanwhile, say); 1 on other errors, 2 on usage
errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				// --all chooses the runs by policy: names would be dropped.
				return usagef("start --all: takes no NAME (it starts the runs their --restart policy brings back)")
			case !all && len(args) == 0:
				return usagef("start: name runs or give --all")
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
	return cmd
}

// startSvc starts an ended run again from its recorded command line.
func startSvc(g *globals, s *svc) error {
	if s.live() && s.paused() { // as docker's: start does not unpause
		return fmt.Errorf("%s is paused; unpause it instead", s.st.Name)
	}
	if !s.live() {
		if err := spawnSupervisor(s); err != nil {
			var ec exitCodeError
			if errors.As(err, &ec) { // its code, and a message naming the run
				ec.err = fmt.Errorf("%s: %w", s.st.Name, ec.err)
				return ec
			}
			return fmt.Errorf("%s: %w", s.st.Name, err)
		}
	}
	fmt.Fprintln(g.stdout, s.st.Name)
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
