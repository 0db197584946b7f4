package exec

import (
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
)

func route(dst, src string) netlink.Route {
	r := netlink.Route{}
	if dst != "" {
		_, n, _ := net.ParseCIDR(dst)
		r.Dst = n
	}
	if src != "" {
		r.Src = net.ParseIP(src)
	}
	return r
}

// The host's own networks inside PrivateSubnet are avoided; slots' own
// routes and routes holding the whole subnet are not.
func TestForeignPrefixes(t *testing.T) {
	routes := []netlink.Route{
		route("", ""),                          // default
		route("10.0.0.0/8", ""),                // holds the whole subnet
		route("10.89.0.0/16", "10.89.0.1"),     // the whole subnet too
		route("10.89.4.0/30", "10.89.4.1"),     // a slot's /30
		route("10.89.4.1/32", "10.89.4.1"),     // its local address
		route("10.89.4.3/32", "10.89.4.1"),     // its broadcast
		route("10.89.5.0/24", "10.89.5.7"),     // a LAN
		route("10.89.9.1/32", ""),              // a VPN peer
		route("10.89.8.0/30", "10.89.8.2"),     // not a slot's: source is not the first address
		route("192.168.1.0/24", "192.168.1.5"), // elsewhere
	}
	got := foreignPrefixes(routes)
	want := []netip.Prefix{
		netip.MustParsePrefix("10.89.5.0/24"),
		netip.MustParsePrefix("10.89.9.1/32"),
		netip.MustParsePrefix("10.89.8.0/30"),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("foreignPrefixes = %v, want %v", got, want)
	}
	if !overlapsAny(slotPrefix(5<<6), got) || overlapsAny(slotPrefix(4<<6), got) {
		t.Errorf("slot 320 (10.89.5.0/30) must be avoided, slot 256 (10.89.4.0/30) not")
	}
}
