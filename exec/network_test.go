package exec

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/strata-sh/strata/internal/testport"
)

// freePort returns a TCP port of 127.0.0.1 nothing listens on, that no
// other test (nor the kernel, for a ":0" listener or a connect) is handed
// until this one ends (internal/testport).
func freePort(t *testing.T) int {
	t.Helper()
	return testport.For(t, 1)
}

// slotLink is the host end of the private network whose container
// address is addr.
func slotLink(addr netip.Addr) string {
	b := addr.As4()
	return fmt.Sprintf("%s%d", linkPrefix, (int(b[2])<<8|int(b[3]))>>2)
}

// linkGone waits for the kernel to delete a link of a namespace that is
// gone (it does so from a work queue, moments after the last process).
func linkGone(t *testing.T, link string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat("/sys/class/net/" + link); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("host link %s outlived its run", link)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startService runs script in the background on a private network and
// stops it at cleanup.
// It returns the service's address in its private network.
func startService(t *testing.T, ports []Port, script string) netip.Addr {
	t.Helper()
	return startServiceSpec(t, Spec{Ports: ports}, script)
}

// startServiceSpec is startService with more of the spec given.
func startServiceSpec(t *testing.T, spec Spec, script string) netip.Addr {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	started := make(chan int, 1)
	spec.Root, spec.Args, spec.Network = busybox(t), []string{"/bin/sh", "-c", script}, NetworkPrivate
	spec.Started = func(pid int) { started <- pid }
	go func() {
		var out strings.Builder
		spec.Stdout, spec.Stderr = &out, &out
		code, err := Run(ctx, spec)
		done <- result{code: code, err: err, stdout: out.String()}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case r := <-done:
			t.Logf("service %q ended: code %d, err %v, output %q", script, r.code, r.err, r.stdout)
		case <-time.After(30 * time.Second):
			t.Errorf("service %q did not end", script)
		}
	})
	var pid int
	select {
	case pid = <-started:
	case r := <-done:
		t.Fatalf("service %q did not start: code %d, err %v, output %q", script, r.code, r.err, r.stdout)
	}
	return addrOf(t, pid)
}

// addrOf is the address of eth0 in the network namespace of pid.
func addrOf(t *testing.T, pid int) netip.Addr {
	t.Helper()
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	eth, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := h.AddrList(eth, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 {
		t.Fatalf("eth0 of pid %d: addresses %v, %v", pid, addrs, err)
	}
	a, _ := netip.AddrFromSlice(addrs[0].IP.To4())
	return a
}

// get fetches url until it answers or 20 s have passed.
func get(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNetworkPrivatePublish(t *testing.T) {
	port := freePort(t)
	addr := startService(t, []Port{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 80}},
		"mkdir -p /tmp/www && echo hello-private > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www")
	if body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); body != "hello-private\n" {
		t.Fatalf("body %q", body)
	}
	if _, err := os.Stat("/sys/class/net/" + slotLink(addr)); err != nil {
		t.Fatalf("the service at %s has no host link: %v", addr, err)
	}
}

// TestNetworkPrivatePublishEphemeral: a port published on host port 0
// gets one the kernel picks as strata binds it, and Published says which
// before the container starts; connections to it reach the container.
func TestNetworkPrivatePublishEphemeral(t *testing.T) {
	var (
		mu        sync.Mutex
		published []Port
	)
	spec := Spec{Ports: []Port{{HostIP: "127.0.0.1", ContainerPort: 80}, {ContainerPort: 81, Proto: "udp"}}}
	spec.Published = func(ports []Port) {
		mu.Lock()
		defer mu.Unlock()
		published = append([]Port(nil), ports...)
	}
	startServiceSpec(t, spec, "mkdir -p /tmp/www && echo hello-ephemeral > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www")
	mu.Lock() // startServiceSpec returned once the container started
	got := published
	mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("Published by the start: %+v; want the two ports", got)
	}
	tcp, udp := got[0], got[1]
	if tcp.HostPort == 0 || tcp.ContainerPort != 80 || tcp.HostIP != "127.0.0.1" || udp.HostPort == 0 || udp.ContainerPort != 81 || udp.Proto != "udp" {
		t.Fatalf("Published: %+v; want ephemeral host ports for 80/tcp and 81/udp", got)
	}
	if body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", tcp.HostPort)); body != "hello-ephemeral\n" {
		t.Fatalf("body %q", body)
	}
	// strata holds it: nothing else can bind it while the run lives.
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", tcp.HostPort)); err == nil {
		l.Close()
		t.Fatalf("host port %d was free while published", tcp.HostPort)
	}
	if c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", udp.HostPort)); err == nil {
		c.Close()
		t.Fatalf("udp host port %d was free while published", udp.HostPort)
	}
}

