package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// hostLinkOf is the name of the host end of pid's private network link.
func hostLinkOf(t *testing.T, pid int) string {
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
	host, err := netlink.LinkByIndex(eth.Attrs().ParentIndex)
	if err != nil {
		t.Fatalf("host end of pid %d's eth0: %v", pid, err)
	}
	return host.Attrs().Name
}

// linkExists says whether the host has a network interface name.
func linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

// portFree says whether the TCP address can be bound again.
func portFree(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// netnsHolders lists the processes in the network namespace ns.
func netnsHolders(ns string) []string {
	var out []string
	links, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	for _, l := range links {
		if v, _ := os.Readlink(l); v == ns {
			out = append(out, l)
		}
	}
	return out
}

// TestServicePrivateSupervisorKilled: a private-network service answers on
// its published port; SIGKILL of its supervisor frees the port and leaves
// no network namespace or link, no cgroup, mount or process.
func TestServicePrivateSupervisorKilled(t *testing.T) {
	dir := busyboxRepo(t)
	port := freePort(t)
	startService(t, dir, "--name", "priv", "--network", "private", "-p", fmt.Sprintf("127.0.0.1:%d:80", port),
		"--rev", "main", "--", "sh", "-c", "mkdir -p /www; echo private > /www/index.html; exec httpd -f -p 80 -h /www")
	var body string
	eventually(t, "httpd answers on the published port", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return resp.StatusCode == 200
	})
	if body != "private\n" {
		t.Fatalf("body %q", body)
	}
	st := svcState1(t, dir, "priv")
	if want := fmt.Sprintf("127.0.0.1:%d->80/tcp", port); len(st.Ports) != 1 || st.Ports[0] != want {
		t.Fatalf("ports %q, want %q", st.Ports, want)
	}
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", st.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if self, _ := os.Readlink("/proc/self/ns/net"); ns == self {
		t.Fatalf("the service shares the host's network namespace %s", ns)
	}
	link := hostLinkOf(t, st.Pid)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if portFree(addr) {
		t.Fatalf("%s is free while the service publishes it", addr)
	}
	cid := containerIDFor(t, dir, "priv")
	if err := syscall.Kill(st.SupPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "published port free", func() bool { return portFree(addr) })
	eventually(t, "network namespace gone", func() bool { return len(netnsHolders(ns)) == 0 }, func() any { return netnsHolders(ns) })
	eventually(t, "host link "+link+" gone", func() bool { return !linkExists(link) })
	var left []string
	eventually(t, "nothing left after the supervisor's death", func() bool {
		left = leftovers(dir, cid)
		return len(left) == 0
	}, func() any { return left })
}
