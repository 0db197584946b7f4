// Package kernellog lets tests count the kernel log records that appear
// while they run, such as overlayfs's "upperdir is in-use" warning.
package kernellog

import (
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
)

// InUse is the overlayfs warning for an upper mounted a second time.
const InUse = "upperdir is in-use"

// Watch starts reading the kernel log at its end and returns a function
// that counts the records containing substr logged since. Counting lines
// of dmesg before and after is fooled by the ring buffer, which drops old
// records as new ones come.
func Watch(t testing.TB, substr string) func() int {
	t.Helper()
	// Raw reads: an *os.File would park a read of an empty log in the
	// poller instead of returning EAGAIN.
	fd, err := syscall.Open("/dev/kmsg", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("kernel log: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if _, err := syscall.Seek(fd, 0, io.SeekEnd); err != nil {
		t.Fatalf("kernel log: %v", err)
	}
	n := 0
	buf := make([]byte, 8192)
	return func() int {
		for {
			k, err := syscall.Read(fd, buf) // one record a read
			if errors.Is(err, syscall.EPIPE) {
				continue // records were overwritten under us: go on with the next
			}
			if err != nil || k <= 0 { // EAGAIN: nothing more for now
				return n
			}
			if strings.Contains(string(buf[:k]), substr) {
				n++
			}
		}
	}
}
