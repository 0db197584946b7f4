//go:build !strata_init

package exec

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// A private network is a routed veth pair per container, as docker's bridge
// network without the bridge: the host end is "strata-N" with the first
// address of the N-th /30 of PrivateSubnet, the container end is eth0 with
// the second, and nftables masquerades what leaves (see nat.go). With no
// bridge, containers share no link; the forward chain drops what one would
// route to another, so they meet only on published ports.
const (
	linkPrefix = "strata-"
	slotCount  = 1 << 14 // /30s in PrivateSubnet
)

// PrivateSubnet holds every private network's addresses.
var PrivateSubnet = netip.MustParsePrefix("10.89.0.0/16")

// privateNet is one container's link to the outside.
type privateNet struct {
	link    string     // host end
	gateway netip.Addr // host end's address: the container's default route
	addr    netip.Addr // container end's address
}

// slotAddrs are the host and container addresses of slot n.
func slotAddrs(n int) (gw, ctr netip.Addr) {
	b := PrivateSubnet.Addr().As4()
	base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(n)<<2
	at := func(v uint32) netip.Addr {
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return at(base + 1), at(base + 2)
}

// setupPrivateNet connects the network namespace of pid to the host. The
// kernel's interface names are the allocator: a slot is taken by creating
// its host link, so concurrent strata processes (of any repository) never
// share one. Nothing needs removing: when the container's last process
// exits, its namespace goes and the kernel deletes the pair with it (an
// explicit delete would make every run wait 10 to 30 ms for an RCU grace
// period), also when strata itself was killed.
func setupPrivateNet(pid int) (*privateNet, error) {
	if err := ensureNAT(); err != nil {
		return nil, err
	}
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	slot, link, err := addLink(int(ns.Fd()))
	if err != nil {
		return nil, err
	}
	n := &privateNet{link: link.Attrs().Name}
	n.gateway, n.addr = slotAddrs(slot)
	// The host end speaks IPv4 only: no link-local IPv6 path into the host.
	os.WriteFile(filepath.Join("/proc/sys/net/ipv6/conf", n.link, "disable_ipv6"), []byte("1"), 0)
	// Strict reverse-path filtering: a packet from the container must
	// carry its own address. A container may craft packets (NET_RAW is a
	// default capability); forged as from a server another container
	// talks to, one could otherwise ride that connection's conntrack entry
	// past the forward chain.
	if err := os.WriteFile(filepath.Join("/proc/sys/net/ipv4/conf", n.link, "rp_filter"), []byte("1"), 0); err != nil {
		return nil, fmt.Errorf("rp_filter on %s: %w", n.link, err)
	}
	if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: ipNet(n.gateway, 30)}); err != nil {
		return nil, fmt.Errorf("address %s: %w", n.gateway, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("link %s up: %w", n.link, err)
	}
	return n, n.configureInside(int(ns.Fd()))
}

// addLink creates the veth pair of a free slot, its peer already in the
// namespace open as nsfd, and returns the slot and the host end.
func addLink(nsfd int) (int, netlink.Link, error) {
	routes := hostRoutes()
	start, mtu := rand.IntN(slotCount), uplinkMTU(routes)
	foreign := foreignPrefixes(routes)
	for i := range slotCount {
		slot := (start + i) % slotCount
		if overlapsAny(slotPrefix(slot), foreign) {
			continue
		}
		link := &netlink.Veth{
			LinkAttrs:     netlink.LinkAttrs{Name: linkPrefix + strconv.Itoa(slot), MTU: mtu},
			PeerName:      "eth0",
			PeerNamespace: netlink.NsFd(nsfd),
		}
		err := netlink.LinkAdd(link)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return 0, nil, fmt.Errorf("create veth pair: %w", err)
		}
		return slot, link, nil
	}
	return 0, nil, fmt.Errorf("all %d private network slots in use or routed elsewhere by the host", slotCount)
}

// hostRoutes lists the host's IPv4 routes in every table; nil if it cannot.
func hostRoutes() []netlink.Route {
	routes, err := netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil
	}
	return routes
}

// foreignPrefixes are the host's routes inside PrivateSubnet that are not a
// slot's own: a network or address of the host's (a LAN, a VPN) that
// happens to lie there. A slot on one would take the host's traffic for
// those addresses to the container. Routes that hold all of PrivateSubnet
// (the default route, a 10.0.0.0/8) are left out: avoiding them would
// leave no slot at all.
func foreignPrefixes(routes []netlink.Route) []netip.Prefix {
	var out []netip.Prefix
	for _, r := range routes {
		p, ok := routePrefix(r)
		if !ok || p.Bits() <= PrivateSubnet.Bits() || !p.Overlaps(PrivateSubnet) || slotRoute(r, p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// slotRoute reports whether r is one the kernel made for a slot's host end
// (its /30, its local and broadcast addresses): a route within a /30 of
// PrivateSubnet whose source is that /30's first address.
func slotRoute(r netlink.Route, p netip.Prefix) bool {
	src, ok := netip.AddrFromSlice(r.Src.To4())
	if !ok || !PrivateSubnet.Contains(src) || src.As4()[3]&3 != 1 {
		return false
	}
	return p.Bits() >= 30 && netip.PrefixFrom(src, 30).Masked().Contains(p.Addr())
}

// routePrefix is r's destination; a nil Dst is the default route.
func routePrefix(r netlink.Route) (netip.Prefix, bool) {
	if r.Dst == nil {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
	}
	a, ok := netip.AddrFromSlice(r.Dst.IP.To4())
	ones, bits := r.Dst.Mask.Size()
	if !ok || bits != 32 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, ones).Masked(), true
}

// slotPrefix is the /30 of slot n.
func slotPrefix(n int) netip.Prefix {
	gw, _ := slotAddrs(n)
	return netip.PrefixFrom(gw, 30).Masked()
}

func overlapsAny(p netip.Prefix, in []netip.Prefix) bool {
	for _, q := range in {
		if p.Overlaps(q) {
			return true
		}
	}
	return false
}

// configureInside addresses eth0 in the container's namespace and routes
// everything through the host end.
func (n *privateNet) configureInside(nsfd int) error {
	h, err := netlink.NewHandleAt(netns.NsHandle(nsfd))
	if err != nil {
		return fmt.Errorf("netlink in container: %w", err)
	}
	defer h.Close()
	eth, err := h.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("container eth0: %w", err)
	}
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: ipNet(n.addr, 30)}); err != nil {
		return fmt.Errorf("container address %s: %w", n.addr, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("container eth0 up: %w", err)
	}
	route := &netlink.Route{LinkIndex: eth.Attrs().Index, Gw: n.gateway.AsSlice()}
	if err := h.RouteAdd(route); err != nil {
		return fmt.Errorf("container default route: %w", err)
	}
	return nil
}

// uplinkMTU is the MTU of the host's default route (main table), so that
// the container sends no packet the uplink must fragment; 1500 when there
// is none.
func uplinkMTU(routes []netlink.Route) int {
	for _, r := range routes {
		if r.Table != unix.RT_TABLE_MAIN || r.Dst != nil && r.Dst.IP != nil && !r.Dst.IP.IsUnspecified() {
			continue
		}
		if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil && l.Attrs().MTU > 0 {
			return l.Attrs().MTU
		}
	}
	return 1500
}

func ipNet(a netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(bits, 32)}
}
