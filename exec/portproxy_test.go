package exec

import (
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
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

// A published UDP port keeps at most maxUDPFlows sockets: a new client
// ends the flow used least recently, and every client is still answered.
func TestPortProxyUDPFlowsBounded(t *testing.T) {
	defer func(n int) { maxUDPFlows = n }(maxUDPFlows)
	maxUDPFlows = 4
	backend, err := net.ListenPacket("udp", "127.0.0.1:0") // stands for the container: an echo
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	go func() {
		buf := make([]byte, 100)
		for {
			n, from, err := backend.ReadFrom(buf)
			if err != nil {
				return
			}
			backend.WriteTo(buf[:n], from)
		}
	}()
	front, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &portProxy{
		open: map[io.Closer]struct{}{},
		udp:  []udpPort{{front, backend.LocalAddr().(*net.UDPAddr).Port}},
	}
	p.serve(netip.MustParseAddr("127.0.0.1"))
	defer p.close()

	ask := func(c net.Conn, msg string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(msg))
		buf := make([]byte, 100)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Fatalf("%s: got %q, %v", msg, buf[:n], err)
		}
	}
	var clients []net.Conn
	for i := range 10 {
		c, err := net.Dial("udp", front.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
		ask(c, "client "+strconv.Itoa(i))
	}
	p.mu.Lock()
	open := len(p.open)
	p.mu.Unlock()
	if open > maxUDPFlows {
		t.Errorf("%d sockets towards the container for 10 clients, want at most %d", open, maxUDPFlows)
	}
	ask(clients[0], "client 0 again") // its flow ended: a new one
}
