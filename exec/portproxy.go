//go:build !strata_init

package exec

import (
	"container/list"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// portProxy publishes a private network's ports: strata itself listens on
// each host address and copies every connection (or UDP flow) to the
// container's address, as docker-proxy does. The listeners are bound before
// the container starts, so a port in use is an error before anything runs,
// and they close with the run, so nothing outlives it. A userland proxy
// rather than DNAT rules: a published 127.0.0.1 port works without
// route_localnet, and no per-container rule can be left behind by a crash.
type portProxy struct {
	tcp  []tcpPort
	udp  []udpPort
	mu   sync.Mutex
	open map[io.Closer]struct{} // live connections, closed with the proxy
	wg   sync.WaitGroup
}

type tcpPort struct {
	l    net.Listener
	port int // the container's
}

type udpPort struct {
	c    net.PacketConn
	port int // the container's
}

// udpIdle ends a UDP flow nothing has crossed for this long.
const udpIdle = 2 * time.Minute

// listenPorts binds the host side of every port and returns them as
// bound: an ephemeral one (HostPort 0) with the port the kernel gave it,
// one of a range (HostPortLast) with the port of the range it got. On
// error nothing stays bound.
func listenPorts(ports []Port) (_ *portProxy, bound []Port, err error) {
	p := &portProxy{open: map[io.Closer]struct{}{}}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	for _, port := range ports {
		if port.HostPortLast == 0 {
			port.HostPortLast = port.HostPort
		}
		var berr error
		for host := port.HostPort; host <= port.HostPortLast; host++ {
			var got int
			if got, berr = p.listen(port, host); berr == nil {
				port.HostPort, port.HostPortLast = got, 0
				bound = append(bound, port)
				break
			}
			if !errors.Is(berr, syscall.EADDRINUSE) {
				break
			}
		}
		if berr != nil {
			return nil, nil, publishErr(port, berr)
		}
	}
	return p, bound, nil
}

// listen binds port's host side at host (0: ephemeral) and returns the
// port it got.
func (p *portProxy) listen(port Port, host int) (int, error) {
	addr := net.JoinHostPort(firstNonEmpty(port.HostIP, DefaultPortIP), strconv.Itoa(host))
	if port.Proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0, err
		}
		p.udp = append(p.udp, udpPort{c, port.ContainerPort})
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, err
	}
	p.tcp = append(p.tcp, tcpPort{l, port.ContainerPort})
	return l.Addr().(*net.TCPAddr).Port, nil
}

// publishErr says why port could not be bound: "publish
// 127.0.0.1:8080/tcp: address already in use", a range's with its range
// and docker's "all ports are allocated" when every port of it is taken.
func publishErr(port Port, err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		err = se.Err
	}
	host := strconv.Itoa(port.HostPort)
	if port.HostPortLast > port.HostPort {
		host += "-" + strconv.Itoa(port.HostPortLast)
		if errors.Is(err, syscall.EADDRINUSE) {
			err = fmt.Errorf("all ports are allocated (%w)", err)
		}
	}
	proto := port.Proto
	if proto == "" {
		proto = "tcp"
	}
	return fmt.Errorf("publish %s/%s: %w", net.JoinHostPort(firstNonEmpty(port.HostIP, DefaultPortIP), host), proto, err)
}

// serve starts forwarding to the container at ctr.
func (p *portProxy) serve(ctr netip.Addr) {
	for _, t := range p.tcp {
		p.wg.Add(1)
		go p.acceptTCP(t.l, netip.AddrPortFrom(ctr, uint16(t.port)))
	}
	for _, u := range p.udp {
		p.wg.Add(1)
		go p.relayUDP(u.c, netip.AddrPortFrom(ctr, uint16(u.port)))
	}
}

// track registers c to be closed with the proxy; false if it is closing.
func (p *portProxy) track(c io.Closer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == nil {
		return false
	}
	p.open[c] = struct{}{}
	return true
}

func (p *portProxy) untrack(c io.Closer) {
	p.mu.Lock()
	delete(p.open, c)
	p.mu.Unlock()
	c.Close()
}

// acceptRetryMax caps the wait between failed accepts.
const acceptRetryMax = time.Second

func (p *portProxy) acceptTCP(l net.Listener, to netip.AddrPort) {
	defer p.wg.Done()
	var delay time.Duration
	for {
		in, err := l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of descriptors (EMFILE, ENFILE) or memory: a burst
			// of clients can cause it, and it passes as connections
			// end. Returning would leave the port bound but answered
			// by no one for the rest of the run, so wait and try
			// again, as net/http's server does.
			delay = min(max(2*delay, 5*time.Millisecond), acceptRetryMax)
			slog.Debug("published port: accept", "to", to, "err", err, "retry in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if !p.track(in) {
			in.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(in)
			out, err := net.DialTimeout("tcp", to.String(), 5*time.Second)
			if err != nil {
				slog.Debug("published port: dial container", "to", to, "err", err)
				return // the client sees the connection close, as with docker-proxy
			}
			if !p.track(out) {
				out.Close()
				return
			}
			defer p.untrack(out)
			pipe(in.(*net.TCPConn), out.(*net.TCPConn))
		}()
	}
}

