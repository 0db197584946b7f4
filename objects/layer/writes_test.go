package layer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWriteAllCapsEachWrite sends 1 MiB through writeAll into a
// SOCK_SEQPACKET socket, where each write arrives as one message, and
// checks that no write was larger than maxWrite and that the bytes
// arrive whole and in order.
func TestWriteAllCapsEachWrite(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	// Room for the whole buffer as one message, so an uncapped write
	// arrives as one message rather than failing.
	if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 8<<20); err != nil {
		t.Fatalf("SO_SNDBUFFORCE (needs CAP_NET_ADMIN): %v", err)
	}
	want := make([]byte, 1<<20+3)
	for i := range want {
		want[i] = byte(i * 7)
	}
	var got bytes.Buffer
	var sizes []int
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 2<<20)
		for got.Len() < len(want) {
			n, err := unix.Read(fds[1], buf)
			if err != nil {
				done <- err
				return
			}
			sizes = append(sizes, n)
			got.Write(buf[:n])
		}
		done <- nil
	}()
	if err := writeAll(fds[0], want); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, n := range sizes {
		if n > maxWrite {
			t.Fatalf("a write of %d bytes, over maxWrite (%d); writes: %v", n, maxWrite, sizes)
		}
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("the bytes read differ from the bytes written")
	}
}

// TestPwriteAllWritesWhole writes more than maxWrite at an offset and
// reads it back.
func TestPwriteAllWritesWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := make([]byte, 3*maxWrite+5)
	for i := range want {
		want[i] = byte(i * 13)
	}
	if err := pwriteAll(int(f.Fd()), want, 4096); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[4096:], want) || !bytes.Equal(got[:4096], make([]byte, 4096)) {
		t.Fatalf("read back %d bytes, not the %d written at 4096", len(got), len(want))
	}
}
