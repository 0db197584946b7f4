//go:build !strata_init

package exec

import (
	"context"
	"errors"
	"io"
	"os"
	osexec "os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// A container as Run holds it once started (container): its command,
// the caller's terminal and the pty's copying, the wait for its end and
// for the last of its output.

// container is a started container seen from Run.
type container struct {
	cmd     *osexec.Cmd
	spec    *Spec
	master  *os.File      // pty master (Terminal)
	ttyFd   int           // caller's terminal, or -1
	oldTerm *term.State   // caller's terminal state to restore
	output  chan struct{} // closed when pty output is drained
	// ttyChild is the init's end of the socket the pty master comes
	// back over; the parent closes it once the init started.
	ttyChild *os.File
	net      *privateNet // for NetworkPrivate
	// reaped is closed once the command (a direct start's) or the init
	// has been waited for (waitCmd): the thread that forked it, held
	// until then, may then end or serve again.
	reaped   chan struct{}
	reapOnce sync.Once
	// joined: a command joining a running container (exec), whose
	// terminal a process it left behind may hold open.
	joined bool
}

// waitCmd waits for the command or the init, and releases the thread
// that forked it.
func (c *container) waitCmd() error {
	err := c.cmd.Wait()
	c.reapOnce.Do(func() {
		if c.reaped != nil {
			close(c.reaped)
		}
	})
	return err
}

func (c *container) close() {
	if c.oldTerm != nil {
		term.Restore(c.ttyFd, c.oldTerm)
	}
	if c.master != nil {
		c.master.Close()
	}
}

// startTerminalIO copies between the caller and the pty master. The caller's
// terminal goes into raw mode; container.close restores it.
func (c *container) startTerminalIO() {
	var pending []byte
	if c.ttyFd >= 0 && c.ttyFd == fdOf(c.spec.Stdin) {
		pending = canonicalInput(c.ttyFd)
		if old, err := term.MakeRaw(c.ttyFd); err == nil {
			c.oldTerm = old
		}
	}
	c.output = make(chan struct{})
	go func() {
		defer close(c.output)
		if c.spec.Stdout != nil {
			io.Copy(c.spec.Stdout, c.master) // ends with EIO once the container is gone
		} else {
			io.Copy(io.Discard, c.master)
		}
	}()
	if c.spec.Stdin != nil {
		go func() {
			c.master.Write(pending)
			io.Copy(c.master, c.spec.Stdin)
		}()
	}
}

func fdOf(v any) int {
	if f, ok := v.(*os.File); ok && f != nil {
		return int(f.Fd())
	}
	return -2
}

// wait forwards signals until the container's pid 1 exits.
func (c *container) wait(ctx context.Context, sigs chan os.Signal) (int, error) {
	done := make(chan struct{})
	forwarder := make(chan struct{})
	go func() {
		defer close(forwarder)
		var esc escalation
		defer esc.stop()
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGWINCH && c.master != nil {
					if c.ttyFd >= 0 {
						copySize(c.ttyFd, c.master)
					}
					continue
				}
				if esc.note(s, c.spec.StopTimeout) {
					c.cmd.Process.Kill()
					continue
				}
				c.cmd.Process.Signal(s)
			case ws := <-c.spec.Resize:
				if c.master != nil {
					unix.IoctlSetWinsize(int(c.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: ws.Rows, Col: ws.Cols})
				}
			case <-esc.expired():
				c.cmd.Process.Kill()
			case <-ctx.Done():
				c.cmd.Process.Kill()
				return
			case <-done:
				return
			}
		}
	}()
	err := c.waitCmd()
	close(done)
	<-forwarder // it uses the pty master, which close releases
	if c.output != nil {
		c.drainOutput()
	}
	if err != nil && !errors.As(err, new(*osexec.ExitError)) && !errors.Is(err, osexec.ErrWaitDelay) {
		return CodeRuntime, runtimeErr("wait: %w", err)
	}
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return CodeRuntime, runtimeErr("wait: no status")
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// drainOutput waits for the terminal's output to be copied out: all of it
// for a run, whose terminal ends with the container; for a joined command
// what it wrote before it ended, as a child it left behind may hold the
// terminal open.
func (c *container) drainOutput() {
	if !c.joined {
		<-c.output
		return
	}
	select {
	case <-c.output:
	case <-time.After(time.Second):
	}
}
