package exec

import (
	"fmt"
	"net"
	"net/netip"
	osexec "os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netns"
)

// TestNetworkPrivateForeignForwardDrop: with another firewall's forward
// chain dropping by default (docker's FORWARD, ufw's), a container on a
// private network still reaches a host behind an uplink (an interface with
// a default route), but not a local network that firewall keeps shut (as
// docker keeps its bridges); strata's rules go into that chain once; and
// nothing beyond can open a connection to the container.
func TestNetworkPrivateForeignForwardDrop(t *testing.T) {
	outside := withPeerHost(t, "stt-outside", "stt-fw0", "10.254.79", true)
	l := listenIn(t, outside, "10.254.79.2:0")
	go acceptHello(l)
	out := fmt.Sprintf("10.254.79.2 %d", l.Addr().(*net.TCPAddr).Port)
	local := withPeerHost(t, "stt-local", "stt-fw1", "10.254.80", false)
	ll := listenIn(t, local, "10.254.80.2:0")
	go acceptHello(ll)
	loc := fmt.Sprintf("10.254.80.2 %d", ll.Addr().(*net.TCPAddr).Port)

	priv := func(s *Spec) { s.Network = NetworkPrivate }
	nc := func(target string) string {
		return mustSh(t, busybox(t), priv, "timeout 5 nc "+target+" </dev/null; true")
	}
	// Without another firewall both answer: the control for what follows.
	for _, target := range []string{out, loc} {
		if got := nc(target); got != "hello\n" {
			t.Fatalf("nc %s from a private network, no other firewall: %q, want hello", target, got)
		}
	}
	fw := withForwardDrop(t)
	for i := range 2 {
		if got := nc(out); got != "hello\n" {
			t.Fatalf("run %d: nc %s beyond an uplink, past a forward chain with policy drop: %q, want hello", i+1, out, got)
		}
	}
	if got := nc(loc); got != "" {
		t.Errorf("nc %s, a local network the other firewall keeps shut: %q, want nothing", loc, got)
	}
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := c.GetRules(fw.Table, fw)
	if err != nil {
		t.Fatal(err)
	}
	var comments []string
	for _, r := range rules {
		s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
		comments = append(comments, s)
	}
	if len(rules) != 1+len(uplinks()) || !slices.Contains(comments, forwardComment+": out via stt-fw0") || !slices.Contains(comments, forwardComment+": replies") {
		t.Errorf("the foreign chain holds %q after two runs, want the replies rule and one per uplink %v", comments, uplinks())
	}

	// The way in stays shut: beyond the uplink, a route to the container
	// gives no connection to its open port.
	addr := startService(t, nil, "exec httpd -f -p 81 -h /")
	ipIn(t, "stt-outside", "route", "add", "10.89.0.0/16", "via", "10.254.79.1")
	if conn, err := dialIn(t, outside, netip.AddrPortFrom(addr, 81).String()); err == nil {
		conn.Close()
		t.Errorf("a host beyond the uplink connected to the container's %s:81", addr)
	}
}

// withPeerHost makes a network namespace standing for another host, on a
// veth pair: link with NET.1 here, NET.2 there. With uplink, link also
// holds a default route, in a routing table of its own so the host's
// routing does not change: it is an uplink as uplinks() sees them.
func withPeerHost(t *testing.T, name, link, net string, uplink bool) netns.NsHandle {
	t.Helper()
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
	run("addr", "add", net+".1/24", "dev", link)
	run("link", "set", link, "up")
	run("-n", name, "addr", "add", net+".2/24", "dev", link+"p")
	run("-n", name, "link", "set", link+"p", "up")
	run("-n", name, "link", "set", "lo", "up")
	if uplink {
		run("route", "add", "default", "via", net+".2", "dev", link, "table", "4242")
		// Private runs put a rule for this uplink into every other
		// firewall's forward chain on this host: take it out again.
		t.Cleanup(func() { dropForwardRules(t, forwardRule{uplink: link}.comment()) })
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// ipIn runs ip in network namespace name.
func ipIn(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := osexec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s %v: %v: %s", name, args, err, out)
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

// dialIn dials addr from network namespace ns, giving up after 3 s.
func dialIn(t *testing.T, ns netns.NsHandle, addr string) (net.Conn, error) {
	var c net.Conn
	var err error
	inNetns(t, ns, func() { c, err = net.DialTimeout("tcp", addr, 3*time.Second) })
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
		if _, err := missingForwardRules(c); err != nil {
			b.Fatal(err)
		}
	}
}

// dropForwardRules deletes the rules with comment from every chain.
func dropForwardRules(t *testing.T, comment string) {
	c, err := nftables.New()
	if err != nil {
		t.Error(err)
		return
	}
	chains, err := c.ListChains()
	if err != nil {
		t.Error(err)
		return
	}
	for _, ch := range chains {
		rules, _ := c.GetRules(ch.Table, ch)
		for _, r := range rules {
			if s, _ := userdata.GetString(r.UserData, userdata.TypeComment); s == comment {
				c.DelRule(r)
			}
		}
	}
	if err := c.Flush(); err != nil {
		t.Errorf("delete the rules %q: %v", comment, err)
	}
}
