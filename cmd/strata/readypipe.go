package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/strata-sh/strata/exec"
)

// A strata started in the background (a run's supervisor, exec -d's
// waiter) tells the strata that started it, on a pipe at fd 3, one line:
// "ok" once the container or command runs, or "err CODE MSG" when it
// cannot run.

// readyPipe is the background side.
type readyPipe struct {
	f    *os.File
	done bool
}

// openReadyPipe takes fd 3, out of what the background strata starts.
func openReadyPipe() *readyPipe {
	syscall.CloseOnExec(3)
	return &readyPipe{f: os.NewFile(3, "ready")}
}

func (p *readyPipe) say(line string) {
	if !p.done {
		p.done = true
		fmt.Fprintln(p.f, line)
		p.f.Close()
	}
}

// ok reports that it runs.
func (p *readyPipe) ok() { p.say("ok") }

// fail reports err, with the exit code the starting strata is to give,
// unless ok came first, and returns err.
func (p *readyPipe) fail(code int, err error) error {
	p.say(fmt.Sprintf("err %d %s", code, strings.ReplaceAll(err.Error(), "\n", " ")))
	return err
}

// errNoReport: the strata started in the background ended without a word.
var errNoReport = errors.New("it exited before it could report")

// startAndAwait is the starting side: it starts cmd (its Env set) with the
// write end of a ready pipe as fd 3 (before cmd's ExtraFiles, from fd 4),
// named by exec.ChildVar, which makes it take its _STRATA_ variables as
// its parent's (see dropHandOvers), and waits for the report:
// nil once it runs (cmd is released then), its error (to exit with its
// code) if it cannot, errNoReport if it ended without a word, or what
// stopped its start, after what.
func startAndAwait(cmd *osexec.Cmd, what string) error {
	rd, wr, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rd.Close()
	child, err := exec.ChildSetting(wr.Fd())
	if err != nil {
		wr.Close()
		return fmt.Errorf("%s: %w", what, err)
	}
	cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], child)
	cmd.ExtraFiles = append([]*os.File{wr}, cmd.ExtraFiles...)
	// Its streams, fd 3 and cmd's ExtraFiles alone: a descriptor this strata inherited (a
	// make jobserver's pipe, a caller's extra fd) would be held open for
	// as long as the run lives, and whoever waits for its end with it.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("%s: close_range: %w", what, err)
	}
	err = cmd.Start()
	wr.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	said, err := readReady(rd)
	if said && err == nil {
		cmd.Process.Release()
		return nil
	}
	cmd.Wait()
	if said {
		return err
	}
	return errNoReport
}

// readReady reads the report: nil for "ok", the error for "err CODE
// MSG", and said false if there was neither.
func readReady(rd io.Reader) (said bool, err error) {
	line, _ := bufio.NewReader(rd).ReadString('\n')
	line = strings.TrimSuffix(line, "\n")
	if line == "ok" {
		return true, nil
	}
	rest, ok := strings.CutPrefix(line, "err ")
	if !ok {
		return false, nil
	}
	codeStr, msg, _ := strings.Cut(rest, " ")
	code, _ := strconv.Atoi(codeStr)
	if code == 0 {
		code = exitError
	}
	return true, exitCodeError{code: code, err: errors.New(msg)}
}
