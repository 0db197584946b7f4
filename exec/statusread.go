//go:build !strata_init

package exec

import (
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// statusLimit bounds what strata reads of a status pipe. An init's
// report is a line of JSON; more is a writer that is not the init.
const statusLimit = 64 << 10

// On nsenter's way (join.go) the command the joined init forks holds the
// write end of the status pipe from its fork to its execve, in the
// container's PID namespace, where a container that may ptrace can take
// a copy of it (/proc/PID/fd/4, pidfd_getfd) and keep it past the end of
// the command and of the joined init, or fill it without end. strata
// then waited for an end of file that never came, and read into memory
// whatever the container wrote. So the status is read within
// statusLimit, and, once the joined init has exited (exited closed),
// only to what the pipe holds then: all the init wrote is there.

// statusMessageLimit bounds the message of a status error, in bytes.
const statusMessageLimit = 1 << 10

// statusError is the error that a status pipe's bytes report: the
// init's, or, for bytes that are not an init's report, those bytes after
// prefix. Its message is cut at statusMessageLimit: a container that
// may ptrace can write a status on nsenter's way (above).
func statusError(b []byte, prefix string) *ExitError {
	ie, ok := parseInitError(b)
	if !ok {
		ie = initError{Code: CodeRuntime, Msg: prefix + strings.TrimSpace(string(b))}
	}
	if len(ie.Msg) > statusMessageLimit {
		ie.Msg = ie.Msg[:statusMessageLimit] + "..."
	}
	return &ExitError{Code: ie.Code, Err: errors.New(ie.Msg)}
}

// readStatus reads f, which must be a pollable (non-blocking) pipe, to
// its end, or to what it holds once exited is closed, within
// statusLimit.
func readStatus(f *os.File, exited <-chan struct{}) []byte {
	stop := make(chan struct{})
	go func() {
		select {
		case <-exited:
			f.SetReadDeadline(time.Now())
		case <-stop:
		}
	}()
	b, err := io.ReadAll(io.LimitReader(f, statusLimit))
	close(stop)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		b = append(b, drainPipe(f, statusLimit-len(b))...)
	}
	return b
}

// drainPipe reads what f holds now, up to max bytes, without waiting
// for more.
func drainPipe(f *os.File, max int) []byte {
	if f.SetReadDeadline(time.Time{}) != nil || max <= 0 {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	buf := make([]byte, max)
	n := 0
	rc.Read(func(fd uintptr) bool {
		for n < max {
			m, err := unix.Read(int(fd), buf[n:])
			if err == unix.EINTR {
				continue
			}
			if err != nil || m <= 0 {
				break
			}
			n += m
		}
		return true // done, whatever the pipe said: never wait
	})
	return buf[:n]
}