// TestNetworkPrivatePublishNotToHost: a published port forwards to the
// container only, never to the host's loopback service on the same port;
// and what the container listens on is not bound on the host.
func TestNetworkPrivatePublishNotToHost(t *testing.T) {
	lo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Close()
	go acceptHello(lo)
	hostPort := lo.Addr().(*net.TCPAddr).Port
	var pub int
	spec := Spec{Ports: []Port{{HostIP: "127.0.0.1", ContainerPort: hostPort}}}
	spec.Published = func(ports []Port) { pub = ports[0].HostPort }
	// The container listens on 8081 only, not on the published port.
	addr := startServiceSpec(t, spec, "mkdir -p /tmp/www && echo c > /tmp/www/index.html && exec httpd -f -p 8081 -h /tmp/www")
	// The control: the host's service answers on its own port.
	if out := dialRead(t, hostPort); out != "hello\n" {
		t.Fatalf("host service on %d: %q", hostPort, out)
	}
	if out := dialRead(t, pub); out != "" {
		t.Fatalf("published port %d (to the container's %d) answered %q; want the connection closed, the container has no listener there", pub, hostPort, out)
	}
	// The container listens on 8081 (at its own address), and that
	// binds nothing on the host: the port is free here.
	get(t, fmt.Sprintf("http://%s:8081/", addr))
	l, err := net.Listen("tcp", "127.0.0.1:8081")
	if err != nil {
		t.Fatalf("the host's 127.0.0.1:8081 while the container listens on its 8081: %v", err)
	}
	l.Close()
}

// dialRead connects to 127.0.0.1:port and returns what is read until EOF
// (or 5 s).
func dialRead(t *testing.T, port int) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %d: %v", port, err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestNetworkPrivatePublishUDP(t *testing.T) {
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	root := probeRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	started := make(chan int, 1)
	go func() {
		_, err := Run(ctx, Spec{Root: root, Args: []string{"/bin/probe", "53"}, Env: []string{helperEnv + "=udpecho"},
			Network: NetworkPrivate, Ports: []Port{{HostPort: port, ContainerPort: 53, Proto: "udp"}},
			Started: func(pid int) { started <- pid }})
		done <- err
	}()
	defer func() { cancel(); <-done }()
	// The port is bound before the container starts. A datagram sent
	// before that draws an ICMP error that fails the next read at once,
	// which would use up the retries below in no time.
	select {
	case <-started:
	case err := <-done:
		done <- err // for the deferred wait
		t.Fatalf("the container did not start: %v", err)
	}
	// Two clients, each must get its own replies back.
	for _, msg := range []string{"one", "two"} {
		c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 64)
		var got string
		for i := 0; i < 100 && got == ""; i++ { // the probe may not listen yet
			c.Write([]byte(msg))
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if n, err := c.Read(buf); err == nil {
				got = string(buf[:n])
			}
		}
		if got != "echo:"+msg {
			t.Fatalf("client %s: reply %q", msg, got)
		}
	}
}

// TestNetworkPrivateNoSpoofing: a container may craft packets, but not
// with another source address than its own (strict reverse-path filter
// on the host end).
func TestNetworkPrivateNoSpoofing(t *testing.T) {
	dummy := withDummyAddr(t)
	l, err := net.ListenPacket("udp", dummy+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.LocalAddr().(*net.UDPAddr).Port)
	root := probeRoot(t)
	for _, src := range []string{"-", "203.0.113.9", "10.89.0.2"} {
		r := run(t, root, func(s *Spec) {
			s.Network = NetworkPrivate
			s.Env = []string{helperEnv + "=spoofudp"}
		}, "/bin/probe", src, dummy, port)
		if r.stdout != "send: ok\n" {
			t.Fatalf("probe from %s: %q, %v", src, r.stdout, r.err)
		}
	}
	var got []string
	buf := make([]byte, 64)
	for {
		l.SetReadDeadline(time.Now().Add(time.Second))
		n, from, err := l.ReadFrom(buf)
		if err != nil {
			break
		}
		got = append(got, fmt.Sprintf("%s from %v", buf[:n], from.(*net.UDPAddr).IP))
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "from-- from 10.89.") {
		t.Fatalf("received %q; want only the datagram from the container's own address", got)
	}
}

func TestNetworkPrivateLeavesNothing(t *testing.T) {
	out := mustSh(t, busybox(t), func(s *Spec) { s.Network = NetworkPrivate }, "ip -o -4 addr show scope global | wc -l; ip route | grep -c ^default; ip -o -4 addr show dev eth0")
	lines := strings.Split(out, "\n")
	if len(lines) < 3 || lines[0] != "1" || lines[1] != "1" {
		t.Fatalf("want one global IPv4 address and a default route in the private network, got %q", out)
	}
	f := strings.Fields(lines[2]) // 2: eth0@if9 inet 10.89.1.6/30 ...
	if len(f) < 4 {
		t.Fatalf("eth0: %q", lines[2])
	}
	pfx, err := netip.ParsePrefix(f[3])
	if err != nil || !PrivateSubnet.Contains(pfx.Addr()) {
		t.Fatalf("eth0 address %q: not in %v (%v)", f[3], PrivateSubnet, err)
	}
	linkGone(t, slotLink(pfx.Addr()))
}

func TestNetworkPrivatePortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	r := run(t, busybox(t), func(s *Spec) {
		s.Network = NetworkPrivate
		s.Ports = []Port{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 80}}
	}, "/bin/true")
	if r.code != CodeRuntime || r.err == nil || strings.Contains(r.err.Error(), "\n") {
		t.Fatalf("code %d, err %v; want %d and a one-line error", r.code, r.err, CodeRuntime)
	}
	t.Logf("error: %v", r.err)
}

// withDummyAddr gives the host a non-loopback address on a veth pair of its
// own (nothing outside this machine is contacted) and returns it. The pair
// is named after this process and the address is the first of
// 10.254.77.0/24 that no other link holds: with one fixed name and
// address, two test processes at once on a machine (CI beside another
// run of these tests) deleted each other's pair and failed ("Cannot find
// device", "File exists", "Address already assigned").
func withDummyAddr(t *testing.T) string {
	t.Helper()
	removeDeadDummies()
	link := "stt-nt" + strconv.Itoa(os.Getpid())
	ip := func(args ...string) {
		if out, err := osexec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("link", "add", link, "type", "veth", "peer", "name", link+"p")
	t.Cleanup(func() { osexec.Command("ip", "link", "del", link).Run() })
	for i := 1; i < 255; i++ {
		addr := fmt.Sprintf("10.254.77.%d", i)
		out, err := osexec.Command("ip", "addr", "add", addr+"/32", "dev", link).CombinedOutput()
		if err != nil && strings.Contains(string(out), "already assigned") {
			continue // another test process's
		}
		if err != nil {
			t.Fatalf("ip addr add %s dev %s: %v: %s", addr, link, err, out)
		}
		ip("link", "set", link, "up")
		ip("link", "set", link+"p", "up")
		return addr
	}
	t.Fatal("no free address in 10.254.77.0/24")
	return ""
}

// removeDeadDummies deletes the pairs of withDummyAddr whose process is
// gone (a killed test's).
func removeDeadDummies() {
	links, _ := filepath.Glob("/sys/class/net/stt-nt*")
	for _, l := range links {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(l), "stt-nt"))
		if err != nil { // a peer ("p"), which goes with its pair
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); os.IsNotExist(err) {
			osexec.Command("ip", "link", "del", filepath.Base(l)).Run()
		}
	}
}

func TestNetworkPrivateIsolation(t *testing.T) {
	// A host service on loopback only, and one on a non-loopback address.
	lo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Close()
	go acceptHello(lo)
	dummy := withDummyAddr(t)
	ext, err := net.Listen("tcp", dummy+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	go acceptHello(ext)
	loPort := lo.Addr().(*net.TCPAddr).Port
	extPort := ext.Addr().(*net.TCPAddr).Port

	// Service A listens on 81 unpublished and on 80 published.
	pub := freePort(t)
	addrA := startService(t, []Port{{HostIP: "0.0.0.0", HostPort: pub, ContainerPort: 80}},
		"mkdir -p /tmp/www && echo a > /tmp/www/index.html && httpd -p 81 -h /tmp/www && exec httpd -f -p 80 -h /tmp/www")
	get(t, fmt.Sprintf("http://127.0.0.1:%d/", pub))

	net := func(s *Spec) { s.Network = NetworkPrivate }
	// Outbound to the host's non-loopback address works: the control
	// that makes the refusals below mean something.
	if out := mustSh(t, busybox(t), net, fmt.Sprintf("timeout 5 nc %s %d </dev/null; true", dummy, extPort)); out != "hello\n" {
		t.Fatalf("outbound to %s:%d: %q", dummy, extPort, out)
	}
	// So does A's published port, through the host's address.
	if out := mustSh(t, busybox(t), net, fmt.Sprintf("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 5 nc %s %d; true", dummy, pub)); !strings.HasPrefix(out, "HTTP/1.") || !strings.HasSuffix(out, "a\n") {
		t.Fatalf("published port via %s:%d: %q", dummy, pub, out)
	}
	gwA := addrA.Prev()
	for _, target := range []string{
		fmt.Sprintf("127.0.0.1 %d", loPort), // the host's loopback service
		fmt.Sprintf("%s %d", gwA, loPort),   // the same, through a host address
		fmt.Sprintf("%s 81", addrA),         // A itself, unpublished
		fmt.Sprintf("%s 80", addrA),         // A itself, published only on the host
		fmt.Sprintf("%s 81", dummy),         // A's unpublished port, through the host
		"127.0.0.1 81",                      // or as if it were local
	} {
		r := sh(t, busybox(t), net, "echo x | timeout 5 nc -w 1 "+target)
		if r.err != nil || r.code == 0 || r.stdout != "" {
			t.Errorf("nc %s from a private network: code %d, err %v, out %q; want a refusal", target, r.code, r.err, r.stdout)
		}
	}
}

func acceptHello(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("hello\n"))
		c.Close()
	}
}
