package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/repo"
)

// forEachRun opens the repository and calls fn for every named run; it
// goes on after a failure and returns the first, but not after a signal
// stopped the command (ctx).
func forEachRun(ctx context.Context, g *globals, names []string, fn func(r *repo.Repo, s *svc) error) error {
	r, err := g.openRepo()
	if err != nil {
		return err
	}
	var first error
	for _, n := range names {
		s, err := loadSvc(r, n)
		if err == nil {
			err = fn(r, s)
		}
		if err != nil && ctx.Err() != nil {
			return err
		}
		if err != nil {
			if first != nil {
				fmt.Fprintf(g.stderr, "strata: %v\n", err)
				continue
			}
			first = err
		}
	}
	return first
}

// forEachRunAtOnce is forEachRun calling fn for every named run at
// once, as docker stop stops containers in parallel: stopping runs that
// each wait out their timeout takes one timeout, not one per run. ok
// gets each run that succeeded, and errors are told, in the order the
// names were given.
func forEachRunAtOnce(ctx context.Context, g *globals, names []string, fn func(r *repo.Repo, s *svc) error, ok func(s *svc)) error {
	r, err := g.openRepo()
	if err != nil {
		return err
	}
	type result struct {
		s   *svc
		err error
	}
	results := make([]chan result, len(names))
	for i, n := range names {
		results[i] = make(chan result, 1)
		go func() {
			s, err := loadSvc(r, n)
			if err == nil {
				err = fn(r, s)
			}
			results[i] <- result{s, err}
		}()
	}
	var first error
	for _, c := range results {
		res := <-c
		switch {
		case res.err == nil:
			ok(res.s)
		case first == nil:
			first = res.err
		case ctx.Err() == nil: // after a signal, only the first error is told
			fmt.Fprintf(g.stderr, "strata: %v\n", res.err)
		}
	}
	return first
}

// stopSvc asks the run to end: no more restarts, its stop signal (SIGTERM
// unless the image's STOPSIGNAL or run's --stop-signal says otherwise) to
// its pid 1, SIGKILL once timeout has passed (0: at once, without the
// stop signal; negative: never); it returns when the supervisor is gone, or when a signal stops
// the command (ctx): the run keeps what it was sent, and is not restarted.
func stopSvc(ctx context.Context, s *svc, sig unix.Signal, timeout time.Duration) error {
	if sig == 0 {
		sig = s.stopSignal()
	}
	// Also on an ended run: the user stopped it, which start --all
	// respects for unless-stopped (a new supervisor removes the mark).
	if err := s.writeRunFile("stop", nil, 0o600); err != nil {
		return err
	}
	if !s.live() {
		return nil
	}
	deadline := time.Now().Add(timeout)
	termSent, killSent := false, false
	for s.live() {
		s.reload()
		if pid, ok := s.containerPid(); ok {
			if !termSent && timeout != 0 {
				unix.Kill(pid, sig)
				termSent = true
				s.thawAfter(sig)
			}
			if !killSent && timeout >= 0 && !time.Now().Before(deadline) {
				unix.Kill(pid, unix.SIGKILL)
				killSent = true
				s.thawAfter(unix.SIGKILL)
			}
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			if termSent && !killSent {
				return fmt.Errorf("interrupted; it had %s, not SIGKILL, and may still be running ('strata kill %s' ends it)", unix.SignalName(sig), s.st.Name)
			}
			return context.Cause(ctx)
		}
	}
	return nil
}

// sleepCtx sleeps d, or less if ctx is done first; it reports whether
// ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// stopTimeoutFlag adds stop's and restart's -t: seconds before SIGKILL,
// by default the run's --stop-timeout. The function returns it for s.
func stopTimeoutFlag(cmd *cobra.Command) func(s *svc) time.Duration {
	secs := cmd.Flags().IntP("time", "t", defaultStopTimeout, "seconds to wait for the run to exit before SIGKILL (default: the run's --stop-timeout, else 10; 0: at once; -1: forever)")
	saidDefault(cmd.Flags(), "time")
	return func(s *svc) time.Duration {
		if !cmd.Flags().Changed("time") {
			return s.stopTimeout()
		}
		if *secs < 0 {
			return -1
		}
		return time.Duration(*secs) * time.Second
	}
}

