package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/repo"
)

func init() { register("attach", newAttachCommand) }

// defaultDetachKeys are docker's.
const defaultDetachKeys = "ctrl-p,ctrl-q"

type attachOptions struct {
	noStdin    bool
	sigProxy   bool
	detachKeys string
	// pipeToTTY lets a pipe feed a -t run's terminal: start -a's, as
	// docker start -ai, which checks no terminal (attach does).
	pipeToTTY bool
}

func newAttachCommand(g *globals) *cobra.Command {
	var o attachOptions
	cmd := &cobra.Command{
		Use:   "attach [--no-stdin] [--sig-proxy=false] [--detach-keys KEYS] NAME",
		Short: "Attach your terminal to a detached run's input and output",
		Long: `Attach to a detached run (run -d) as docker attach does: what it writes
from now on comes to your stdout and stderr (strata logs has what came
before), and what you type goes to its stdin if it was started with -i.

  strata run -dit --name box -- sh    # a shell in the background
  strata attach box                   # type into it; ctrl-p ctrl-q leaves it running

A run started with -t has one stream through its terminal; your terminal
goes raw meanwhile (when attach passes stdin on) and its size follows
yours. Without -t, the signals attach gets (ctrl-c's SIGINT) go to the
run's pid 1 unless --sig-proxy=false; otherwise SIGINT and SIGTERM end
attach (130, 143) and leave the run going. For a -t run, the detach
keys leave it going and attach ends as docker attach does: it says
"strata: attach: NAME: read escape sequence" (moby/term's EscapeError,
which docker-cli reports) and exits 1. Without -t, stdin goes on byte
for byte, those keys too, as docker's (leave by ctrl-c with
--sig-proxy=false). When the run ends, attach exits with its exit code
(128+N when killed by signal N). --detach-keys takes a comma-separated
list of characters, ctrl-<x> (x a letter, @, [, \, ], ^ or _) and DEL.
Several attachers may be attached at once: each gets all the output,
and one that reads slower than the run writes misses what does not fit
its queue, as the run never waits for it.

Exit status: the run's when it ends; 1 on detach (-t), as docker's, and
when the run is not running, is paused, or there is none of that name,
and when stdin is not a terminal for a -it run (--no-stdin leaves it
out); 2 on usage errors; 130 or 143 when SIGINT or SIGTERM ended it.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := parseDetachKeys(o.detachKeys)
			if err != nil {
				return usagef("attach --detach-keys %s: %v", o.detachKeys, err)
			}
			return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				return attachRun(cmd.Context(), g, s, o, keys)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.noStdin, "no-stdin", false, "do not pass stdin on")
	f.BoolVar(&o.sigProxy, "sig-proxy", true, "pass the signals attach gets on to the run (without -t)")
	f.StringVar(&o.detachKeys, "detach-keys", defaultDetachKeys, "the `KEYS` that detach, leaving the run going")
	return cmd
}

// parseDetachKeys reads docker's --detach-keys: "a,ctrl-p,ctrl-q".
func parseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		s = defaultDetachKeys
	}
	var keys []byte
	for _, k := range strings.Split(s, ",") {
		if len(k) == 1 {
			keys = append(keys, k[0])
			continue
		}
		if k == "DEL" { // docker's
			keys = append(keys, 0x7f)
			continue
		}
		c, ok := strings.CutPrefix(strings.ToLower(k), "ctrl-")
		if !ok || len(c) != 1 {
			return nil, fmt.Errorf("unknown key %q: want one character, ctrl-<x> or DEL", k)
		}
		switch b := c[0]; {
		case b >= 'a' && b <= 'z':
			keys = append(keys, b-'a'+1)
		case strings.IndexByte("@[\\]^_", b) >= 0:
			keys = append(keys, b-'@')
		default:
			return nil, fmt.Errorf("unknown key %q: want one character, ctrl-<x> or DEL", k)
		}
	}
	return keys, nil
}

// detachFilter finds the detach keys in what is typed: the keys are
// held back while they match, and passed on when the match breaks.
type detachFilter struct {
	keys []byte
	held int // how many of keys the input ends with so far
}

// feed returns what of p goes on, and whether the keys were typed (then
// what follows them is dropped).
func (d *detachFilter) feed(p []byte) ([]byte, bool) {
	out := make([]byte, 0, len(p))
	for _, b := range p {
		// What is held and b: the longest end of it that begins the
		// keys stays held, what is before goes on.
		seen := append(d.keys[:d.held:d.held], b)
		i := 0
		for !bytes.HasPrefix(d.keys, seen[i:]) {
			i++
		}
		out = append(out, seen[:i]...)
		d.held = len(seen) - i
		if d.held == len(d.keys) {
			return out, true
		}
	}
	return out, false
}

// attachRun relays s's stdio until it ends or the detach keys come.
func attachRun(ctx context.Context, g *globals, s *svc, o attachOptions, keys []byte) error {
	pid, ok := s.containerPid()
	if !ok && s.restarting() {
		return fmt.Errorf("%s is restarting: you cannot attach to a restarting run, wait until it is running", s.st.Name)
	}
	if !ok {
		return errNotRunning(s)
	}
	if exec.Paused(pid) {
		return fmt.Errorf("%s is paused: you cannot attach to a paused run, unpause it first", s.st.Name)
	}
	if err := checkAttachStdin(g, s, o); err != nil {
		return err
	}
	conn, err := dialAttach(s)
	if err != nil {
		return endedMeanwhile(s, err)
	}
	return relayAttach(ctx, g, s, o, keys, conn)
}

// passesStdin says whether attach passes its stdin on to s.
func passesStdin(g *globals, s *svc, o attachOptions) bool {
	return s.st.OpenStdin && !o.noStdin && g.stdin != nil
}

// checkAttachStdin refuses a pipe for a -it run's terminal, as docker
// attach does (its CheckTty): a terminal's keys, not a pipe's bytes, for
// a pty. start -ai does not (o.pipeToTTY), nor does docker's.
func checkAttachStdin(g *globals, s *svc, o attachOptions) error {
	if _, inTerm := exec.TerminalOf(g.stdin); s.st.Tty && passesStdin(g, s, o) && !inTerm && !o.pipeToTTY {
		return fmt.Errorf("the input device is not a TTY (%s has a terminal: attach from one, or use --no-stdin)", s.st.Name)
	}
	return nil
}

// relayAttach relays s's stdio over conn, a connection to its
// supervisor, until the run ends or the detach keys come; it closes conn.
func relayAttach(ctx context.Context, g *globals, s *svc, o attachOptions, keys []byte, conn *net.UnixConn) error {
	defer conn.Close()
	inFd, inTerm := exec.TerminalOf(g.stdin)
	passStdin := passesStdin(g, s, o)
	// A terminal at our stdin goes raw for a -t run it types into: the
	// keys reach the run's terminal as typed, ctrl-c included. Else
	// ctrl-c is attach's, which then ends (it has no keys to detach by).
	if s.st.Tty && inTerm && passStdin {
		old, err := term.MakeRaw(inFd)
		if err == nil {
			defer term.Restore(inFd, old)
		}
	}
	sizeFd, sized := inFd, inTerm
	if !sized {
		sizeFd, sized = exec.TerminalOf(g.stdout)
	}
	if s.st.Tty && sized {
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, unix.SIGWINCH)
		defer signal.Stop(winch)
		sendSize(conn, sizeFd)
		go func() {
			for range winch {
				sendSize(conn, sizeFd)
			}
		}()
	}
	if !s.st.Tty && o.sigProxy {
		sigs := make(chan os.Signal, 16)
		signal.Notify(sigs, proxiedSignals...)
		defer signal.Stop(sigs)
		go func() {
			for sig := range sigs {
				if pid, ok := s.containerPid(); ok {
					unix.Kill(pid, sig.(unix.Signal))
				}
			}
		}()
	} else {
		// Not passed on: SIGINT and SIGTERM end attach, not the run.
		defer context.AfterFunc(ctx, func() { conn.Close() })()
	}
	detached := make(chan struct{})
	if passStdin {
		// As docker's, the detach keys are read only for a -t run: a
		// pipe's bytes for a run without a terminal go on as they are.
		var d *detachFilter
		if s.st.Tty {
			d = &detachFilter{keys: keys}
		}
		go func() {
			if relayStdin(conn, g.stdin, d) {
				close(detached)
				conn.Close() // the output's read ends
			}
		}()
	}
	for {
		typ, p, err := readFrame(conn)
		if err != nil {
			select {
			case <-detached:
				return fmt.Errorf("%s: %w", s.st.Name, errDetached)
			default:
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return endedMeanwhile(s, fmt.Errorf("%s: the supervisor went away before the run ended: %w", s.st.Name, err))
		}
		switch typ {
		case frameStdout:
			g.stdout.Write(p)
		case frameStderr:
			g.stderr.Write(p)
		case frameExit:
			if len(p) != 4 {
				return fmt.Errorf("%s: a bad exit frame", s.st.Name)
			}
			// After the last run, the supervisor ends next: once it
			// has, rm and start take the run as ended.
			io.Copy(io.Discard, conn)
			if code := int(binary.BigEndian.Uint32(p)); code != 0 {
				return exitCodeError{code: code}
			}
			return nil
		}
	}
}

// endedMeanwhile is err, the failure to attach to s or to read from its
// supervisor, unless s ended after attach found it running: its
// supervisor saves it exited, then closes and removes its socket. Then,
// as docker's attach checks again once attached, s is not running.
func endedMeanwhile(s *svc, err error) error {
	if rerr := s.reload(); rerr == nil && s.st.Status == "running" {
		return err
	}
	return errNotRunning(s)
}

// errDetached is what relayAttach returns when the detach keys were
// typed, in the words of docker's (moby/term's EscapeError). attach
// reports it and exits 1, as docker attach does; start -a exits 0, as
// docker start -a does.
var errDetached = errors.New("read escape sequence")

func errNotRunning(s *svc) error {
	return fmt.Errorf("%s is not running: you cannot attach to a stopped run, start it first", s.st.Name)
}

// proxiedSignals are what attach passes on without -t, as docker's
// --sig-proxy: those a user sends to a foreground command.
var proxiedSignals = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2}

// relayStdin sends in to the run until EOF, or until the detach keys
// (then it reports true); with no d, everything goes on.
func relayStdin(conn *net.UnixConn, in io.Reader, d *detachFilter) bool {
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			p, detach := buf[:n], false
			if d != nil {
				p, detach = d.feed(p)
			}
			if len(p) > 0 {
				if _, werr := conn.Write(makeFrame(frameStdin, p)); werr != nil {
					return false
				}
			}
			if detach {
				return true
			}
		}
		if err != nil {
			return false
		}
	}
}

func sendSize(conn *net.UnixConn, fd int) {
	rows, cols, ok := exec.TerminalSize(fd)
	if !ok {
		return
	}
	p := binary.BigEndian.AppendUint16(nil, rows)
	conn.Write(makeFrame(frameResize, binary.BigEndian.AppendUint16(p, cols)))
}

// dialAttach connects to s's supervisor: the socket must be one, root's
// (ours) and 0600, and what answers must be the process that holds the
// run's lock.
func dialAttach(s *svc) (*net.UnixConn, error) {
	var st unix.Stat_t
	if err := unix.Lstat(s.path(attachSocket), &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("%s has no attach socket (a strata before attach started it): restart it", s.st.Name)
		}
		return nil, fmt.Errorf("%s: %w", s.st.Name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK || int(st.Uid) != os.Geteuid() || st.Mode&0o077 != 0 {
		return nil, fmt.Errorf("%s: %s is not the supervisor's socket", s.st.Name, s.path(attachSocket))
	}
	dir, err := os.Open(s.dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.st.Name, err)
	}
	defer dir.Close()
	conn, err := net.DialUnix("unix", nil, attachAddr(dir))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.st.Name, err)
	}
	cred, err := peerCred(conn)
	if sup := s.lockHolder(); err != nil || sup == 0 || int(cred.Pid) != sup {
		conn.Close()
		return nil, fmt.Errorf("%s: what answers at %s is not the run's supervisor", s.st.Name, s.path(attachSocket))
	}
	return conn, nil
}
