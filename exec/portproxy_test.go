package exec

import (
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

// failingListener fails its first accepts as a process out of file
// descriptors does (EMFILE).
type failingListener struct {
	net.Listener
	fails int
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// A published port keeps answering after accept failed for want of file
// descriptors: a burst of clients used to leave it bound but served by no
// one for the rest of the run.
func TestPortProxyAcceptRetries(t *testing.T) {
	backend, err := net.Listen("tcp", "127.0.0.1:0") // stands for the container
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	go func() {
		for {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello"))
			c.Close()
		}
	}()
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &portProxy{
		open: map[io.Closer]struct{}{},
		tcp:  []tcpPort{{&failingListener{front, 3}, backend.Addr().(*net.TCPAddr).Port}},
	}
	p.serve(netip.MustParseAddr("127.0.0.1"))
	defer p.close()

	c, err := net.Dial("tcp", front.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello" {
		t.Fatalf("through the published port: %q, %v; want \"hello\"", got, err)
	}
}
