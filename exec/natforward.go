//go:build !strata_init

package exec

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// forwardComment starts the comment of the rules strata puts into other
// firewalls' forward chains; iptables shows it as a comment match.
const forwardComment = "strata private networks"

// openForeignForward lets private networks out through every other base
// chain on the forward hook. A packet is forwarded only if every such
// chain accepts it, so docker's FORWARD (policy drop), ufw's, or
// firewalld's (ending in a reject) would drop what strata's own chain lets
// through. As docker and podman do for their bridges, it puts rules at the
// top of each chain that lacks them:
//
//	oifname "strata-*" counter accept comment "strata private networks: replies"
//	iifname "strata-*" oifname "eth0" counter accept comment "strata private networks: out via eth0"
//
// one "out" rule per interface that holds a default route (in any routing
// table). Out means out: to the networks behind the uplinks, not to the
// bridges of docker, podman or libvirt, which those firewalls keep shut.
// New connections to a container stay dropped by strata's own chain,
// which the first rule does not bypass. These are the rules iptables-nft
// writes for `-o strata-+ -j ACCEPT` and `-i strata-+ -o eth0 -j ACCEPT`,
// so iptables and docker still read the chain.
func openForeignForward(c *nftables.Conn) error {
	missing, err := missingForwardRules(c)
	if err != nil || len(missing) == 0 {
		return err
	}
	lock, err := lockFile("/run/strata/network.lock")
	if err != nil {
		return err
	}
	defer lock.Close()
	if missing, err = missingForwardRules(c); err != nil || len(missing) == 0 {
		return err // another strata added them meanwhile
	}
	for _, m := range missing {
		c.InsertRule(&nftables.Rule{Table: m.chain.Table, Chain: m.chain, Exprs: m.rule.exprs(),
			UserData: userdata.AppendString(nil, userdata.TypeComment, m.rule.comment())})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("open the host firewall's forward chains to private networks: %w", err)
	}
	return nil
}

// forwardRule is one rule of openForeignForward: the replies rule when
// uplink is "", else the way out through uplink.
type forwardRule struct{ uplink string }

func (r forwardRule) comment() string {
	if r.uplink == "" {
		return forwardComment + ": replies"
	}
	return forwardComment + ": out via " + r.uplink
}

func (r forwardRule) exprs() []expr.Any {
	var e []expr.Any
	if r.uplink == "" {
		e = ifname(expr.MetaKeyOIFNAME, true)
	} else {
		e = append(ifname(expr.MetaKeyIIFNAME, true),
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			// The name and its NUL: this interface, not one it prefixes.
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: append([]byte(r.uplink), 0)})
	}
	return append(e, &expr.Counter{}, &expr.Verdict{Kind: expr.VerdictAccept})
}

type missingRule struct {
	chain *nftables.Chain
	rule  forwardRule
}

// missingForwardRules lists, for the base forward chains of IPv4 and inet
// tables other than strata's, the rules of openForeignForward they lack.
func missingForwardRules(c *nftables.Conn) ([]missingRule, error) {
	all, err := c.ListChains()
	if err != nil {
		return nil, fmt.Errorf("nftables: list chains: %w", err)
	}
	var out []missingRule
	var want []forwardRule
	for _, ch := range all {
		if ch.Hooknum == nil || *ch.Hooknum != *nftables.ChainHookForward || ch.Type != nftables.ChainTypeFilter {
			continue
		}
		fam := ch.Table.Family
		if fam != nftables.TableFamilyIPv4 && fam != nftables.TableFamilyINet || fam == nftables.TableFamilyIPv4 && ch.Table.Name == natTable {
			continue
		}
		if want == nil { // only when there is a chain to open
			want = []forwardRule{{}}
			for _, u := range uplinks() {
				want = append(want, forwardRule{uplink: u})
			}
		}
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return nil, fmt.Errorf("nftables: rules of %s %s: %w", ch.Table.Name, ch.Name, err)
		}
		have := map[string]bool{}
		for _, r := range rules {
			if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok {
				have[s] = true
			}
		}
		for _, w := range want {
			if !have[w.comment()] {
				out = append(out, missingRule{chain: ch, rule: w})
			}
		}
	}
	return out, nil
}

// uplinks names the interfaces that hold an IPv4 default route, in any
// routing table (policy routing, VPNs), strata's own links aside.
func uplinks() []string {
	routes, err := netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range routes {
		if r.Dst != nil && (r.Dst.IP != nil && !r.Dst.IP.IsUnspecified() || !isZeroMask(r.Dst.Mask)) {
			continue
		}
		l, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil || strings.HasPrefix(l.Attrs().Name, linkPrefix) {
			continue
		}
		if n := l.Attrs().Name; !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}
