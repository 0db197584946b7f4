package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/internal/regfile"
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
	if err := os.WriteFile(s.path("stop"), nil, 0o600); err != nil {
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
						os.WriteFile(s.path("stop"), nil, 0o600)
					}
					fmt.Fprintln(g.stdout, s.st.Name)
					return nil
				}
				if !ok {
					return fmt.Errorf("%s is not running", s.st.Name)
				}
				if n == unix.SIGKILL {
					os.WriteFile(s.path("stop"), nil, 0o600) // killed on purpose: no restart
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
				if err := os.WriteFile(s.path("restart"), nil, 0o600); err != nil {
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

func newRmCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm [-f] NAME...",
		Short: "Remove ended detached runs: state, logs and throwaway tree",
		Long: `Remove ended detached runs: state, logs and throwaway tree. -f stops
a running one first (SIGKILL), and, as docker's rm -f (and rm -f), only
warns of a name no run has. A cp to or from an ended run, or a commit
--from it, that has its tree mounted is waited for (Ctrl-C stops the
wait).`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if force {
				r, err := g.openRepo()
				if err != nil {
					return err
				}
				var known []string
				for _, n := range args {
					if _, err := loadSvc(r, n); errors.Is(err, errNoRun) {
						fmt.Fprintf(g.stderr, "strata: warning: rm: %v\n", err)
						continue
					}
					known = append(known, n)
				}
				args = known
			}
			return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				if s.live() {
					if !force && s.paused() {
						return fmt.Errorf("%s is paused; unpause and stop it first, or use rm -f", s.st.Name)
					}
					if !force && s.restarting() { // as docker's
						return fmt.Errorf("%s is restarting; stop it first or use rm -f", s.st.Name)
					}
					if !force {
						return fmt.Errorf("%s is running; stop it first or use rm -f", s.st.Name)
					}
					if err := stopSvc(cmd.Context(), s, 0, 0); err != nil && cmd.Context().Err() != nil {
						return fmt.Errorf("%s: %w", s.st.Name, err)
					}
				}
				// A cp or commit --from of the ended run has its tree
				// mounted until it is done: wait for it, rather than
				// remove the tree under the copy.
				unlockTree, err := s.lockTree(cmd.Context(), treeWaitNotice(g, "rm", s.st.Name))
				if errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("%w %q", errNoRun, s.st.Name) // removed meanwhile
				} else if err != nil {
					return fmt.Errorf("%s: %w", s.st.Name, err)
				}
				defer unlockTree()
				if s.live() {
					return fmt.Errorf("%s is running again; stop it first or use rm -f", s.st.Name)
				}
				svcTestHook("rm-tree-locked")
				if err := removeSvc(r, s); err != nil {
					return fmt.Errorf("%s: %w", s.st.Name, err)
				}
				fmt.Fprintln(g.stdout, s.st.Name)
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "stop a running one first (SIGKILL)")
	return cmd
}

