package worktree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// LockWaitNotice, when set, is told once that a command has waited a
// second for a work tree another process holds, and which: the CLI says
// so on stderr rather than wait in silence.
var LockWaitNotice func(holder string)

// lockNoticeAfter is how long a command waits in silence.
const lockNoticeAfter = time.Second

// lock serialises commands on one work tree; it is released when the
// process dies, so a killed command never blocks the next one. A live
// holder is waited for, without end (a commit of a big tree holds it for
// as long as it reads the tree), but not in silence (LockWaitNotice) and
// not past ctx: Ctrl-C stops the wait.
func (w *Worktree) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(w.Dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(w.Dir, "lock"), os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock work tree: %w", err)
	}
	start, wait, noticed := time.Now(), time.Millisecond, false
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			// For those who wait: who holds it.
			if f.Truncate(0) == nil {
				f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			}
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock work tree: %w", err)
		}
		if !noticed && time.Since(start) >= lockNoticeAfter && LockWaitNotice != nil {
			LockWaitNotice(lockHolder(f))
			noticed = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for the work tree: %w", context.Cause(ctx))
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// lockHolder names the process that holds the work tree's lock, as its
// pid and command line ("pid 4242: strata commit -m x"), from the pid it
// wrote in the lock file.
func lockHolder(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || pid <= 0 {
		return "another process"
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(cmdline) == 0 {
		return "another process" // not the strata that wrote the pid
	}
	args := strings.Fields(string(bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '})))
	if len(args) > 0 {
		args[0] = filepath.Base(args[0])
	}
	line := strings.Join(args, " ")
	if len(line) > 80 {
		line = line[:80] + "..."
	}
	return fmt.Sprintf("pid %d: %s", pid, strconv.Quote(line))
}
