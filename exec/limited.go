package exec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// With Init, strata's tiny pid 1 lives on beside the command, so the
// command's resource limits cannot be pid 1's own: under data=1000000 its
// Go runtime failed to start threads, and under nofile=8 to fork. Pid 1
// keeps its limits (only raising a hard limit the command is to have,
// while it still may) and starts the command through a trampoline: a fresh
// copy of the init binary that sets the limits on itself as its last step
// and executes the command, as a start without Init does.

// limitedCommand is what pid 1 sends the trampoline, in the config's wire
// layout (length first), on fdConfig; fdStatus is shared with pid 1.
type limitedCommand struct {
	Path    string // the command's executable, resolved in the container
	Args    []string
	Env     []string
	Rlimits []Rlimit
}

func (c *limitedCommand) encode() []byte {
	w := &wireWriter{b: make([]byte, 4, 256)}
	w.str(c.Path)
	w.strs(c.Args)
	w.strs(c.Env)
	w.rlimits(c.Rlimits)
	binary.LittleEndian.PutUint32(w.b, uint32(len(w.b)-4))
	return w.b
}

func (c *limitedCommand) decode(b []byte) error {
	r := &wireReader{b: b}
	c.Path = r.str()
	c.Args = r.strs()
	c.Env = r.strs()
	c.Rlimits = r.rlimits()
	if r.err == nil && (len(r.b) != 0 || len(c.Args) == 0) {
		return errWire
	}
	return r.err
}

// raiseHard raises the calling process's hard limits to those of rls that
// are higher, keeping its soft ones: pid 1 does it while it may, so that
// the trampoline, which may not, can still give the command a hard limit
// above strata's.
func raiseHard(rls []Rlimit) error {
	for _, r := range rls {
		var cur unix.Rlimit
		if err := unix.Getrlimit(r.Resource, &cur); err != nil {
			return fmt.Errorf("--ulimit %s: %w", r.Name, err)
		}
		if r.Hard <= cur.Max {
			continue
		}
		// x/sys's Setrlimit: pid 1's children keep the soft nofile limit
		// Go found at start, not the one Go raised it to.
		if err := unix.Setrlimit(r.Resource, &unix.Rlimit{Cur: cur.Cur, Max: r.Hard}); err != nil {
			return fmt.Errorf("--ulimit %s: %w", r.Name, err)
		}
	}
	return nil
}

// forkLimited starts the command as pid 1's child through the trampoline
// and returns its pid: the trampoline's, which becomes the command's.
func forkLimited(c *limitedCommand, terminal bool) (int, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return 0, fmt.Errorf("start container: pipe: %w", err)
	}
	defer unix.Close(p[1])
	child, err := ChildSetting(uintptr(p[0]))
	if err != nil {
		unix.Close(p[0])
		return 0, fmt.Errorf("start container: %w", err)
	}
	// The trampoline keeps fdStatus until it executes the command: the
	// parent sees EOF then, or the trampoline's report of a failure.
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"strata-init"}, &syscall.ProcAttr{
		Env:   []string{envMode + "=limited", child, "GOMAXPROCS=1"},
		Files: []uintptr{0, 1, 2, uintptr(p[0]), fdStatus},
		Sys:   &syscall.SysProcAttr{Setsid: true, Setctty: terminal, Ctty: 0},
	})
	unix.Close(p[0])
	if errors.Is(err, unix.ENOENT) {
		// A binary linked with cgo finds no loader in the container.
		return 0, fmt.Errorf("start container: --ulimit with --init: the init binary cannot be executed in the container (a dynamically linked build? build strata with make): %w", err)
	}
	if err != nil {
		return 0, fmt.Errorf("start container: --ulimit with --init: start the trampoline: %w", err)
	}
	// After the fork: a large environment may not fit in the pipe. A
	// trampoline that died early is reaped as the command.
	for b := c.encode(); len(b) > 0; {
		n, err := unix.Write(p[1], b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			break
		}
		b = b[n:]
	}
	return pid, nil
}

// limitedExec is the trampoline (mode limited): it sets the limits, then
// executes the command. It runs confined as the command will be (pid 1's
// credentials, capabilities, seccomp filter and no_new_privs carried over).
func limitedExec() {
	// As pid 1: nothing in the container ptraces the copy of the init
	// before it becomes the command.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	b, err := readFrame(fdConfig)
	var c limitedCommand
	if err == nil {
		err = c.decode(b)
	}
	if err != nil {
		failInit(CodeRuntime, fmt.Errorf("start container: limits' trampoline: %w", err))
	}
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		failInit(CodeRuntime, fmt.Errorf("start container: close_range: %w", err))
	}
	if err := limitSelf(c.Rlimits); err != nil {
		failInit(CodeRuntime, fmt.Errorf("start container: %w", err))
	}
	// syscall's Exec: it gives back the soft nofile limit Go raised at
	// start, unless the command has its own.
	failInit(execFailure(c.Args[0], syscall.Exec(c.Path, c.Args, c.Env)))
}
