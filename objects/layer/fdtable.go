package layer

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// unpackFDs is how many fds an unpack may hold at once: its cached
// directories, the open files waiting in the pool's queues (heldFD
// each), and a margin for the workers' own and the rest of the process.
const unpackFDs = maxCachedDirs + heldMax/heldFD + 64

var (
	// fdTableGrowing is set once growFDTable has started its goroutine.
	fdTableGrowing atomic.Bool
	// fdTableGrown is closed when that goroutine is done.
	fdTableGrown = make(chan struct{})
)

// growFDTable gives the process's file table (the kernel's array of open
// files) room for unpackFDs fds in one step, once a process, on a
// goroutine of its own, so that the unpacker's opens need not grow it.
// The kernel grows the table by doubling, from 64 fds, when an open
// needs a higher number, and in a process of more than one thread each
// growth waits for an RCU grace period (synchronize_rcu in
// expand_fdtable), as does any open past the old size meanwhile. A cold
// checkout of the Debian tree, which holds its 784 directories open,
// grew it four times, and each time the unpacker and the pool workers
// behind it slept 6 to 43 ms with both cores idle (perf sched_switch).
// The goroutine waits out one grace period alone, while fds below 64 are
// handed out as before. fd is any open fd: it is duplicated into the
// table's last slot, and that copy closed. The size asked for is at
// most the soft RLIMIT_NOFILE (which the Go runtime raises to the hard
// limit at start).
func growFDTable(fd int) {
	if !fdTableGrowing.CompareAndSwap(false, true) {
		return
	}
	n := unpackFDs
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n) {
		n = int(lim.Cur)
	}
	own, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		close(fdTableGrown)
		return
	}
	go func() {
		defer close(fdTableGrown)
		defer unix.Close(own)
		// The lowest free fd from n-1 up: the table grows to hold it.
		if high, err := unix.FcntlInt(uintptr(own), unix.F_DUPFD_CLOEXEC, n-1); err == nil {
			unix.Close(high)
		}
	}()
}