func newLogsCommand(g *globals) *cobra.Command {
	var o logsOptions
	var tail, since, until string
	cmd := &cobra.Command{
		Use:   "logs [-f] [--tail N] [--since TIME] [--until TIME] [--timestamps] NAME",
		Short: "Print a detached run's output (stdout and stderr as they were)",
		Long: `Print a detached run's output: stdout and stderr, each on its own stream,
as the run wrote them, from its log (rotated at 10 MiB, with one older
file kept: the last 10 to 20 MiB).

--since and --until take a time as docker's do: RFC 3339
(2026-12-05T10:00:00Z, or without a zone: local time; a date alone), Unix
seconds (1764928800, fractions allowed), or a duration before now (10m,
1h30m). --tail N prints the last N lines of those ("all": every one).

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.tail, err = parseTail(tail); err != nil {
				return err
			}
			now := time.Now()
			if since != "" {
				if o.since, err = parseLogTime(since, now); err != nil {
					return usagef("logs --since %s: %v", since, err)
				}
			}
			if until != "" {
				if o.until, err = parseLogTime(until, now); err != nil {
					return usagef("logs --until %s: %v", until, err)
				}
			}
			return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				return printLogs(cmd.Context(), g, s, o)
			})
		},
	}
	cmd.Flags().BoolVarP(&o.follow, "follow", "f", false, "keep printing new output until the run ends (or --until)")
	cmd.Flags().BoolVarP(&o.timestamps, "timestamps", "t", false, "prefix each line with its time (RFC 3339)")
	cmd.Flags().StringVarP(&tail, "tail", "n", "all", "print only the last N lines (all: every one)")
	cmd.Flags().StringVar(&since, "since", "", "only lines written at or after `TIME` (RFC 3339, Unix seconds, or a duration before now: 10m)")
	cmd.Flags().StringVar(&until, "until", "", "only lines written before `TIME` (as --since)")
	return cmd
}

// logsOptions are what logs prints: a zero since or until is no bound,
// a negative tail every line.
type logsOptions struct {
	follow, timestamps bool
	tail               int
	since, until       time.Time
}

// keeps reports whether a record lies within --since and --until (a
// record whose time does not parse is kept).
func (o logsOptions) keeps(rec logRecord) bool {
	if o.since.IsZero() && o.until.IsZero() {
		return true
	}
	t, err := time.Parse(time.RFC3339Nano, rec.time)
	if err != nil {
		return true
	}
	return (o.since.IsZero() || !t.Before(o.since)) && (o.until.IsZero() || t.Before(o.until))
}

func printLogs(ctx context.Context, g *globals, s *svc, o logsOptions) error {
	var recs []logRecord
	add := func(rd io.Reader) {
		br := bufio.NewReaderSize(rd, 64<<10)
		for {
			line, err := br.ReadString('\n')
			if rec, ok := parseRecord(line); ok && strings.HasSuffix(line, "\n") && o.keeps(rec) {
				recs = append(recs, rec)
			}
			if err != nil {
				return
			}
		}
	}
	if old, err := regfile.Open(s.logPath() + ".1"); err == nil {
		add(old)
		old.Close()
	}
	cur, err := regfile.Open(s.logPath())
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var offset int64
	if cur != nil {
		defer func() { cur.Close() }()
		b, _ := io.ReadAll(cur)
		// Only whole lines: a partial one is printed when it is complete.
		if i := strings.LastIndexByte(string(b), '\n'); i >= 0 {
			offset = int64(i + 1)
			add(strings.NewReader(string(b[:i+1])))
		}
	}
	if o.tail >= 0 && len(recs) > o.tail {
		recs = recs[len(recs)-o.tail:]
	}
	for _, rec := range recs {
		printRecord(g, rec, o.timestamps)
	}
	if !o.follow {
		return nil
	}
	for {
		ended := !s.live() || !o.until.IsZero() && !time.Now().Before(o.until)
		if cur == nil {
			cur, _ = regfile.Open(s.logPath())
			offset = 0
		}
		if cur != nil {
			followFrom(g, o, cur, &offset)
			if followRotated(g, o, s.logPath(), cur, &offset) {
				cur.Close()
				cur = nil
				continue
			}
		}
		if ended {
			return nil
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return context.Cause(ctx)
		}
	}
}

// followFrom prints the whole lines of f from *offset on, and moves
// *offset past them.
func followFrom(g *globals, o logsOptions, f *os.File, offset *int64) {
	f.Seek(*offset, io.SeekStart)
	b, _ := io.ReadAll(f)
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		return
	}
	*offset += int64(i + 1)
	for _, line := range strings.SplitAfter(string(b[:i+1]), "\n") {
		if rec, ok := parseRecord(line); ok && o.keeps(rec) {
			printRecord(g, rec, o.timestamps)
		}
	}
}

// followRotated reports whether the log at path is no longer cur (the
// supervisor renamed it to path.1 and writes a new one). Then it first
// prints what cur got after the last read (the rename comes after the
// write that filled it), and path.1 if that is a later generation than
// cur (rotated twice since): a fast writer's lines were lost between
// generations.
func followRotated(g *globals, o logsOptions, path string, cur *os.File, offset *int64) bool {
	now, err := os.Stat(path)
	if err != nil {
		return false
	}
	mine, err := cur.Stat()
	if err != nil || os.SameFile(now, mine) {
		return false
	}
	followFrom(g, o, cur, offset)
	if old, err := regfile.Open(path + ".1"); err == nil {
		if st, err := old.Stat(); err == nil && !os.SameFile(st, mine) {
			var from int64
			followFrom(g, o, old, &from)
		}
		old.Close()
	}
	return true
}
