package exec

import (
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
)

// forwardComment tags the rules strata puts into other firewalls' forward
// chains; iptables shows it as a comment match.
const forwardComment = "strata private networks"

// openForeignForward lets private networks through every other base chain
// on the forward hook. A packet is forwarded only if every such chain
// accepts it, so docker's FORWARD (policy drop), ufw's, or firewalld's
// (ending in a reject) would drop what strata's own chain lets through.
// As docker and podman do for their bridges, it puts two rules at the top
// of each chain that lacks them:
//
//	iifname "strata-*" counter accept comment "strata private networks"
//	oifname "strata-*" counter accept comment "strata private networks"
//
// These are `iptables -I FORWARD -i strata-+ -j ACCEPT` and its `-o` twin as
// iptables-nft writes them, so iptables and docker still read the chain.
// New connections to a container stay dropped by strata's own chain, which
// these rules do not bypass.
func openForeignForward(c *nftables.Conn) error {
	chains, err := foreignForwardChains(c)
	if err != nil || len(chains) == 0 {
		return err
	}
	lock, err := lockFile("/run/strata/network.lock")
	if err != nil {
		return err
	}
	defer lock.Close()
	if chains, err = foreignForwardChains(c); err != nil || len(chains) == 0 {
		return err // another strata opened them meanwhile
	}
	for _, ch := range chains {
		for _, key := range []expr.MetaKey{expr.MetaKeyOIFNAME, expr.MetaKeyIIFNAME} {
			c.InsertRule(&nftables.Rule{Table: ch.Table, Chain: ch,
				Exprs:    append(ifname(key, true), &expr.Counter{}, &expr.Verdict{Kind: expr.VerdictAccept}),
				UserData: userdata.AppendString(nil, userdata.TypeComment, forwardComment)})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("open the host firewall's forward chains to private networks: %w", err)
	}
	return nil
}

// foreignForwardChains lists the base forward chains of IPv4 and inet
// tables other than strata's that do not carry strata's rules yet.
func foreignForwardChains(c *nftables.Conn) ([]*nftables.Chain, error) {
	all, err := c.ListChains()
	if err != nil {
		return nil, fmt.Errorf("nftables: list chains: %w", err)
	}
	var out []*nftables.Chain
	for _, ch := range all {
		if ch.Hooknum == nil || *ch.Hooknum != *nftables.ChainHookForward || ch.Type != nftables.ChainTypeFilter {
			continue
		}
		fam := ch.Table.Family
		if fam != nftables.TableFamilyIPv4 && fam != nftables.TableFamilyINet || fam == nftables.TableFamilyIPv4 && ch.Table.Name == natTable {
			continue
		}
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return nil, fmt.Errorf("nftables: rules of %s %s: %w", ch.Table.Name, ch.Name, err)
		}
		if !hasForwardRules(rules) {
			out = append(out, ch)
		}
	}
	return out, nil
}

func hasForwardRules(rules []*nftables.Rule) bool {
	for _, r := range rules {
		if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && s == forwardComment {
			return true
		}
	}
	return false
}
