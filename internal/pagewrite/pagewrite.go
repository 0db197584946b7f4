package pagewrite

import (
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// Max is the most bytes one write hands the kernel (see the package
// doc). 16 KiB gained less for four times the system calls.
const Max = 64 << 10

// Write writes all of b to fd.
func Write(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b[:min(len(b), Max)])
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		b = b[n:]
	}
	return nil
}

// Pwrite writes all of b at off in fd.
func Pwrite(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		n, err := unix.Pwrite(fd, b[:min(len(b), Max)], off)
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// To writes all of b to w, a file, as io.Writer.Write does.
func To(w io.Writer, b []byte) (int, error) {
	written := 0
	for written < len(b) {
		n, err := w.Write(b[written:min(len(b), written+Max)])
		written += n
		if err != nil {
			return written, err
		}
		if n == 0 {
			return written, io.ErrShortWrite
		}
	}
	return written, nil
}

// Writer is an io.Writer that writes to W, a file, through To.
type Writer struct{ W io.Writer }

func (w Writer) Write(b []byte) (int, error) { return To(w.W, b) }