// pipe copies both ways (splice(2) under io.Copy between TCP sockets) and
// passes each half-close on.
func pipe(a, b *net.TCPConn) {
	done := make(chan struct{})
	go func() {
		io.Copy(b, a)
		b.CloseWrite()
		close(done)
	}()
	io.Copy(a, b)
	a.CloseWrite()
	<-done
}

// maxUDPFlows bounds the sockets of one published UDP port. Each client
// address is a flow with a socket of its own until udpIdle passes without
// a reply: a DNS server's clients (a new source port per query), or anyone
// sending from many ports, would otherwise take one of strata's file
// descriptors per datagram, which every port it publishes and each of its
// restarts need too. When full, the flow used least recently goes, as
// conntrack drops its oldest entries.
var maxUDPFlows = 4096

// udpFlows are the flows of one published UDP port, by client address,
// and in the order they were last used (most recent first).
type udpFlows struct {
	mu    sync.Mutex
	m     map[string]*udpFlow
	order list.List // of *udpFlow
}

type udpFlow struct {
	key string
	out *net.UDPConn
	at  *list.Element // in udpFlows.order; nil once removed
}

// get returns the client's flow, marked as used now; nil if it has none.
func (fs *udpFlows) get(key string) *udpFlow {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.m[key]
	if f != nil {
		fs.order.MoveToFront(f.at)
	}
	return f
}

// touch marks f as used now, if it is still a flow.
func (fs *udpFlows) touch(f *udpFlow) {
	fs.mu.Lock()
	if f.at != nil {
		fs.order.MoveToFront(f.at)
	}
	fs.mu.Unlock()
}

// addFlow records a new flow, first ending the least recently used one if
// there are maxUDPFlows already.
func (p *portProxy) addFlow(fs *udpFlows, f *udpFlow) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for len(fs.m) >= maxUDPFlows {
		old := fs.order.Back().Value.(*udpFlow)
		fs.removeLocked(old)
		p.untrack(old.out) // its reply loop then ends
	}
	f.at = fs.order.PushFront(f)
	fs.m[f.key] = f
}

// remove forgets f, unless that was done already.
func (fs *udpFlows) remove(f *udpFlow) {
	fs.mu.Lock()
	fs.removeLocked(f)
	fs.mu.Unlock()
}

func (fs *udpFlows) removeLocked(f *udpFlow) {
	if f.at == nil {
		return
	}
	fs.order.Remove(f.at)
	f.at = nil
	delete(fs.m, f.key)
}

// relayUDP gives each client address its own socket towards the container,
// so replies find their way back.
func (p *portProxy) relayUDP(c net.PacketConn, to netip.AddrPort) {
	defer p.wg.Done()
	fs := &udpFlows{m: map[string]*udpFlow{}}
	buf := make([]byte, 65535)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		key := from.String()
		f := fs.get(key)
		if f == nil {
			out, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
			if err != nil || !p.track(out) {
				if out != nil {
					out.Close()
				}
				continue
			}
			f = &udpFlow{key: key, out: out}
			p.addFlow(fs, f)
			p.wg.Add(1)
			go p.udpReplies(c, from, fs, f)
		}
		f.out.Write(buf[:n])
	}
}

// udpReplies sends what the container answers on flow f back to the
// client, until the flow is idle for udpIdle or closed.
func (p *portProxy) udpReplies(c net.PacketConn, client net.Addr, fs *udpFlows, f *udpFlow) {
	defer p.wg.Done()
	defer func() {
		fs.remove(f)
		p.untrack(f.out)
	}()
	reply := make([]byte, 65535)
	for {
		f.out.SetReadDeadline(time.Now().Add(udpIdle))
		n, err := f.out.Read(reply)
		if err != nil {
			return
		}
		fs.touch(f)
		c.WriteTo(reply[:n], client)
	}
}

// close stops listening, ends every forwarded connection and waits for the
// copies to finish; safe on nil and more than once.
func (p *portProxy) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	open := p.open
	p.open = nil
	p.mu.Unlock()
	if open == nil {
		return
	}
	for _, t := range p.tcp {
		t.l.Close()
	}
	for _, u := range p.udp {
		u.c.Close()
	}
	for c := range open {
		c.Close()
	}
	p.wg.Wait()
}