// stopSignalFlag adds docker stop's -s (--signal): the signal sent
// first, instead of the run's stop signal. It returns the flag's parser
// (0: the run's own).
func stopSignalFlag(cmd *cobra.Command) func() (unix.Signal, error) {
	sig := cmd.Flags().StringP("signal", "s", "", "the `SIGNAL` to send first (default: the run's --stop-signal, else the image's STOPSIGNAL, else TERM)")
	return func() (unix.Signal, error) {
		if *sig == "" {
			return 0, nil
		}
		n, err := parseSignal(*sig)
		if err != nil {
			return 0, usagef("%s -s %s: %v", cmd.Name(), *sig, err)
		}
		return n, nil
	}
}

func newStopCommand(g *globals) *cobra.Command {
	var timeout func(*svc) time.Duration
	var signal func() (unix.Signal, error)
	cmd := &cobra.Command{
		Use:   "stop [-s SIGNAL] [-t SECONDS] NAME...",
		Short: "Stop detached runs: their stop signal (TERM; -s: another), then SIGKILL after -t seconds",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := signal()
			if err != nil {
				return err
			}
			return forEachRunAtOnce(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				if err := stopSvc(cmd.Context(), s, sig, timeout(s)); err != nil {
					return fmt.Errorf("%s: %w", s.st.Name, err)
				}
				return nil
			}, func(s *svc) { fmt.Fprintln(g.stdout, s.st.Name) })
		},
	}
	timeout = stopTimeoutFlag(cmd)
	signal = stopSignalFlag(cmd)
	return cmd
}

func newKillCommand(g *globals) *cobra.Command {
	var sig string
	cmd := &cobra.Command{
		Use:   "kill [-s SIGNAL] NAME...",
		Short: "Send a signal (default KILL) to detached runs' pid 1",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseSignal(sig)
			if err != nil {
				return usagef("kill -s %s: %v", sig, err)
			}
			return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				pid, ok := s.containerPid()
				if !ok && s.restarting() {
					// As docker's: no container to signal; KILL, as
					// stop, ends its restarts.
					if n == unix.SIGKILL {
						s.writeRunFile("stop", nil, 0o600)
					}
					fmt.Fprintln(g.stdout, s.st.Name)
					return nil
				}
				if !ok {
					return fmt.Errorf("%s is not running", s.st.Name)
				}
				if n == unix.SIGKILL {
					s.writeRunFile("stop", nil, 0o600) // killed on purpose: no restart
				}
				if err := unix.Kill(pid, n); err != nil {
					return fmt.Errorf("%s: %w", s.st.Name, err)
				}
				s.thawAfter(n)
				fmt.Fprintln(g.stdout, s.st.Name)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&sig, "signal", "s", "KILL", "signal name (HUP, SIGTERM) or number")
	return cmd
}

func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if n := unix.SignalNum(name); n != 0 {
		return n, nil
	}
	return 0, fmt.Errorf("unknown signal")
}

func newWaitCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "wait NAME...",
		Short: "Wait for detached runs to end; print each exit code",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// All at once: a --rm run that ends while another is waited
			// for would be gone, code and all, by its turn.
			codes := make(map[*svc]int, len(args))
			var mu sync.Mutex
			return forEachRunAtOnce(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				code, err := s.waitExitCode(cmd.Context())
				if err == nil {
					s.awaitRemoval(cmd.Context(), 10*time.Second)
				}
				mu.Lock()
				codes[s] = code
				mu.Unlock()
				return err
			}, func(s *svc) { fmt.Fprintln(g.stdout, codes[s]) })
		},
	}
}

func newRestartCommand(g *globals) *cobra.Command {
	var timeout func(*svc) time.Duration
	var signal func() (unix.Signal, error)
	cmd := &cobra.Command{
		Use:   "restart [-s SIGNAL] [-t SECONDS] NAME...",
		Short: "Stop detached runs (as stop does) and start them again",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := signal()
			if err != nil {
				return err
			}
			return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				// A --rm run is kept: its supervisor sees the mark.
				if err := s.writeRunFile("restart", nil, 0o600); err != nil {
					return fmt.Errorf("%s: %w", s.st.Name, err)
				}
				if err := stopSvc(cmd.Context(), s, sig, timeout(s)); err != nil {
					os.Remove(s.path("restart"))
					return fmt.Errorf("%s: %w; not started again", s.st.Name, err)
				}
				if err := s.reload(); err != nil {
					return err
				}
				if err := spawnSupervisor(s); err != nil {
					return fmt.Errorf("%s: %w", s.st.Name, err)
				}
				fmt.Fprintln(g.stdout, s.st.Name)
				return nil
			})
		},
	}
	timeout = stopTimeoutFlag(cmd)
	signal = stopSignalFlag(cmd)
	return cmd
}
