//go:build !strata_init

package exec

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

var self struct {
	once sync.Once
	file *os.File
	err  error
	// init, when set, opens the binary the container init runs from
	// instead of this process's own (SetInitBinary).
	init func() (io.Reader, error)
}

// SetInitBinary makes containers start from the binary open returns, a
// build of exec/cmd/strata-init, instead of a copy of the running binary.
// Call it before the first Run. A small init starts faster than a large
// program that happens to contain package exec; the protection is the same
// (a sealed memfd copy).
func SetInitBinary(open func() (io.Reader, error)) { self.init = open }

// sealedSelf returns a sealed in-memory copy of the running binary. The
// container init is executed from it, so a process in the container that
// reaches the init's /proc/<pid>/exe finds a file it cannot write: the host
// binary is never exposed (runc CVE-2019-5736). One copy serves every Run of
// this process.
func sealedSelf() (*os.File, error) {
	self.once.Do(func() { self.file, self.err = copySelf() })
	return self.file, self.err
}

func copySelf() (*os.File, error) {
	f, err := sealedMemfd("strata", fillExecutable)
	if err != nil {
		return nil, fmt.Errorf("copy strata binary: %w", err)
	}
	return f, nil
}

// sealedCopy returns a sealed in-memory copy of the executable at path:
// a host binary that runs in a container's PID namespace (nsenter, on
// Join's way for containers that may ptrace) is executed from it, so that
// a container process that opens its /proc/<pid>/exe cannot write the
// host's file once it stops running, as with the init.
func sealedCopy(path string) (*os.File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	f, err := sealedMemfd(filepath.Base(path), func(f *os.File) error { return sendfileAll(f, src) })
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", path, err)
	}
	return f, nil
}

// sealedMemfd is a memfd named name, written by fill, then sealed
// against every change.
func sealedMemfd(name string, fill func(*os.File) error) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL { // kernels before 6.3 know no MFD_EXEC
		fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if err := fill(f); err != nil {
		f.Close()
		return nil, err
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal: %w", err)
	}
	return f, nil
}

// fillExecutable writes the init binary, or this process's own, into f.
func fillExecutable(f *os.File) error {
	if self.init != nil {
		r, err := self.init()
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		return err
	}
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return err
	}
	defer src.Close()
	return sendfileAll(f, src)
}

// sendfileAll copies src to dst in the kernel (io.Copy falls back to a
// read/write loop between a file and a memfd).
func sendfileAll(dst, src *os.File) error {
	st, err := src.Stat()
	if err != nil {
		return err
	}
	if err := unix.Ftruncate(int(dst.Fd()), st.Size()); err != nil {
		return err
	}
	for remain := st.Size(); remain > 0; {
		n, err := unix.Sendfile(int(dst.Fd()), int(src.Fd()), nil, int(remain))
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			_, err := io.Copy(dst, src) // the file shrank or sendfile gave up
			return err
		}
		remain -= int64(n)
	}
	return nil
}
