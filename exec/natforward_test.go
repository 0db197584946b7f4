package exec

import (
	"fmt"
	"net"
	"net/netip"
	osexec "os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netns"
)

// TestNetworkPrivateForeignForwardDrop: with another firewall's forward
// chain dropping by default (docker's FORWARD, ufw's), a container on a
// private network still reaches a host beyond this one, strata's rules go
// into that chain once, and nothing beyond can open a connection to the
// container.
func TestNetworkPrivateForeignForwardDrop(t *testing.T) {
	outside, peer := withOutsideHost(t)
	l := listenIn(t, outside, peer+":0")
	go acceptHello(l)
	port := l.Addr().(*net.TCPAddr).Port
	fw := withForwardDrop(t)

	priv := func(s *Spec) { s.Network = NetworkPrivate }
	for i := range 2 {
		if out := mustSh(t, busybox(t), priv, fmt.Sprintf("timeout 5 nc %s %d </dev/null; true", peer, port)); out != "hello\n" {
			t.Fatalf("run %d: nc %s %d beyond this host, past a forward chain with policy drop: %q, want hello", i+1, peer, port, out)
		}
	}
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := c.GetRules(fw.Table, fw)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || !hasForwardRules(rules) {
		t.Errorf("the foreign chain holds %d rules after two runs, want strata's two", len(rules))
	}

	// The way in stays shut: beyond this host, a route to the container
	// gives no connection to its open port.
	addr := startService(t, nil, "exec httpd -f -p 81 -h /")
	ipIn(t, "route", "add", "10.89.0.0/16", "via", "10.254.79.1")
	d := dialerIn(t, outside)
	if conn, err := d.Dial("tcp", netip.AddrPortFrom(addr, 81).String()); err == nil {
		conn.Close()
		t.Errorf("a host beyond this one connected to the container's %s:81", addr)
	}
}

// withOutsideHost makes a network namespace standing for a host beyond
// this one, on a veth pair (10.254.79.1 here, 10.254.79.2 there), and
// returns it and its address.
func withOutsideHost(t *testing.T) (netns.NsHandle, string) {
	t.Helper()
	const name, link = "stt-outside", "stt-fw0"
	run := func(args ...string) {
		t.Helper()
		if out, err := osexec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	osexec.Command("ip", "netns", "del", name).Run() // a killed test's leftovers
	osexec.Command("ip", "link", "del", link).Run()
	run("netns", "add", name)
	t.Cleanup(func() { osexec.Command("ip", "netns", "del", name).Run() })
	run("link", "add", link, "type", "veth", "peer", "name", link+"p", "netns", name)
	t.Cleanup(func() { osexec.Command("ip", "link", "del", link).Run() })
	run("addr", "add", "10.254.79.1/24", "dev", link)
	run("link", "set", link, "up")
	run("-n", name, "addr", "add", "10.254.79.2/24", "dev", link+"p")
	run("-n", name, "link", "set", link+"p", "up")
	run("-n", name, "link", "set", "lo", "up")
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, "10.254.79.2"
}

// ipIn runs ip in the namespace of withOutsideHost.
func ipIn(t *testing.T, args ...string) {
	t.Helper()
	if out, err := osexec.Command("ip", append([]string{"-n", "stt-outside"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ip -n stt-outside %v: %v: %s", args, err, out)
	}
}

// inNetns runs f on a thread in network namespace ns. A socket belongs to
// the namespace it was made in, wherever it is used later.
func inNetns(t *testing.T, ns netns.NsHandle, f func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := netns.Set(ns); err != nil {
			done <- err
			return
		}
		f()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func listenIn(t *testing.T, ns netns.NsHandle, addr string) net.Listener {
	t.Helper()
	var l net.Listener
	var err error
	inNetns(t, ns, func() { l, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// dialerIn dials from ns: Control runs on the thread making the socket,
// which must be in ns, so the dialer's socket is made there up front.
func dialerIn(t *testing.T, ns netns.NsHandle) *nsDialer { return &nsDialer{t: t, ns: ns} }

type nsDialer struct {
	t  *testing.T
	ns netns.NsHandle
}

func (d *nsDialer) Dial(network, addr string) (net.Conn, error) {
	var c net.Conn
	var err error
	inNetns(d.t, d.ns, func() { c, err = net.DialTimeout(network, addr, 3*time.Second) })
	return c, err
}

// withForwardDrop adds a table like docker's iptables-nft filter table: a
// forward chain whose policy drops.
func withForwardDrop(t *testing.T) *nftables.Chain {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tb := &nftables.Table{Name: "stt-fwdrop", Family: nftables.TableFamilyIPv4}
	c.AddTable(tb)
	c.DelTable(tb)
	c.AddTable(tb)
	drop := nftables.ChainPolicyDrop
	ch := c.AddChain(&nftables.Chain{Name: "FORWARD", Table: tb, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &drop})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.DelTable(tb)
		if err := c.Flush(); err != nil && !strings.Contains(err.Error(), "no such file") {
			t.Errorf("delete table %s: %v", tb.Name, err)
		}
	})
	return ch
}

// BenchmarkForeignForwardCheck: what looking for other firewalls' forward
// chains adds to every private run.
func BenchmarkForeignForwardCheck(b *testing.B) {
	c, err := nftables.New(nftables.AsLasting())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := foreignForwardChains(c); err != nil {
			b.Fatal(err)
		}
	}
}
